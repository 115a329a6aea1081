"""Fits start from the loss's best constant (baseline_prediction): the same optimum, fewer iterations."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.neural_network import MLPClassifier, MLPRegressor
from sklearn_losses.solvers._objective import LinearObjective

X, Y = make_regression(400, 5, noise=1.0, random_state=0)
XC, YC = make_classification(400, 5, n_informative=3, n_classes=3, weights=[0.7, 0.2, 0.1], random_state=0)


def _zero_start(monkeypatch):
    monkeypatch.setattr(LinearObjective, "start", lambda self: np.zeros(self.n_params))


@pytest.mark.parametrize("make, y, helps", [
    (lambda: LinearRegressor("squared_error", solver="lbfgs", tol=1e-8), 1000.0 + Y, True),
    (lambda: LinearRegressor("huber", solver="lbfgs", tol=1e-8), 500.0 + Y, True),
    (lambda: LinearRegressor("poisson", solver="lbfgs", tol=1e-8), np.random.default_rng(0).poisson(
        np.exp(3.0 + 0.1 * X[:, 0])), True),
    # imbalanced classes: the log-priors are a start no better than zero for L-BFGS here
    (lambda: LinearClassifier("cross_entropy", solver="lbfgs", tol=1e-8), YC, False),
    (lambda: LinearRegressor("quantile", alpha=1e-3), 300.0 + Y, False),
])
def test_same_optimum_and_fewer_iterations_where_it_helps(make, y, helps, monkeypatch):
    Xd = XC if y is YC else X
    from_baseline = make().fit(Xd, y)
    _zero_start(monkeypatch)
    from_zero = make().fit(Xd, y)
    assert from_baseline.objective_ == pytest.approx(from_zero.objective_, rel=1e-8, abs=1e-10)
    if helps:  # targets far from zero
        assert from_baseline.n_iter_ < from_zero.n_iter_


def test_stochastic_solver_starts_at_the_mean():
    """One epoch of Adam: from the mean the intercept is already right, from zero it has 1000 to travel."""
    est = LinearRegressor("squared_error", solver="adam", max_iter=1, random_state=0).fit(X, 1000.0 + Y)
    assert abs(est.intercept_ - 1000.0) < 50.0


def test_mlp_output_biases_start_at_the_baseline():
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, learning_rate_init=1e-12, random_state=0)
    with pytest.warns(Warning):
        reg.fit(X, 1000.0 + Y)
    np.testing.assert_allclose(reg.intercepts_[-1], [np.mean(1000.0 + Y)], rtol=1e-6)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, learning_rate_init=1e-12, random_state=0)
    with pytest.warns(Warning):
        clf.fit(XC, YC)
    priors = np.bincount(YC) / YC.size
    np.testing.assert_allclose(clf.intercepts_[-1], np.log(priors) - np.log(priors).mean(), atol=1e-6)
    drawn = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, learning_rate_init=1e-12, random_state=0,
                          output_bias_init="random")
    with pytest.warns(Warning):
        drawn.fit(XC, YC)
    np.testing.assert_allclose(drawn.coefs_[0], clf.coefs_[0])  # the same draws for the weights
    assert not np.allclose(drawn.intercepts_[-1], clf.intercepts_[-1])
    with pytest.raises(ValueError, match="output_bias_init"):
        MLPRegressor(output_bias_init="zeros").fit(X, Y)
