"""Scalar maths of the cumulative-link ordinal likelihood, stable in both tails.

For a latent cdf F (``link`` 0: logistic, 1: standard normal, 2: Gumbel-min,
the "complementary log-log" model) and a row ``z`` of K - 1 non-increasing
scores, the probability of class ``c`` is ``F(a) - F(b)`` with ``a = z[c-1]``
(``+inf`` for ``c = 0``) and ``b = z[c]`` (``-inf`` for ``c = K - 1``). Its
logarithm is taken without cancellation: in the upper tail (``b > 0``) as
``log Sf(b) + log(1 - Sf(a) / Sf(b))``, otherwise as ``log F(a) + log(1 -
F(b) / F(a))``, each ratio from the difference of two logarithms computed in
a form without overflow, and ``log(1 - e^x)`` by :func:`log1mexp`. The
gradients come from the hazard ``f / Sf`` and the reverse hazard ``f / F``,
which the normal model's far tails take from the Mills ratio's continued
fraction (its ``-x^2/2`` would overflow beyond ``|x| = 1.9e154``).
"""

import math

from .._config import SCALAR_OPTIONS
from .._jit import njit

#: These functions are compiled as functions of their own, called from the kernels, not inlined into them at
#: numba's IR level as the other per-sample maths is: each has a branch per distribution, and inlining the
#: whole tree (every call inlining its callees) made one kernel take minutes to compile. Row kernels do not
#: vectorise, so a call costs little.
jit_scalar = njit(**dict(SCALAR_OPTIONS, inline="never"))

__all__ = ["LINKS", "cumulative_loss_gradient"]

#: The ``link`` codes of the kernels.
LINKS = {"logit": 0.0, "probit": 1.0, "cloglog": 2.0}

_HALF_LOG_2PI = 0.9189385332046727
_SQRT_HALF = 0.7071067811865476
_LN2 = 0.6931471805599453
_MILLS_FROM = 26.0  # the normal tail from which the continued fraction is used (Phi(-26) ~ 1e-149)
_GUMBEL_LINEAR = -36.0  # below it log F(x) = x for the Gumbel-min cdf (to 1e-16)


@jit_scalar
def exp(x):
    """math.exp, +inf on overflow (not an error, also with NUMBA_DISABLE_JIT). Not :func:`._math.exp`: its
    polynomial, inlined at each of the many calls here, makes the kernels slow to compile."""
    return math.exp(x) if x < 709.0 else (math.exp(709.0) * math.exp(x - 709.0) if x < 1418.0 else math.inf)


@jit_scalar
def expm1(x):
    """math.expm1, +inf on overflow."""
    return math.expm1(x) if x < 709.0 else exp(x)


@jit_scalar
def _log(x):
    """log(x), -inf at 0 (not an error, also with NUMBA_DISABLE_JIT); NaN below 0 and for NaN."""
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


@jit_scalar
def _log1p(x):
    """log1p(x), -inf at -1; NaN below -1 and for NaN."""
    if x > -1.0:
        return math.log1p(x)
    return -math.inf if x == -1.0 else math.nan


@jit_scalar
def log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate at both ends (-inf at x = 0)."""
    if x > -0.6931471805599453:
        return _log(-expm1(x))
    return _log1p(-exp(x))


@jit_scalar
def _log1p_exp_neg(t):
    """log(1 + exp(-t)) for t >= 0."""
    return _log1p(exp(-t))


@jit_scalar
def _mills(t):
    """Sf(t) / pdf(t) of the standard normal for t >= 26, by its continued fraction (exact to rounding)."""
    v = t
    for k in range(24, 0, -1):
        v = t + k / v
    return 1.0 / v


@jit_scalar
def _log_ndtr(x):
    """log Phi(x)."""
    if x > 0.0:
        return _log1p(-0.5 * math.erfc(x * _SQRT_HALF))
    if x >= -_MILLS_FROM:
        return _log(0.5 * math.erfc(-x * _SQRT_HALF))
    return -0.5 * x * x - _HALF_LOG_2PI + _log(_mills(-x))


@jit_scalar
def _normal_reverse_hazard(x):
    """pdf(x) / Phi(x)."""
    if x < -_MILLS_FROM:
        return 1.0 / _mills(-x)
    return exp(-0.5 * x * x - _HALF_LOG_2PI - _log_ndtr(x))


@jit_scalar
def log_cdf(x, link):
    if link == 0.0:
        return -((-x if x < 0.0 else 0.0) + _log1p_exp_neg(abs(x)))
    if link == 1.0:
        return _log_ndtr(x)
    if x < _GUMBEL_LINEAR:
        return x
    u = exp(x)
    if u > 1.0:  # F near 1: log1p of -Sf, not the log of a number near 1
        return _log1p(-exp(-u))
    return _log(-expm1(-u))


@jit_scalar
def log_sf(x, link):
    if link == 0.0:
        return -((x if x > 0.0 else 0.0) + _log1p_exp_neg(abs(x)))
    if link == 1.0:
        return _log_ndtr(-x)
    return -exp(x)


@jit_scalar
def hazard(x, link):
    """pdf(x) / Sf(x)."""
    if link == 0.0:
        e = exp(-abs(x))
        return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)
    if link == 1.0:
        return _normal_reverse_hazard(-x)
    return exp(x)


@jit_scalar
def reverse_hazard(x, link):
    """pdf(x) / F(x)."""
    if link == 0.0:
        return hazard(-x, 0.0)
    if link == 1.0:
        return _normal_reverse_hazard(x)
    if x < _GUMBEL_LINEAR:
        return 1.0
    u = exp(x)
    if u > 745.0:
        return 0.0
    if u > 1.0:
        return u * exp(-u) / -expm1(-u)
    return u / expm1(u)


@jit_scalar
def log_pdf(x, link):
    if link == 0.0:
        return -abs(x) - 2.0 * _log1p_exp_neg(abs(x))
    if link == 1.0:
        return -0.5 * x * x - _HALF_LOG_2PI
    return x - exp(x)


@jit_scalar
def _log_cosh(u):
    u = abs(u)
    return u + _log1p(exp(-2.0 * u)) - _LN2


@jit_scalar
def _narrow_log_probability(a, b, link):
    """``(True, log(F(a) - F(b)))`` for a narrow interval, where the tail forms would cancel; else ``(False, 0)``.

    Logistic (width below 1): ``sigma(a) - sigma(b) = sinh(w/2) / (2 cosh(a/2) cosh(b/2))``, exact. The
    others (``w^2 |f''/f| < 1e-7`` at the midpoint m): ``w f(m) (1 + w^2 f''(m) / (24 f(m)))``, the
    midpoint rule and its first correction (the next term is below 1e-16).
    """
    w = a - b
    if link == 0.0:
        if w < 1.0:
            half = 0.5 * w
            return True, half - 2.0 * _LN2 + log1mexp(-w) - _log_cosh(0.5 * a) - _log_cosh(0.5 * b)
        return False, 0.0
    if w >= 1e-5:
        return False, 0.0
    m = 0.5 * a + 0.5 * b
    if link == 1.0:
        c = m * m - 1.0
    else:
        u = exp(m)
        c = (1.0 - u) * (1.0 - u) - u
    if not w * w * abs(c) < 1e-7:
        return False, 0.0
    return True, _log(w) + log_pdf(m, link) + _log1p(w * w * c / 24.0)


@jit_scalar
def _log_sf_ratio(a, b, link):
    """log(Sf(a) / Sf(b)) <= 0 for a >= b > 0."""
    if link == 0.0:
        return (b - a) + (_log1p_exp_neg(b) - _log1p_exp_neg(a))
    if link == 1.0:
        if b > _MILLS_FROM:  # -(a^2 - b^2) / 2 as a product: no overflow short of the float range
            return -0.5 * (a - b) * (a + b) + _log(_mills(a) / _mills(b))
        return _log_ndtr(-a) - _log_ndtr(-b)
    return -exp(b) * expm1(a - b)


@jit_scalar
def _log_cdf_ratio(a, b, link):
    """log(F(b) / F(a)) <= 0 for a >= b, b <= 0."""
    if link == 0.0:
        return ((-a if a < 0.0 else 0.0) - (-b)) + (_log1p_exp_neg(abs(a)) - _log1p_exp_neg(-b))
    if link == 1.0:
        if a < -_MILLS_FROM:
            return -0.5 * (b - a) * (b + a) + _log(_mills(-b) / _mills(-a))
        return _log_ndtr(b) - _log_ndtr(a)
    return log_cdf(b, link) - log_cdf(a, link)


@jit_scalar
def cumulative_loss_gradient(c, n_thresholds, a, b, link):
    """``(loss, d loss / d a, d loss / d b)`` of class ``c`` between the scores ``a >= b``.

    ``a`` is unused for ``c = 0`` and ``b`` for ``c = n_thresholds`` (the top class).
    """
    if c == 0:
        return -log_sf(b, link), 0.0, hazard(b, link)
    if c == n_thresholds:
        return -log_cdf(a, link), -reverse_hazard(a, link), 0.0
    narrow, log_p = _narrow_log_probability(a, b, link)
    if narrow:
        if log_p == -math.inf:  # an empty interval
            return math.inf, -math.inf, math.inf
        return -log_p, -exp(log_pdf(a, link) - log_p), exp(log_pdf(b, link) - log_p)
    if b > 0.0:
        d = _log_sf_ratio(a, b, link)
        if d != d:  # both tails beyond the float range (normal model): Sf(a) / Sf(b) underflows
            d = -math.inf
        rest = -expm1(d)
        q = exp(d)
        # h(a) Sf(a) / Sf(b) -> 0 where the ratio underflows (h(a) may overflow: inf * 0)
        return (-log_sf(b, link) - log1mexp(d), -(hazard(a, link) * q if q > 0.0 else 0.0) / rest,
                hazard(b, link) / rest)
    e = _log_cdf_ratio(a, b, link)
    if e != e:
        e = -math.inf
    rest = -expm1(e)
    r = exp(e)
    # f(b) / F(a) -> 0 where the ratio F(b) / F(a) underflows (the reverse hazard may overflow: inf * 0)
    return (-log_cdf(a, link) - log1mexp(e), -reverse_hazard(a, link) / rest,
            (reverse_hazard(b, link) * r if r > 0.0 else 0.0) / rest)
