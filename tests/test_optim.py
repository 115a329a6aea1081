"""The one stochastic optimiser and early-stopping rule (solvers/_optim.py), used by every stochastic fit."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.losses import get_loss
from sklearn_losses.neural_network import MLPRegressor
from sklearn_losses.penalties import get_penalty
from sklearn_losses.solvers._objective import LinearObjective
from sklearn_losses.solvers._optim import Progress, adam_step, resolve_batch_size, sgd_step
from sklearn_losses.solvers.sgd import StochasticState, _step


def test_adam_step_is_scikit_learns_adam_step_for_step(rng):
    params = rng.normal(size=7)
    ours, m, v, t = params.copy(), np.zeros(7), np.zeros(7), 0
    theirs = [params.copy()]
    reference = AdamOptimizer(theirs, learning_rate_init=0.05, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    for _ in range(25):
        grad = rng.normal(size=7)
        t = adam_step(ours, grad, m, v, t, 0.05, 0.8, 0.99, 1e-6)
        reference.update_params(theirs, [grad])
        np.testing.assert_allclose(ours, theirs[0], rtol=1e-12, atol=1e-15)  # fused multiply-adds: ulps apart
    assert t == 25


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_step_is_scikit_learns_sgd_step_for_step(rng, nesterov):
    params = rng.normal(size=5)
    ours, velocity = params.copy(), np.zeros(5)
    theirs = [params.copy()]
    reference = SGDOptimizer(theirs, learning_rate_init=0.1, momentum=0.7, nesterov=nesterov)
    for _ in range(25):
        grad = rng.normal(size=5)
        sgd_step(ours, grad, velocity, 0.1, 0.7, nesterov)
        reference.update_params(theirs, [grad])
        np.testing.assert_allclose(ours, theirs[0], rtol=1e-14, atol=1e-15)


def test_progress_stops_after_more_than_n_iter_no_change_epochs_without_improvement():
    progress = Progress()
    values = [5.0, 4.0, 3.99995, 3.99991, 4.5, 3.9999]  # tol 1e-4: none after the second improves enough
    stalled = []
    for value in values:
        progress.update(value, 1e-4)
        stalled.append(progress.stalled(3))
    assert progress.best == 3.9999 and progress.no_improvement == 4
    assert stalled == [False, False, False, False, False, True]


@pytest.mark.parametrize("n_iter_no_change", [1, 3])
def test_every_estimator_stops_after_as_many_epochs_as_scikit_learns_mlp(n_iter_no_change, rng):
    """``n_iter_no_change`` means one thing everywhere: scikit-learn's MLP rule (``>``, not ``>=``)."""
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    settings = dict(tol=1e10, n_iter_no_change=n_iter_no_change, max_iter=50)  # no epoch ever improves enough
    expected = SkMLPRegressor(**settings, random_state=0).fit(X, y).n_iter_
    assert MLPRegressor(**settings, random_state=0).fit(X, y).n_iter_ == expected
    for solver in ("sgd", "adam"):
        assert LinearRegressor(solver=solver, **settings, random_state=0).fit(X, y).n_iter_ == expected
    assert LinearClassifier(solver="adam", **settings, random_state=0).fit(X, y > 0).n_iter_ == expected


def test_batch_size_auto_means_one_thing():
    assert resolve_batch_size("auto", 1000) == 200 and resolve_batch_size("auto", 50) == 50
    assert resolve_batch_size(64, 1000) == 64 and resolve_batch_size(5000, 1000) == 1000
    assert LinearRegressor()._batch_size(1000) == resolve_batch_size("auto", 1000)


@pytest.mark.parametrize("method", ["sgd", "adam"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l1", [0.0, 0.05])
def test_compiled_epoch_equals_the_python_steps(method, weighted, l1, rng):
    """The linear models' compiled epoch and their per-batch Python path take the same steps."""
    n, d, batch = 300, 4, 32
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    objective = LinearObjective(get_loss("huber"), X, y, w, True, 1)
    assert objective.has_epoch_kernel
    penalty = get_penalty("elasticnet", 0.1, l1 / 0.1 if l1 else 0.0)
    theta0 = objective.start()
    starts = rng.permutation(np.arange(0, n, batch))
    lr = 0.05
    from sklearn_losses.solvers.sgd import OPTIMIZER

    compiled, state_c = theta0.copy(), StochasticState(objective.n_params)
    for _ in range(3):
        objective.run_epoch(compiled, starts, batch, method == "adam", lr, OPTIMIZER, penalty, state_c)
    python, state_p = theta0.copy(), StochasticState(objective.n_params)
    for _ in range(3):
        for start in starts:
            value, grad = objective.loss_gradient(python, rows=(start, min(start + batch, n)))
            grad[:d] += penalty.gradient(python[:d])
            python = _step(method, python, grad, state_p, lr, d, penalty)
    assert state_c.t == state_p.t == 3 * len(starts)
    np.testing.assert_allclose(compiled, python, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(state_c.m, state_p.m, rtol=1e-9, atol=1e-12)


def test_stochastic_linear_fit_still_reaches_the_lbfgs_optimum(rng):
    X = rng.normal(size=(2000, 5))
    y = X @ np.array([1.0, -1.0, 2.0, 0.0, 0.5]) + 0.1 * rng.normal(size=2000)
    exact = LinearRegressor(loss="huber", alpha=1e-3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam = LinearRegressor(loss="huber", alpha=1e-3, solver="adam", max_iter=300, tol=1e-7,
                               learning_rate_init=0.01, random_state=0).fit(X, y)
    np.testing.assert_allclose(adam.coef_, exact.coef_, atol=2e-2)


@pytest.mark.parametrize("name, settings", [
    ("sgd", {"momentum": 0.5, "nesterovs_momentum": False}),
    ("sgd", {"momentum": 0.0}),
    ("adam", {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-4}),
])
def test_linear_models_pass_the_optimiser_settings_through(name, settings, rng):
    """The settings change the trajectory (they reach the solver) and the fit still reaches the optimum."""
    X = rng.normal(size=(400, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.05 * rng.normal(size=400)
    common = dict(solver=name, max_iter=3, learning_rate_init=0.01, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = LinearRegressor(**common).fit(X, y)
        tuned = LinearRegressor(**common, **settings).fit(X, y)
    assert not np.allclose(default.coef_, tuned.coef_)
    exact = LinearRegressor().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        long = LinearRegressor(**dict(common, max_iter=300, tol=1e-10, n_iter_no_change=20,
                                      learning_rate_init=0.05), **settings).fit(X, y)
    np.testing.assert_allclose(long.coef_, exact.coef_, atol=2e-2)


@pytest.mark.parametrize("param, value", [("momentum", 1.5), ("beta_1", 1.0), ("beta_2", -0.1), ("epsilon", 0.0)])
def test_bad_optimiser_settings_are_refused_by_name(param, value, rng):
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    with pytest.raises(ValueError, match=param):
        LinearRegressor(solver="adam", **{param: value}).fit(X, y)
