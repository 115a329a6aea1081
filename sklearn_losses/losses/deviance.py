"""Deviance losses of exponential-dispersion models, with a log link.

mu = exp(raw_prediction). The value is the unit deviance, so the mean equals
:func:`sklearn.metrics.mean_poisson_deviance`, ``mean_gamma_deviance`` and
``mean_tweedie_deviance`` evaluated at mu. The deviances are written in terms
of d = raw_prediction - log(y_true) where possible, which is exact near the
optimum; large raw predictions overflow to +inf, never to NaN.
"""

import math
from numbers import Real

from sklearn.utils._param_validation import Interval

from ..links import LogLink
from ._base import EXACT_IF_CONVEX, BaseLoss
from ._baseline import EPS, weighted_mean
from ._domain import RealInterval
from ._factory import KernelSpec
from ._math import exp, expm1_minus_x, jit_scalar, signed_exp_sum
from ._registry import register_loss

__all__ = ["Gamma", "Poisson", "Tweedie"]


@jit_scalar
def _poisson_value(y, r):
    if y > 0.0:
        return 2.0 * y * expm1_minus_x(r - math.log(y))
    return 2.0 * exp(r)


@jit_scalar
def _poisson_gradient_hessian(y, r):
    mu = exp(r)
    return 2.0 * (mu - y), 2.0 * mu


@jit_scalar
def _poisson_gradient(y, r):
    return 2.0 * (exp(r) - y)


class _LogLinkDeviance(BaseLoss):
    link = LogLink()
    growth = "exponential"

    def _baseline(self, y, w):
        """The log of the weighted mean: the deviance of every Tweedie power is least at mu = mean(y)."""
        return math.log(max(weighted_mean(y, w), EPS))


@register_loss
class Poisson(_LogLinkDeviance):
    r"""Poisson deviance with log link.

    .. math:: \ell(y, r) = 2\left(y \log\frac{y}{\mu} - y + \mu\right), \quad \mu = e^r

    Domain: y >= 0 (counts or rates).
    """

    name = "poisson"
    target_domain = RealInterval(0, math.inf, low_closed=True)
    _kernel_spec = KernelSpec(
        "elementwise", _poisson_value, _poisson_gradient, gradient_hessian=_poisson_gradient_hessian
    )

    def __init__(self):
        pass


@jit_scalar
def _gamma_value(y, r):
    return 2.0 * expm1_minus_x(math.log(y) - r)


@jit_scalar
def _gamma_gradient_hessian(y, r):
    q = exp(math.log(y) - r)  # y / mu
    return 2.0 * (1.0 - q), 2.0 * q


@jit_scalar
def _gamma_gradient(y, r):
    return 2.0 * (1.0 - exp(math.log(y) - r))


@register_loss
class Gamma(_LogLinkDeviance):
    r"""Gamma deviance with log link.

    .. math:: \ell(y, r) = 2\left(\log\frac{\mu}{y} + \frac{y}{\mu} - 1\right), \quad \mu = e^r

    Domain: y > 0.
    """

    name = "gamma"
    target_domain = RealInterval(0, math.inf)
    _kernel_spec = KernelSpec(
        "elementwise", _gamma_value, _gamma_gradient, gradient_hessian=_gamma_gradient_hessian
    )

    def __init__(self):
        pass


@jit_scalar
def _sign(x):
    return 1.0 if x >= 0.0 else -1.0


@jit_scalar
def _log_abs(x):
    return math.log(abs(x)) if x != 0.0 else -math.inf


@jit_scalar
def _tweedie_raw(r, p):
    """r clipped to where (1 - p) r and (2 - p) r stay finite: exp of either is +-inf or 0 long before."""
    bound = 1e307 / max(abs(1.0 - p), abs(2.0 - p), 1.0)
    return min(max(r, -bound), bound)


@jit_scalar
def _signed_exp_sum3(s1, l1, s2, l2, s3, l3):
    """s1 e^l1 + s2 e^l2 + s3 e^l3 from the largest exponent (finite where the sum is, +-inf on overflow)."""
    m = max(l1, l2, l3)
    if m == -math.inf:
        return 0.0
    inner = s1 * math.exp(l1 - m) + s2 * math.exp(l2 - m) + s3 * math.exp(l3 - m)
    if inner == 0.0:
        return 0.0
    return _sign(inner) * exp(m + math.log(abs(inner)))


@jit_scalar
def _tweedie_value(y, r, p):
    r = _tweedie_raw(r, p)
    y_pos = y if y > 0.0 else 0.0
    const = y_pos ** (2.0 - p) / ((1.0 - p) * (2.0 - p))
    # y mu^(1-p) / (p-1) + mu^(2-p) / (2-p), summed without inf - inf
    # log|y| - log|p - 1|, not log|y / (p - 1)|: y / 2 underflows to 0 for subnormal y
    s_y, l_y = _sign(y) * _sign(p - 1.0), _log_abs(y) - math.log(abs(p - 1.0)) + (1.0 - p) * r
    s_mu, l_mu = _sign(2.0 - p), (2.0 - p) * r - math.log(abs(2.0 - p))
    value = const + signed_exp_sum(s_y, l_y, s_mu, l_mu)
    if not abs(value) < math.inf:  # (a comparison: the kernels' reassociation may fold isfinite away)
        # a term overflowed (y^2 at y = 1e300 for p = 0): the three terms in the
        # log domain, from the largest (the deviance is finite where they cancel)
        q = (1.0 - p) * (2.0 - p)
        l_const = (2.0 - p) * _log_abs(y_pos) - math.log(abs(q)) if y_pos > 0.0 else -math.inf
        value = max(_signed_exp_sum3(_sign(q), l_const, s_y, l_y, s_mu, l_mu), 0.0)
    return 2.0 * value


@jit_scalar
def _tweedie_gradient_hessian(y, r, p):
    r = _tweedie_raw(r, p)
    g = signed_exp_sum(-_sign(y), _log_abs(y) + (1.0 - p) * r, 1.0, (2.0 - p) * r)
    h = signed_exp_sum(
        _sign(p - 1.0) * _sign(y), math.log(abs(p - 1.0)) + _log_abs(y) + (1.0 - p) * r,
        _sign(2.0 - p), math.log(abs(2.0 - p)) + (2.0 - p) * r,
    )
    return 2.0 * g, 2.0 * h


@jit_scalar
def _tweedie_gradient(y, r, p):
    return _tweedie_gradient_hessian(y, r, p)[0]


_TWEEDIE_SPEC = KernelSpec(
    "elementwise", _tweedie_value, _tweedie_gradient, gradient_hessian=_tweedie_gradient_hessian, n_params=1,
)
_TWEEDIE_SPEC.check_signatures("Tweedie")


@register_loss
class Tweedie(_LogLinkDeviance):
    r"""Tweedie deviance with log link.

    .. math::

        \ell(y, r) = 2\left(\frac{\max(y, 0)^{2-p}}{(1-p)(2-p)}
        - \frac{y \mu^{1-p}}{1-p} + \frac{\mu^{2-p}}{2-p}\right), \quad \mu = e^r

    ``power=0`` is the squared error on mu, 1 :class:`Poisson`, 2 :class:`Gamma`.
    Domain: any real y for p <= 0, y >= 0 for 1 <= p < 2, y > 0 for p >= 2.
    Convex in the raw prediction for 1 <= p <= 2.

    Parameters
    ----------
    power : float, default=0.0
        Tweedie power p, outside (0, 1).
    """

    name = "tweedie"
    _parameter_constraints = {"power": [Interval(Real, None, None, closed="neither")]}

    def __init__(self, power=0.0):
        self.power = power

    @property
    def _kernel_spec(self):
        """Poisson's and Gamma's own kernels at powers 1 and 2, the general ones elsewhere.

        The general per-sample functions do not carry those two cases (their
        formulas differ: logarithms instead of powers), which halves the time
        their kernels take to compile (loss and gradient: 7 s to 3 s).
        """
        if self.power == 1:
            return Poisson._kernel_spec
        if self.power == 2:
            return Gamma._kernel_spec
        return _TWEEDIE_SPEC

    def _as_floats(self):
        return (float(self.power),) if self._kernel_spec is _TWEEDIE_SPEC else ()

    def _check_params(self):
        if 0 < self.power < 1:
            raise ValueError(
                f"The 'power' parameter of Tweedie must be <= 0 or >= 1; got {self.power!r} "
                "(no Tweedie distribution exists for 0 < power < 1)."
            )

    @property
    def target_domain(self):
        if self.power <= 0:
            return RealInterval()
        if self.power < 2:
            return RealInterval(0, math.inf, low_closed=True)
        return RealInterval(0, math.inf)

    hessian = EXACT_IF_CONVEX

    @property
    def convex(self):
        return 1 <= self.power <= 2
