r"""Lovász losses (Berman, Rannen Triki & Blaschko 2018): the convex extension of the Jaccard loss.

The Jaccard loss of a set of mispredicted samples ``M`` is
:math:`\Delta(M) = 1 - |P \setminus M| / |P \cup M|` (``P``: the positives;
with sample weights, ``|.|`` sums the weights). Its Lovász extension at a
vector of non-negative errors ``e`` is

.. math:: \bar\Delta(e) = \sum_{k} e_{\pi_k} \left(\Delta(\{\pi_1, ..., \pi_k\}) -
          \Delta(\{\pi_1, ..., \pi_{k-1}\})\right)

with ``pi`` the samples in decreasing order of error: piecewise linear,
convex in ``e``, and equal to ``Delta`` on 0/1 errors. The losses sort the
batch, so they are batch losses that are not decomposable.

The value does not depend on how ties between equal errors are broken; the
gradient returned there is that of the order found by a stable sort (one of
the subgradients). A label without positives has ``Delta(M) = 1`` for every
non-empty ``M``: its loss is its largest error.
"""

import numpy as np
from scipy.special import log_softmax
from sklearn.utils._param_validation import StrOptions

from ..links import LogitLink, SoftmaxLink
from ._batch import BatchLoss
from ._domain import BinaryLabels, ClassIndices
from ._registry import register_loss

__all__ = ["LovaszHinge", "LovaszSoftmax", "lovasz_weights"]


def lovasz_weights(positive, weight):
    """The increments of the (weighted) Jaccard loss along samples in decreasing order of error.

    ``positive`` (0/1) and ``weight`` are those of the sorted samples; the
    result ``g`` gives the Lovász extension ``sum_k e_k g_k`` of the sorted
    errors ``e`` (Berman et al.'s ``lovasz_grad``, with weights).
    """
    weighted_positive = weight * positive
    positives = weighted_positive.sum()
    intersection = positives - np.cumsum(weighted_positive)
    union = positives + np.cumsum(weight - weighted_positive)
    with np.errstate(divide="ignore", invalid="ignore"):
        jaccard = np.where(union > 0, 1.0 - intersection / np.where(union > 0, union, 1.0), 0.0)
    return np.diff(jaccard, prepend=0.0)


def _extension(errors, positive, weight):
    """``(value, d value / d errors)`` of the Lovász extension, for errors that may be negative (hinged at 0)."""
    order = np.argsort(-errors, kind="stable")
    g = lovasz_weights(positive[order], weight[order])
    sorted_errors = errors[order]
    value = float(np.dot(np.maximum(sorted_errors, 0.0), g))
    slope = np.empty_like(errors)
    slope[order] = np.where(sorted_errors > 0.0, g, 0.0)
    return value, slope


@register_loss
class LovaszHinge(BatchLoss):
    r"""Lovász hinge loss of a batch: the Lovász extension of the Jaccard loss at the hinge errors.

    .. math:: L = \bar\Delta\left(\max(0, 1 - s_i r_i)\right), \quad s_i = 2 y_i - 1

    (see the module for :math:`\bar\Delta`). Binary targets (n,), or a
    multilabel indicator (n, C): one Lovász hinge per label (column), then the
    mean over the labels (Berman et al.'s ``per_image`` with labels in place
    of images). Convex and piecewise linear in ``raw_prediction`` (not
    differentiable: fit it with ``solver="adam"`` or ``"sgd"``, or in a
    :class:`~sklearn_losses.losses.WeightedSum` with a smooth loss). Sample
    weights enter the Jaccard set function. Link: logit (``r = 0`` is the
    decision boundary). Equal to Berman et al.'s reference
    ``lovasz_hinge(logits, labels, per_image=False)`` for one label.
    """

    name = "lovasz_hinge"
    task = "overlap"
    link = LogitLink()
    target_domain = BinaryLabels()
    convex = True
    differentiable = False
    robust = False
    growth = "linear"
    decomposable = False

    def __init__(self):
        pass

    def _batch_loss_gradient(self, y, raw, w, gradient, out=None):
        n = raw.shape[0]
        weight = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
        ys, zs = self._columns(y), self._columns(raw)
        labels = ys.shape[1]
        value = 0.0
        grad = np.empty((n, labels)) if gradient else None
        for c in range(labels):
            sign = 2.0 * ys[:, c] - 1.0
            part, slope = _extension(1.0 - sign * zs[:, c], ys[:, c], weight)
            value += part / labels
            if gradient:
                grad[:, c] = -sign * slope / labels
        return value, None if grad is None else grad.reshape(raw.shape)


@register_loss
class LovaszSoftmax(BatchLoss):
    r"""Lovász-softmax loss of a batch (multiclass): the Lovász extension of each class's Jaccard loss.

    With :math:`p = \mathrm{softmax}(r_i)`, class ``c``'s errors are
    :math:`e_{ic} = |[y_i = c] - p_{ic}|` and

    .. math:: L = \frac{1}{|K'|} \sum_{c \in K'} \bar\Delta_c(e_{\cdot c})

    over the classes ``K'``: those present in the batch (with positive
    weight; ``classes="present"``, Berman et al.'s default) or all
    (``classes="all"``). Targets: class indices; ``raw_prediction`` (n, K).
    Sample weights enter each class's Jaccard set function. Not convex in the
    scores; piecewise smooth (fit it with ``solver="adam"``/``"sgd"`` or in a
    :class:`~sklearn_losses.losses.WeightedSum` with ``cross_entropy``).

    Parameters
    ----------
    classes : {"present", "all"}, default="present"
        The classes averaged over.
    """

    name = "lovasz_softmax"
    task = "multiclass"
    link = SoftmaxLink()
    target_domain = ClassIndices()
    convex = False
    differentiable = False
    robust = True
    growth = "bounded"
    decomposable = False
    per_row = True  # one sample is a row of scores
    _parameter_constraints = {"classes": [StrOptions({"present", "all"})]}

    def __init__(self, classes="present"):
        self.classes = classes

    def _as_floats(self):
        return ()

    def _check_shapes(self, y, raw):
        name = type(self).__name__
        if raw.ndim != 2 or raw.shape[1] < 2 or raw.shape[0] == 0:
            raise ValueError(f"{name}: raw_prediction must have shape (n_samples, n_classes) with at least 2 "
                             f"columns; got shape {raw.shape}.")
        if y.shape != raw.shape[:1]:
            raise ValueError(f"{name}: y_true has shape {y.shape} but raw_prediction has shape {raw.shape}; "
                             f"expected y_true of shape {raw.shape[:1]}.")

    def _batch_loss_gradient(self, y, raw, w, gradient, out=None):
        n, k = raw.shape
        weight = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
        z = np.asarray(raw, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            p = np.exp(log_softmax(z - z.max(axis=1, keepdims=True), axis=1))
        classes = np.asarray(y, dtype=np.intp)
        present = np.bincount(classes, weights=weight, minlength=k) > 0
        chosen = np.flatnonzero(present) if self.classes == "present" else np.arange(k)
        value = 0.0
        dp = np.zeros((n, k)) if gradient else None
        for c in chosen:
            positive = (classes == c).astype(np.float64)
            difference = positive - p[:, c]
            part, slope = _extension(np.abs(difference), positive, weight)
            value += part / chosen.size
            if gradient:
                dp[:, c] = -np.sign(difference) * slope / chosen.size
        if not gradient:
            return value, None
        # through the softmax: dL/dz = p * (dL/dp - sum_k p_k dL/dp_k)
        return value, p * (dp - np.sum(p * dp, axis=1, keepdims=True))
