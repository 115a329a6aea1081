"""Adversarial sweep: every estimator x a range of losses x bad inputs, faults and concurrency.

The estimators and losses are listed once (:data:`ESTIMATORS`, :data:`LOSSES`);
each test runs over all of them, so a new estimator or loss is covered by
adding one line here. What is held of every one:

* bad input (NaN, inf, huge values, wrong shapes, negative or non-finite
  weights, losses of the wrong task) gives a ``ValueError`` or ``TypeError``
  that names what is wrong, never a crash, a hang, or a non-finite model;
* a refit that fails, for any reason, keeps the previous model exactly;
* prediction from many threads at once gives the single-thread answer;
* the memory layout of X (C or Fortran order) does not change the result;
* float32 input gives float32 coefficients and predictions.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import clone, is_classifier

from sklearn_losses.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn_losses.linear_model import LinearClassifier, LinearRegressor, OrdinalClassifier
from sklearn_losses.neural_network import MLPClassifier, MLPOrdinalClassifier, MLPRegressor
from sklearn_losses.svm import SVMClassifier, SVMRegressor

#: Every estimator, in a small fast configuration.
ESTIMATORS = {
    "LinearRegressor": LinearRegressor(),
    "LinearClassifier": LinearClassifier(),
    "SVMRegressor": SVMRegressor(),
    "SVMClassifier": SVMClassifier(),
    "MLPRegressor": MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
    "MLPClassifier": MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
    "OrdinalClassifier": OrdinalClassifier(classes=["low", "mid", "high"]),
    "MLPOrdinalClassifier": MLPOrdinalClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0,
                                                 classes=["low", "mid", "high"]),
    "GradientBoostingRegressor": GradientBoostingRegressor(max_iter=10, min_samples_leaf=5),
    "GradientBoostingClassifier": GradientBoostingClassifier(max_iter=10, min_samples_leaf=5),
}

#: Losses of each task that every estimator of that task takes.
LOSSES = {
    "regression": ["squared_error", "huber", "absolute_error", "log_cosh"],
    "classification": ["log_loss", "hinge", "squared_hinge"],
    "ordinal": ["cumulative_logit", "all_threshold", "corn"],
}

#: A loss of the other task, for each task.
WRONG_TASK = {"regression": "log_loss", "classification": "huber", "ordinal": "log_loss"}

#: Two labels of each classification task (for class weights).
LABELS = {"classification": ("yes", "no"), "ordinal": ("high", "low")}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _task(estimator):
    if "ordinal" in getattr(estimator, "_tasks", ()):
        return "ordinal"
    return "classification" if is_classifier(estimator) else "regression"


def _data(task, n=120, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if task == "classification":
        y = np.where(X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(n) > 0, "yes", "no")
    elif task == "ordinal":  # ordered labels whose sorted order is not theirs
        y = np.array(["low", "mid", "high"])[np.digitize(X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(n),
                                                         [-0.5, 0.5])]
    else:
        y = X @ np.linspace(1.0, -1.0, p) + 0.1 * rng.standard_normal(n)
    return X, y


def _cases():
    for name, estimator in ESTIMATORS.items():
        for loss in LOSSES[_task(estimator)]:
            yield pytest.param(name, loss, id=f"{name}-{loss}")


def _make(name, loss=None):
    estimator = clone(ESTIMATORS[name])
    return estimator if loss is None else estimator.set_params(loss=loss)


def _allows_nan(estimator):
    """Whether X may hold NaN (the trees give missing values a bin of their own): then inf is the bad value."""
    return estimator.__sklearn_tags__().input_tags.allow_nan


def _bad_value(estimator):
    return np.inf if _allows_nan(estimator) else np.nan


def _output(estimator, X):
    """What a fitted model says about X: decision values for classifiers, predictions for regressors."""
    return estimator.decision_function(X) if is_classifier(estimator) else estimator.predict(X)


def _fitted_state(estimator):
    """The public fitted attributes, copied."""
    state = {}
    for key, value in vars(estimator).items():
        if key.endswith("_") and not key.startswith("_"):
            state[key] = [np.array(v, copy=True) for v in value] if isinstance(value, list) and value and \
                isinstance(value[0], np.ndarray) else (np.array(value, copy=True) if isinstance(value, np.ndarray)
                                                      else value)
    return state


def _assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key in before:
        a, b = before[key], after[key]
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=key)
        elif isinstance(a, list) and a and isinstance(a[0], np.ndarray):
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y, err_msg=key)
        else:
            assert a is b or a == b, key


# ------------------------------------------------------------------ concurrency
@pytest.mark.parametrize("name", ESTIMATORS)
def test_predict_from_many_threads_at_once_equals_serial_prediction(name):
    estimator = _make(name)
    X, y = _data(_task(estimator), n=300)
    estimator.fit(X, y)
    # blocks of different sizes: a shared work array would be overwritten mid-pass
    blocks = [np.repeat(X, k, axis=0) for k in (1, 3, 7, 20)]
    expected = [_output(estimator, block) for block in blocks]
    barrier = threading.Barrier(8)

    def work(i):
        if i < 8:
            barrier.wait()
        k = i % len(blocks)
        return k, _output(estimator, blocks[k])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(64)))
    for k, result in results:
        np.testing.assert_array_equal(result, expected[k])


# -------------------------------------------------------------------- weights
@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_negative_or_non_finite_sample_weight_is_refused(name, bad):
    estimator = _make(name)
    X, y = _data(_task(estimator))
    weight = np.ones(len(y))
    weight[3] = bad
    with pytest.raises(ValueError, match="sample_weight"):
        estimator.fit(X, y, sample_weight=weight)


@pytest.mark.parametrize("name", [n for n, e in ESTIMATORS.items() if is_classifier(e)])
@pytest.mark.parametrize("bad", [-1.0, np.nan, "heavy"])
def test_bad_class_weight_entry_is_refused_naming_class_weight(name, bad):
    estimator = _make(name)
    first, second = LABELS[_task(estimator)]
    estimator.set_params(class_weight={first: bad, second: 1.0})
    X, y = _data(_task(estimator))
    with pytest.raises(ValueError, match=rf"class_weight\['{first}'\]"):
        estimator.fit(X, y)


# ----------------------------------------------------------------- bad inputs
def _bad_inputs(task, allow_nan=False):
    X, y = _data(task)
    with_nan = X.copy()
    with_nan[5, 1] = np.nan
    with_inf = X.copy()
    with_inf[7, 0] = np.inf
    y_nan = y.copy()
    if task == "regression":
        y_nan[4] = np.nan
    return {
        **({} if allow_nan else {"X with NaN": (with_nan, y)}),
        "X with inf": (with_inf, y),
        "y of another length": (X, y[:-3]),
        "X of one dimension": (X[:, 0], y),
        "no samples": (X[:0], y[:0]),
        "y as a matrix of another length": (X, np.stack([y, y], axis=1)[:-1]),
        **({"y with NaN": (X, y_nan)} if task == "regression" else {}),
    }


@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_input_is_a_clear_error(name):
    estimator = _make(name)
    for label, (X, y) in _bad_inputs(_task(estimator), _allows_nan(estimator)).items():
        with pytest.raises(ValueError):
            clone(estimator).fit(X, y)
    assert True  # every case above raised ValueError (a crash or a silent fit fails the test)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_wrong_task_loss_is_refused_naming_the_loss(name):
    estimator = _make(name)
    wrong = WRONG_TASK[_task(estimator)]
    X, y = _data(_task(estimator))
    with pytest.raises(ValueError, match=f"loss='{wrong}'"):
        estimator.set_params(loss=wrong).fit(X, y)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("scale", [1e150, 1e300])
def test_huge_features_give_a_finite_model_or_a_clear_error(name, scale):
    estimator = _make(name)
    X, y = _data(_task(estimator))
    X = X.copy()
    X[:, 2] *= scale
    try:
        estimator.fit(X, y)
    except ValueError as exc:  # a clear refusal is fine
        assert str(exc)
        return
    out = _output(estimator, X)
    assert np.all(np.isfinite(out)), f"{name} returned non-finite outputs for features of scale {scale}"


@pytest.mark.parametrize("name", ESTIMATORS)
def test_non_finite_prediction_input_is_refused(name):
    estimator = _make(name)
    X, y = _data(_task(estimator))
    estimator.fit(X, y)
    bad = X.copy()
    bad[0, 0] = _bad_value(estimator)
    with pytest.raises(ValueError):
        estimator.predict(bad)
    if _allows_nan(estimator):  # NaN is a missing value: a finite prediction
        bad[0, 0] = np.nan
        assert np.all(np.isfinite(_output(estimator, bad)))
    with pytest.raises(ValueError, match="features"):
        estimator.predict(X[:, :-1])


# --------------------------------------------------------------- failed refits
def _failures(task, bad_value=np.nan):
    X, y = _data(task, seed=1)
    nan_X = X.copy()
    nan_X[0, 0] = bad_value
    return {
        "non-finite X": (dict(), (nan_X, y), {}),
        "wrong-task loss": (dict(loss=WRONG_TASK[task]), (X, y), {}),
        "negative weight": (dict(), (X, y), dict(sample_weight=-np.ones(len(y)))),
        "weights summing to zero": (dict(), (X, y), dict(sample_weight=np.zeros(len(y)))),
        "one class or constant": (dict(), (X, np.full(len(y), y[0])), {}) if task != "regression" else
        (dict(), (X[:, :2], y), {}),
    }


@pytest.mark.parametrize("name, loss", list(_cases()))
def test_a_failed_refit_keeps_the_previous_model(name, loss):
    estimator = _make(name, loss)
    task = _task(estimator)
    X, y = _data(task)
    estimator.fit(X, y)
    before_out = _output(estimator, X)
    before = _fitted_state(estimator)
    params = estimator.get_params()
    for label, (new_params, args, kwargs) in _failures(task, _bad_value(estimator)).items():
        if label == "one class or constant" and task == "regression":
            # another number of features is a valid refit: the model changes; refit the original after
            continue
        estimator.set_params(**new_params)
        try:
            estimator.fit(*args, **kwargs)
        except ValueError:
            pass
        else:
            pytest.fail(f"{name} accepted a refit with {label}")
        estimator.set_params(**params)
        _assert_same_state(before, _fitted_state(estimator))
        np.testing.assert_array_equal(_output(estimator, X), before_out, err_msg=label)


@pytest.mark.parametrize("name", ["LinearRegressor", "MLPRegressor"])
def test_a_refit_that_diverges_keeps_the_previous_model(name):
    import math

    from sklearn_losses.losses import NonFiniteLossError, make_loss

    def sqrt_of_negative(y, r):
        return math.sqrt(r - 1e9) + (y - r) ** 2

    estimator = _make(name)
    X, y = _data("regression")
    estimator.fit(X, y)
    before_out, before = _output(estimator, X), _fitted_state(estimator)
    if np.isnan(math.nan):  # NaN from sqrt of a negative number needs the JIT (Python raises)
        estimator.set_params(loss=make_loss(sqrt_of_negative))
        with pytest.raises((NonFiniteLossError, ValueError)):
            estimator.fit(X, y)
    _assert_same_state(before, _fitted_state(estimator))
    np.testing.assert_array_equal(_output(estimator, X), before_out)


# -------------------------------------------------------------- layout, dtype
@pytest.mark.parametrize("name", ESTIMATORS)
def test_memory_layout_does_not_change_the_result(name):
    estimator = _make(name)
    X, y = _data(_task(estimator))
    c_model = clone(estimator).fit(np.ascontiguousarray(X), y)
    f_model = clone(estimator).fit(np.asfortranarray(X), y)
    np.testing.assert_array_equal(_output(c_model, X), _output(f_model, X))
    np.testing.assert_array_equal(_output(c_model, np.asfortranarray(X)), _output(c_model, X))


#: Estimators that keep float32 end to end (as Ridge, LogisticRegression, SGD and
#: scikit-learn's MLP); the kernel SVMs work in float64, as SVC, and so does the
#: linear ordinal model (as statsmodels' OrderedModel and mord), and the boosted
#: trees (as HistGradientBoosting*: their thresholds and leaf values are float64).
FLOAT32 = [name for name in ESTIMATORS if not name.startswith(("SVM", "GradientBoosting"))
           and name != "OrdinalClassifier"]


@pytest.mark.parametrize("name", FLOAT32)
def test_float32_input_gives_float32_outputs(name):
    estimator = _make(name)
    X, y = _data(_task(estimator))
    estimator.fit(X.astype(np.float32), y)
    out = _output(estimator, X.astype(np.float32))
    assert out.dtype == np.float32, f"{name}: {out.dtype}"
    if not is_classifier(estimator):
        assert estimator.predict(X.astype(np.float32)).dtype == np.float32
    for attribute in ("coef_", "intercept_", "coefs_", "intercepts_"):
        value = getattr(estimator, attribute, None)
        for part in (value if isinstance(value, list) else [] if value is None else [value]):
            assert np.asarray(part).dtype == np.float32, attribute


# ------------------------------------------------------------------ solver faults
def _finishes(func, seconds=120):
    """Run ``func`` in a thread; fail (rather than hang the suite) if it does not return in time."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(func)
        return future.result(timeout=seconds)


def _fit_or_error(estimator, X, y):
    try:
        return estimator.fit(X, y)
    except ValueError as exc:
        return exc


@pytest.mark.parametrize("loss, C", [("poisson", 1e6), ("log_cosh", 1e10), ("pseudo_huber", 1e8),
                                     ("squared_error", 1e10), ("log_cosh", 1e300)])
@pytest.mark.parametrize("newton_fallback", [True, False])
def test_svm_at_huge_C_returns_a_good_fit_or_says_why(loss, C, newton_fallback, monkeypatch):
    import sklearn_losses.svm._base as svm_base

    if not newton_fallback:  # as for a problem too large for Newton's method
        monkeypatch.setattr(svm_base, "MAX_NEWTON_SAMPLES", 10)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = rng.poisson(np.exp(X[:, 0])).astype(float) if loss == "poisson" else X[:, 0] + 0.1 * rng.standard_normal(40)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _finishes(lambda: _fit_or_error(SVMRegressor(loss, C=C, max_iter=100 if loss == "poisson" else -1),
                                                 X, y))
    if isinstance(result, ValueError):
        assert "C=" in str(result) and "SVMRegressor" in str(result)
        return
    score = result.score(X, y)
    said = " ".join(str(w.message) for w in caught)
    assert np.all(np.isfinite(result.dual_coef_))
    # never a model worse than the constant, without a word
    assert score > 0.0 or "did not converge" in said, (score, said)
    if not said:
        assert score > 0.9


def test_svm_convergence_warning_says_why_not_increase_max_iter_when_unlimited():
    import warnings

    X, y = _data("classification")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SVMClassifier(max_iter=3).fit(X, y)
    messages = [str(w.message) for w in caught]
    assert any("max_iter=3" in m and "SMO" in m for m in messages), messages


def test_lbfgs_does_not_count_no_progress_as_converged():
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_losses.losses import make_loss

    def squared(y, r):
        return (y - r) ** 2

    def wrong_gradient(y, r):
        return 2.0 * (y - r)  # the sign is wrong

    X, y = _data("regression")
    loss = make_loss(squared, gradient=wrong_gradient, name="wrong_gradient")
    with pytest.warns(ConvergenceWarning, match=r"WrongGradient with solver 'lbfgs'.*largest gradient component"):
        LinearRegressor(loss, solver="lbfgs").fit(X, y)


def test_mlp_lbfgs_with_a_wrong_gradient_warns():
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_losses.losses import make_loss

    def squared(y, r):
        return (y - r) ** 2

    def wrong_gradient(y, r):
        return 2.0 * (y - r)

    X, y = _data("regression")
    loss = make_loss(squared, gradient=wrong_gradient, name="wrong_gradient")
    with pytest.warns(ConvergenceWarning):
        MLPRegressor(loss=loss, solver="lbfgs", hidden_layer_sizes=(4,), max_iter=50, random_state=0).fit(X, y)


# ------------------------------------------------------------------ SVM kernels
def test_svm_rbf_on_features_of_size_1e300_is_finite_and_linear_kernel_is_refused():
    X, y = _data("classification")
    X = X.copy()
    X[:, 2] *= 1e300
    model = SVMClassifier().fit(X, y)  # gamma="scale" underflows: applied to the data instead
    assert model._kernel.gamma == 0.0 and model._kernel.data_scale > 0
    assert np.all(np.isfinite(model.decision_function(X)))
    # the same model as on the data divided by 1e300 (what gamma="scale" makes of it): at the
    # optimum, whose decision values are unique (at the default tol, rounding can lead the two
    # solves through different pairs to two points within tol of it; seen with numba 0.59)
    tight = SVMClassifier(tol=1e-10).fit(X, y)
    small = SVMClassifier(tol=1e-10).fit(X / 1e300, y)
    np.testing.assert_allclose(tight.decision_function(X), small.decision_function(X / 1e300), atol=1e-6)
    for kernel in ("linear", "poly"):
        with pytest.raises(ValueError, match=f"kernel='{kernel}'.*too large"):
            SVMClassifier(kernel=kernel, gamma=1.0).fit(X, y)


def test_svm_kernel_callable_returning_nan_is_refused_naming_it():
    def broken_kernel(A, B):
        return np.full((A.shape[0], B.shape[0]), np.nan)

    X, y = _data("classification")
    with pytest.raises(ValueError, match="kernel callable 'broken_kernel'.*non-finite"):
        SVMClassifier(kernel=broken_kernel).fit(X, y)


def test_svm_gamma_scale_is_the_weighted_variance():
    from sklearn_losses.svm._kernel import Kernel

    X, _ = _data("regression", n=30)
    w = np.random.default_rng(1).integers(0, 4, size=30).astype(float)
    weighted = Kernel("rbf", "scale", 3, 0.0, X, w).gamma
    repeated = Kernel("rbf", "scale", 3, 0.0, np.repeat(X, w.astype(int), axis=0)).gamma
    np.testing.assert_allclose(weighted, repeated, rtol=1e-12)
    np.testing.assert_allclose(Kernel("rbf", "scale", 3, 0.0, X).gamma, 1.0 / (X.shape[1] * X.var()), rtol=1e-12)
    import scipy.sparse as sp

    np.testing.assert_allclose(Kernel("rbf", "scale", 3, 0.0, sp.csr_matrix(X), w).gamma, weighted, rtol=1e-10)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_cross_validation_in_worker_processes_equals_in_process(name):
    from sklearn.model_selection import cross_val_score

    estimator = _make(name)
    X, y = _data(_task(estimator))
    serial = cross_val_score(estimator, X, y, cv=3, n_jobs=1)
    parallel = cross_val_score(estimator, X, y, cv=3, n_jobs=2)  # loky workers: pickled estimators, fresh kernels
    np.testing.assert_allclose(parallel, serial, rtol=1e-12)


# ------------------------------------------------- overlap losses, multilabel targets, boxes
def _overlap_data(kind, n=150, seed=0):
    """``(X, y)`` for the target kinds of the overlap and box losses."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    if kind == "labels":
        return X, np.where(X[:, 0] + 0.3 * rng.standard_normal(n) > 0.8, "rare", "common")
    if kind == "multilabel":
        return X, (X[:, :3] + 0.5 * rng.standard_normal((n, 3)) > 0.3).astype(np.int64)
    centre, half = X[:, :2], 0.5 * np.exp(0.3 * X[:, 2:])
    return X, np.column_stack([centre - half, centre + half])


#: The estimators of the overlap issue, each with the targets it fits.
OVERLAP_ESTIMATORS = {
    "LinearClassifier-soft_dice": (LinearClassifier("soft_dice"), "labels"),
    "MLPClassifier-tversky": (MLPClassifier("tversky", hidden_layer_sizes=(8,), max_iter=30, random_state=0),
                              "labels"),
    "LinearClassifier-multilabel": (LinearClassifier("soft_jaccard"), "multilabel"),
    "MLPClassifier-multilabel": (MLPClassifier("soft_dice", hidden_layer_sizes=(8,), max_iter=30, random_state=0),
                                 "multilabel"),
    "LinearRegressor-giou": (LinearRegressor("giou"), "boxes"),
    "MLPRegressor-ciou": (MLPRegressor("ciou", hidden_layer_sizes=(8,), max_iter=30, random_state=0), "boxes"),
}


def _bad_targets(kind, y):
    """Targets a fit must refuse, by kind."""
    if kind == "labels":
        return {"one class": np.full(len(y), y[0])}
    if kind == "multilabel":
        twos = 2 * y
        nan = y.astype(float)
        nan[0, 0] = np.nan
        return {"not 0/1": twos, "NaN": nan}
    degenerate = y.copy()
    degenerate[3, 2] = degenerate[3, 0]
    return {"degenerate box": degenerate, "three columns": y[:, :3], "one column": y[:, 0]}


@pytest.mark.parametrize("name", OVERLAP_ESTIMATORS)
def test_overlap_and_box_estimators_refuse_bad_input_and_keep_the_model(name):
    template, kind = OVERLAP_ESTIMATORS[name]
    X, y = _overlap_data(kind)
    estimator = clone(template).fit(X, y)
    before_out, before = _output(estimator, X), _fitted_state(estimator)
    nan_X, inf_X = X.copy(), X.copy()
    nan_X[1, 1], inf_X[2, 0] = np.nan, np.inf
    failures = {"NaN in X": ((nan_X, y), {}), "inf in X": ((inf_X, y), {}), "y of another length": ((X, y[:-2]), {}),
                "negative weight": ((X, y), dict(sample_weight=-np.ones(len(y)))),
                "weights summing to zero": ((X, y), dict(sample_weight=np.zeros(len(y)))),
                **{label: ((X, bad), {}) for label, bad in _bad_targets(kind, y).items()}}
    for label, (args, kwargs) in failures.items():
        with pytest.raises(ValueError):
            estimator.fit(*args, **kwargs)
        _assert_same_state(before, _fitted_state(estimator))
        np.testing.assert_array_equal(_output(estimator, X), before_out, err_msg=label)
    wrong = "huber" if is_classifier(estimator) else "soft_dice"
    with pytest.raises(ValueError, match=f"loss='{wrong}'"):
        clone(estimator).set_params(loss=wrong).fit(X, y)
    bad = X.copy()
    bad[0, 0] = _bad_value(estimator)
    with pytest.raises(ValueError):
        estimator.predict(bad)
    if _allows_nan(estimator):  # NaN is a missing value: a finite prediction
        bad[0, 0] = np.nan
        assert np.all(np.isfinite(_output(estimator, bad)))


@pytest.mark.parametrize("name", OVERLAP_ESTIMATORS)
def test_overlap_and_box_estimators_predict_from_threads_and_stay_finite_on_huge_features(name):
    template, kind = OVERLAP_ESTIMATORS[name]
    X, y = _overlap_data(kind, n=300)
    estimator = clone(template).fit(X, y)
    blocks = [np.repeat(X, k, axis=0) for k in (1, 3, 7)]
    expected = [estimator.predict(block) for block in blocks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: (i % 3, estimator.predict(blocks[i % 3])), range(24)))
    for k, result in results:
        np.testing.assert_array_equal(result, expected[k])
    for scale in (1e150, 1e300):
        huge = X.copy()
        huge[:, 3] *= scale
        try:
            model = clone(template).fit(huge, y)
        except ValueError as exc:  # a clear refusal is fine
            assert str(exc)
            continue
        assert np.all(np.isfinite(_output(model, huge))), f"{name}: non-finite outputs at feature scale {scale}"
