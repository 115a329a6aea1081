"""Overlap losses: one minus a soft overlap index of the whole batch (``structure = "batch"``).

The counts of a confusion matrix become soft with the predicted
probabilities ``p_i = sigmoid(r_i)``: ``TP = sum_i w_i y_i p_i``,
``FP = sum_i w_i (1 - y_i) p_i``, ``FN = sum_i w_i y_i (1 - p_i)``. The loss is a
function of these additive statistics (decomposable: computable in chunks).
"""

from numbers import Real

import numpy as np
from scipy.special import expit
from sklearn.utils._param_validation import Interval

from ..links import LogitLink
from ._batch import BatchLoss
from ._domain import BinaryLabels
from ._registry import register_loss

__all__ = ["SoftF1"]


def _soft_counts(y, raw):
    """Per sample (before the weights): the contributions to (TP, FP, FN)."""
    p = expit(raw)
    return np.column_stack([y * p, (1.0 - y) * p, y * (1.0 - p)])


def _counts_gradient(y, raw, dS):
    """``d(dS . (y p, (1 - y) p, y (1 - p))) / dr`` with ``dp/dr = p (1 - p)`` (no cancellation)."""
    slope = y * (dS[0] - dS[2]) + (1.0 - y) * dS[1]
    return slope * expit(raw) * expit(-raw)


@register_loss
class SoftF1(BatchLoss):
    r"""Soft F-beta loss of a batch: one minus the soft F-beta score.

    With soft counts from :math:`p_i = \sigma(r_i)` (see the module), the
    F-beta score is the Tversky index with :math:`a = 1 / (1 + \beta^2)` on
    the false positives and :math:`b = \beta^2 / (1 + \beta^2)` on the false
    negatives:

    .. math:: L = 1 - \frac{TP}{TP + a\, FP + b\, FN}

    ``beta=1`` is the soft F1 (the soft Dice coefficient); larger ``beta``
    weighs recall more. A batch with no positives and no predicted mass
    (``TP + a FP + b FN = 0``) has loss 0. Not a sum over samples: the
    reductions are ``"mean"`` (the loss) and ``"sum"`` (the total weight times
    it). Targets: 0 or 1. Link: logit.

    Parameters
    ----------
    beta : float, default=1.0
        Weight of recall against precision (> 0).
    """

    name = "soft_f1"
    task = "binary"
    link = LogitLink()
    target_domain = BinaryLabels()
    convex = False
    robust = True
    growth = "bounded"
    _parameter_constraints = {"beta": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, beta=1.0):
        self.beta = beta

    def _weights(self):
        beta2 = float(self.beta) ** 2
        return 1.0 / (1.0 + beta2), beta2 / (1.0 + beta2)

    def _sample_statistics(self, y, raw):
        return _soft_counts(y, raw)

    def _value(self, S):
        a, b = self._weights()
        tp, fp, fn = S
        denominator = tp + a * fp + b * fn
        return 0.0 if denominator <= 0.0 else 1.0 - tp / denominator

    def _value_gradient(self, S):
        a, b = self._weights()
        tp, fp, fn = S
        denominator = tp + a * fp + b * fn
        if denominator <= 0.0:
            return np.zeros(3)
        square = denominator * denominator
        return np.array([-(a * fp + b * fn) / square, a * tp / square, b * tp / square])

    def _statistics_gradient(self, y, raw, dS):
        return _counts_gradient(y, raw, dS)

    def _as_floats(self):
        return (float(self.beta),)
