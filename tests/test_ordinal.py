"""OrdinalClassifier: the fit against NumPy references, labels and their order, weights, absent classes,
scorers and scikit-learn's estimator checks."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.linear_model import OrdinalClassifier
from sklearn_losses.losses import AllThreshold, CumulativeLink
from sklearn_losses.metrics import (
    make_loss_scorer, make_ordinal_scorer, mean_absolute_rank_error, quadratic_weighted_kappa,
)

LOSSES = ["cumulative_logit", "cumulative_probit", "cumulative_cloglog", "all_threshold", "immediate_threshold",
          "coral", "corn", AllThreshold(base="hinge"), AllThreshold(base="squared_hinge", threshold_weights="squared")]


def _data(n=400, d=4, seed=0, cuts=(-1.5, 0.0, 1.0, 2.5)):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    f = X @ np.linspace(1.0, -1.0, d) + rng.logistic(size=n)
    return X, np.digitize(f, cuts)


def _reference_cumulative_logit(X, y, K):
    """The proportional-odds MLE by scipy on the plain formula (thresholds as first value plus exp increments)."""
    d = X.shape[1]

    def nll(params):
        w, t0, inc = params[:d], params[d], params[d + 1:]
        theta = np.concatenate([[t0], t0 + np.cumsum(np.exp(inc))])
        # P(y = c) = F(theta_c - f) - F(theta_{c-1} - f), theta_{-1} = -inf, theta_{K-1} = inf
        upper, lower = np.concatenate([theta, [np.inf]])[y], np.concatenate([[-np.inf], theta])[y]
        f = X @ w
        return -np.sum(np.log(expit(upper - f) - expit(lower - f)))

    result = minimize(nll, np.zeros(d + K - 1), method="BFGS", options={"gtol": 1e-9, "maxiter": 10000})
    w, t0, inc = result.x[:d], result.x[d], result.x[d + 1:]
    return w, np.concatenate([[t0], t0 + np.cumsum(np.exp(inc))])


def test_cumulative_logit_is_the_maximum_likelihood_fit():
    X, y = _data()
    model = OrdinalClassifier(penalty=None, tol=1e-10).fit(X, y)
    w, theta = _reference_cumulative_logit(X, y, 5)
    np.testing.assert_allclose(model.coef_, w, atol=2e-5)
    np.testing.assert_allclose(model.thresholds_, theta, atol=2e-5)


@pytest.mark.parametrize("loss", LOSSES, ids=str)
def test_every_loss_fits_predicts_and_keeps_thresholds_ordered(loss):
    X, y = _data(seed=1)
    model = OrdinalClassifier(loss).fit(X, y)
    assert np.all(np.diff(model.thresholds_) >= 0) or model.coef_.ndim == 2
    pred = model.predict(X)
    assert set(pred) <= set(range(5))
    assert mean_absolute_rank_error(y, pred) < 1.0  # always predicting the middle class: 1.2
    if hasattr(model, "predict_proba"):
        p = model.predict_proba(X)
        assert p.shape == (len(y), 5) and np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        median = np.minimum((np.cumsum(p, axis=1) < 0.5).sum(axis=1), 4)
        np.testing.assert_array_equal(pred, median)
        mode = clone(model).set_params(prediction="mode").fit(X, y).predict(X)
        np.testing.assert_array_equal(mode, np.argmax(p, axis=1))
    else:
        with pytest.raises(ValueError, match="prediction='mode' needs class probabilities"):
            clone(model).set_params(prediction="mode").fit(X, y)


def test_string_labels_in_a_given_order_and_pandas_ordered_categoricals():
    X, y = _data(n=300, cuts=(-1.0, 1.0))
    names = np.array(["Fair", "Good", "Ideal"])[y]  # sorted order would be the same; make it differ
    order = ["Ideal", "Good", "Fair"]
    model = OrdinalClassifier(classes=order).fit(X, names)
    np.testing.assert_array_equal(model.classes_, order)
    flipped = OrdinalClassifier(penalty=None).fit(X, 2 - y)
    np.testing.assert_allclose(OrdinalClassifier(classes=order, penalty=None).fit(X, names).coef_,
                               flipped.coef_, rtol=1e-5, atol=1e-7)
    pd = pytest.importorskip("pandas")
    categorical = pd.Series(pd.Categorical(names, categories=["Ideal", "Good", "Fair", "Premium"], ordered=True))
    model = OrdinalClassifier().fit(X, categorical)
    np.testing.assert_array_equal(model.classes_, ["Ideal", "Good", "Fair", "Premium"])
    assert model.predict_proba(X)[:, 3].max() == 0.0  # the absent category: no probability
    with pytest.raises(ValueError, match=r"labels not in classes .*'Fair'"):
        OrdinalClassifier(classes=["Ideal", "Good"]).fit(X, names)
    with pytest.raises(ValueError, match="classes must list each ordered class once"):
        OrdinalClassifier(classes=["Good", "Good", "Fair"]).fit(X, names)


@pytest.mark.parametrize("loss", ["cumulative_logit", "all_threshold", "corn"])
def test_absent_classes_get_empty_intervals(loss):
    X, y = _data(n=300, cuts=(-1.0, 1.0))  # ranks 0..2, labelled 1, 3, 4 of 0..5
    labels = np.array([1, 3, 4])[y]
    model = OrdinalClassifier(loss, classes=[0, 1, 2, 3, 4, 5]).fit(X, labels)
    p = model.predict_proba(X)
    assert np.all(p[:, [0, 2, 5]] == 0.0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {1, 3, 4}
    reference = OrdinalClassifier(loss).fit(X, labels)
    np.testing.assert_allclose(p[:, [1, 3, 4]], reference.predict_proba(X), rtol=1e-6, atol=1e-9)
    if loss != "corn":
        assert np.all(np.diff(model.thresholds_) >= 0)


@pytest.mark.parametrize("loss", ["cumulative_logit", "all_threshold", "corn"])
def test_weights_are_frequencies(loss):
    X, y = _data(n=120, seed=3)
    counts = np.arange(120) % 4
    weighted = OrdinalClassifier(loss, tol=1e-10).fit(X, y, counts.astype(float))
    rows = np.repeat(np.arange(120), counts)
    expanded = OrdinalClassifier(loss, tol=1e-10).fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.coef_, expanded.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weighted.thresholds_, expanded.thresholds_, rtol=1e-5, atol=1e-6)


def test_class_weight_equals_sample_weight():
    X, y = _data(n=200, seed=4)
    weights = {0: 2.0, 1: 1.0, 2: 0.5, 3: 1.0, 4: 3.0}
    a = OrdinalClassifier(class_weight=weights).fit(X, y)
    b = OrdinalClassifier().fit(X, y, np.array([weights[c] for c in y]))
    np.testing.assert_allclose(a.coef_, b.coef_)
    balanced = OrdinalClassifier(class_weight="balanced").fit(X, y)
    assert np.all(np.isfinite(balanced.coef_))


def test_penalties_l1_gives_zeros_and_alpha_shrinks():
    X, y = _data(n=300, d=8, seed=5)
    X[:, 4:] = np.random.default_rng(0).normal(size=(300, 4)) * 0.01  # noise features
    sparse = OrdinalClassifier(penalty="l1", alpha=0.05).fit(X, y)
    assert np.sum(sparse.coef_ == 0) >= 2
    small = np.linalg.norm(OrdinalClassifier(alpha=1.0).fit(X, y).coef_)
    assert small < np.linalg.norm(OrdinalClassifier(alpha=1e-4).fit(X, y).coef_)


def test_warm_start_continues_from_the_previous_fit():
    X, y = _data(seed=6)
    model = OrdinalClassifier(warm_start=True, tol=1e-8).fit(X, y)
    again = model.n_iter_
    model.fit(X, y)
    assert model.n_iter_ <= max(2, again // 3)


def test_sparse_input_matches_dense():
    import scipy.sparse as sp

    X, y = _data(seed=7)
    X[np.abs(X) < 0.8] = 0.0
    dense = OrdinalClassifier(tol=1e-9).fit(X, y)
    sparse = OrdinalClassifier(tol=1e-9).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)


def test_bad_input_is_refused_by_name():
    X, y = _data(n=50)
    with pytest.raises(ValueError, match="loss='log_loss'.*binary loss; OrdinalClassifier accepts ordinal"):
        OrdinalClassifier("log_loss").fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes with positive weight"):
        OrdinalClassifier().fit(X, y, (y == 2).astype(float))
    with pytest.raises(ValueError, match="sample_weight"):
        OrdinalClassifier().fit(X, y, -np.ones(50))
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        OrdinalClassifier().fit(X_bad, y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        OrdinalClassifier().fit(X, np.column_stack([y, y]))


def test_huge_features_do_not_give_a_nan_model():
    X, y = _data(n=200, seed=8)
    X[:, 0] *= 1e150
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = OrdinalClassifier().fit(X, y)
        except ValueError as error:
            assert "OrdinalClassifier" in str(error)
        else:
            assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.predict_proba(X)))


def test_scorers_and_search():
    X, y = _data(n=300, seed=9)
    labels = np.array(["a", "b", "c", "d", "e"])[y]
    model = make_pipeline(StandardScaler(), OrdinalClassifier(classes=list("abcde")))
    mae = cross_val_score(model, X, labels, cv=3, scoring=make_ordinal_scorer("mae"))
    qwk = cross_val_score(model, X, labels, cv=3, scoring=make_ordinal_scorer("qwk"))
    assert np.all(mae <= 0) and np.all(mae > -1.0) and np.all(qwk > 0.5)
    nll = cross_val_score(model, X, labels, cv=3, scoring=make_loss_scorer("cumulative_logit"))
    fitted = clone(model).fit(X, labels)
    ranks = np.searchsorted(list("abcde"), labels)
    expected = -CumulativeLink().loss(ranks, fitted[-1].raw_prediction(fitted[0].transform(X)))
    assert np.all(nll < 0)
    assert make_loss_scorer("cumulative_logit")(fitted, X, labels) == pytest.approx(expected, rel=1e-12)
    search = GridSearchCV(OrdinalClassifier(classes=list("abcde")),
                          {"loss": ["cumulative_logit", "all_threshold"], "alpha": [1e-4, 1.0]},
                          scoring=make_ordinal_scorer("mae"), cv=3).fit(X, labels)
    assert search.best_params_["alpha"] in (1e-4, 1.0)


def test_ordinal_metrics_by_hand():
    y_true = np.array(["low", "mid", "high", "mid"])
    y_pred = np.array(["low", "high", "low", "mid"])
    classes = ["low", "mid", "high"]
    assert mean_absolute_rank_error(y_true, y_pred, classes=classes) == pytest.approx((0 + 1 + 2 + 0) / 4)
    r_true, r_pred = np.array([0, 1, 2, 1]), np.array([0, 2, 0, 1])
    observed = np.zeros((3, 3))
    np.add.at(observed, (r_true, r_pred), 1)
    weights = (np.arange(3)[:, None] - np.arange(3)[None, :]) ** 2 / 4
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    kappa = 1 - (weights * observed).sum() / (weights * expected).sum()
    assert quadratic_weighted_kappa(y_true, y_pred, classes=classes) == pytest.approx(kappa)
    with pytest.raises(ValueError, match="not among the ordered classes"):
        mean_absolute_rank_error(["low"], ["top"], classes=classes)


def test_pickle_and_threads():
    from concurrent.futures import ThreadPoolExecutor

    X, y = _data(seed=10)
    model = OrdinalClassifier("all_threshold").fit(X, y)
    clone_ = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone_.predict(X), model.predict(X))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: model.predict_proba(X), range(8)))
    for result in results:
        np.testing.assert_array_equal(result, results[0])


def test_warm_start_with_an_absent_class_continues_from_the_last_solution():
    X, y = _data(seed=11, cuts=(-1.0, 1.0))
    labels = np.array([0, 2, 3])[y]  # class 1 of 0..3 absent: its threshold repeats its neighbour's
    model = OrdinalClassifier(classes=[0, 1, 2, 3], warm_start=True, tol=1e-8).fit(X, labels)
    first = model.n_iter_
    model.fit(X, labels)
    assert model.n_iter_ <= max(2, first // 3)
