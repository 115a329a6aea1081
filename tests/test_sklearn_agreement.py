"""Values and gradients agree with scikit-learn where it has the same quantity."""

import numpy as np
import pytest
from sklearn import metrics

from sklearn_losses.losses import (
    AbsoluteError, CrossEntropy, Gamma, Hinge, LogLoss, Poisson, Quantile, SquaredError, Tweedie,
)


@pytest.fixture
def data(rng):
    n = 500
    y = rng.gamma(2.0, 1.5, size=n)
    raw = np.log(y) + 0.5 * rng.normal(size=n)
    w = rng.uniform(0.1, 3.0, size=n)
    return y, raw, w


@pytest.mark.parametrize("weighted", [False, True])
def test_squared_and_absolute_error(data, weighted):
    y, raw, w = data
    w = w if weighted else None
    assert SquaredError()(y, raw, w) == pytest.approx(metrics.mean_squared_error(y, raw, sample_weight=w), rel=1e-12)
    assert AbsoluteError()(y, raw, w) == pytest.approx(metrics.mean_absolute_error(y, raw, sample_weight=w), rel=1e-12)


@pytest.mark.parametrize("q", [0.05, 0.5, 0.9])
@pytest.mark.parametrize("weighted", [False, True])
def test_quantile_equals_mean_pinball_loss(data, q, weighted):
    y, raw, w = data
    w = w if weighted else None
    expected = metrics.mean_pinball_loss(y, raw, alpha=q, sample_weight=w)
    assert Quantile(quantile=q)(y, raw, w) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_deviances(data, weighted):
    y, raw, w = data
    w = w if weighted else None
    mu = np.exp(raw)
    assert Poisson()(y, raw, w) == pytest.approx(metrics.mean_poisson_deviance(y, mu, sample_weight=w), rel=1e-10)
    assert Gamma()(y, raw, w) == pytest.approx(metrics.mean_gamma_deviance(y, mu, sample_weight=w), rel=1e-10)


@pytest.mark.parametrize("power", [-1.0, 0.0, 1.0, 1.5, 2.0, 3.0])
def test_tweedie_deviance(data, power):
    y, raw, w = data
    expected = metrics.mean_tweedie_deviance(y, np.exp(raw), power=power, sample_weight=w)
    assert Tweedie(power=power)(y, raw, w) == pytest.approx(expected, rel=1e-9)


def test_poisson_with_zero_counts(rng):
    y = rng.poisson(1.0, size=300).astype(float)
    raw = 0.3 * rng.normal(size=300)
    assert np.any(y == 0)
    assert Poisson()(y, raw) == pytest.approx(metrics.mean_poisson_deviance(y, np.exp(raw)), rel=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss(rng, weighted):
    y = rng.integers(0, 2, size=400).astype(float)
    z = 3 * rng.normal(size=400)
    w = rng.uniform(0.1, 2, size=400) if weighted else None
    p = 1 / (1 + np.exp(-z))
    assert LogLoss()(y, z, w) == pytest.approx(metrics.log_loss(y, p, sample_weight=w), rel=1e-10)


def test_hinge_loss(rng):
    y = rng.integers(0, 2, size=400).astype(float)
    z = rng.normal(size=400)
    assert Hinge()(y, z) == pytest.approx(metrics.hinge_loss(2 * y - 1, z), rel=1e-12)


def test_cross_entropy_equals_multiclass_log_loss(rng):
    z = 2 * rng.normal(size=(300, 5))
    y = rng.integers(0, 5, size=300)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = metrics.log_loss(y, p, labels=np.arange(5))
    assert CrossEntropy()(y, z) == pytest.approx(expected, rel=1e-10)


def test_gradients_match_sklearn_private_losses(rng):
    """sklearn's _loss module has half losses: our gradients are twice theirs."""
    from sklearn._loss import loss as sk

    y = rng.gamma(2.0, 1.0, size=200)
    raw = rng.normal(size=200)
    np.testing.assert_allclose(
        Poisson().gradient(y, raw, reduction="none"),
        2 * sk.HalfPoissonLoss().gradient(y, raw), rtol=1e-12)
    np.testing.assert_allclose(
        SquaredError().gradient(y, raw, reduction="none"),
        2 * sk.HalfSquaredError().gradient(y, raw), rtol=1e-12)
    yb = rng.integers(0, 2, size=200).astype(float)
    np.testing.assert_allclose(
        LogLoss().gradient(yb, raw, reduction="none"), sk.HalfBinomialLoss().gradient(yb, raw), rtol=1e-12)
    z = rng.normal(size=(200, 4))
    yk = rng.integers(0, 4, size=200).astype(float)
    np.testing.assert_allclose(
        CrossEntropy().gradient(yk, z, reduction="none"),
        sk.HalfMultinomialLoss(n_classes=4).gradient(yk, np.asfortranarray(z)), rtol=1e-12, atol=1e-15)
    _, hess = CrossEntropy().gradient_hessian(yk, z, reduction="none")
    _, sk_hess = sk.HalfMultinomialLoss(n_classes=4).gradient_hessian(yk, np.asfortranarray(z))
    np.testing.assert_allclose(hess, sk_hess, rtol=1e-12)
