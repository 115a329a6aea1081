"""Regression losses on the residual e = y_true - raw_prediction (identity link).

At a kink the gradient is the minimum-norm subgradient (0 at e = 0 for the
absolute error), and the hessian of a piecewise loss is its second derivative
on each piece (0 on linear pieces).
"""

from numbers import Real

import numpy as np

from sklearn.utils._param_validation import Interval

from ._base import BaseLoss
from ._baseline import weighted_mean, weighted_quantile
from ._domain import RealInterval
from ._factory import KernelSpec
from ._math import jit_scalar
from ._registry import register_loss

__all__ = ["AbsoluteError", "EpsilonInsensitive", "SquaredEpsilonInsensitive", "SquaredError"]


@jit_scalar
def _sign(e):
    return 1.0 if e > 0.0 else (-1.0 if e < 0.0 else 0.0)


@jit_scalar
def _squared_value(y, r):
    e = y - r
    return e * e


@jit_scalar
def _squared_gradient(y, r):
    return 2.0 * (r - y)


@jit_scalar
def _squared_gradient_hessian(y, r):
    return 2.0 * (r - y), 2.0


def _centred_pieces(y_true, slopes, offsets, kappa):
    """Slopes and breaks ``y + offsets`` per sample, with curvature ``kappa``."""
    y = np.asarray(y_true, dtype=float).reshape(-1, 1)
    return (np.tile(np.asarray(slopes, dtype=float), (y.shape[0], 1)), y + np.asarray(offsets, dtype=float),
            np.full(y.shape[0], kappa))


@register_loss
class SquaredError(BaseLoss):
    r"""Squared error.

    .. math:: \ell(y, r) = (y - r)^2

    No factor 1/2: the mean equals :func:`sklearn.metrics.mean_squared_error`.
    Domain: real targets. Link: identity.
    """

    name = "squared_error"
    piecewise_quadratic = True
    _kernel_spec = KernelSpec(
        "elementwise", _squared_value, _squared_gradient, gradient_hessian=_squared_gradient_hessian
    )

    def quadratic_pieces(self, y_true):
        """The constraint r = y (slopes -inf, inf) smoothed with kappa = 1/2."""
        return _centred_pieces(y_true, (-np.inf, np.inf), (0.0,), 0.5)

    def __init__(self):
        pass

    def _baseline(self, y, w):
        """The weighted mean."""
        return weighted_mean(y, w)


@jit_scalar
def _absolute_value(y, r):
    return abs(y - r)


@jit_scalar
def _absolute_gradient(y, r):
    return -_sign(y - r)


@jit_scalar
def _absolute_gradient_hessian(y, r):
    return -_sign(y - r), 0.0


@register_loss
class AbsoluteError(BaseLoss):
    r"""Absolute error.

    .. math:: \ell(y, r) = |y - r|

    Domain: real targets. Link: identity. Gradient at e = 0: 0.
    """

    name = "absolute_error"
    hessian = "zero"
    differentiable = False
    twice_differentiable = False
    robust = True
    growth = "linear"
    piecewise_linear = True
    piecewise_quadratic = True
    _kernel_spec = KernelSpec(
        "elementwise", _absolute_value, _absolute_gradient, gradient_hessian=_absolute_gradient_hessian
    )

    def __init__(self):
        pass

    def _baseline(self, y, w):
        """The weighted median."""
        return weighted_quantile(y, w, 0.5)

    def linear_pieces(self, y_true):
        """Slopes ``(-1, 1)`` in r, with the break at r = y."""
        y = np.asarray(y_true, dtype=float).reshape(-1, 1)
        return np.hstack([-np.ones_like(y), np.ones_like(y)]), y.copy()


@jit_scalar
def _eps_value(y, r, epsilon):
    d = abs(y - r) - epsilon
    return d if d > 0.0 else 0.0


@jit_scalar
def _eps_gradient(y, r, epsilon):
    e = y - r
    return -_sign(e) if abs(e) > epsilon else 0.0


@jit_scalar
def _eps_gradient_hessian(y, r, epsilon):
    return _eps_gradient(y, r, epsilon), 0.0


_EPSILON = {"epsilon": [Interval(Real, 0, None, closed="left")]}


@register_loss
class EpsilonInsensitive(BaseLoss):
    r"""Epsilon-insensitive loss (support vector regression).

    .. math:: \ell(y, r) = \max(0, |y - r| - \epsilon)

    Parameters
    ----------
    epsilon : float, default=0.1
        Width of the insensitive tube, >= 0.
    """

    name = "epsilon_insensitive"
    hessian = "zero"
    differentiable = False
    twice_differentiable = False
    robust = True
    growth = "linear"
    _parameter_constraints = _EPSILON
    piecewise_linear = True
    piecewise_quadratic = True
    _kernel_spec = KernelSpec(
        "elementwise", _eps_value, _eps_gradient, gradient_hessian=_eps_gradient_hessian, n_params=1
    )

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def linear_pieces(self, y_true):
        """Slopes ``(-1, 0, 1)`` in r, with breaks at r = y - epsilon and y + epsilon."""
        eps, = self.kernel_arguments()
        y = np.asarray(y_true, dtype=float).reshape(-1, 1)
        slopes = np.hstack([-np.ones_like(y), np.zeros_like(y), np.ones_like(y)])
        return slopes, np.hstack([y - eps, y + eps])


@jit_scalar
def _sq_eps_value(y, r, epsilon):
    d = _eps_value(y, r, epsilon)
    return d * d


@jit_scalar
def _sq_eps_gradient_hessian(y, r, epsilon):
    e = y - r
    d = abs(e) - epsilon
    if d > 0.0:
        return -2.0 * _sign(e) * d, 2.0
    return 0.0, 0.0


@jit_scalar
def _sq_eps_gradient(y, r, epsilon):
    return _sq_eps_gradient_hessian(y, r, epsilon)[0]


@register_loss
class SquaredEpsilonInsensitive(BaseLoss):
    r"""Squared epsilon-insensitive loss.

    .. math:: \ell(y, r) = \max(0, |y - r| - \epsilon)^2

    Parameters
    ----------
    epsilon : float, default=0.1
        Width of the insensitive tube, >= 0.
    """

    name = "squared_epsilon_insensitive"
    twice_differentiable = False
    piecewise_quadratic = True
    _parameter_constraints = _EPSILON
    _kernel_spec = KernelSpec(
        "elementwise", _sq_eps_value, _sq_eps_gradient, gradient_hessian=_sq_eps_gradient_hessian,
        n_params=1,
    )

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def quadratic_pieces(self, y_true):
        """The constraint ``|y - r| <= epsilon`` (slopes -inf, 0, inf) smoothed with kappa = 1/2."""
        eps, = self.kernel_arguments()
        return _centred_pieces(y_true, (-np.inf, 0.0, np.inf), (-eps, eps), 0.5)
