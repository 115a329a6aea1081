"""Asymmetric regression losses: under- and over-prediction cost differently.

All work on the residual e = y_true - raw_prediction with the identity link
(e > 0 is under-prediction).
"""

from numbers import Real

import numpy as np

from sklearn.utils._param_validation import Interval

from ._base import BaseLoss
from ._baseline import weighted_quantile
from ._factory import KernelSpec
from ._math import exp, expm1_minus_x, jit_scalar
from ._registry import register_loss

__all__ = ["Expectile", "LINEX", "Quantile"]

_OPEN_UNIT = Interval(Real, 0, 1, closed="neither")


@jit_scalar
def _pinball_value(y, r, quantile):
    e = y - r
    return quantile * e if e >= 0.0 else (quantile - 1.0) * e


@jit_scalar
def _pinball_gradient(y, r, quantile):
    e = y - r
    return -quantile if e > 0.0 else (1.0 - quantile if e < 0.0 else 0.0)


@jit_scalar
def _pinball_gradient_hessian(y, r, quantile):
    return _pinball_gradient(y, r, quantile), 0.0


@register_loss
class Quantile(BaseLoss):
    r"""Pinball (quantile) loss.

    .. math:: \ell(y, r) = q \max(e, 0) + (1 - q) \max(-e, 0), \quad e = y - r

    Its minimiser is the q-quantile of the target; the mean equals
    :func:`sklearn.metrics.mean_pinball_loss` with ``alpha=q``.
    Gradient at e = 0: 0 (the minimum-norm subgradient).

    Parameters
    ----------
    quantile : float, default=0.5
        The quantile q, in (0, 1).
    """

    name = "quantile"
    hessian = "zero"
    differentiable = False
    twice_differentiable = False
    robust = True
    growth = "linear"
    _parameter_constraints = {"quantile": [_OPEN_UNIT]}
    piecewise_linear = True
    piecewise_quadratic = True
    _kernel_spec = KernelSpec(
        "elementwise", _pinball_value, _pinball_gradient,
        gradient_hessian=_pinball_gradient_hessian, n_params=1,
    )

    def __init__(self, quantile=0.5):
        self.quantile = quantile

    def _baseline(self, y, w):
        """The weighted ``quantile``-quantile."""
        return weighted_quantile(y, w, float(self.quantile))

    def linear_pieces(self, y_true):
        """Slopes ``(-q, 1 - q)`` in r, with the break at r = y."""
        q, = self.kernel_arguments()
        y = np.asarray(y_true, dtype=float).reshape(-1, 1)
        return np.hstack([np.full_like(y, -q), np.full_like(y, 1.0 - q)]), y.copy()


@jit_scalar
def _expectile_value(y, r, expectile):
    e = y - r
    tau = expectile if e >= 0.0 else 1.0 - expectile
    return tau * e * e


@jit_scalar
def _expectile_gradient_hessian(y, r, expectile):
    e = y - r
    tau = expectile if e >= 0.0 else 1.0 - expectile
    return -2.0 * tau * e, 2.0 * tau


@jit_scalar
def _expectile_gradient(y, r, expectile):
    return _expectile_gradient_hessian(y, r, expectile)[0]


@register_loss
class Expectile(BaseLoss):
    r"""Expectile (asymmetric squared) loss.

    .. math:: \ell(y, r) = |\tau - 1[e < 0]|\, e^2, \quad e = y - r

    ``expectile=0.5`` is half the squared error.

    Parameters
    ----------
    expectile : float, default=0.5
        The expectile level tau, in (0, 1).
    """

    name = "expectile"
    twice_differentiable = False
    _parameter_constraints = {"expectile": [_OPEN_UNIT]}
    _kernel_spec = KernelSpec(
        "elementwise", _expectile_value, _expectile_gradient,
        gradient_hessian=_expectile_gradient_hessian, n_params=1,
    )

    def __init__(self, expectile=0.5):
        self.expectile = expectile


@jit_scalar
def _linex_value(y, r, a):
    return expm1_minus_x(a * (y - r))


@jit_scalar
def _linex_gradient_hessian(y, r, a):
    g = exp(a * (y - r))
    return -a * (g - 1.0), a * a * g


@jit_scalar
def _linex_gradient(y, r, a):
    return _linex_gradient_hessian(y, r, a)[0]


@register_loss
class LINEX(BaseLoss):
    r"""LINEX (linear-exponential) loss of Varian (1975).

    .. math:: \ell(y, r) = \exp(a e) - a e - 1, \quad e = y - r

    For ``a > 0`` under-prediction (e > 0) costs exponentially and
    over-prediction linearly; ``a < 0`` the reverse. Computed without
    cancellation near e = 0.

    Parameters
    ----------
    a : float, default=1.0
        Asymmetry, non-zero.
    """

    name = "linex"
    growth = "exponential"
    _parameter_constraints = {"a": [Interval(Real, None, None, closed="neither")]}
    _kernel_spec = KernelSpec(
        "elementwise", _linex_value, _linex_gradient,
        gradient_hessian=_linex_gradient_hessian, n_params=1,
    )

    def __init__(self, a=1.0):
        self.a = a

    def _check_params(self):
        if self.a == 0:
            raise ValueError("The 'a' parameter of LINEX must be non-zero; got 0.")
