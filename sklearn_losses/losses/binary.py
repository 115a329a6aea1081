"""Binary classification losses on y in {0, 1} and a real score z.

With s = 2y - 1 the margin is m = s z. Probabilistic losses (log loss, focal)
use the logit link p = sigmoid(z) and are computed in log space from a single
exponential, so that they are finite for every finite z.
"""

import math
from numbers import Real

import numpy as np

from sklearn.utils._param_validation import Interval

from ..links import LogitLink
from ._base import EXACT_IF_CONVEX, BaseLoss
from ._baseline import EPS
from ._domain import BinaryLabels
from ._factory import KernelSpec
from ._math import exp, jit_scalar, softplus_sigmoid_from
from ._registry import register_loss

__all__ = ["Exponential", "Focal", "Hinge", "LogLoss", "ModifiedHuber", "SquaredHinge"]


def _class_weights(y, w):
    """``(S1, S)``: the weight of the positives and the total weight."""
    w = np.ones(y.size) if w is None else w
    return float(np.dot(w, y)), float(np.sum(w))


class _BinaryLoss(BaseLoss):
    task = "binary"
    target_domain = BinaryLabels()
    growth = "linear"
    robust = True


@jit_scalar
def _exp_minus_abs(y, z):
    """exp(-|z|), the one exponential of the logit losses (the ``prepare`` pass of their kernels)."""
    return exp(-abs(z))


@jit_scalar
def _log_loss_value(y, z, e, pos_weight):
    sp, sm, sig, sig_m = softplus_sigmoid_from(z, e)
    return pos_weight * y * sm + (1.0 - y) * sp


@jit_scalar
def _log_loss_loss_gradient(y, z, e, pos_weight):
    sp, sm, sig, sig_m = softplus_sigmoid_from(z, e)
    return pos_weight * y * sm + (1.0 - y) * sp, (1.0 - y) * sig - pos_weight * y * sig_m


@jit_scalar
def _log_loss_gradient(y, z, e, pos_weight):
    return _log_loss_loss_gradient(y, z, e, pos_weight)[1]


@jit_scalar
def _log_loss_gradient_hessian(y, z, e, pos_weight):
    sp, sm, sig, sig_m = softplus_sigmoid_from(z, e)
    g = (1.0 - y) * sig - pos_weight * y * sig_m
    return g, (pos_weight * y + 1.0 - y) * sig * sig_m


@register_loss
class LogLoss(_BinaryLoss):
    r"""Binary cross-entropy on logits.

    .. math::

        \ell(y, z) = -\left(w_+ \, y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))\right)

    computed as :math:`w_+ y\,\mathrm{softplus}(-z) + (1-y)\,\mathrm{softplus}(z)`.
    With ``pos_weight=1`` the mean equals :func:`sklearn.metrics.log_loss` on
    :math:`\sigma(z)`.

    Parameters
    ----------
    pos_weight : float, default=1.0
        Weight w+ of the positive class (as ``torch.nn.BCEWithLogitsLoss``), > 0.
    """

    name = "log_loss"
    link = LogitLink()
    _parameter_constraints = {"pos_weight": [Interval(Real, 0, None, closed="neither")]}
    _kernel_spec = KernelSpec(
        "elementwise", _log_loss_value, _log_loss_gradient, loss_gradient=_log_loss_loss_gradient,
        gradient_hessian=_log_loss_gradient_hessian, n_params=1, prepare=_exp_minus_abs,
    )

    def __init__(self, pos_weight=1.0):
        self.pos_weight = pos_weight

    def _baseline(self, y, w):
        """The log-odds with the positives weighted by ``pos_weight``: ``log(pos_weight S1 / S0)``."""
        positive, total = _class_weights(y, w)
        p = min(max(float(self.pos_weight) * positive / (float(self.pos_weight) * positive + total - positive), EPS),
                1.0 - EPS)
        return math.log(p / (1.0 - p))


@jit_scalar
def _hinge_value(y, z, margin):
    d = margin - (2.0 * y - 1.0) * z
    return d if d > 0.0 else 0.0


@jit_scalar
def _hinge_gradient(y, z, margin):
    s = 2.0 * y - 1.0
    return -s if s * z < margin else 0.0


@jit_scalar
def _hinge_gradient_hessian(y, z, margin):
    return _hinge_gradient(y, z, margin), 0.0


@register_loss
class Hinge(_BinaryLoss):
    r"""Hinge loss (support vector machines).

    .. math:: \ell(y, z) = \max(0, \text{margin} - s z), \quad s = 2y - 1

    With ``margin=1`` the mean equals :func:`sklearn.metrics.hinge_loss`.

    Parameters
    ----------
    margin : float, default=1.0
        Margin, >= 0 (0 gives the perceptron loss).
    """

    name = "hinge"
    hessian = "zero"
    differentiable = False
    twice_differentiable = False
    _parameter_constraints = {"margin": [Interval(Real, 0, None, closed="left")]}
    piecewise_linear = True
    piecewise_quadratic = True
    _kernel_spec = KernelSpec(
        "elementwise", _hinge_value, _hinge_gradient, gradient_hessian=_hinge_gradient_hessian,
        n_params=1,
    )

    def __init__(self, margin=1.0):
        self.margin = margin

    def linear_pieces(self, y_true):
        """For y = 1 slopes ``(-1, 0)`` with the break at z = margin; for y = 0
        slopes ``(0, 1)`` with the break at z = -margin."""
        margin, = self.kernel_arguments()
        s = 2.0 * np.asarray(y_true, dtype=float).reshape(-1, 1) - 1.0
        slopes = np.hstack([np.minimum(-s, 0.0), np.maximum(-s, 0.0)])
        return slopes, s * margin


@jit_scalar
def _squared_hinge_value(y, z):
    d = 1.0 - (2.0 * y - 1.0) * z
    return d * d if d > 0.0 else 0.0


@jit_scalar
def _squared_hinge_gradient_hessian(y, z):
    s = 2.0 * y - 1.0
    d = 1.0 - s * z
    if d > 0.0:
        return -2.0 * s * d, 2.0
    return 0.0, 0.0


@jit_scalar
def _squared_hinge_gradient(y, z):
    return _squared_hinge_gradient_hessian(y, z)[0]


def _margin_pieces(y_true, slope, kappa):
    """``slope * max(0, 1 - s z)`` in z (s = 2y - 1) as slopes and breaks, with curvature ``kappa``."""
    s = 2.0 * np.asarray(y_true, dtype=float).reshape(-1, 1) - 1.0
    with np.errstate(invalid="ignore"):
        slopes = np.hstack([np.where(s > 0, -slope, 0.0), np.where(s > 0, 0.0, slope)])
    return slopes, s.copy(), np.full(s.shape[0], kappa)


@register_loss
class SquaredHinge(_BinaryLoss):
    r"""Squared hinge loss.

    .. math:: \ell(y, z) = \max(0, 1 - s z)^2, \quad s = 2y - 1
    """

    name = "squared_hinge"
    twice_differentiable = False
    robust = False
    growth = "quadratic"
    piecewise_quadratic = True
    _kernel_spec = KernelSpec(
        "elementwise", _squared_hinge_value, _squared_hinge_gradient,
        gradient_hessian=_squared_hinge_gradient_hessian,
    )

    def __init__(self):
        pass

    def quadratic_pieces(self, y_true):
        """The constraint s z >= 1 (slopes 0 and -inf in s z) smoothed with kappa = 1/2."""
        return _margin_pieces(y_true, np.inf, 0.5)


@jit_scalar
def _modified_huber_value(y, z):
    m = (2.0 * y - 1.0) * z
    if m < -1.0:
        return -4.0 * m
    d = 1.0 - m
    return d * d if d > 0.0 else 0.0


@jit_scalar
def _modified_huber_gradient_hessian(y, z):
    s = 2.0 * y - 1.0
    m = s * z
    if m < -1.0:
        return -4.0 * s, 0.0
    if m < 1.0:
        return -2.0 * s * (1.0 - m), 2.0
    return 0.0, 0.0


@jit_scalar
def _modified_huber_gradient(y, z):
    return _modified_huber_gradient_hessian(y, z)[0]


@register_loss
class ModifiedHuber(_BinaryLoss):
    r"""Modified Huber loss (Zhang 2004), as ``SGDClassifier(loss="modified_huber")``.

    .. math::

        \ell(y, z) = \begin{cases} -4 m & m < -1 \\ \max(0, 1 - m)^2 & \text{otherwise}
        \end{cases}, \quad m = (2y - 1) z
    """

    name = "modified_huber"
    twice_differentiable = False
    piecewise_quadratic = True
    _kernel_spec = KernelSpec(
        "elementwise", _modified_huber_value, _modified_huber_gradient,
        gradient_hessian=_modified_huber_gradient_hessian,
    )

    def __init__(self):
        pass

    def quadratic_pieces(self, y_true):
        """4 max(0, 1 - s z) smoothed with kappa = 1/2 (its quadratic part is the squared hinge)."""
        return _margin_pieces(y_true, 4.0, 0.5)


@jit_scalar
def _exponential_value(y, z):
    return exp(-(2.0 * y - 1.0) * z)


@jit_scalar
def _exponential_gradient_hessian(y, z):
    s = 2.0 * y - 1.0
    v = exp(-s * z)
    return -s * v, v


@jit_scalar
def _exponential_gradient(y, z):
    return _exponential_gradient_hessian(y, z)[0]


@register_loss
class Exponential(_BinaryLoss):
    r"""Exponential loss (AdaBoost).

    .. math:: \ell(y, z) = \exp(-s z), \quad s = 2y - 1

    Its population minimiser is half the log-odds; the link here is the
    identity (``inverse_link`` returns the score).
    """

    name = "exponential"
    robust = False
    growth = "exponential"
    _kernel_spec = KernelSpec(
        "elementwise", _exponential_value, _exponential_gradient,
        gradient_hessian=_exponential_gradient_hessian,
    )

    def __init__(self):
        pass

    def _baseline(self, y, w):
        """Half the log-odds: ``log(S1 / S0) / 2``."""
        positive, total = _class_weights(y, w)
        p = min(max(positive / total, EPS), 1.0 - EPS)
        return 0.5 * math.log(p / (1.0 - p))


@jit_scalar
def _focal_parts(y, z, e, gamma, alpha, squared):
    """Value, gradient and hessian of the focal loss (shared by all entries).

    ``e = exp(-|z|)``. ``squared`` is a constant in each caller: True computes
    (1 - p_t)^gamma as (1 - p_t)^2 (gamma = 2, the default), which saves an
    exponential.
    """
    s = 2.0 * y - 1.0
    # t = s z: p_t = sigmoid(t), 1 - p_t = sigmoid(-t), -log p_t = softplus(-t); |t| = |z|
    sp, sm, p_t, q_t = softplus_sigmoid_from(s * z, e)
    alpha_t = 1.0 if alpha < 0.0 else (alpha if y > 0.5 else 1.0 - alpha)
    a = q_t * q_t if squared else exp(-gamma * sp)  # (1 - p_t)^gamma
    value = alpha_t * a * sm
    b = -gamma * p_t * sm - q_t  # d/dt log-space factor
    grad_t = alpha_t * a * b
    # p_t sm (not gamma sm first): at |z| ~ 1e308, sm overflows when doubled while p_t is 0
    hess = alpha_t * a * (-gamma * p_t * b + p_t * q_t * (1.0 + gamma) - gamma * q_t * (p_t * sm))
    return value, s * grad_t, hess


@jit_scalar
def _focal_value(y, z, e, gamma, alpha):
    return _focal_parts(y, z, e, gamma, alpha, False)[0]


@jit_scalar
def _focal_loss_gradient(y, z, e, gamma, alpha):
    v, g, h = _focal_parts(y, z, e, gamma, alpha, False)
    return v, g


@jit_scalar
def _focal_gradient(y, z, e, gamma, alpha):
    return _focal_parts(y, z, e, gamma, alpha, False)[1]


@jit_scalar
def _focal_gradient_hessian(y, z, e, gamma, alpha):
    v, g, h = _focal_parts(y, z, e, gamma, alpha, False)
    return g, h


@jit_scalar
def _focal2_value(y, z, e, gamma, alpha):
    return _focal_parts(y, z, e, gamma, alpha, True)[0]


@jit_scalar
def _focal2_loss_gradient(y, z, e, gamma, alpha):
    v, g, h = _focal_parts(y, z, e, gamma, alpha, True)
    return v, g


@jit_scalar
def _focal2_gradient(y, z, e, gamma, alpha):
    return _focal_parts(y, z, e, gamma, alpha, True)[1]


@jit_scalar
def _focal2_gradient_hessian(y, z, e, gamma, alpha):
    v, g, h = _focal_parts(y, z, e, gamma, alpha, True)
    return g, h


_FOCAL_SPEC = KernelSpec(
    "elementwise", _focal_value, _focal_gradient, loss_gradient=_focal_loss_gradient,
    gradient_hessian=_focal_gradient_hessian, n_params=2, prepare=_exp_minus_abs,
)
_FOCAL_GAMMA2_SPEC = KernelSpec(
    "elementwise", _focal2_value, _focal2_gradient, loss_gradient=_focal2_loss_gradient,
    gradient_hessian=_focal2_gradient_hessian, n_params=2, prepare=_exp_minus_abs,
)


@register_loss
class Focal(_BinaryLoss):
    r"""Focal loss (Lin et al. 2017) on logits.

    .. math::

        \ell(y, z) = -\alpha_t (1 - p_t)^\gamma \log p_t,
        \quad p = \sigma(z), \; p_t = \begin{cases} p & y = 1 \\ 1 - p & y = 0 \end{cases}

    with :math:`\alpha_t = \alpha` for y = 1, :math:`1 - \alpha` for y = 0
    (1 when ``alpha`` is None). Computed in log space,
    :math:`(1 - p_t)^\gamma = \exp(-\gamma\,\mathrm{softplus}(t))` and
    :math:`-\log p_t = \mathrm{softplus}(-t)` with t = (2y - 1) z, so it is
    finite for any finite z. ``gamma=0`` is the (alpha-weighted) log loss.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter, >= 0: down-weights well-classified samples.
    alpha : float or None, default=None
        Weight of the positive class in [0, 1]; None for no class weighting.
    """

    name = "focal"
    link = LogitLink()
    _parameter_constraints = {
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both"), None],
    }
    def __init__(self, gamma=2.0, alpha=None):
        self.gamma = gamma
        self.alpha = alpha

    def _as_floats(self):
        return float(self.gamma), -1.0 if self.alpha is None else float(self.alpha)

    @property
    def _kernel_spec(self):
        # gamma = 2 (the default) has kernels of its own without the extra
        # exponential (about 2x faster); every other gamma shares one set.
        return _FOCAL_GAMMA2_SPEC if self.gamma == 2 else _FOCAL_SPEC

    hessian = EXACT_IF_CONVEX

    @property
    def convex(self):
        return self.gamma == 0
