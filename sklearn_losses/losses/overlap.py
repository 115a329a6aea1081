r"""Overlap losses: one minus a soft overlap index of the whole batch (``structure = "batch"``).

The counts of a confusion matrix become soft with the predicted
probabilities :math:`p_i = \sigma(r_i)`:

.. math::

    TP = \sum_i w_i y_i p_i, \quad FP = \sum_i w_i (1 - y_i) p_i, \quad
    FN = \sum_i w_i y_i (1 - p_i),

and every loss here is a function of one overlap index of these additive
statistics (decomposable: computable in chunks and across machines),

.. math::

    s = \frac{c\,TP + \text{smooth}}{\max(c\,TP + a\,FP + b\,FN + \text{smooth},\ \text{eps})}

with ``(c, a, b) = (2, 1, 1)`` for Dice (= F1), ``(1, 1, 1)`` for Jaccard
(IoU), ``(1, alpha, beta)`` for Tversky and ``(1 + beta^2, 1, beta^2)`` for
F-beta. The loss is ``1 - s``, or ``-log(max(s, eps))`` (``log_loss=True``),
or ``(1 - s)^gamma`` (focal Tversky).

**Several labels.** ``y_true`` and ``raw_prediction`` of shape (n, C) (a
multilabel indicator and one score per label): the counts are taken per
label (per column) and the loss is the mean over the labels of each label's
loss (macro averaging, as segmentation-models-pytorch and MONAI average over
channels).

**Conventions** (tested):

* A label with no positives and no predicted mass in the batch (all counts
  0, ``smooth = 0``) agrees perfectly: index 1, loss 0, gradient 0, never
  NaN. Soft predictions always carry some mass, so with ``smooth = 0`` a
  label without positives has index 0 (loss 1) and no gradient whatever is
  predicted for it; ``smooth > 0`` makes predicting little mass on it pay:
  its index is then ``smooth / (a FP + smooth)``.
* ``smooth`` is added to the numerator and the denominator of the index
  *after* the counts are weighted by ``c``: for Dice it is MONAI's
  ``smooth_nr = smooth_dr = smooth`` (``DiceLoss``, ``TverskyLoss``, with
  ``batch=True``) and the ``smooth`` of segmentation-models-pytorch before
  0.4; segmentation-models-pytorch 0.6 computes Dice as Tversky(0.5, 0.5)
  with ``smooth`` added to TP, so its ``DiceLoss(smooth=s)`` is
  ``SoftDice(smooth=2 * s)``, while its ``JaccardLoss`` and ``TverskyLoss``
  take the same ``smooth`` as here. ``eps`` bounds the denominator from
  below, as segmentation-models-pytorch's ``clamp_min(eps)``.
  segmentation-models-pytorch further zeroes the loss of labels without
  positives in the batch (``y_true.sum() == 0``); here such a label keeps the
  value above.

Batches of :func:`~sklearn_losses._config.parallel_threshold` entries or more
(200,000 by default) are counted and differentiated by two threaded compiled
passes (:mod:`._overlap_kernels`); smaller ones by NumPy expressions over
chunks of rows (nothing to compile in a first fit).
* Sample weights multiply each sample's contributions to the counts: integer
  weights equal repeated samples. Scaling all weights leaves the loss
  unchanged when ``smooth = 0``; ``smooth`` is in the units of the weighted
  counts (pixels or samples, as in the libraries above), so with
  ``smooth > 0`` the weights' scale sets how much it smooths.
"""

from numbers import Real

import numpy as np
from scipy.special import expit
from sklearn.utils._param_validation import Interval

from .._config import parallel_threshold
from .._jit import DISABLE_JIT
from ..links import LogitLink
from ._batch import BatchLoss
from ._overlap_kernels import scale_slopes, soft_counts
from ._domain import BinaryLabels
from ._registry import register_alias, register_loss

__all__ = ["FocalTversky", "SoftDice", "SoftF1", "SoftFBeta", "SoftJaccard", "Tversky"]

_NON_NEGATIVE = Interval(Real, 0, None, closed="left")
_POSITIVE = Interval(Real, 0, None, closed="neither")


class _OverlapIndex(BatchLoss):
    """A loss of one soft overlap index per label (see the module docstring)."""

    task = "overlap"
    link = LogitLink()
    target_domain = BinaryLabels()
    convex = False
    robust = True
    growth = "bounded"
    #: how the index becomes the loss: "linear" (1 - s), "log" (-log s) or "focal" ((1 - s)^gamma)
    _transform = "linear"

    def _coefficients(self):  # pragma: no cover - abstract
        """``(c, a, b)``: the weights of TP, FP and FN in the index."""
        raise NotImplementedError

    @property
    def weight_scale_invariant(self):
        """``smooth`` is in the units of the weighted counts: with ``smooth > 0`` the scale of the weights
        (class weights included) changes how much it smooths."""
        return float(self.smooth) == 0.0

    def _shape(self):
        """``"log"`` when ``log_loss`` is set, else the class's transform."""
        return "log" if getattr(self, "log_loss", False) else self._transform

    # ---------------------------------------------------------- statistics
    @staticmethod
    def _compiled_inputs(y, raw, w):
        """``(y, raw, w, weighted)`` for the compiled passes (2-D views), or None for the NumPy ones."""
        if DISABLE_JIT or raw.size < parallel_threshold() or raw.dtype.kind != "f":
            return None
        y = np.ascontiguousarray(y if y.dtype.kind in "fb" else y.astype(np.float64))
        weights = np.ones(1) if w is None else np.ascontiguousarray(w, dtype=np.float64)
        as_2d = (lambda a: a[:, None] if a.ndim == 1 else a)
        return as_2d(y), as_2d(np.ascontiguousarray(raw)), weights, w is not None

    @staticmethod
    def _compiled_counts(compiled, slopes=None):
        """``S`` (C, 3), label by label; with ``slopes`` (n, C), each label's ``w p (1 - p)`` stored there."""
        Y, R, weights, weighted = compiled
        store = slopes is not None
        return np.array([soft_counts(Y[:, c], R[:, c], weights, weighted,
                                     slopes[:, c] if store else weights, store) for c in range(R.shape[1])])

    @staticmethod
    def _compiled_scale(Y, dS, factor, slopes):
        for c in range(slopes.shape[1]):
            scale_slopes(Y[:, c], factor * (dS[c, 0] - dS[c, 2]), factor * dS[c, 1], slopes[:, c])

    def _statistics(self, y, raw, w):
        compiled = self._compiled_inputs(y, raw, w)
        if compiled is None:
            return super()._statistics(y, raw, w)
        return self._compiled_counts(compiled)

    def _gradient_into(self, y, raw, w, dS, factor, out):
        compiled = self._compiled_inputs(y, raw, w)
        if compiled is None:
            return super()._gradient_into(y, raw, w, dS, factor, out)
        self._compiled_counts(compiled, out)
        self._compiled_scale(compiled[0], np.asarray(dS, dtype=np.float64), float(factor), out)
        return out

    def _batch_loss_gradient(self, y, raw, w, gradient, out=None):
        compiled = self._compiled_inputs(y, raw, w)
        if compiled is None or not gradient:
            return super()._batch_loss_gradient(y, raw, w, gradient, out)
        out = np.empty(raw.shape) if out is None else out
        slopes = out.reshape(compiled[1].shape)
        S = self._compiled_counts(compiled, slopes)
        self._compiled_scale(compiled[0], self._value_gradient(S), 1.0 / S.shape[0], slopes)
        return float(np.mean(self._value(S))), out

    def _sample_statistics(self, y, raw):
        p, q = expit(raw), expit(-raw)  # q = 1 - p without cancellation
        return np.stack([y * p, (1.0 - y) * p, y * q], axis=-1)

    def _index(self, S):
        """``(s, N, D, free)`` per label: index, numerator, denominator and where the eps bound is inactive."""
        c, a, b = self._coefficients()
        smooth, eps = float(self.smooth), float(self.eps)
        tp, fp, fn = S[..., 0], S[..., 1], S[..., 2]
        numerator = c * tp + smooth
        raw_denominator = c * tp + a * fp + b * fn + smooth
        denominator = np.maximum(raw_denominator, eps)
        empty = raw_denominator <= 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(empty, 1.0, numerator / np.where(empty, 1.0, denominator))
        return s, numerator, np.where(empty, 1.0, denominator), (raw_denominator >= eps) & ~empty, empty

    def _value(self, S):
        s = self._index(S)[0]
        shape = self._shape()
        if shape == "log":
            return -np.log(np.maximum(s, max(float(self.eps), np.finfo(np.float64).tiny)))
        if shape == "focal":
            return np.maximum(1.0 - s, 0.0) ** float(self.gamma)
        return 1.0 - s

    def _value_gradient(self, S):
        c, a, b = self._coefficients()
        s, numerator, denominator, free, empty = self._index(S)
        shape = self._shape()
        if shape == "log":
            floor = max(float(self.eps), np.finfo(np.float64).tiny)
            outer = np.where(s > floor, -1.0 / np.maximum(s, floor), 0.0)
        elif shape == "focal":
            gamma = float(self.gamma)
            gap = 1.0 - s
            with np.errstate(divide="ignore", invalid="ignore"):
                outer = np.where(gap > 0.0, -gamma * np.maximum(gap, 0.0) ** (gamma - 1.0), 0.0)
        else:
            outer = -np.ones_like(s)
        square = denominator * denominator
        d_tp = (c * denominator - numerator * c * free) / square
        d_fp = -numerator * a * free / square
        d_fn = -numerator * b * free / square
        grad = np.stack([d_tp, d_fp, d_fn], axis=-1) * outer[..., None]
        grad[empty] = 0.0
        return grad

    def _statistics_gradient(self, y, raw, dS):
        """``d(dS . (y p, (1 - y) p, y (1 - p))) / dr`` with ``dp/dr = p (1 - p)`` (no cancellation)."""
        slope = y * (dS[:, 0] - dS[:, 2]) + (1.0 - y) * dS[:, 1]
        return slope * expit(raw) * expit(-raw)

    def _check_params(self):
        c, a, b = self._coefficients()
        if not a + b > 0:
            raise ValueError(f"{type(self).__name__}: the weights of false positives and false negatives must not "
                             "both be 0 (the index would be 1 whatever is predicted).")

    def _as_floats(self):
        return tuple(float(v) for v in self.get_params(deep=False).values())


_SMOOTHING_DOC = """smooth : float, default=0.0
        Added to the numerator and the denominator of the index (>= 0); see
        the module for the mapping to other libraries.
    eps : float, default=1e-7
        Lower bound of the denominator (>= 0)."""


@register_loss
class SoftFBeta(_OverlapIndex):
    __doc__ = r"""Soft F-beta loss of a batch: one minus the soft F-beta score.

    .. math:: L = 1 - \frac{(1 + \beta^2) TP + \text{smooth}}
                  {(1 + \beta^2) TP + FP + \beta^2 FN + \text{smooth}}

    with the soft counts of the module (per label for multilabel targets,
    then averaged). ``beta=1`` is the soft F1, equal to :class:`SoftDice`;
    larger ``beta`` weighs recall more. Targets 0 or 1; link: logit. Not a
    sum over samples: the reductions are ``"mean"`` (the loss) and ``"sum"``
    (the total weight times it).

    Parameters
    ----------
    beta : float, default=1.0
        Weight of recall against precision (> 0).
    """ + _SMOOTHING_DOC

    name = "soft_fbeta"
    _parameter_constraints = {"beta": [_POSITIVE], "smooth": [_NON_NEGATIVE], "eps": [_NON_NEGATIVE]}

    def __init__(self, beta=1.0, smooth=0.0, eps=1e-7):
        self.beta = beta
        self.smooth = smooth
        self.eps = eps

    def _coefficients(self):
        beta2 = float(self.beta) ** 2
        return 1.0 + beta2, 1.0, beta2


#: The soft F1 under its earlier name (``"soft_f1"`` is the registered alias of ``SoftFBeta(beta=1)``).
SoftF1 = SoftFBeta
register_alias("soft_f1", SoftFBeta, beta=1.0)


class _FixedIndex(_OverlapIndex):
    """An index of fixed weights ``_weights = (c, a, b)``, with ``smooth``, ``eps`` and ``log_loss``."""

    _weights = None
    _parameter_constraints = {"smooth": [_NON_NEGATIVE], "eps": [_NON_NEGATIVE], "log_loss": ["boolean"]}

    def __init__(self, smooth=0.0, eps=1e-7, log_loss=False):
        self.smooth = smooth
        self.eps = eps
        self.log_loss = log_loss

    def _coefficients(self):
        return self._weights


@register_loss
class SoftDice(_FixedIndex):
    __doc__ = r"""Soft Dice loss of a batch (one minus the soft Dice coefficient, the soft F1).

    .. math:: L = 1 - \frac{2\,TP + \text{smooth}}{2\,TP + FP + FN + \text{smooth}}

    or :math:`-\log` of the coefficient with ``log_loss=True``, with the soft
    counts of the module (per label, then averaged). Equal to
    segmentation-models-pytorch's ``DiceLoss(mode="binary" | "multilabel",
    from_logits=True, smooth=smooth / 2)`` (version 0.6) on batches where
    every label has a positive, and to MONAI's ``DiceLoss(sigmoid=True,
    batch=True)`` with ``smooth_nr = smooth_dr = smooth``.

    Parameters
    ----------
    """ + _SMOOTHING_DOC + """
    log_loss : bool, default=False
        Minimise ``-log(max(dice, eps))`` instead of ``1 - dice``.
    """

    name = "soft_dice"
    _weights = (2.0, 1.0, 1.0)


@register_loss
class SoftJaccard(_FixedIndex):
    __doc__ = r"""Soft Jaccard (IoU) loss of a batch: one minus the soft intersection over union.

    .. math:: L = 1 - \frac{TP + \text{smooth}}{TP + FP + FN + \text{smooth}}

    or :math:`-\log` of the index with ``log_loss=True``; the soft counts of
    the module (per label, then averaged). Equal to
    segmentation-models-pytorch's ``JaccardLoss`` on batches where every
    label has a positive.

    Parameters
    ----------
    """ + _SMOOTHING_DOC + """
    log_loss : bool, default=False
        Minimise ``-log(max(iou, eps))`` instead of ``1 - iou``.
    """

    name = "soft_jaccard"
    _weights = (1.0, 1.0, 1.0)


@register_loss
class Tversky(_OverlapIndex):
    __doc__ = r"""Tversky loss of a batch: one minus the soft Tversky index.

    .. math:: L = 1 - \frac{TP + \text{smooth}}{TP + \alpha\,FP + \beta\,FN + \text{smooth}}

    **alpha weights the false positives, beta the false negatives** (as
    segmentation-models-pytorch's ``TverskyLoss``; Salehi et al. 2017 and
    Abraham & Khan 2019 write the index with the roles the other way round:
    their ``alpha=0.7`` on false negatives is ``beta=0.7`` here). A larger
    ``beta`` favours recall. ``alpha = beta = 0.5`` is the Dice coefficient;
    ``alpha = beta = 1`` the Jaccard index.

    Parameters
    ----------
    alpha : float, default=0.5
        Weight of the false positives (>= 0).
    beta : float, default=0.5
        Weight of the false negatives (>= 0; ``alpha + beta > 0``).
    """ + _SMOOTHING_DOC

    name = "tversky"
    _parameter_constraints = {"alpha": [_NON_NEGATIVE], "beta": [_NON_NEGATIVE], "smooth": [_NON_NEGATIVE],
                              "eps": [_NON_NEGATIVE]}

    def __init__(self, alpha=0.5, beta=0.5, smooth=0.0, eps=1e-7):
        self.alpha = alpha
        self.beta = beta
        self.smooth = smooth
        self.eps = eps

    def _coefficients(self):
        return 1.0, float(self.alpha), float(self.beta)


@register_loss
class FocalTversky(Tversky):
    __doc__ = r"""Focal Tversky loss of a batch (Abraham & Khan 2019): the Tversky loss of each label to a power.

    .. math:: L = \frac{1}{C} \sum_{c=1}^{C} \left(1 - TI_c\right)^{\gamma}, \quad
              TI_c = \frac{TP_c + \text{smooth}}{TP_c + \alpha\,FP_c + \beta\,FN_c + \text{smooth}}

    ``gamma`` is applied per label, as in the paper (whose ``1/gamma = 4/3``
    is ``gamma = 0.75`` here); segmentation-models-pytorch's
    ``TverskyLoss(gamma=...)`` instead raises the mean over labels to the
    power. ``gamma < 1`` strengthens the gradient of labels that are already
    well predicted. As in :class:`Tversky`, **alpha weights the false
    positives and beta the false negatives**: the paper's recall-favouring
    setting (0.7 on false negatives) is ``alpha=0.3, beta=0.7``.

    Parameters
    ----------
    alpha : float, default=0.7
        Weight of the false positives (>= 0).
    beta : float, default=0.3
        Weight of the false negatives (>= 0).
    gamma : float, default=0.75
        Exponent of each label's loss (> 0).
    """ + _SMOOTHING_DOC

    name = "focal_tversky"
    _transform = "focal"
    _parameter_constraints = {**Tversky._parameter_constraints, "gamma": [_POSITIVE]}

    def __init__(self, alpha=0.7, beta=0.3, gamma=0.75, smooth=0.0, eps=1e-7):
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.smooth = smooth
        self.eps = eps
