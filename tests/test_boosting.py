"""Gradient boosting with any loss: agreement with scikit-learn, the leaf rules, targets, inputs, state."""

import pickle
import threading

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from sklearn_losses.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn_losses.ensemble._leaves import increasing_root, leaf_rule
from sklearn_losses.ensemble._tree_kernels import piecewise_leaf_minimisers
from sklearn_losses.losses import get_loss, make_loss

pytestmark = pytest.mark.xdist_group("boosting")  # one worker compiles the tree kernels once
#: Fits: minutes in pure Python (NUMBA_DISABLE_JIT=1); the leaf maths' own tests stay in that pass.
fits = pytest.mark.slow_in_python


def linex(y, r, a=1.0):
    """A custom asymmetric loss (LINEX), written as a user would."""
    e = y - r
    return np.exp(a * e) - a * e - 1.0


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@fits
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_newton_leaves_equal_hist_gradient_boosting(diabetes, loss):
    """Same bins, gains and Newton leaves as scikit-learn (its half squared error has half our hessian and
    gradient, so the leaf values agree). On the 331 rows of a 75% split every feature has at most 255
    distinct values, one bin each in both; on the 442 rows one feature has 302 values, of which some
    repeat, and our bins then give the repeated values bins of their own where scikit-learn's quantiles
    merge (tests/test_binning.py)."""
    from sklearn.model_selection import train_test_split
    X, y = diabetes
    X, _, y, _ = train_test_split(X, y, test_size=0.25, random_state=0)
    ours = GradientBoostingRegressor(loss, max_iter=30).fit(X, y)
    theirs = HistGradientBoostingRegressor(loss=loss, max_iter=30).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6)


@fits
@pytest.mark.parametrize("split", [0, 6])
def test_log_loss_equals_hist_gradient_boosting(diabetes, split):
    """The gradients and hessians are rounded to float32 as scikit-learn's are, so splits of equal gain tie
    alike: on the first trees of a log-loss fit they take two values and many splits tie exactly (before the
    rounding, these two splits drifted apart from the first tree on)."""
    from sklearn.model_selection import train_test_split
    X, y = diabetes
    y = (y > np.median(y)).astype(int)
    Xa, Xb, ya, _ = train_test_split(X, y, test_size=0.25, random_state=split, stratify=y)
    shared = dict(max_iter=100, max_leaf_nodes=31, min_samples_leaf=20, early_stopping=False)
    ours = GradientBoostingClassifier(**shared).fit(Xa, ya)
    theirs = HistGradientBoostingClassifier(**shared).fit(Xa, ya)
    np.testing.assert_allclose(ours.decision_function(Xb), theirs.decision_function(Xb), rtol=1e-9, atol=1e-9)


@fits
@pytest.mark.parametrize("scale", [1e-36, 1e36])
def test_rounding_to_float32_keeps_extreme_target_scales(diabetes, scale):
    """Gradients beyond float32's normal range stay float64: a fit on scaled targets is the scaled fit."""
    X, y = diabetes
    y = (y - y.mean()) / y.std()
    reference = GradientBoostingRegressor(max_iter=20).fit(X, y).predict(X)
    scaled = GradientBoostingRegressor(max_iter=20).fit(X, y * scale).predict(X) / scale
    np.testing.assert_allclose(scaled, reference, rtol=1e-6, atol=1e-9)


def test_histogram_precision():
    from sklearn_losses.ensemble._boosting import histogram_precision
    assert histogram_precision(np.array([0.5, -1.0, np.nan])).dtype == np.float32
    assert histogram_precision(np.zeros(3)).dtype == np.float32
    assert histogram_precision(np.array([1e-40, 0.0])).dtype == np.float64
    assert histogram_precision(np.array([1e39, 1.0])).dtype == np.float64
    assert np.isnan(histogram_precision(np.array([np.nan, 1.0]))[0])


def test_leaf_rules_follow_the_declarations():
    assert leaf_rule(get_loss("squared_error")) == "newton"
    assert leaf_rule(get_loss("quantile")) == "pieces"
    assert leaf_rule(get_loss("hinge")) == "pieces"
    assert leaf_rule(get_loss("huber")) == "search"  # exact hessian, but zero beyond delta
    assert leaf_rule(get_loss("focal")) == "search"  # indefinite
    assert leaf_rule(get_loss("soft_f1")) == "batch"
    assert leaf_rule(get_loss("poisson")) == "newton"  # log link: the IRLS step
    assert leaf_rule(get_loss("linex")) == "search"  # exponential in an identity-linked raw: Newton is biased
    assert leaf_rule(make_loss(linex, name="linex_declared", growth="exponential")) == "search"


@fits
def test_linex_leaves_are_the_closed_form_minimisers():
    """One tree, learning rate 1: each leaf is log(mean exp(a e)) / a of its residuals (NumPy reference), not
    the biased Newton step (1 - 1/m) / a."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 2))
    y = X[:, 0] + 0.5 * rng.standard_normal(400)
    loss = get_loss("linex", a=1.0)
    model = GradientBoostingRegressor(loss, max_iter=1, learning_rate=1.0, max_leaf_nodes=4,
                                      early_stopping=False).fit(X, y)
    prediction = model.predict(X)
    base = model._baseline_prediction[0]
    for value in np.unique(prediction):
        e = y[prediction == value] - base
        np.testing.assert_allclose(value - base, np.log(np.mean(np.exp(e))), rtol=1e-7)


def test_piecewise_leaves_are_exact_minimisers():
    """The leaf value minimises the leaf's summed pinball loss: no breakpoint does better (NumPy reference)."""
    rng = np.random.default_rng(0)
    loss = get_loss("quantile", quantile=0.8)
    n = 301
    y = rng.standard_normal(n)
    w = rng.integers(0, 4, n).astype(float)
    raw = rng.standard_normal((n, 1))
    rows = rng.permutation(n).astype(np.int32)
    starts, stops = np.array([0, 100, 250]), np.array([100, 250, 301])
    slopes, breaks = loss.linear_pieces(y)
    out = np.empty(3)
    piecewise_leaf_minimisers(rows, starts, stops, slopes, breaks, w, raw, 0, out)
    for leaf in range(3):
        idx = rows[starts[leaf]:stops[leaf]]

        def objective(v):
            return loss.loss(y[idx], raw[idx, 0] + v, w[idx], reduction="sum")

        candidates = y[idx] - raw[idx, 0]
        best = min(objective(v) for v in candidates)
        assert objective(out[leaf]) <= best + 1e-12 * abs(best)


def _sorted_minimiser(points, jumps, slope):
    """NumPy reference of one leaf's piecewise-linear minimiser: walk the kinks in sorted order."""
    tol = 1e-12 * (jumps.sum() + abs(slope))
    if slope > tol:
        return 0.0
    if slope >= -tol:
        return min(0.0, points.min())
    distinct = np.unique(points)
    after = slope + np.array([jumps[points == p].sum() for p in distinct]).cumsum()
    first = np.flatnonzero(after >= -tol)
    if first.size == 0:
        return 0.0
    q = first[0]
    if after[q] > tol:
        return distinct[q]
    return 0.5 * (distinct[q] + distinct[q + 1]) if q + 1 < distinct.size else max(0.0, distinct[q])


@pytest.mark.parametrize("name, params", [("absolute_error", {}), ("quantile", {"quantile": 0.3}),
                                          ("epsilon_insensitive", {"epsilon": 0.5})])
def test_piecewise_leaves_equal_the_sorted_walk_with_ties(name, params):
    """Selection (not sorting) finds the same minimiser as walking the sorted kinks, ties and flat stretches
    included (integer targets, even counts, zero weights); with unit weights the absolute error's leaf is
    NumPy's median."""
    loss = get_loss(name, **params)
    rng = np.random.default_rng(1)
    for trial in range(40):
        n = int(rng.integers(1, 60))
        y = rng.integers(-3, 4, n).astype(float)
        raw = rng.integers(-2, 3, (n, 1)).astype(float)
        w = rng.integers(0, 3, n).astype(float) if trial % 2 else np.ones(n)
        rows = rng.permutation(n).astype(np.int32)
        slopes, breaks = loss.linear_pieces(y)
        out = np.empty(1)
        piecewise_leaf_minimisers(rows, np.array([0]), np.array([n]), slopes, breaks, w, raw, 0, out)
        points = (breaks - raw).ravel()
        jumps = (w[:, None] * np.diff(slopes, axis=1)).ravel()
        expected = _sorted_minimiser(points, jumps, float(w @ slopes[:, 0])) if jumps.sum() > 0 else 0.0
        assert out[0] == expected
        if name == "absolute_error" and trial % 2 == 0:
            assert out[0] == np.median(y - raw[:, 0])


def test_increasing_root_finds_each_minimiser():
    targets = np.array([3.0, -250.0, 0.0, 1e-3])

    def derivative(v):
        return np.tanh(v - targets)  # minimisers of log cosh(v - t)

    found = increasing_root(derivative, np.full(4, 0.1), derivative(np.zeros(4)))
    np.testing.assert_allclose(found, targets, atol=1e-8)


@fits
def test_quantile_boosting_covers_its_quantile():
    X, y = make_regression(3000, 5, noise=20, random_state=0)
    model = GradientBoostingRegressor(get_loss("quantile", quantile=0.9), max_iter=100).fit(X, y)
    coverage = np.mean(y <= model.predict(X))
    assert 0.85 < coverage < 0.95


@fits
def test_huber_trains_where_its_hessian_vanishes():
    """Targets far beyond delta (hessian 0 on every row at the start): Newton leaves would not move."""
    X, y = make_regression(2000, 5, noise=1, random_state=0)
    y = 1000 * y
    model = GradientBoostingRegressor(get_loss("huber", delta=1.0), max_iter=50, learning_rate=0.3).fit(X, y)
    assert model.loss_curve_[-1] < 0.2 * model._baseline_loss


@fits
def test_batch_loss_and_focal_and_custom_train():
    X, y = make_classification(1500, 6, weights=[0.85], random_state=0)
    for loss in ["soft_f1", "focal", "cross_entropy"]:
        model = GradientBoostingClassifier(loss, max_iter=30).fit(X, y)
        assert model.loss_curve_[-1] < model._baseline_loss
        assert np.all(np.diff(model.loss_curve_) <= 1e-9 * np.abs(model.loss_curve_[:-1])) or loss == "soft_f1"
    Xr, yr = make_regression(800, 4, noise=5, random_state=1)
    yr = yr / np.std(yr)
    custom = make_loss(linex, name="linex_custom", convex=True, a=0.5)
    model = GradientBoostingRegressor(custom, max_iter=30).fit(Xr, yr)
    assert model.loss_curve_[-1] < 0.5 * model._baseline_loss


@fits
def test_newton_leaves_fall_back_to_the_line_search_on_an_exponential_tail():
    """LINEX from its best constant on heavy-tailed targets: most residuals sit far out on the flat side,
    where the hessian is tiny and the Newton step huge (XGBoost and LightGBM take it and diverge); an
    iteration whose Newton leaves would raise the training loss gets the line search's leaves instead, so
    every iteration lowers it."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 3))
    y = rng.standard_exponential(2000) ** 2 * (1 + (X[:, 0] > 0))
    y = (y - y.mean()) / y.std()
    custom = make_loss(linex, name="linex_tail", convex=True, a=1.0)
    model = GradientBoostingRegressor(custom, max_iter=20, learning_rate=0.3).fit(X, y)
    curve = np.array([model._baseline_loss] + model.loss_curve_)
    assert np.all(np.diff(curve) < 0)
    assert np.all(np.isfinite(model.predict(X)))
    assert np.ptp(model.predict(X)) < 3 * np.ptp(y)


@fits
def test_multiclass_multioutput_and_multilabel_shapes():
    X, y = make_classification(900, 8, n_informative=5, n_classes=3, random_state=0)
    for loss in ["cross_entropy", "log_loss"]:
        model = GradientBoostingClassifier(loss, max_iter=10).fit(X, y)
        assert model.n_trees_per_iteration_ == 3
        assert model.predict_proba(X).shape == (900, 3)
        np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    model = GradientBoostingClassifier(max_iter=10).fit(X, Y)
    assert model.predict(X).shape == (900, 2) and model.predict(X).dtype == Y.dtype
    Xr, yr = make_regression(500, 4, n_targets=3, random_state=0)
    model = GradientBoostingRegressor("huber", max_iter=10).fit(Xr, yr)
    assert model.n_trees_per_iteration_ == 3 and model.predict(Xr).shape == (500, 3)


@fits
def test_missing_values_get_a_direction():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 3))
    y = np.where(np.isnan(np.where(rng.random(2000) < 0.2, np.nan, 0)), 5.0, X[:, 0])
    X[y == 5.0, 0] = np.nan
    model = GradientBoostingRegressor(max_iter=50).fit(X, y)
    pred = model.predict(np.array([[np.nan, 0.0, 0.0], [0.5, 0.0, 0.0]]))
    assert abs(pred[0] - 5.0) < 0.3 and abs(pred[1] - 0.5) < 0.5


@fits
def test_staged_predict_warm_start_importances_and_pickle(diabetes):
    X, y = diabetes
    model = GradientBoostingRegressor("absolute_error", max_iter=20).fit(X, y)
    stages = list(model.staged_predict(X))
    assert len(stages) == 20
    np.testing.assert_array_equal(stages[-1], model.predict(X))
    warm = GradientBoostingRegressor("absolute_error", max_iter=10, warm_start=True).fit(X, y)
    warm.set_params(max_iter=20).fit(X, y)
    np.testing.assert_allclose(warm.predict(X), model.predict(X), rtol=1e-12)
    importances = model.feature_importances_
    assert importances.shape == (10,) and abs(importances.sum() - 1) < 1e-12
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


@fits
def test_interaction_constraints_keep_branches_in_a_group(diabetes):
    X, y = diabetes
    model = GradientBoostingRegressor(max_iter=10, interaction_cst="no_interactions").fit(X, y)
    for (tree,) in model._predictors:
        inner = tree.left >= 0
        assert np.unique(tree.feature[inner]).shape[0] <= 1


@fits
def test_early_stopping_on_validation_loss():
    X, y = make_regression(12_000, 5, noise=50, random_state=0)
    model = GradientBoostingRegressor(max_iter=500, learning_rate=0.5).fit(X, y)
    assert model.do_early_stopping_ and model.n_iter_ < 500
    assert len(model.validation_loss_curve_) == model.n_iter_


@pytest.mark.parametrize("bad, match", [
    ({"X": np.array([[np.inf, 1.0]] * 30)}, "infinity"),
    ({"y": np.full(30, np.nan)}, "NaN"),
    ({"sample_weight": -np.ones(30)}, "sample_weight|negative"),
    ({"loss": "log_loss"}, "loss='log_loss'"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"interaction_cst": [[0, 7]]}, "interaction_cst"),
])
@fits
def test_bad_inputs_are_named(bad, match):
    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((30, 2)), rng.standard_normal(30), None
    X, y, w = bad.pop("X", X), bad.pop("y", y), bad.pop("sample_weight", w)
    with pytest.raises((ValueError, TypeError), match=match):
        GradientBoostingRegressor(max_iter=3, **bad).fit(X, y, sample_weight=w)


@fits
def test_a_failed_fit_keeps_the_model(diabetes):
    X, y = diabetes
    model = GradientBoostingRegressor(max_iter=5).fit(X, y)
    before = model.predict(X)
    with pytest.raises(ValueError):
        model.set_params(loss="poisson").fit(X, -y)
    np.testing.assert_array_equal(model.predict(X), before)


@fits
def test_predictions_from_threads_equal_serial_ones(diabetes):
    X, y = diabetes
    model = GradientBoostingRegressor(max_iter=20).fit(X, y)
    _assert_threads_predict_as_serial(model, X)


def _assert_threads_predict_as_serial(model, X, n_threads=4):
    """Predictions from ``n_threads`` threads at once equal the serial prediction, bit for bit."""
    expected = model.predict(X)
    results = [None] * n_threads

    def run(i):
        results[i] = model.predict(X)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_booster_objectives_are_the_loss_derivatives():
    """NumPy reference: the adapters return the weighted per-sample gradient and (unit or exact) hessian."""
    from sklearn_losses.ensemble import as_lightgbm_objective, as_xgboost_objective

    rng = np.random.default_rng(0)
    y, raw, w = rng.standard_normal(50), rng.standard_normal(50), rng.random(50)
    pinball = as_lightgbm_objective(get_loss("quantile", quantile=0.9))
    g, h = pinball(y, raw, w)
    np.testing.assert_allclose(g, w * np.where(y > raw, -0.9, 0.1))
    np.testing.assert_allclose(h, w)  # unit hessian: the zero-hessian loss can split
    np.testing.assert_allclose(pinball.init_score(y), np.quantile(y, 0.9, method="inverted_cdf"), atol=1e-12)
    squared = as_xgboost_objective("squared_error")
    g, h = squared(y, raw, None)
    np.testing.assert_allclose(g, 2 * (raw - y))
    np.testing.assert_allclose(h, 2.0)
    assert squared.eval_metric(y, raw) == pytest.approx(np.mean((y - raw) ** 2))
    with pytest.raises(ValueError, match="batch"):
        as_lightgbm_objective("soft_f1")


@fits
def test_lightgbm_objective_trains_when_installed(diabetes):
    lightgbm = pytest.importorskip("lightgbm")
    from sklearn_losses.ensemble import as_lightgbm_objective

    X, y = diabetes
    objective = as_lightgbm_objective(get_loss("quantile", quantile=0.9))
    model = lightgbm.LGBMRegressor(objective=objective, n_estimators=50, verbose=-1)
    model.fit(X, y, init_score=objective.init_score(y))
    prediction = model.predict(X, raw_score=True) + objective.init_score(y)
    assert 0.8 < np.mean(y <= prediction) < 1.0


@fits
@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_objective_trains_when_installed(diabetes, weighted):
    """XGBoost calls the objective with ``sample_weight`` by keyword, and only for weighted fits."""
    xgboost = pytest.importorskip("xgboost")
    from sklearn_losses.ensemble import as_xgboost_objective

    X, y = diabetes
    w = np.random.default_rng(0).integers(1, 3, y.shape[0]).astype(float) if weighted else None
    objective = as_xgboost_objective(get_loss("quantile", quantile=0.9))
    init = objective.init_score(y, w)
    model = xgboost.XGBRegressor(objective=objective, base_score=0.0, n_estimators=50, tree_method="hist",
                                 eval_metric=objective.eval_metric, n_jobs=1)
    model.fit(X, y, sample_weight=w, base_margin=init, eval_set=[(X, y)], sample_weight_eval_set=None if w is None
              else [w], base_margin_eval_set=[init], verbose=False)
    prediction = model.predict(X, output_margin=True, base_margin=init)
    assert 0.8 < np.average(y <= prediction, weights=w) < 1.0
    assert model.evals_result()["validation_0"]["eval_metric"][-1] == pytest.approx(
        objective.metric_value(y, prediction, w), rel=1e-5)


def _categorical_data(n=3000, seed=0):
    """A target that depends on a set of categories (no threshold on the codes separates it) plus noise."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 12, n).astype(float)
    x = rng.standard_normal(n)
    effect = np.isin(codes, [1, 4, 6, 9, 11]) * 3.0
    y = effect + 0.5 * x + 0.3 * rng.standard_normal(n)
    return np.column_stack([codes, x]), y


@fits
def test_categorical_splits_match_histgradientboosting():
    """Category sets by Fisher's ordering: the same fit as scikit-learn's categorical support, and a set
    split finds in one tree what threshold splits on the codes need many for."""
    X, y = _categorical_data()
    shared = dict(max_iter=30, max_leaf_nodes=8, early_stopping=False)
    ours = GradientBoostingRegressor(categorical_features=[0], **shared).fit(X, y)
    theirs = HistGradientBoostingRegressor(categorical_features=[0], **shared).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5, atol=1e-5)
    stump = dict(max_iter=1, max_leaf_nodes=2, learning_rate=1.0, early_stopping=False)
    categorical = GradientBoostingRegressor(categorical_features=[True, False], **stump).fit(X, y)
    numeric = GradientBoostingRegressor(categorical_features=None, **stump).fit(X, y)
    assert np.mean((categorical.predict(X) - y) ** 2) < 0.5 * np.mean((numeric.predict(X) - y) ** 2)


@fits
def test_categorical_missing_negative_and_unseen_codes_follow_the_missing_side():
    X, y = _categorical_data()
    X[::7, 0] = np.nan
    model = GradientBoostingRegressor(categorical_features=[0], max_iter=5, early_stopping=False).fit(X, y)
    probe = np.array([[np.nan, 0.0], [-1.0, 0.0], [200.0, 0.0], [2.5, 0.0]])
    prediction = model.predict(probe)
    assert np.all(prediction == prediction[0])  # each is "missing"
    with pytest.raises(ValueError, match="categorical_features: feature 0 has the code 311"):
        GradientBoostingRegressor(categorical_features=[0], max_iter=2).fit(np.column_stack([X[:, 0] + 300, X[:, 1]]), y)
    with pytest.raises(ValueError, match="integer category codes"):
        GradientBoostingRegressor(categorical_features=[0], max_iter=2).fit(X + 0.5, y)
    for bad, message in (([5], r"\[0, 1\]"), ([True], "one entry per feature"), (["a"], "feature names")):
        with pytest.raises(ValueError, match=message):
            GradientBoostingRegressor(categorical_features=bad, max_iter=2).fit(X, y)


@fits
def test_categorical_features_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = _categorical_data()
    names = np.array(list("abcdefghijkl"))
    frame = pd.DataFrame({"colour": pd.Categorical(names[X[:, 0].astype(int)]), "x": X[:, 1]})
    by_dtype = GradientBoostingClassifier(max_iter=10, early_stopping=False).fit(frame, y > 1.5)
    by_codes = GradientBoostingClassifier(categorical_features=["colour"], max_iter=10, early_stopping=False).fit(
        pd.DataFrame({"colour": X[:, 0], "x": X[:, 1]}), y > 1.5)
    np.testing.assert_allclose(by_dtype.predict_proba(frame),
                               by_codes.predict_proba(pd.DataFrame({"colour": X[:, 0], "x": X[:, 1]})))
    # a frame at predict time with other (or reordered) categories: codes are fit's; unseen are missing
    shuffled = frame.assign(colour=pd.Categorical(frame["colour"].astype(str), categories=names[::-1]))
    np.testing.assert_allclose(by_dtype.predict_proba(shuffled), by_dtype.predict_proba(frame))
    unseen = frame.iloc[:3].assign(colour=pd.Categorical(["zzz"] * 3))
    missing = frame.iloc[:3].assign(colour=pd.Categorical([np.nan] * 3, categories=names))
    np.testing.assert_allclose(by_dtype.predict_proba(unseen), by_dtype.predict_proba(missing))


@fits
def test_categorical_models_pickle_warm_start_and_predict_from_threads():
    X, y = _categorical_data()
    model = GradientBoostingRegressor(categorical_features=[0], max_iter=5, early_stopping=False).fit(X, y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(X), model.predict(X))
    model.set_params(max_iter=8, warm_start=True).fit(X, y)
    fresh = GradientBoostingRegressor(categorical_features=[0], max_iter=8, early_stopping=False).fit(X, y)
    np.testing.assert_allclose(model.predict(X), fresh.predict(X), rtol=1e-12)
    _assert_threads_predict_as_serial(model, X)


def test_too_many_categories_name_the_feature_and_max_bins():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.standard_normal(600),
                          "id": pd.Categorical([f"c{i}" for i in rng.integers(0, 300, 600)])})
    with pytest.raises(ValueError, match=r"feature 1 .* at most max_bins=255 categories"):
        GradientBoostingRegressor(max_iter=2).fit(frame, rng.standard_normal(600))
