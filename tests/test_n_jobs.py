"""Independent problems (one-vs-rest classes, separate targets) solved in parallel give the same model."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor

pytestmark = pytest.mark.xdist_group("n_jobs")  # worker processes: keep them off the other tests' cores


def _attributes(est):
    return est.coef_, est.intercept_, est.n_iter_, est.objective_


@pytest.mark.parametrize("params", [
    {"loss": "log_loss"}, {"loss": "hinge"}, {"loss": "squared_hinge"},
    {"loss": "log_loss", "solver": "sgd", "learning_rate": "optimal", "average": True, "max_iter": 5},
    {"loss": "log_loss", "solver": "adam", "early_stopping": True, "max_iter": 5},
])
def test_one_vs_rest_in_parallel_equals_serial(params, rng):
    X = rng.normal(size=(300, 4))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.0, 0.7])  # four classes
    fits = []
    for n_jobs in (None, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(LinearClassifier(**params, n_jobs=n_jobs, random_state=0).fit(X, y))
    for serial, parallel in zip(_attributes(fits[0]), _attributes(fits[1])):
        np.testing.assert_array_equal(serial, parallel)
    np.testing.assert_array_equal(fits[0].predict_proba(X) if hasattr(fits[0], "predict_proba") else
                                  fits[0].decision_function(X), fits[1].decision_function(X)
                                  if not hasattr(fits[1], "predict_proba") else fits[1].predict_proba(X))


def test_separate_targets_in_parallel_equal_serial(rng):
    X = rng.normal(size=(200, 3))
    Y = np.column_stack([X @ [1.0, 2.0, 0.0], X @ [0.0, -1.0, 3.0], X[:, 0] ** 2])
    serial = LinearRegressor(loss="huber").fit(X, Y)
    parallel = LinearRegressor(loss="huber", n_jobs=2).fit(X, Y)
    for a, b in zip(_attributes(serial), _attributes(parallel)):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_a_worker_is_the_serial_error(rng):
    X = rng.normal(size=(60, 2)) * 1e200
    y = np.arange(60) % 3
    with pytest.raises(ValueError) as serial:
        LinearClassifier(solver="sgd", learning_rate_init=1e6, max_iter=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError) as parallel:
        LinearClassifier(solver="sgd", learning_rate_init=1e6, max_iter=5, n_jobs=2, random_state=0).fit(X, y)
    assert str(serial.value) == str(parallel.value)


@pytest.mark.parametrize("params", [
    {"multi_class": "ovo"}, {"multi_class": "ovr"}, {"loss": "squared_hinge", "multi_class": "ovr"},
    {"loss": "log_loss", "multi_class": "ovo"}, {"kernel": "linear", "multi_class": "ovr"},
    {"kernel_approximation": "nystroem", "n_components": 30},
])
def test_svm_problems_in_parallel_equal_serial(params, rng):
    from sklearn_losses.svm import SVMClassifier

    X = rng.normal(size=(150, 3))
    y = np.digitize(X[:, 0] - X[:, 2], [-0.5, 0.5])  # three classes
    fits = [SVMClassifier(**params, n_jobs=n_jobs, random_state=0).fit(X, y) for n_jobs in (None, 2)]
    np.testing.assert_array_equal(fits[0].decision_function(X), fits[1].decision_function(X))
    if not params.get("kernel_approximation"):
        np.testing.assert_array_equal(fits[0].dual_coef_, fits[1].dual_coef_)
        np.testing.assert_array_equal(fits[0].intercept_, fits[1].intercept_)
        np.testing.assert_array_equal(fits[0].n_iter_, fits[1].n_iter_)
