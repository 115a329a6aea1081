"""Losses between a target distribution y (rows of K probabilities) and softmax(z).

Useful for soft labels and knowledge distillation. The gradient is
``sum(y) * softmax(z) - y`` and the hessian diagonal ``sum(y) p (1 - p)``.
"""

import math

from ..links import SoftmaxLink
import numpy as np

from ._base import BaseLoss
from ._baseline import log_priors
from ._domain import ProbabilityRows
from ._factory import KernelSpec
from ._math import jit_scalar
from ._registry import register_loss

__all__ = ["KLDivergence", "SoftCrossEntropy"]


@jit_scalar
def _neg_entropy(y):
    total = 0.0
    for k in range(y.shape[0]):
        if y[k] > 0.0:
            total += y[k] * math.log(y[k])
    return total


@jit_scalar
def _mass(y):
    total = 0.0
    for k in range(y.shape[0]):
        total += y[k]
    return total


@jit_scalar
def _soft_ce_value(y, z, p, lse):
    total = 0.0
    for k in range(z.shape[0]):
        if y[k] > 0.0:
            total += y[k] * (lse - z[k])
    return total


@jit_scalar
def _soft_ce_loss_gradient(y, z, p, lse):
    value = _soft_ce_value(y, z, p, lse)
    mass = _mass(y)
    for k in range(p.shape[0]):
        p[k] = mass * p[k] - y[k]
    return value


@jit_scalar
def _soft_ce_gradient_hessian(y, z, p, lse, h):
    mass = _mass(y)
    for k in range(p.shape[0]):
        h[k] = mass * p[k] * (1.0 - p[k])
        p[k] = mass * p[k] - y[k]


@jit_scalar
def _kl_value(y, z, p, lse):
    return _soft_ce_value(y, z, p, lse) + _neg_entropy(y)


@jit_scalar
def _kl_loss_gradient(y, z, p, lse):
    return _soft_ce_loss_gradient(y, z, p, lse) + _neg_entropy(y)


class _DistributionLoss(BaseLoss):
    task = "distribution"
    structure = "row"

    def _baseline_row(self, y, w, n_classes):
        """The log of the weighted mean target row (cross-entropy and KL differ by the targets' entropy)."""
        return log_priors(np.average(y, axis=0, weights=w))
    target_domain = ProbabilityRows()
    link = SoftmaxLink()
    growth = "linear"
    robust = True


@register_loss
class SoftCrossEntropy(_DistributionLoss):
    r"""Cross-entropy against soft targets.

    .. math:: \ell(y, z) = -\sum_k y_k \log \mathrm{softmax}(z)_k
    """

    name = "soft_cross_entropy"
    _kernel_spec = KernelSpec(
        "softmax", _soft_ce_value, loss_gradient=_soft_ce_loss_gradient,
        gradient_hessian=_soft_ce_gradient_hessian,
    )

    def __init__(self):
        pass


@register_loss
class KLDivergence(_DistributionLoss):
    r"""Kullback-Leibler divergence KL(y || softmax(z)).

    .. math:: \ell(y, z) = \sum_k y_k \left(\log y_k - \log \mathrm{softmax}(z)_k\right)

    with :math:`0 \log 0 = 0`. Differs from :class:`SoftCrossEntropy` by the
    entropy of y, a constant in z: same gradient, zero at z = log y.
    """

    name = "kl_divergence"
    _kernel_spec = KernelSpec(
        "softmax", _kl_value, loss_gradient=_kl_loss_gradient,
        gradient_hessian=_soft_ce_gradient_hessian,
    )

    def __init__(self):
        pass
