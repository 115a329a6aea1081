"""Robust regression losses: quadratic near zero, slower growth for outliers.

All work on the residual e = y_true - raw_prediction with the identity link.
"""

import math
from numbers import Real

from sklearn.utils._param_validation import Interval

from ._base import EXACT_IF_CONVEX, BaseLoss
from ._factory import KernelSpec
from ._math import LN2, exp, expm1, jit_scalar, log1p_unit
from ._registry import register_loss
from .regression import _centred_pieces

__all__ = ["GeneralRobust", "Huber", "LogCosh", "PseudoHuber", "SmoothL1"]

_POSITIVE = Interval(Real, 0, None, closed="neither")


@jit_scalar
def _huber_value(y, r, delta):
    a = abs(y - r)
    return 0.5 * a * a if a <= delta else delta * (a - 0.5 * delta)


@jit_scalar
def _huber_gradient_hessian(y, r, delta):
    e = y - r
    if abs(e) <= delta:
        return -e, 1.0
    return (-delta if e > 0.0 else delta), 0.0


@jit_scalar
def _huber_gradient(y, r, delta):
    e = y - r
    return -e if abs(e) <= delta else (-delta if e > 0.0 else delta)


@register_loss
class Huber(BaseLoss):
    r"""Huber loss.

    .. math::

        \ell(y, r) = \begin{cases} \tfrac12 e^2 & |e| \le \delta \\
        \delta (|e| - \tfrac12 \delta) & \text{otherwise} \end{cases},
        \quad e = y - r

    Quadratic for small residuals, linear (bounded gradient) for outliers.
    Unlike :class:`sklearn.linear_model.HuberRegressor` there is no scale
    estimate: ``delta`` is in units of the target.

    Parameters
    ----------
    delta : float, default=1.0
        Residual at which the loss turns linear, > 0.
    """

    name = "huber"
    twice_differentiable = False
    robust = True
    growth = "linear"
    piecewise_quadratic = True
    _parameter_constraints = {"delta": [_POSITIVE]}
    _kernel_spec = KernelSpec(
        "elementwise", _huber_value, _huber_gradient, gradient_hessian=_huber_gradient_hessian, n_params=1
    )

    def __init__(self, delta=1.0):
        self.delta = delta

    def quadratic_pieces(self, y_true):
        """``delta |y - r|`` (slopes -delta, delta) smoothed with kappa = 1."""
        delta, = self.kernel_arguments()
        return _centred_pieces(y_true, (-delta, delta), (0.0,), 1.0)


@jit_scalar
def _smooth_l1_value(y, r, beta):
    a = abs(y - r)
    return 0.5 * a * a / beta if a < beta else a - 0.5 * beta


@jit_scalar
def _smooth_l1_gradient_hessian(y, r, beta):
    e = y - r
    if abs(e) < beta:
        return -e / beta, 1.0 / beta
    return (-1.0 if e > 0.0 else (1.0 if e < 0.0 else 0.0)), 0.0


@jit_scalar
def _smooth_l1_gradient(y, r, beta):
    return _smooth_l1_gradient_hessian(y, r, beta)[0]


@register_loss
class SmoothL1(BaseLoss):
    r"""Smooth L1 loss (as ``torch.nn.SmoothL1Loss``).

    .. math::

        \ell(y, r) = \begin{cases} \tfrac12 e^2 / \beta & |e| < \beta \\
        |e| - \tfrac12 \beta & \text{otherwise} \end{cases}

    Equals ``Huber(delta=beta) / beta``; ``beta=0`` is the absolute error.

    Parameters
    ----------
    beta : float, default=1.0
        Width of the quadratic zone, >= 0.
    """

    name = "smooth_l1"
    twice_differentiable = False
    robust = True
    growth = "linear"
    _parameter_constraints = {"beta": [Interval(Real, 0, None, closed="left")]}
    _kernel_spec = KernelSpec(
        "elementwise", _smooth_l1_value, _smooth_l1_gradient,
        gradient_hessian=_smooth_l1_gradient_hessian, n_params=1,
    )

    def __init__(self, beta=1.0):
        self.beta = beta

    piecewise_quadratic = True

    def quadratic_pieces(self, y_true):
        """``|y - r|`` (slopes -1, 1) smoothed with kappa = beta (beta = 0: the absolute error)."""
        beta, = self.kernel_arguments()
        return _centred_pieces(y_true, (-1.0, 1.0), (0.0,), beta)

    @property
    def differentiable(self):
        return self.beta > 0


@jit_scalar
def _pseudo_huber_gradient_hessian(y, r, delta):
    e = y - r
    t = e / delta
    if abs(t) < 1.0:
        h = math.sqrt(1.0 + t * t)
        return -e / h, 1.0 / (h * h * h)
    s = math.sqrt(1.0 + 1.0 / (t * t))  # h = |t| s without overflow
    g = -delta / s if t > 0.0 else delta / s
    return g, 1.0 / (abs(t) * s) ** 3


@jit_scalar
def _pseudo_huber_value(y, r, delta):
    e = y - r
    t = e / delta
    if abs(t) < 1.0:
        return e * e / (math.sqrt(1.0 + t * t) + 1.0)
    return delta * (abs(e) * math.sqrt(1.0 + 1.0 / (t * t)) - delta)


@jit_scalar
def _pseudo_huber_gradient(y, r, delta):
    return _pseudo_huber_gradient_hessian(y, r, delta)[0]


@register_loss
class PseudoHuber(BaseLoss):
    r"""Pseudo-Huber loss, a smooth approximation of :class:`Huber`.

    .. math:: \ell(y, r) = \delta^2 \left(\sqrt{1 + (e / \delta)^2} - 1\right)

    Parameters
    ----------
    delta : float, default=1.0
        Scale of the transition from quadratic to linear, > 0.
    """

    name = "pseudo_huber"
    robust = True
    growth = "linear"
    _parameter_constraints = {"delta": [_POSITIVE]}
    _kernel_spec = KernelSpec(
        "elementwise", _pseudo_huber_value, _pseudo_huber_gradient,
        gradient_hessian=_pseudo_huber_gradient_hessian, n_params=1,
    )

    def __init__(self, delta=1.0):
        self.delta = delta


@jit_scalar
def _log_cosh_value(y, r):
    a = abs(y - r)
    if a > 1.0:
        return a + log1p_unit(exp(-2.0 * a)) - LN2
    s = math.sinh(0.5 * a)
    return math.log1p(2.0 * s * s)


@jit_scalar
def _log_cosh_gradient_hessian(y, r):
    e = y - r
    q = exp(-2.0 * abs(e))
    t = (1.0 - q) / (1.0 + q)  # tanh(|e|)
    return (-t if e > 0.0 else t), 4.0 * q / ((1.0 + q) * (1.0 + q))


@jit_scalar
def _log_cosh_gradient(y, r):
    return _log_cosh_gradient_hessian(y, r)[0]


@register_loss
class LogCosh(BaseLoss):
    r"""Log-cosh loss.

    .. math:: \ell(y, r) = \log\cosh(y - r)

    Computed as ``|e| + log1p(exp(-2|e|)) - log 2`` for large residuals and as
    ``log1p(2 sinh^2(e/2))`` for small ones, so it is accurate everywhere.
    """

    name = "log_cosh"
    robust = True
    growth = "linear"
    _kernel_spec = KernelSpec(
        "elementwise", _log_cosh_value, _log_cosh_gradient,
        gradient_hessian=_log_cosh_gradient_hessian,
    )

    def __init__(self):
        pass


@jit_scalar
def _barron_log_term(x, b):
    """log1p(x^2 / b), also when x^2 overflows."""
    ax = abs(x)
    if ax > 1e150:
        return 2.0 * math.log(ax) - math.log(b)
    return math.log1p(x * x / b)


@jit_scalar
def _barron_value(y, r, alpha, scale):
    x = (y - r) / scale
    if alpha == 2.0:
        return 0.5 * x * x
    if alpha == 0.0:
        return _barron_log_term(x, 2.0)
    if alpha == -math.inf:
        return -math.expm1(-0.5 * x * x)
    b = abs(alpha - 2.0)
    return b / alpha * expm1(0.5 * alpha * _barron_log_term(x, b))


@jit_scalar
def _barron_gradient_hessian(y, r, alpha, scale):
    # derivatives in x = e / scale, then chain rule: d/dr = -(1/scale) d/dx
    x = (y - r) / scale
    if alpha == 2.0:
        d1, d2 = x, 1.0
    elif alpha == 0.0:
        if abs(x) > 1e150:
            d1, d2 = 2.0 / x, -2.0 / (x * x)
        else:
            q = x * x + 2.0
            d1, d2 = 2.0 * x / q, (4.0 - 2.0 * x * x) / (q * q)
    elif alpha == -math.inf:
        if abs(x) > 40.0:  # exp(-x^2 / 2) underflows: avoid 0 * inf
            d1, d2 = 0.0, 0.0
        else:
            g = math.exp(-0.5 * x * x)
            d1, d2 = x * g, g * (1.0 - x * x)
    elif abs(x) > 1e150:
        # x^2 / b >> 1: log_term = 2 L - log b with L = log|x| (inf when y - r
        # overflowed); the exponents are gathered as multiples of L so that no
        # inf - inf or 0 * inf arises
        b = abs(alpha - 2.0)
        big, log_b = math.log(abs(x)), math.log(b)
        s = 1.0 if x > 0.0 else -1.0
        d1 = s * exp(((alpha - 1.0) * big if alpha != 1.0 else 0.0) - (0.5 * alpha - 1.0) * log_b)
        k = (alpha - 2.0) * big
        d2 = exp(k - (0.5 * alpha - 1.0) * log_b) + (alpha - 2.0) / b * exp(k - (0.5 * alpha - 2.0) * log_b)
    else:
        b = abs(alpha - 2.0)
        log_term = _barron_log_term(x, b)
        d1 = x * exp((0.5 * alpha - 1.0) * log_term)
        x2_term = 0.0
        if x != 0.0:
            x2_term = exp(2.0 * math.log(abs(x)) + (0.5 * alpha - 2.0) * log_term)
        d2 = exp((0.5 * alpha - 1.0) * log_term) + (alpha - 2.0) / b * x2_term
    return -d1 / scale, d2 / (scale * scale)


@jit_scalar
def _barron_gradient(y, r, alpha, scale):
    return _barron_gradient_hessian(y, r, alpha, scale)[0]


@register_loss
class GeneralRobust(BaseLoss):
    r"""The general and adaptive robust loss of Barron (2019).

    With :math:`x = (y - r) / c` and :math:`b = |\alpha - 2|`:

    .. math::

        \rho(x, \alpha) = \frac{b}{\alpha}
        \left(\left(\frac{x^2}{b} + 1\right)^{\alpha / 2} - 1\right)

    and its limits: :math:`\tfrac12 x^2` at :math:`\alpha = 2`,
    :math:`\log(\tfrac12 x^2 + 1)` at :math:`\alpha = 0` and
    :math:`1 - \exp(-\tfrac12 x^2)` at :math:`\alpha = -\infty`.
    ``alpha=1`` is the pseudo-Huber (Charbonnier) loss, ``alpha=-2``
    Geman-McClure. Computed as ``b / alpha * expm1(alpha / 2 * log1p(x^2 / b))``
    so that it is accurate for alpha near 0 and 2.

    Parameters
    ----------
    alpha : float, default=1.0
        Shape; any real number or ``-inf``. Smaller is more robust: convex
        for alpha >= 1, bounded gradient for alpha <= 1, bounded loss for
        alpha < 0.
    scale : float, default=1.0
        Width c of the quadratic bowl near e = 0, > 0.

    References
    ----------
    J. T. Barron, "A General and Adaptive Robust Loss Function", CVPR 2019.
    """

    name = "general_robust"
    _parameter_constraints = {
        "alpha": [Interval(Real, None, None, closed="left")],  # admits -inf
        "scale": [_POSITIVE],
    }
    _kernel_spec = KernelSpec(
        "elementwise", _barron_value, _barron_gradient,
        gradient_hessian=_barron_gradient_hessian, n_params=2,
    )

    def __init__(self, alpha=1.0, scale=1.0):
        self.alpha = alpha
        self.scale = scale

    hessian = EXACT_IF_CONVEX

    @property
    def convex(self):
        return self.alpha >= 1

    @property
    def robust(self):
        return self.alpha <= 1

    @property
    def growth(self):
        if self.alpha < 0:
            return "bounded"
        if self.alpha < 1:
            return "sublinear"
        if self.alpha == 1:
            return "linear"
        return "quadratic" if self.alpha <= 2 else "polynomial"
