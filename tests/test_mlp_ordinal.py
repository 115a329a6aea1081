"""MLPOrdinalClassifier: the threshold network's gradient, fits, classes, streaming and sklearn's checks."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses.linear_model import OrdinalClassifier
from sklearn_losses.losses import CumulativeLink, get_loss
from sklearn_losses.metrics import mean_absolute_rank_error
from sklearn_losses.neural_network import MLPOrdinalClassifier
from sklearn_losses.neural_network._ordinal import ThresholdNetwork



def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    f = 2 * np.sin(2 * X[:, 0]) + X[:, 1] ** 2 - 1 + 0.5 * rng.logistic(size=n)
    return X, np.digitize(f, [-1.0, 0.0, 1.0, 2.0])


@pytest.mark.parametrize("loss", ["cumulative_logit", "all_threshold", "cumulative_probit"])
def test_threshold_network_gradient_matches_finite_differences(loss):
    rng = np.random.default_rng(1)
    X, y = _data(40)
    network = ThresholdNetwork([4, 6, 1], "tanh", np.float64, 4)
    params = network.initialize(rng)
    params[network.n_layer_params:] = rng.normal(size=4)
    w = rng.uniform(0.5, 2.0, 40)
    loss = get_loss(loss)
    grad = np.empty_like(params)
    network.objective(params, X, y.astype(float), w, loss, 0.3, grad)

    def value(p):
        return network.objective(p, X, y.astype(float), w, loss, 0.3, np.empty_like(p))[0]

    numeric = np.array([(value(params + h) - value(params - h)) / 2e-6
                        for h in np.eye(params.size) * 1e-6])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    theta = network.thresholds(params)
    assert np.all(np.diff(theta) > 0)


@pytest.mark.slow_in_python
@pytest.mark.parametrize("loss", ["cumulative_logit", "all_threshold", "corn"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_fits_a_nonlinear_ordinal_problem_better_than_the_linear_model(loss, solver):
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPOrdinalClassifier(loss, hidden_layer_sizes=(24,), solver=solver, max_iter=300,
                                     random_state=0).fit(X[:400], y[:400])
    linear = OrdinalClassifier(loss).fit(X[:400], y[:400])
    ours = mean_absolute_rank_error(y[400:], model.predict(X[400:]))
    assert ours < 0.8 * mean_absolute_rank_error(y[400:], linear.predict(X[400:]))
    p = model.predict_proba(X[400:])
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    if loss != "corn":
        assert np.all(np.diff(model.thresholds_) > 0)


def test_raw_prediction_is_what_the_loss_scores():
    X, y = _data(300)
    model = MLPOrdinalClassifier(max_iter=30, random_state=0).fit(X, y)
    raw = model.raw_prediction(X)
    np.testing.assert_allclose(raw, model.decision_function(X)[:, None] - model.thresholds_[None, :], rtol=1e-12)
    np.testing.assert_allclose(model.predict_proba(X), CumulativeLink().inverse_link(raw))


def test_absent_classes_and_string_labels():
    X, y = _data(300)
    labels = np.array(["b", "c", "d", "e", "f"])[y]
    order = ["a", "b", "c", "d", "e", "f", "g"]
    for loss in ("cumulative_logit", "corn"):
        model = MLPOrdinalClassifier(loss, classes=order, max_iter=40, random_state=0).fit(X, labels)
        p = model.predict_proba(X)
        assert p.shape == (300, 7) and np.all(p[:, [0, 6]] == 0.0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        assert set(model.predict(X)) <= set("bcdef")
    pd = pytest.importorskip("pandas")
    categorical = pd.Series(pd.Categorical(labels, categories=order[::-1], ordered=True))
    model = MLPOrdinalClassifier(max_iter=20, random_state=0).fit(X, categorical)
    np.testing.assert_array_equal(model.classes_, order[::-1])


def test_partial_fit_streams_with_every_class():
    X, y = _data(400)
    model = MLPOrdinalClassifier(hidden_layer_sizes=(16,), random_state=0)
    for start in range(0, 400, 100):
        model.partial_fit(X[start:start + 100], y[start:start + 100], classes=[0, 1, 2, 3, 4, 5])
    assert model.thresholds_.shape == (5,) and np.all(np.diff(model.thresholds_) > 0)
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPOrdinalClassifier().partial_fit(X, y)


def test_warm_start_float32_and_weights():
    X, y = _data(300)
    model = MLPOrdinalClassifier(max_iter=20, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        first = model.loss_curve_[-1]
        model.fit(X, y)
    assert model.loss_curve_[-1] < first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m32 = MLPOrdinalClassifier(max_iter=10, random_state=0).fit(X.astype(np.float32), y)
    assert m32.predict_proba(X.astype(np.float32)).dtype == np.float32
    counts = np.arange(300) % 3
    rows = np.repeat(np.arange(300), counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPOrdinalClassifier(solver="lbfgs", max_iter=15, random_state=0).fit(X, y, counts.astype(float))
        b = MLPOrdinalClassifier(solver="lbfgs", max_iter=15, random_state=0).fit(X[rows], y[rows])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5, atol=1e-7)


def test_bad_input_is_refused_by_name():
    X, y = _data(60)
    with pytest.raises(ValueError, match="MLPOrdinalClassifier accepts ordinal"):
        MLPOrdinalClassifier("cross_entropy").fit(X, y)
    with pytest.raises(ValueError, match="prediction='mode' needs class probabilities"):
        MLPOrdinalClassifier("immediate_threshold", prediction="mode").fit(X, y)
    with pytest.raises(ValueError, match="labels not in classes"):
        MLPOrdinalClassifier(classes=[0, 1, 2]).fit(X, y)
