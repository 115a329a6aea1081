"""Accuracy of the vectorisable scalar maths against NumPy and exact arithmetic."""

import math
from decimal import Decimal, getcontext

import numpy as np
import pytest

from sklearn_losses.losses._math import (
    exp, exp_normal, expm1_minus_x, log1p_unit, log_positive, signed_exp_sum, softplus, softplus_sigmoid,
)


def _ulp_error(got, ref):
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def test_exp_is_within_two_ulp_of_numpy(rng):
    x = np.concatenate([rng.uniform(-745, 709.78, 20000), rng.uniform(-1, 1, 5000),
                        np.linspace(-40, 40, 4001)])
    got = np.array([exp(v) for v in x])
    ref = np.exp(x)
    normal = ref > np.finfo(float).tiny
    assert np.max(_ulp_error(got[normal], ref[normal])) <= 2


def test_exp_normal_is_within_one_ulp_of_numpy(rng):
    x = np.concatenate([rng.uniform(-708, 708, 20000), rng.uniform(-1, 1, 5000), [0.0, 708.0, -708.0]])
    got = np.array([exp_normal(v) for v in x])
    assert np.max(_ulp_error(got, np.exp(x))) <= 1


@pytest.mark.parametrize(
    "x, expected",
    [(np.inf, np.inf), (-np.inf, 0.0), (710.0, np.inf), (709.78, math.exp(709.78)),
     (-745.0, math.exp(-745.0)), (-746.0, 0.0), (0.0, 1.0), (1e300, np.inf), (-1e300, 0.0)],
)
def test_exp_special_values(x, expected):
    assert exp(x) == expected


def test_exp_propagates_nan():
    assert math.isnan(exp(np.nan))


def test_log1p_unit_accuracy(rng):
    t = np.concatenate([rng.uniform(0, 1, 20000), 10.0 ** rng.uniform(-300, 0, 5000), [0.0, 1.0, 0.41421356]])
    got = np.array([log1p_unit(v) for v in t])
    ref = np.log1p(t)
    nonzero = ref > 0
    assert np.max(_ulp_error(got[nonzero], ref[nonzero])) <= 3
    assert log1p_unit(0.0) == 0.0


def test_log_positive_accuracy(rng):
    x = np.concatenate([10.0 ** rng.uniform(-307, 308, 5000), rng.uniform(0.5, 2, 5000),
                        1.0 + 1e-8 * rng.normal(size=1000), [2.0, 1e308, np.sqrt(0.5)]])
    got = np.array([log_positive(v) for v in x])
    ref = np.log(x)
    assert np.max(_ulp_error(got, ref)) <= 2
    assert log_positive(1.0) == 0.0


def test_softplus_and_sigmoid_at_extremes():
    assert softplus(-1e300) == 0.0
    assert softplus(1e300) == 1e300
    assert softplus(0.0) == pytest.approx(math.log(2), rel=1e-15)
    sp, sm, sig, sig_m = softplus_sigmoid(-800.0)
    assert (sp, sm, sig, sig_m) == (0.0, 800.0, 0.0, 1.0)
    sp, sm, sig, sig_m = softplus_sigmoid(3.0)
    assert sig + sig_m == pytest.approx(1.0, rel=1e-15)
    assert sp - sm == pytest.approx(3.0, rel=1e-15)


def test_expm1_minus_x_against_exact_arithmetic():
    getcontext().prec = 50
    # both sides of the switch between the series and exp(x) - 1 - x at |x| = 1/2, and a sweep across it
    edges = (0.5, -0.5, np.nextafter(0.5, 0.0), np.nextafter(-0.5, 0.0), 0.50001, -0.50001)
    for x in (1e-12, -3e-8, 1e-4, -0.05, 0.0999, 0.1, 2.0, -30.0, 49.0, 51.0, 700.0, *edges,
              *np.linspace(-1.5, 1.5, 61)):
        exact = Decimal(float(x)).exp() - 1 - Decimal(float(x))
        assert expm1_minus_x(x) == pytest.approx(float(exact), rel=4e-15, abs=1e-300)
    assert expm1_minus_x(0.0) == 0.0
    assert np.isnan(expm1_minus_x(np.nan))
    assert expm1_minus_x(1e300) == np.inf
    assert expm1_minus_x(-1e300) == 1e300 - 1


@pytest.mark.parametrize(
    "s1, l1, s2, l2, expected",
    [(1, 0.0, 1, 0.0, 2.0), (1, 0.0, -1, 0.0, 0.0), (-1, math.log(3), 1, 0.0, -2.0),
     (1, 1e300, -1, 5e299, np.inf), (-1, 1e300, 1, 0.0, -np.inf), (1, -np.inf, 1, -np.inf, 0.0),
     (1, 800.0, -1, 799.0, math.inf)],
)
def test_signed_exp_sum(s1, l1, s2, l2, expected):
    assert signed_exp_sum(s1, l1, s2, l2) == pytest.approx(expected)


def test_exp_keeps_its_accuracy_when_inlined_into_kernels(rng):
    """Kernels are compiled with ``reassoc``; the inlined exp must stay within 1 ulp."""
    from sklearn_losses.losses import Exponential, LogLoss

    z = np.concatenate([rng.uniform(-745, 709.78, 100000), np.linspace(-746, -700, 2001),
                        [709.7, 709.78, 709.79, -745.0, -745.2]])
    got = Exponential().loss(np.zeros_like(z), z, reduction="none")
    with np.errstate(over="ignore"):
        ref = np.exp(z)
    assert np.array_equal(np.isinf(got), np.isinf(ref))
    normal = (ref > np.finfo(float).tiny) & np.isfinite(ref)
    assert np.max(_ulp_error(got[normal], ref[normal])) <= 1
    subnormal = ref <= np.finfo(float).tiny
    assert np.max(np.abs(got[subnormal] - ref[subnormal])) <= 5e-324
    value = LogLoss().loss(np.ones_like(z), z, reduction="none")
    expected = np.logaddexp(0, -z)
    positive = expected > 1e-300
    assert np.max(_ulp_error(value[positive], expected[positive])) <= 4


def test_log_sum_exp_keeps_its_accuracy_when_inlined_into_kernels(rng):
    """The softmax kernels inline ``exp`` and ``log_positive`` under ``reassoc``."""
    from scipy.special import logsumexp

    from sklearn_losses.losses import CrossEntropy

    y = rng.integers(0, 7, size=5000).astype(float)
    # scores within +-300 take the unshifted path of softmax_rows, larger ones the shifted
    for scale in (5.0, 200.0):
        z = rng.normal(scale=scale, size=(5000, 7))
        got = CrossEntropy().loss(y, z, reduction="none")
        expected = logsumexp(z, axis=1) - z[np.arange(5000), y.astype(int)]
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14 * scale)
        gradient = CrossEntropy().gradient(y, z) * 5000
        probabilities = np.exp(z - logsumexp(z, axis=1, keepdims=True))
        probabilities[np.arange(5000), y.astype(int)] -= 1.0
        np.testing.assert_allclose(gradient, probabilities, rtol=1e-13, atol=1e-15 * scale)


@pytest.mark.parametrize("name", ["cross_entropy", "multiclass_focal", "soft_cross_entropy", "kl_divergence"])
@pytest.mark.parametrize("offset", [-1e300, -1e16, 7e5, 1e16, 1e300])
def test_softmax_losses_are_exactly_shift_invariant_at_any_magnitude(name, offset, rng):
    """A softmax loss depends on the differences of a row's scores only: adding ``offset`` to every
    score (with differences that stay exact) changes nothing, even where ``offset`` is 1e16 or 1e300
    (computing ``log(sum(exp(z))) - z_k`` unshifted loses the log-sum at 1e16: 2.0 for log 3)."""
    from sklearn_losses import get_loss

    smoothing = {"cross_entropy": {"label_smoothing": 0.1}}.get(name, {})
    loss = get_loss(name, **smoothing)
    n, K = 40, 4
    steps = rng.integers(-2, 3, size=(n, K)).astype(float)
    steps[:5] = 0.0  # rows of equal scores: the uniform softmax
    spacing = np.spacing(abs(offset))
    differences = steps * spacing
    shifted = offset + differences
    assert np.array_equal(shifted - offset, differences)  # the differences are exact
    if name == "cross_entropy" or name == "multiclass_focal":
        y = rng.integers(0, K, size=n).astype(float)
    else:
        y = rng.dirichlet(np.ones(K), size=n)
    for reduction in ("none", "mean"):
        np.testing.assert_allclose(loss.loss(y, shifted, reduction=reduction),
                                   loss.loss(y, differences, reduction=reduction), rtol=1e-13, atol=1e-15)
    value, gradient = loss.loss_gradient(y, shifted)
    expected_value, expected_gradient = loss.loss_gradient(y, differences)
    np.testing.assert_allclose(value, expected_value, rtol=1e-13)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-17)
    if loss.has_hessian:
        np.testing.assert_allclose(loss.gradient_hessian(y, shifted)[1], loss.gradient_hessian(y, differences)[1],
                                   rtol=1e-12, atol=1e-17)
    uniform = loss.loss(y[:5], shifted[:5], reduction="none")
    np.testing.assert_allclose(uniform, loss.loss(y[:5], np.zeros((5, K)), reduction="none"), rtol=1e-14)
