"""Batch losses end to end: soft F1 against a NumPy reference, fitted by LinearClassifier with L-BFGS."""

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.datasets import make_classification

from sklearn_losses._reference import REFERENCE_BATCH_VALUES
from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.losses import SoftF1, get_loss
from sklearn_losses.svm import SVMClassifier

X, Y = make_classification(300, 4, n_informative=3, n_redundant=0, weights=[0.8, 0.2], random_state=0)


def _reference_objective(theta, X, y, w, alpha, beta):
    coef, b = theta[:-1], theta[-1]
    return REFERENCE_BATCH_VALUES["soft_f1"](SoftF1(beta=beta), y, X @ coef + b, w) + 0.5 * alpha * coef @ coef


@pytest.mark.parametrize("beta", [1.0, 2.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_soft_f1_fit_is_a_stationary_point_of_the_numpy_objective(beta, weighted):
    w = np.random.default_rng(0).uniform(0.5, 2.0, Y.size) if weighted else None
    est = LinearClassifier(SoftF1(beta=beta), alpha=1e-3, solver="lbfgs", tol=1e-10).fit(X, Y, w)
    assert est.solver_ == "lbfgs"
    theta = np.append(est.coef_.ravel(), est.intercept_)
    ref = _reference_objective(theta, X, Y.astype(float), w, 1e-3, beta)
    assert est.objective_ == pytest.approx(ref, rel=1e-10)
    fd = np.empty(theta.size)
    for j in range(theta.size):
        h = 1e-6 * (1 + abs(theta[j]))
        e = np.zeros(theta.size)
        e[j] = h
        fd[j] = (_reference_objective(theta + e, X, Y, w, 1e-3, beta)
                 - _reference_objective(theta - e, X, Y, w, 1e-3, beta)) / (2 * h)
    assert np.max(np.abs(fd)) < 1e-6
    # as good as scipy's own minimisation of the reference from the same start
    start = np.zeros(theta.size)
    start[-1] = get_loss(SoftF1(beta=beta)).baseline_prediction(Y.astype(float), w)
    scipy_fit = minimize(_reference_objective, start, args=(X, Y.astype(float), w, 1e-3, beta), method="BFGS")
    assert est.objective_ <= scipy_fit.fun + 1e-8


def test_soft_f1_trades_precision_for_recall_with_beta():
    """beta > 1 weighs recall: more positives predicted than with beta < 1."""
    recall_heavy = LinearClassifier(SoftF1(beta=3.0), alpha=1e-3).fit(X, Y)
    precision_heavy = LinearClassifier(SoftF1(beta=0.3), alpha=1e-3).fit(X, Y)
    assert recall_heavy.predict(X).sum() > precision_heavy.predict(X).sum()


def test_batch_losses_are_refused_where_a_per_sample_loss_is_needed():
    with pytest.raises(ValueError, match="hessian='none'"):
        LinearClassifier("soft_f1", solver="newton").fit(X, Y)
    with pytest.raises(ValueError, match="SoftFBeta is an overlap loss; SVMClassifier accepts binary"):
        SVMClassifier("soft_f1").fit(X, Y)
    with pytest.raises(ValueError, match="overlap"):
        LinearRegressor("soft_f1").fit(X, Y.astype(float))


def test_soft_f1_statistics_in_chunks_equal_the_whole_batch():
    rng = np.random.default_rng(2)
    raw = rng.normal(size=Y.size)
    loss = SoftF1()
    chunks = np.array_split(np.arange(Y.size), 7)
    S = sum(loss.statistics(Y[c], raw[c]) for c in chunks)
    assert loss.value_from_statistics(S) == pytest.approx(loss.loss(Y, raw), rel=1e-14)
    grad = np.concatenate([loss.gradient_from_statistics(Y[c], raw[c], S) for c in chunks])
    np.testing.assert_allclose(grad, loss.gradient(Y, raw), rtol=1e-13)
