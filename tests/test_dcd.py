"""Dual coordinate descent: the same optimum as the interior-point method, for every piecewise-linear loss."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.losses import available_losses
from sklearn_losses.penalties import get_penalty
from sklearn_losses.solvers import select_solver
from sklearn_losses.solvers._objective import LinearObjective
from sklearn_losses.solvers.dcd import dual_coordinate_descent
from sklearn_losses.solvers.ipm import interior_point

PIECEWISE = [info for info in available_losses() if info.properties["piecewise_linear"]]


def _data(task, rng):
    if task == "binary":
        X, y = make_classification(400, 12, n_informative=6, random_state=0)
        y = y.astype(float)
    else:
        X, y = make_regression(400, 12, noise=5.0, random_state=0)
        y = y / 10.0
    X[rng.random(X.shape) < 0.5] = 0.0  # half the entries zero: a real sparse case
    X[7] = 0.0  # an empty row
    return X, y


@pytest.mark.parametrize("info", PIECEWISE, ids=lambda info: info.name)
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_same_optimum_as_the_interior_point_method(info, fit_intercept, weighted, sparse):
    rng = np.random.default_rng(0)
    X, y = _data(info.task, rng)
    weights = rng.uniform(0.0, 3.0, X.shape[0]) if weighted else None
    if weighted:
        weights[:5] = 0.0  # zero weights are allowed
    loss = info.cls()
    data = sp.csr_matrix(X) if sparse else X
    penalty = get_penalty("l2", 0.01)
    objective = LinearObjective(loss, data, y, weights, fit_intercept)
    start = np.zeros(objective.n_params)
    theta, _, converged, curve = dual_coordinate_descent(objective, penalty, start, tol=1e-6)
    reference, *_ = interior_point(objective, penalty, start, tol=1e-6)

    def value(t):
        return objective.loss_gradient(t)[0] + penalty.value(t[:X.shape[1]])

    assert converged
    # tol=1e-6 certifies a duality gap of 1e-8 of the objective
    assert value(theta) - value(reference) <= 1e-8 * value(reference)
    assert value(theta) >= value(reference) - 1e-10 * value(reference)
    assert curve[-1] == pytest.approx(value(theta), rel=1e-12)
    # the L2 penalty makes the coefficients unique: a 1e-8 gap bounds their distance
    bound = np.sqrt(2 * 1e-8 * value(reference) / penalty.l2)
    assert np.linalg.norm(theta[:X.shape[1]] - reference[:X.shape[1]]) <= bound


@pytest.mark.slow_in_python
def test_auto_takes_dcd_for_wide_sparse_and_ipm_for_dense_or_narrow_X():
    X, y = make_classification(300, 1200, n_informative=20, random_state=0)
    X[np.abs(X) < 1.5] = 0.0
    dense = LinearClassifier("hinge", alpha=1e-3).fit(X, y)
    sparse = LinearClassifier("hinge", alpha=1e-3).fit(sp.csr_matrix(X), y)
    narrow = LinearClassifier("hinge", alpha=1e-3).fit(sp.csr_matrix(X[:, :50]), y)
    assert (dense.solver_, sparse.solver_, narrow.solver_) == ("ipm", "dcd", "ipm")
    assert sparse.objective_ == pytest.approx(dense.objective_, rel=1e-6)
    # no exact alternative for L1 on sparse data: the interior-point method again
    l1 = LinearClassifier("hinge", penalty="l1", alpha=1e-3).fit(sp.csr_matrix(X), y)
    assert l1.solver_ == "ipm"
    assert select_solver("auto", l1.loss_, get_penalty("l2", 0.0), sp.csr_matrix(X)).name == "ipm"


def test_wide_sparse_hinge_beyond_the_interior_point_limit():
    rng = np.random.default_rng(0)
    n, p = 2000, 20_000
    X = sp.random(n, p, density=0.002, format="csr", random_state=0)
    y = (X @ rng.standard_normal(p) > 0).astype(int)
    est = LinearClassifier("hinge", alpha=1e-3).fit(X, y)
    assert est.solver_ == "dcd" and est.coef_.shape == (1, p)
    assert est.score(X, y) > 0.9
    with pytest.raises(ValueError, match="interior-point"):
        LinearClassifier("hinge", alpha=1e-3, solver="ipm").fit(X, y)


def test_warm_start_reaches_the_same_optimum_and_max_iter_warns():
    X, y = make_regression(500, 20, noise=3.0, random_state=0)
    Xs = sp.csr_matrix(X)
    est = LinearRegressor("epsilon_insensitive", alpha=1e-3, solver="dcd", warm_start=True, tol=1e-6).fit(Xs, y)
    first = est.objective_
    est.set_params(alpha=2e-3).fit(Xs, y)  # starts from the previous coefficients
    cold = LinearRegressor("epsilon_insensitive", alpha=2e-3, solver="dcd", tol=1e-6).fit(Xs, y)
    assert est.objective_ == pytest.approx(cold.objective_, rel=1e-7)
    assert est.objective_ > first
    with pytest.warns(ConvergenceWarning):
        LinearRegressor("quantile", alpha=1e-4, solver="dcd", max_iter=1, tol=1e-10).fit(Xs, y)


def test_loss_curve_is_the_objective_and_ends_at_it():
    X, y = make_classification(300, 10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LinearClassifier("hinge", alpha=1e-3, solver="dcd").fit(sp.csr_matrix(X), y)
    assert est.loss_curve_[-1] == pytest.approx(est.objective_, rel=1e-12)
    assert len(est.loss_curve_) >= 1
