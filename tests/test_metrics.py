"""Losses as metrics and scorers, with scikit-learn's own estimators."""

import numpy as np
import pytest
import sklearn
from sklearn import metrics
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, PoissonRegressor, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.losses import Huber, Quantile
from sklearn_losses.losses import get_loss
from sklearn_losses.metrics import loss_score, make_loss_scorer


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


def test_loss_score(rng):
    y, raw = rng.normal(size=20), rng.normal(size=20)
    w = rng.uniform(size=20)
    assert loss_score(y, raw, "huber", sample_weight=w, delta=0.5) == Huber(delta=0.5)(y, raw, w)
    assert loss_score(y, raw, Quantile(quantile=0.2)) == pytest.approx(
        metrics.mean_pinball_loss(y, raw, alpha=0.2))


def test_regressor_scorer_equals_minus_the_loss(diabetes):
    X, y = diabetes
    model = Ridge().fit(X, y)
    scorer = make_loss_scorer("quantile", quantile=0.9)
    assert scorer(model, X, y) == pytest.approx(-metrics.mean_pinball_loss(y, model.predict(X), alpha=0.9))
    w = np.linspace(0.5, 2, len(y))
    assert scorer(model, X, y, sample_weight=w) == pytest.approx(
        -metrics.mean_pinball_loss(y, model.predict(X), alpha=0.9, sample_weight=w))


def test_log_link_scorer_uses_the_link(diabetes):
    X, y = diabetes
    model = PoissonRegressor().fit(X, y)
    assert make_loss_scorer("poisson")(model, X, y) == pytest.approx(
        -metrics.mean_poisson_deviance(y, model.predict(X)))
    with pytest.raises(ValueError, match="must predict positive values"):
        make_loss_scorer("poisson")(Ridge().fit(X, y - 200), X, y)


def test_binary_classifier_scorer_with_string_labels(cancer):
    X, y = cancer
    labels = np.array(["benign", "malignant"])[y]
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, labels)
    proba = model.predict_proba(X)
    assert make_loss_scorer("log_loss")(model, X, labels) == pytest.approx(
        -metrics.log_loss(labels, proba), rel=1e-9)
    hinge = make_loss_scorer("hinge")(model, X, labels)
    assert hinge == pytest.approx(-metrics.hinge_loss(labels, model.decision_function(X)))


def test_predict_proba_fallback(cancer):
    X, y = cancer
    model = GaussianNB().fit(X, y)
    score = make_loss_scorer("log_loss")(model, X, y)
    assert score == pytest.approx(-metrics.log_loss(y, np.clip(model.predict_proba(X), 1e-15, 1 - 1e-15)), rel=1e-6)


def test_multiclass_scorers():
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    assert make_loss_scorer("cross_entropy")(model, X, y) == pytest.approx(
        -metrics.log_loss(y, model.predict_proba(X)), rel=1e-9)
    assert make_loss_scorer("kl_divergence")(model, X, y) == pytest.approx(
        -metrics.log_loss(y, model.predict_proba(X)), rel=1e-9)
    assert make_loss_scorer("multiclass_hinge")(model, X, y) <= 0


def test_scorer_in_cross_validation_and_grid_search(diabetes):
    X, y = diabetes
    scorer = make_loss_scorer("huber", delta=30.0)
    scores = cross_val_score(Ridge(), X, y, scoring=scorer, cv=3)
    assert scores.shape == (3,) and np.all(scores < 0)
    search = GridSearchCV(Ridge(), {"alpha": [0.01, 1.0, 100.0]}, scoring=scorer, cv=3).fit(X, y)
    assert search.best_params_["alpha"] in (0.01, 1.0)


def test_sample_weight_routing(diabetes):
    X, y = diabetes
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_loss_scorer("huber", delta=30.0).set_score_request(sample_weight=True)
        search = GridSearchCV(Ridge().set_fit_request(sample_weight=True), {"alpha": [0.1, 1.0]},
                              scoring=scorer, cv=3).fit(X, y, sample_weight=w)
        unweighted = GridSearchCV(Ridge().set_fit_request(sample_weight=True), {"alpha": [0.1, 1.0]},
                                  scoring=make_loss_scorer("huber", delta=30.0).set_score_request(sample_weight=False),
                                  cv=3).fit(X, y, sample_weight=w)
    assert search.best_score_ != pytest.approx(unweighted.best_score_)


@pytest.mark.parametrize(
    "loss, estimator, data, exc, match",
    [
        ("log_loss", Ridge(), "diabetes", TypeError, "is not a classifier"),
        ("cross_entropy", LogisticRegression(), "cancer", None, None),
        ("log_loss", LogisticRegression(max_iter=1000), "iris", ValueError, "binary loss"),
    ],
)
def test_scorer_errors(loss, estimator, data, exc, match, diabetes, cancer):
    X, y = {"diabetes": diabetes, "cancer": cancer, "iris": load_iris(return_X_y=True)}[data]
    model = estimator.fit(StandardScaler().fit_transform(X), y)
    scorer = make_loss_scorer(loss)
    if exc is None:  # a binary classifier scored with a multiclass loss works
        assert scorer(model, StandardScaler().fit_transform(X), y) < 0
        return
    with pytest.raises(exc, match=match):
        scorer(model, StandardScaler().fit_transform(X), y)


def test_unknown_labels_and_bad_response_method(cancer):
    X, y = cancer
    model = GaussianNB().fit(X, y)
    with pytest.raises(ValueError, match="not fitted on"):
        make_loss_scorer("log_loss")(model, X, y + 5)
    with pytest.raises(ValueError, match="response_method"):
        make_loss_scorer("log_loss", response_method="score")


# --------------------------------------------------- a real scikit-learn scorer
@pytest.mark.parametrize("routing", [False, True])
def test_loss_scorer_in_a_dict_of_weighted_scorers_in_grid_search(routing, cancer):
    import sklearn
    from sklearn.metrics._scorer import _BaseScorer

    X, y = cancer
    X = StandardScaler().fit_transform(X)
    w = np.random.default_rng(0).uniform(0.2, 3.0, y.shape[0])
    scorer = make_loss_scorer("log_loss")
    assert isinstance(scorer, _BaseScorer)
    with sklearn.config_context(enable_metadata_routing=routing):
        if routing:
            scorer = scorer.set_score_request(sample_weight=True)
            estimator = LogisticRegression(max_iter=500).set_fit_request(sample_weight=True)
            scoring = {"loss": scorer, "acc": sklearn.metrics.make_scorer(
                sklearn.metrics.accuracy_score).set_score_request(sample_weight=True)}
        else:
            estimator = LogisticRegression(max_iter=500)
            scoring = {"loss": scorer, "acc": "accuracy"}
        search = GridSearchCV(estimator, {"C": [0.1, 1.0]}, scoring=scoring, refit="loss", cv=3)
        search.fit(X, y, sample_weight=w)
    if not (routing or _weighted_scoring_without_routing()):
        w_score = np.ones_like(w)  # older scikit-learn: fit's weights reach the estimator only
    else:
        w_score = w
    # the (weighted) held-out loss of the first fold, recomputed by hand
    from sklearn.model_selection import StratifiedKFold

    train, test = next(StratifiedKFold(3).split(X, y))
    model = LogisticRegression(max_iter=500, C=search.cv_results_["param_C"][0]).fit(X[train], y[train],
                                                                                      sample_weight=w[train])
    expected = -get_loss("log_loss").loss(y[test], model.decision_function(X[test]), sample_weight=w_score[test])
    np.testing.assert_allclose(search.cv_results_["split0_test_loss"][0], expected, rtol=1e-10)
    if w_score is w:
        unweighted = -get_loss("log_loss").loss(y[test], model.decision_function(X[test]))
        assert expected != pytest.approx(unweighted)


def _weighted_scoring_without_routing():
    """scikit-learn >= 1.9 passes fit's sample_weight to scorers that accept it, without routing."""
    from sklearn.metrics._scorer import _BaseScorer

    return hasattr(_BaseScorer, "_accept_sample_weight")


def test_loss_scorer_shares_the_response_with_other_scorers(cancer):
    from sklearn.metrics._scorer import _MultimetricScorer

    X, y = cancer
    X = StandardScaler().fit_transform(X)
    model = LogisticRegression(max_iter=500).fit(X, y)
    calls = []

    class Counting(LogisticRegression):
        def decision_function(self, X):
            calls.append(1)
            return super().decision_function(X)

    counting = Counting(max_iter=500).fit(X, y)
    scores = _MultimetricScorer(scorers={"a": make_loss_scorer("log_loss"), "b": make_loss_scorer("hinge")})(
        counting, X, y)
    assert len(calls) == 1
    assert scores["a"] == pytest.approx(make_loss_scorer("log_loss")(model, X, y))
