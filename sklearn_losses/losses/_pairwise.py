r"""What every embedding loss shares: labels, geometry, weights and blocks (``structure = "pairwise"``).

An embedding loss is one number for a batch of embeddings ``r`` (n, d) with
labels ``y`` (n,): a function of the pairs (or triplets) of its samples.
Samples with equal labels are *positives* of each other, the others
*negatives*; a sample is never its own positive.

Geometry. With ``normalize=True`` each row is first divided by its norm,
``e_i = r_i / max(||r_i||, 1e-12)`` (as :func:`torch.nn.functional.normalize`);
the gradient goes back through the normalisation exactly. Every loss is then
written in one *dissimilarity* ``delta``: the euclidean distance
``||e_i - e_j||`` (``distance="euclidean"``), or the negated cosine
similarity ``-e_i . e_j`` (``distance="cosine"``; with ``normalize=False``
this is the negated dot product). Losses on similarities use
``s_ij = -delta_ij``. The gradient of the euclidean distance where two
embeddings coincide is taken as 0.

Sample weights. A term of the loss (a pair, a triplet, an anchor) is weighted
by the product of the weights of its samples, and its mean is the weighted
mean of the terms (over the terms that count, :attr:`average`); inside the
softmax denominators of the contrastive-softmax losses each sample's
exponential counts ``w_j / w_bar`` times (``w_bar`` the batch's mean weight).
So unit weights give the unweighted loss, scaling every weight changes
nothing, and a sample of weight 0 is the same as no sample. Integer weights
are *not* repeated rows: copies of one row would be positives of each other.

Memory. The anchors are taken in blocks of rows of the ``(n, n)``
dissimilarity matrix (:data:`BLOCK_ENTRIES` entries per block), so no more
than a few blocks are held at once and triplets are never enumerated: the
triplet losses count them per anchor from its sorted negatives
(:mod:`._triplet_kernels`) in ``O(n log n)`` per anchor.

A batch with no valid pair or triplet has loss 0 and gradient 0.
"""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ._batch import BatchLoss

__all__ = ["BLOCK_ENTRIES", "EmbeddingLabels", "PairwiseLoss", "normalize_rows"]

#: Entries of the dissimilarity matrix per block of anchors (rows x n).
BLOCK_ENTRIES = 1 << 18

#: Smallest norm a row is divided by (``torch.nn.functional.normalize``'s eps).
NORM_EPS = 1e-12

#: Largest magnitude of a dissimilarity (unnormalised embeddings only): beyond it the loss would overflow, so the
#: dissimilarities are capped there (and their derivative is 0), which keeps the loss finite.
DELTA_CAP = 1e150

#: Squared distances below this fraction of the squared norms are recomputed from the differences
#: (the Gram form ``|a|^2 + |b|^2 - 2 a.b`` cancels there).
_CANCELLATION = 1e-6


class EmbeddingLabels:
    """Labels of an embedding loss: any finite numbers (equal labels, same class)."""

    shape = "scalar"

    def __str__(self):
        return "labels"

    def __eq__(self, other):
        return isinstance(other, EmbeddingLabels)

    def violation(self, y_true, n_columns=None):
        y = np.asarray(y_true)
        if y.ndim != 1:
            return f"y_true must be labels of shape (n_samples,); got shape {y.shape}"
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            first = int(np.flatnonzero(~np.isfinite(y))[0])
            return f"y_true must be finite labels; got {float(y[first])!r} at position {first}"
        return None

    def sample(self, rng, n_samples, n_columns=None):
        y = rng.integers(0, 4, size=n_samples).astype(float)
        y[: min(4, n_samples)] = np.arange(min(4, n_samples))
        return y


def normalize_rows(raw):
    """``(e, norms)``: the rows divided by ``max(||r_i||, NORM_EPS)``, and those divisors.

    The norms are computed on rows scaled by their largest entry, so rows of
    any finite magnitude normalise without overflow.
    """
    top = np.max(np.abs(raw), axis=1)
    top = np.where(top > 0.0, top, 1.0)
    scaled = raw / top[:, None]
    norms = np.maximum(top * np.sqrt(np.einsum("ij,ij->i", scaled, scaled)), NORM_EPS)
    return raw / norms[:, None], norms


def _normalize_backward(e, norms, grad_e):
    """The gradient in the raw rows from the gradient in the normalised ones."""
    inside = norms > NORM_EPS
    radial = np.einsum("ij,ij->i", e, grad_e)
    return np.where(inside[:, None], (grad_e - e * radial[:, None]) / norms[:, None], grad_e / norms[:, None])


class PairwiseLoss(BatchLoss):
    """Base class of the embedding losses (see the module docstring).

    Subclasses implement :meth:`_terms`: for a block of anchors, the
    dissimilarities to every sample, the positive and negative masks and the
    weights, it returns the partial sums and normalisers of each of the
    loss's parts and the derivative of each part's sum in the block's
    dissimilarities. The loss is the sum over parts of ``sum / normaliser``
    (0 where a part has no term).
    """

    task = "embedding"
    structure = "pairwise"
    decomposable = False
    convex = False
    differentiable = False  # margins and miners: piecewise; the softmax losses override
    growth = "bounded"
    target_domain = EmbeddingLabels()
    #: Number of parts the loss is the sum of (Contrastive: its positive and negative pairs).
    n_parts = 1
    _parameter_constraints = {
        "distance": [StrOptions({"euclidean", "cosine"})],
        "normalize": ["boolean"],
        "average": [StrOptions({"nonzero", "all"})],
    }

    # --------------------------------------------------------------- inputs
    def _check_shapes(self, y, raw):
        name = type(self).__name__
        if raw.ndim != 2 or raw.shape[0] == 0 or raw.shape[1] == 0:
            raise ValueError(f"{name}: raw_prediction must be embeddings of shape (n_samples, n_components); "
                             f"got shape {raw.shape}.")
        if y.shape != (raw.shape[0],):
            raise ValueError(f"{name}: y_true must be labels of shape ({raw.shape[0]},) for embeddings of shape "
                             f"{raw.shape}; got shape {y.shape}.")

    def _inputs(self, y_true, raw_prediction, sample_weight, check_input):
        y = np.asarray(y_true)
        if y.dtype.kind not in "fiub":  # string labels: any labels name classes
            y = np.unique(y, return_inverse=True)[1].reshape(y.shape)
        y, raw, w, dtype = super()._inputs(y, raw_prediction, sample_weight, check_input)
        if not np.all(np.isfinite(raw)):  # O(n d) against the O(n^2 d) loss; a NaN would vanish in the masks
            raise ValueError(f"{type(self).__name__}: raw_prediction (the embeddings) contains NaN or infinity.")
        return y, raw, w, dtype

    def baseline_prediction(self, y_true, sample_weight=None, n_classes=None):
        """Not defined: an embedding loss compares samples with each other, so no constant embedding is a
        model (every constant puts all samples in one point). ``ValueError``."""
        raise ValueError(f"{type(self).__name__} is an embedding loss (task='embedding'): it compares samples "
                         "with each other, so it has no best constant prediction.")

    # ------------------------------------------------------------- geometry
    def _dissimilarity(self, e, rows, sq_norms):
        """``delta`` of the anchors ``rows`` (a slice) to every sample: shape (block, n)."""
        gram = e[rows] @ e.T
        if self.distance == "cosine":
            return -gram
        sq = sq_norms[rows, None] + sq_norms[None, :] - 2.0 * gram
        scale = sq_norms[rows, None] + sq_norms[None, :]
        close = np.nonzero(sq <= _CANCELLATION * scale)
        if close[0].size:  # recompute from the differences where the Gram form cancels
            diff = e[rows][close[0]] - e[close[1]]
            sq[close] = np.einsum("ij,ij->i", diff, diff)
        delta = np.sqrt(np.maximum(sq, 0.0))
        anchors = np.arange(rows.start, rows.stop)
        delta[anchors - rows.start, anchors] = 0.0
        return delta

    def _backward_block(self, e, rows, delta, coefficient, grad):
        """Add ``sum_aj coefficient[a, j] * d delta_aj / d e`` into ``grad`` (n, d)."""
        block = e[rows]
        if self.distance == "cosine":
            grad[rows] -= coefficient @ e
            grad -= coefficient.T @ block
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(delta > 0.0, coefficient / np.where(delta > 0.0, delta, 1.0), 0.0)
        grad[rows] += q.sum(axis=1)[:, None] * block - q @ e
        grad += q.sum(axis=0)[:, None] * e - q.T @ block

    def _geometry(self, x):
        """``(e, scale, norms)``: the embeddings the dissimilarities are computed from, ``e * scale`` being the
        (normalised) embeddings; ``norms`` the normalisation's divisors (None without normalisation)."""
        if self.normalize:
            e, norms = normalize_rows(x)
            return e, 1.0, norms
        top = float(np.max(np.abs(x)))
        scale = 2.0 ** (int(np.frexp(top)[1]) - 1) if top > 0.0 else 1.0  # a power of two: exact
        return x / scale, scale, None

    # ------------------------------------------------------------ the loss
    def _terms(self, delta, positive, negative, w_anchor, w, anchors, gradient):  # pragma: no cover - abstract
        """For the anchors of a block: ``(sums, normalisers, coefficients)``.

        ``delta`` (b, n) dissimilarities, ``positive``/``negative`` (b, n)
        boolean masks, ``w_anchor`` (b,) and ``w`` (n,) the weights (all
        positive), ``anchors`` the anchors' row indices. ``sums`` and
        ``normalisers``: arrays of :attr:`n_parts`; ``coefficients``: a list
        of :attr:`n_parts` arrays (b, n), the derivatives of each part's sum
        in ``delta`` (None when ``gradient`` is false).
        """
        raise NotImplementedError

    def _prepare(self, y, w):
        """Hook: whole-batch quantities the terms need (the softmax losses' mean weight), from the labels
        and weights of the samples that count."""
        return None

    def _batch_loss_gradient(self, y, raw, w, gradient, out=None):
        n = raw.shape[0]
        if gradient:
            out = np.zeros(raw.shape, dtype=np.float64) if out is None else out
            out[...] = 0.0
        keep = np.ones(n, dtype=bool) if w is None else w > 0
        labels = np.unique(np.asarray(y)[keep], return_inverse=True)[1].ravel()
        x = np.asarray(raw, dtype=np.float64)[keep]
        weights = np.ones(labels.size) if w is None else w[keep]
        m = labels.size
        if m < 2 or (self._needs_negatives and np.all(labels == labels[0])):
            return 0.0, (out if gradient else None)
        e, scale, norms = self._geometry(x)
        # delta = delta(e) * scale (euclidean) or * scale^2 (cosine); its derivative in e * scale is
        # d delta(e) / d e times 1 or scale
        back = 1.0 if self.distance == "euclidean" else scale
        self._context = self._prepare(labels, weights)
        sq_norms = np.einsum("ij,ij->i", e, e)
        sums, normalisers = np.zeros(self.n_parts), np.zeros(self.n_parts)
        grads = [np.zeros_like(e) for _ in range(self.n_parts)] if gradient else None
        step = max(1, BLOCK_ENTRIES // m)
        for start in range(0, m, step):
            rows = slice(start, min(start + step, m))
            anchors = np.arange(rows.start, rows.stop)
            unit_delta = self._dissimilarity(e, rows, sq_norms)
            capped = None
            if scale == 1.0:
                delta = unit_delta
            else:
                with np.errstate(over="ignore"):
                    delta = unit_delta * scale * back
                capped = np.abs(delta) > DELTA_CAP
                delta = np.clip(delta, -DELTA_CAP, DELTA_CAP)
            positive = labels[anchors, None] == labels[None, :]
            positive[anchors - start, anchors] = False
            negative = labels[anchors, None] != labels[None, :]
            s, c, coefficients = self._terms(delta, positive, negative, weights[anchors], weights, anchors, gradient)
            sums += s
            normalisers += c
            if gradient:
                for part, coefficient in enumerate(coefficients):
                    if coefficient is not None:
                        if capped is not None:
                            coefficient = np.where(capped, 0.0, coefficient)
                        with np.errstate(over="ignore", invalid="ignore"):
                            self._backward_block(e, rows, unit_delta, coefficient * back, grads[part])
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = np.where(normalisers > 0.0, 1.0 / np.where(normalisers > 0.0, normalisers, 1.0), 0.0)
        value = float(np.dot(sums, inverse))
        if not gradient:
            return value, None
        grad_e = sum(g * s for g, s in zip(grads, inverse))
        grad_x = _normalize_backward(e, norms, grad_e) if self.normalize else grad_e
        out[keep] = grad_x
        return value, out

    #: Whether a batch of one class has loss 0 whatever the embeddings (no negatives, no term).
    _needs_negatives = True

    @property
    def weight_scale_invariant(self):
        return True
