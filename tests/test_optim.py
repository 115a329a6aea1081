"""The one stochastic optimiser and early-stopping rule (solvers/_optim.py), used by every stochastic fit."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.neural_network import MLPRegressor
from sklearn_losses.solvers._optim import Progress, adam_step, resolve_batch_size, sgd_step


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


def _regression(rng, n=2000, noise=0.5):
    X = rng.normal(size=(n, 4))
    return X, X @ np.array([1.0, -1.0, 2.0, 0.5]) + noise * rng.normal(size=n)


def test_optimal_schedule_needs_a_positive_alpha_and_says_so(rng):
    X, y = _regression(rng, 50)
    with pytest.raises(ValueError, match="alpha"):
        LinearRegressor(solver="sgd", learning_rate="optimal", alpha=0.0).fit(X, y)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "optimal", "adaptive"])
def test_every_schedule_reaches_the_optimum(schedule, rng):
    X, y = _regression(rng)
    exact = LinearRegressor(loss="huber", alpha=1e-3).fit(X, y)
    lr = {"invscaling": 0.5}.get(schedule, 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LinearRegressor(loss="huber", alpha=1e-3, solver="sgd", learning_rate=schedule, learning_rate_init=lr,
                              power_t=0.25, average=schedule == "optimal", max_iter=100, tol=1e-6,
                              random_state=0).fit(X, y)
    np.testing.assert_allclose(est.coef_, exact.coef_, atol=5e-2)


def test_averaging_smooths_the_noise_of_a_constant_step(rng):
    X, y = _regression(rng, noise=2.0)
    exact = LinearRegressor(alpha=1e-4).fit(X, y)
    common = dict(solver="sgd", learning_rate_init=0.05, max_iter=30, tol=0.0, n_iter_no_change=1000,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        last = LinearRegressor(**common).fit(X, y)
        averaged = LinearRegressor(**common, average=True).fit(X, y)
    assert np.abs(averaged.coef_ - exact.coef_).max() < 0.5 * np.abs(last.coef_ - exact.coef_).max()
    state = averaged._stochastic_states[0]
    assert state.n_average == 30 * len(range(0, X.shape[0], 200))
    assert not np.allclose(state.iterate[:4], averaged.coef_)  # the model is the average, not the iterate


def test_averaged_partial_fit_continues_from_the_last_iterate(rng):
    X, y = _regression(rng, 600)
    est = LinearRegressor(solver="sgd", average=True, random_state=0)
    est.partial_fit(X, y)
    iterate = est._stochastic_states[0].iterate.copy()
    est.partial_fit(X, y)
    state = est._stochastic_states[0]
    assert state.n_average == 2 * 3 and state.seen == 2 * 600
    assert not np.allclose(state.iterate, iterate)


def test_adaptive_schedule_lowers_its_rate_instead_of_stopping(rng):
    X, y = _regression(rng, 400)
    est = LinearRegressor(solver="sgd", learning_rate="adaptive", tol=1e6, n_iter_no_change=1, max_iter=50,
                          random_state=0).fit(X, y)
    rate = est._stochastic_states[0].rate
    assert rate < 1e-6  # divided by 5 until below 1e-6, then stopped
    assert est.n_iter_ < 50


def test_shuffle_false_visits_the_data_in_order_whatever_the_seed(rng):
    X, y = _regression(rng, 500)
    fits = [LinearRegressor(solver="sgd", shuffle=False, max_iter=3, random_state=seed).fit(X, y) for seed in (0, 1)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    shuffled = [LinearRegressor(solver="sgd", max_iter=3, random_state=seed).fit(X, y) for seed in (0, 1)]
    assert not np.array_equal(shuffled[0].coef_, shuffled[1].coef_)


@pytest.mark.parametrize("name", ["LinearClassifier", "MLPClassifier"])
def test_balanced_partial_fit_weighs_by_the_running_class_counts(name, rng):
    """Each call's samples get the balanced weights of everything seen so far: the first call with a dict
    of those weights computed by hand gives the same model, and the counts accumulate over calls."""
    from sklearn_losses.neural_network import MLPClassifier

    cls = {"LinearClassifier": LinearClassifier, "MLPClassifier": MLPClassifier}[name]
    kwargs = {"random_state": 0} if name == "LinearClassifier" else {"random_state": 0, "hidden_layer_sizes": (5,)}
    X = rng.normal(size=(300, 3))
    y = np.where(X[:, 0] > 0.8, "rare", np.where(X[:, 1] > 0, "b", "a"))
    first, second = slice(0, 150), slice(150, 300)
    balanced = cls(class_weight="balanced", **kwargs)
    balanced.partial_fit(X[first], y[first], classes=["a", "b", "rare"])
    counts = np.array([np.sum(y[first] == c) for c in ("a", "b", "rare")], dtype=float)
    by_hand = cls(class_weight=dict(zip(("a", "b", "rare"), 150 / (3 * counts))), **kwargs)
    by_hand.partial_fit(X[first], y[first], classes=["a", "b", "rare"])
    np.testing.assert_allclose(balanced.predict_proba(X), by_hand.predict_proba(X), rtol=1e-12)
    balanced.partial_fit(X[second], y[second])
    np.testing.assert_array_equal(balanced._class_counts, [np.sum(y == c) for c in ("a", "b", "rare")])
    total = np.array([np.sum(y == c) for c in ("a", "b", "rare")], dtype=float)
    by_hand.set_params(class_weight=dict(zip(("a", "b", "rare"), 300 / (3 * total))))
    by_hand.partial_fit(X[second], y[second])
    np.testing.assert_allclose(balanced.predict_proba(X), by_hand.predict_proba(X), rtol=1e-12)
    assert cls(class_weight="balanced", **kwargs).fit(X, y)._class_counts is None  # fit: the whole data's counts


def test_svm_streaming_balanced_weights_use_the_running_counts(rng):
    from sklearn_losses.svm import SVMClassifier

    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 1.0).astype(int)
    est = SVMClassifier(kernel_approximation="nystroem", n_components=20, alpha=1e-3, class_weight="balanced",
                        random_state=0)
    est.partial_fit(X[:100], y[:100], classes=[0, 1])
    est.partial_fit(X[100:], y[100:])
    counts = est.linear_._class_counts  # each of partial_fit_epochs passes counts its batch: the same proportions
    np.testing.assert_allclose(counts / counts.sum(), np.bincount(y) / y.size, rtol=1e-12)
    assert counts.sum() == est.partial_fit_epochs * y.size


def test_one_validation_split_for_every_estimator(rng):
    """Stratified for classifiers, the same error for a validation set that is too small."""
    from sklearn_losses.neural_network import MLPClassifier
    from sklearn_losses.solvers._optim import validation_split

    labels = np.repeat([0, 1, 2], [80, 15, 5])
    train, val = validation_split(100, 0.2, 0, stratify=labels)
    assert np.array_equal(np.bincount(labels[val]), [16, 3, 1])
    X = rng.normal(size=(10, 2))
    y = np.arange(10) % 2
    for est in (LinearClassifier(solver="adam", early_stopping=True, validation_fraction=0.1),
                MLPClassifier(early_stopping=True, validation_fraction=0.1)):
        with pytest.raises(ValueError, match="validation_fraction"):
            est.fit(X, y)


@pytest.mark.parametrize("name", ["SVMClassifier", "SVMRegressor"])
def test_svm_streaming_takes_the_linear_models_stochastic_settings(name, rng):
    from sklearn_losses import svm

    X = rng.normal(size=(300, 3))
    y = X[:, 0] - X[:, 1] if name == "SVMRegressor" else (X[:, 0] > X[:, 1]).astype(int)
    extra = {} if name == "SVMRegressor" else {"classes": [0, 1]}
    settings = {"solver": "sgd", "learning_rate": "invscaling", "power_t": 0.25, "momentum": 0.5, "average": True}
    est = getattr(svm, name)(kernel_approximation="nystroem", n_components=20, alpha=1e-3,
                             stochastic_params=settings, random_state=0)
    est.partial_fit(X, y, **extra)
    linear = est.linear_
    assert linear.solver == "sgd" and linear.solver_ == "sgd" and linear.learning_rate == "invscaling"
    assert linear.power_t == 0.25 and linear.momentum == 0.5 and linear.average
    assert linear._stochastic_states[0].n_average > 0
    default = getattr(svm, name)(kernel_approximation="nystroem", n_components=20, alpha=1e-3, random_state=0)
    assert default.partial_fit(X, y, **extra).linear_.solver_ == "adam"
    with pytest.raises(ValueError, match="stochastic_params.*'alpha'"):
        getattr(svm, name)(kernel_approximation="nystroem", n_components=20, alpha=1e-3,
                           stochastic_params={"alpha": 1.0}).partial_fit(X, y, **extra)
    with pytest.raises(ValueError, match="solver"):
        getattr(svm, name)(kernel_approximation="nystroem", n_components=20, alpha=1e-3,
                           stochastic_params={"solver": "lbfgs"}).partial_fit(X, y, **extra)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "optimal"])
@pytest.mark.parametrize("task", ["huber", "log_loss", "modified_huber"])
def test_sgd_with_batch_1_takes_scikit_learns_sgd_steps(schedule, task, rng):
    """Where the update rules coincide (one sample per step, no momentum, no shuffling, L2 penalty),
    the linear models' SGD and scikit-learn's SGD estimators take the same steps on every schedule."""
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    n = 120
    X = rng.normal(size=(n, 3))
    if task == "huber":
        half = X[:, 0][: n // 2] * 2.0 + rng.standard_t(2, size=n // 2)
        y = np.concatenate([half, -half])  # symmetric: the best constant (the start) is 0, as scikit-learn's
        X = np.concatenate([X[: n // 2], -X[: n // 2]])
    else:
        y = np.tile([0, 1], n // 2)  # balanced: the best constant log-odds is 0
        X = X + y[:, None]
    common = dict(alpha=1e-2, shuffle=False, max_iter=3)
    ours_params = dict(solver="sgd", batch_size=1, momentum=0.0, learning_rate=schedule, learning_rate_init=0.01,
                       power_t=0.25, tol=0.0, n_iter_no_change=10)
    theirs_params = dict(penalty="l2", learning_rate=schedule, eta0=0.01, power_t=0.25, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task == "huber":
            from sklearn_losses.losses import Huber

            ours = LinearRegressor(loss=Huber(delta=1.35), **common, **ours_params).fit(X, y)
            theirs = SGDRegressor(loss="huber", epsilon=1.35, **common, **theirs_params).fit(X, y)
        else:
            ours = LinearClassifier(loss=task, **common, **ours_params).fit(X, y)
            theirs = SGDClassifier(loss=task, **common, **theirs_params).fit(X, y)
    np.testing.assert_allclose(np.ravel(ours.coef_), np.ravel(theirs.coef_), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(np.ravel(ours.intercept_), np.ravel(theirs.intercept_), rtol=1e-7, atol=1e-12)


def test_bad_streaming_values_and_optimal_divergence_say_where_they_come_from(rng):
    from sklearn_losses.svm import SVMClassifier

    X = rng.normal(size=(50, 3))
    y = np.arange(50) % 3
    with pytest.raises(ValueError, match="stochastic_params of SVMClassifier.*momentum"):
        SVMClassifier(kernel_approximation="nystroem", n_components=10, alpha=1e-3,
                      stochastic_params={"momentum": 2.0}).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="'optimal' schedule"):
        LinearRegressor(solver="sgd", learning_rate="optimal", penalty=None, alpha=1e-3, random_state=0).fit(
            X, X[:, 0])
