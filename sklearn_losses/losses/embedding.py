r"""Embedding losses: contrastive pairs, triplets with mining, and the contrastive-softmax losses.

``y_true`` are labels (n,), ``raw_prediction`` embeddings (n, d); the loss
of a batch is a function of its pairs or triplets (``structure="pairwise"``).
Every loss here equals the pytorch-metric-learning loss of the same name with
matching settings (its default reducer, distance and, for the triplets,
miner), checked by ``benchmarks/validate_embedding.py``. The shared
conventions (normalisation, the dissimilarity ``delta``, sample weights,
memory) are those of :mod:`._pairwise`; in short:

* ``distance="euclidean"``: ``delta_ij = ||e_i - e_j||``;
  ``distance="cosine"``: ``delta_ij = -e_i . e_j`` (similarity ``s = -delta``);
* ``normalize=True``: ``e_i = r_i / ||r_i||`` (exact gradient through it);
* ``average="nonzero"``: the mean over the terms with a positive cost (the
  ``AvgNonZeroReducer``), ``"all"``: over every term (``MeanReducer``);
* a batch without a valid pair or triplet has loss 0 and gradient 0.

Margins are in units of ``delta`` (for ``distance="cosine"`` they act on the
negated similarity: a contrastive ``pos_margin`` of ``-0.9`` asks positives
for a similarity of at least 0.9; see each class).
"""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._pairwise import PairwiseLoss
from ._registry import register_loss
from ._triplet_kernels import MINING_CODES, triplet_terms

__all__ = ["Contrastive", "NTXent", "SupCon", "TripletMargin"]

_DISTANCE_DOC = """distance : {"euclidean", "cosine"}, default=%r
        The dissimilarity ``delta``: the euclidean distance, or the negated
        cosine similarity (the negated dot product with ``normalize=False``).
    normalize : bool, default=True
        Divide each embedding by its norm first.
    average : {"nonzero", "all"}, default=%r
        Average over the terms with a positive cost, or over all terms."""


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1.0 / (1.0 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))))


@register_loss
class Contrastive(PairwiseLoss):
    r"""Contrastive loss of pairs (Hadsell, Chopra & LeCun 2006), pytorch-metric-learning's ``ContrastiveLoss``.

    .. math:: L = \mathrm{avg}_{(i,j)\,\mathrm{pos}} \max(0, \delta_{ij} - m_+)
              + \mathrm{avg}_{(i,j)\,\mathrm{neg}} \max(0, m_- - \delta_{ij})

    over ordered pairs ``i != j`` (each unordered pair twice, as in
    pytorch-metric-learning); each part is averaged on its own (its non-zero
    terms, or all of them) and a part with no term is 0. Pair ``(i, j)``
    weighs ``w_i w_j``. With ``distance="cosine"`` (``delta = -s``) the terms
    are ``max(0, -pos_margin - s)`` and ``max(0, s + neg_margin)``: pass
    ``pos_margin=-0.9, neg_margin=-0.1`` for pytorch-metric-learning's
    ``ContrastiveLoss(pos_margin=0.9, neg_margin=0.1, distance=CosineSimilarity())``.

    Parameters
    ----------
    pos_margin : float, default=0.0
        Positives cost beyond this dissimilarity.
    neg_margin : float, default=1.0
        Negatives cost within this dissimilarity.
    %s
    """

    name = "contrastive"
    n_parts = 2
    _needs_negatives = False
    _parameter_constraints = {**PairwiseLoss._parameter_constraints,
                              "pos_margin": [Interval(numbers.Real, None, None, closed="neither")],
                              "neg_margin": [Interval(numbers.Real, None, None, closed="neither")]}

    def __init__(self, pos_margin=0.0, neg_margin=1.0, distance="euclidean", normalize=True, average="nonzero"):
        self.pos_margin = pos_margin
        self.neg_margin = neg_margin
        self.distance = distance
        self.normalize = normalize
        self.average = average

    def _as_floats(self):
        return float(self.pos_margin), float(self.neg_margin)

    def _terms(self, delta, positive, negative, w_anchor, w, anchors, gradient):
        weight = w_anchor[:, None] * w[None, :]
        sums, counts, coefficients = np.zeros(2), np.zeros(2), []
        for part, (mask, cost, sign) in enumerate((
                (positive, delta - float(self.pos_margin), 1.0),
                (negative, float(self.neg_margin) - delta, -1.0))):
            active = mask & (cost > 0.0)
            sums[part] = np.sum(weight[active] * cost[active])
            counts[part] = np.sum(weight[active if self.average == "nonzero" else mask])
            coefficients.append(np.where(active, sign * weight, 0.0) if gradient else None)
        return sums, counts, coefficients


@register_loss
class TripletMargin(PairwiseLoss):
    r"""Triplet margin loss with mining, pytorch-metric-learning's ``TripletMarginLoss`` and its miners.

    .. math:: L = \mathrm{avg}_{(a,p,k)} \max(0, \delta_{ap} - \delta_{ak} + m)

    over the triplets of an anchor ``a``, a positive ``p != a`` and a
    negative ``k`` that ``mining`` selects (each weighs ``w_a w_p w_k``):

    * ``"all"``: every triplet with ``delta_ak - delta_ap <= mining_margin``
      (``TripletMarginMiner(type_of_triplets="all")``);
    * ``"hard"``: those with also ``delta_ak <= delta_ap``;
    * ``"semihard"``: those with also ``delta_ak > delta_ap``;
    * ``"batch_hard"``: per anchor its farthest positive and nearest negative
      (``BatchHardMiner``; Hermans et al. 2017).

    ``mining_margin`` defaults to ``margin``: one margin for the loss and
    the miner unless both are set (pytorch-metric-learning's loss and miner
    have different defaults, 0.05 and 0.2). With the default, ``"all"``
    selects exactly the triplets that can cost; ``mining_margin=np.inf``
    selects every triplet (no miner). The triplets are counted, not
    enumerated: ``O(n^2 log n)`` time and ``O(n)`` memory per anchor.

    Parameters
    ----------
    margin : float, default=0.2
    mining : {"all", "hard", "semihard", "batch_hard"}, default="all"
    mining_margin : float or None, default=None
        The miner's margin (None: ``margin``); ignored by ``"batch_hard"``.
    %s
    """

    name = "triplet"
    _parameter_constraints = {**PairwiseLoss._parameter_constraints,
                              "margin": [Interval(numbers.Real, None, None, closed="neither")],
                              "mining": [StrOptions(set(MINING_CODES))],
                              "mining_margin": [Interval(numbers.Real, None, None, closed="both"), None]}

    def __init__(self, margin=0.2, mining="all", mining_margin=None, distance="euclidean", normalize=True,
                 average="nonzero"):
        self.margin = margin
        self.mining = mining
        self.mining_margin = mining_margin
        self.distance = distance
        self.normalize = normalize
        self.average = average

    def _check_params(self):
        if self.mining_margin is not None and np.isnan(float(self.mining_margin)):
            raise ValueError("TripletMargin: mining_margin must be a number or None; got nan.")

    def _as_floats(self):
        return float(self.margin), float(self.margin if self.mining_margin is None else self.mining_margin)

    def _terms(self, delta, positive, negative, w_anchor, w, anchors, gradient):
        margin, mining_margin = self._as_floats()
        coefficient = np.zeros(delta.shape) if gradient else np.zeros((1, 1))
        total, normaliser = triplet_terms(np.ascontiguousarray(delta), positive, negative, w_anchor, w, margin,
                                          mining_margin, MINING_CODES[self.mining], self.average == "all",
                                          gradient, coefficient)
        return np.array([total]), np.array([normaliser]), [coefficient if gradient else None]


class _SoftmaxPairwise(PairwiseLoss):
    """The contrastive-softmax losses: similarities ``s = -delta`` over a temperature, in log-sum-exp form."""

    differentiable = True
    _parameter_constraints = {**PairwiseLoss._parameter_constraints,
                              "temperature": [Interval(numbers.Real, 0, None, closed="neither")]}

    def _as_floats(self):
        return (float(self.temperature),)

    def _prepare(self, y, w):
        return float(np.mean(w))  # the mean weight: w_j / w_bar in the denominators

    @staticmethod
    def _log_sum_exp(z, mask, relative):
        """``log sum_j relative_j exp(z_aj)`` over ``mask`` per row (``-inf`` for an empty row) and the
        softmax ``relative_j exp(z_aj - lse_a)`` (0 outside ``mask``)."""
        masked = np.where(mask, z, -np.inf)
        top = np.max(masked, axis=1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(under="ignore"):
            terms = np.where(mask, relative[None, :] * np.exp(masked - top), 0.0)
        total = terms.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            lse = np.where(total > 0, np.log(np.where(total > 0, total, 1.0)) + top, -np.inf)
            soft = np.where(total > 0, terms / np.where(total > 0, total, 1.0), 0.0)
        return lse[:, 0], soft


@register_loss
class NTXent(_SoftmaxPairwise):
    r"""NT-Xent / InfoNCE (Chen et al. 2020; Oord et al. 2018), pytorch-metric-learning's ``NTXentLoss``.

    For every ordered positive pair ``(a, p)``, with ``z = s / tau``:

    .. math:: \ell_{ap} = -\log \frac{e^{z_{ap}}}{e^{z_{ap}} + \sum_{k\,\mathrm{neg}(a)} (w_k / \bar w)\, e^{z_{ak}}}

    (the denominator holds the pair's positive and the anchor's negatives
    only); the loss is the mean of ``l_ap`` over the positive pairs, pair
    ``(a, p)`` weighing ``w_a w_p``. ``average="all"`` is
    pytorch-metric-learning's default here (the ``MeanReducer``).

    Parameters
    ----------
    temperature : float, default=0.07
    %s
    """

    name = "ntxent"

    def __init__(self, temperature=0.07, distance="cosine", normalize=True, average="all"):
        self.temperature = temperature
        self.distance = distance
        self.normalize = normalize
        self.average = average

    def _terms(self, delta, positive, negative, w_anchor, w, anchors, gradient):
        tau = float(self.temperature)
        z = -delta / tau
        lse, soft = self._log_sum_exp(z, negative, w / self._context)
        with np.errstate(invalid="ignore"):
            gap = np.where(positive, lse[:, None] - z, -np.inf)  # log(sum neg) - z_ap
        weight = np.where(positive, w_anchor[:, None] * w[None, :], 0.0)
        losses = np.where(positive, _softplus(gap), 0.0)
        counted = positive & (losses > 0.0) if self.average == "nonzero" else positive
        value, count = float(np.sum(weight * losses)), float(np.sum(weight[counted]))
        if not gradient:
            return np.array([value]), np.array([count]), [None]
        q = np.where(positive, _sigmoid(gap), 0.0) * weight  # w_ap (1 - p_ap)
        # d l_ap / d z_ap = -(1 - p_ap); d l_ap / d z_ak = (1 - p_ap) * soft_ak; delta = -tau z
        dz = soft * q.sum(axis=1, keepdims=True) - q
        return np.array([value]), np.array([count]), [-dz / tau]


@register_loss
class SupCon(_SoftmaxPairwise):
    r"""Supervised contrastive loss (Khosla et al. 2020), pytorch-metric-learning's ``SupConLoss``.

    For every anchor ``a`` with positives ``P(a)``, with ``z = s / tau``:

    .. math:: \ell_a = \log \sum_{j \ne a} (w_j / \bar w)\, e^{z_{aj}}
              - \frac{\sum_{p \in P(a)} w_p z_{ap}}{\sum_{p \in P(a)} w_p}

    (the mean over the positives of ``-log`` their softmax probability among
    all other samples); the loss averages ``l_a`` over the anchors with
    positives (``"nonzero"``) or over all anchors (``"all"``, anchors without
    positives counting 0), anchor ``a`` weighing ``w_a``. A batch of one
    class has loss 0, as in pytorch-metric-learning.

    Parameters
    ----------
    temperature : float, default=0.1
    %s
    """

    name = "supcon"

    def __init__(self, temperature=0.1, distance="cosine", normalize=True, average="nonzero"):
        self.temperature = temperature
        self.distance = distance
        self.normalize = normalize
        self.average = average

    def _terms(self, delta, positive, negative, w_anchor, w, anchors, gradient):
        tau = float(self.temperature)
        z = -delta / tau
        others = positive | negative
        lse, soft = self._log_sum_exp(z, others, w / self._context)
        pos_w = np.where(positive, w[None, :], 0.0)
        mass = pos_w.sum(axis=1)
        has = mass > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(has[:, None], pos_w / np.where(has, mass, 1.0)[:, None], 0.0)
        losses = np.where(has, lse - np.sum(share * np.where(positive, z, 0.0), axis=1), 0.0)
        counted = has if self.average == "nonzero" else np.ones_like(has)
        value, count = float(np.sum(w_anchor * losses)), float(np.sum(w_anchor[counted]))
        if not gradient:
            return np.array([value]), np.array([count]), [None]
        dz = np.where(has[:, None], soft - share, 0.0) * w_anchor[:, None]
        return np.array([value]), np.array([count]), [-dz / tau]


for _cls, _distance, _average in ((Contrastive, "euclidean", "nonzero"), (TripletMargin, "euclidean", "nonzero"),
                                  (NTXent, "cosine", "all"), (SupCon, "cosine", "nonzero")):
    _cls.__doc__ = _cls.__doc__ % (_DISTANCE_DOC % (_distance, _average))
