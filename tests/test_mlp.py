"""MLP estimators: forward and backward passes, agreement with scikit-learn's MLP, and behaviour."""

import io
import pickle
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import erf, expit
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils import check_random_state

from sklearn_losses.losses import Focal, Huber, PerOutput, Quantile, get_loss, make_loss
from sklearn_losses.neural_network import MLPClassifier, MLPRegressor
from sklearn_losses.neural_network._kernels import ACTIVATIONS
from sklearn_losses.neural_network._network import Network

REFERENCE_ACTIVATIONS = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "logistic": expit,
    "gelu": lambda z: 0.5 * z * (1.0 + erf(z / np.sqrt(2.0))),
}


def quiet(fit, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


def _targets(case, rng, n):
    """``(loss, y, n_outputs, vector_output)`` for a named loss case."""
    if case == "squared_error":
        return get_loss(case), rng.normal(size=n), 1, False
    if case == "huber":
        return Huber(delta=0.7), 3 * rng.normal(size=n), 1, False
    if case == "poisson":
        return get_loss(case), rng.poisson(2.0, size=n).astype(float), 1, False
    if case == "log_loss":
        return get_loss(case), rng.integers(0, 2, n).astype(float), 1, False
    if case == "focal":
        return Focal(gamma=1.5), rng.integers(0, 2, n).astype(float), 1, False
    if case == "cross_entropy":
        return get_loss(case), rng.integers(0, 3, n).astype(float), 3, False
    if case == "kl_divergence":
        y = rng.dirichlet(np.ones(3), size=n)
        return get_loss(case), y, 3, True
    if case == "multi_output":
        return PerOutput(["squared_error", Huber(delta=0.5)]), rng.normal(size=(n, 2)), 2, True
    raise AssertionError(case)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_matches_numpy(activation):
    rng = np.random.default_rng(0)
    network = Network([4, 5, 3, 2], activation, np.float64, vector_output=True)
    params = network.initialize(check_random_state(0))
    X = rng.normal(size=(7, 4))
    coefs, intercepts = network.unpack(params)
    a = X
    for k, (W, b) in enumerate(zip(coefs, intercepts)):
        a = a @ W + b
        if k < len(coefs) - 1:
            a = REFERENCE_ACTIVATIONS[activation](a)
    np.testing.assert_allclose(network.raw_prediction(params, X), a, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("case", ["squared_error", "huber", "poisson", "log_loss", "focal", "cross_entropy",
                                  "kl_divergence", "multi_output"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backward_matches_finite_differences(activation, case):
    rng = np.random.default_rng(1)
    n = 9
    loss, y, n_outputs, vector = _targets(case, rng, n)
    network = Network([4, 5, 3, n_outputs], activation, np.float64, vector_output=vector)
    params = network.initialize(check_random_state(2))
    X = rng.normal(size=(n, 4))
    w = rng.uniform(0.2, 2.0, n)
    alpha = 0.3
    grad = np.empty_like(params)
    network.objective(params, X, y, w, loss, alpha, grad)

    def value(theta):
        return network.objective(theta, X, y, w, loss, alpha, np.empty_like(theta))[0]

    # relu's kink: a pre-activation within 2h of zero breaks the differences
    h = 1e-7 if activation == "relu" else 1e-5
    numeric = np.empty_like(params)
    for k in range(params.size):
        step = np.zeros_like(params)
        step[k] = h
        numeric[k] = (-value(params + 2 * step) + 8 * value(params + step) - 8 * value(params - step)
                      + value(params - 2 * step)) / (12 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8 if activation != "relu" else 1e-7)


# ------------------------------------------------------------------ scikit-learn's trajectories
SOLVERS = [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate_init=0.05, nesterovs_momentum=False, learning_rate="invscaling"),
]


@pytest.mark.parametrize("settings", SOLVERS + [dict(solver="lbfgs")], ids=["adam", "sgd", "sgd-invscaling",
                                                                            "lbfgs"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_trajectory_matches_sklearn(settings, n_classes, weighted):
    """Log loss: the same initial weights, batches and steps as sklearn's MLPClassifier."""
    X, y = make_classification(120, 6, n_informative=4, n_classes=n_classes, random_state=0)
    w = np.random.default_rng(0).uniform(0.5, 2.0, y.size) if weighted else None
    params = dict(hidden_layer_sizes=(7, 5), activation="tanh", max_iter=4, batch_size=32, random_state=3,
                  alpha=1e-2, **settings)
    ours = quiet(MLPClassifier(**params, output_bias_init="random").fit, X, y, sample_weight=w)
    theirs = quiet(SkMLPClassifier(**params).fit, X, y, sample_weight=w)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    if settings["solver"] != "lbfgs" and not weighted:
        # with weights, scikit-learn averages the batches' losses by their sizes,
        # we by their weights (the epoch's weighted mean loss): only the curves differ
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=0, atol=1e-8)


@pytest.mark.parametrize("settings", SOLVERS + [dict(solver="lbfgs")], ids=["adam", "sgd", "sgd-invscaling",
                                                                            "lbfgs"])
def test_regressor_trajectory_matches_sklearn(settings):
    """Squared error: ours is ``(y - r)^2``, sklearn's ``(y - r)^2 / 2``.

    Our objective is therefore twice sklearn's when ``alpha`` is doubled too;
    with SGD's learning rate halved (and Adam's epsilon doubled, which makes
    Adam's step invariant to the factor) every step is the same.
    """
    X, y = make_regression(100, 5, noise=1.0, random_state=0)
    y = y / y.std()
    base = dict(hidden_layer_sizes=(6,), activation="relu", max_iter=4, batch_size=25, random_state=1, **settings)
    ours_params = dict(base, alpha=2e-2)
    if settings["solver"] == "sgd":
        ours_params["learning_rate_init"] = settings["learning_rate_init"] / 2
    if settings["solver"] == "adam":
        ours_params["epsilon"] = 2e-8
    ours = quiet(MLPRegressor(**ours_params, output_bias_init="random").fit, X, y)
    theirs = quiet(SkMLPRegressor(**base, alpha=1e-2).fit, X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    if settings["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, 2 * np.asarray(theirs.loss_curve_), rtol=1e-9)


# ------------------------------------------------------------------------------ behaviour
@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    return X, y


def test_reproducible_and_float32_preserved(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(10,), max_iter=5, random_state=0)
    a = quiet(MLPClassifier(**params).fit, X, y)
    b = quiet(MLPClassifier(**params).fit, X, y)
    for u, v in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(u, v)
    c = quiet(MLPClassifier(**params).fit, X.astype(np.float32), y)
    assert all(coef.dtype == np.float32 for coef in c.coefs_ + c.intercepts_)
    assert c.predict_proba(X).dtype == np.float32
    np.testing.assert_allclose(c.predict_proba(X), a.predict_proba(X), atol=1e-4)


def test_divergence_raises_and_keeps_the_fitted_model():
    X, y = make_regression(60, 4, random_state=0)
    model = quiet(MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit, X, y)
    before = [c.copy() for c in model.coefs_]
    model.set_params(solver="sgd", learning_rate_init=1.0, warm_start=True, max_iter=50, batch_size=10)
    with pytest.raises(ValueError, match="diverged.*SquaredError.*'sgd'"):
        quiet(model.fit, X, y * 1e3)
    for u, v in zip(before, model.coefs_):
        np.testing.assert_array_equal(u, v)
    assert all(np.all(np.isfinite(c)) for c in model.coefs_)


def test_partial_fit_and_warm_start(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(10,), random_state=0)
    one_epoch = quiet(MLPClassifier(max_iter=1, **params).fit, X, y)
    partial = MLPClassifier(**params).partial_fit(X, y, classes=np.unique(y))
    for u, v in zip(one_epoch.coefs_, partial.coefs_):
        np.testing.assert_array_equal(u, v)
    for _ in range(4):
        partial.partial_fit(X, y)
    assert partial.n_iter_ == 5 and len(partial.loss_curve_) == 5
    assert partial.loss_curve_[-1] < partial.loss_curve_[0]
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match="not in classes"):
        partial.partial_fit(X, y + 5)
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    switched = quiet(MLPClassifier(solver="lbfgs", max_iter=5, **params).fit, X, y)
    switched.set_params(solver="adam").partial_fit(X, y)  # continues from the L-BFGS weights
    assert switched.n_iter_ == 6
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=np.unique(y))

    warm = quiet(MLPClassifier(max_iter=3, warm_start=True, **params).fit, X, y)
    first = [c.copy() for c in warm.coefs_]
    quiet(warm.fit, X, y)
    assert len(warm.loss_curve_) == 6 and warm.n_iter_ == 6
    assert not np.allclose(first[0], warm.coefs_[0])
    cold = quiet(MLPClassifier(max_iter=3, **params).fit, X, y)
    assert warm.loss_curve_[3] < cold.loss_curve_[0]  # the second fit started from the first's weights


def test_early_stopping_restores_the_best_weights():
    X, y = make_regression(400, 6, noise=30.0, random_state=0)
    y = y / y.std()
    model = MLPRegressor("huber", hidden_layer_sizes=(64,), learning_rate_init=0.05, max_iter=200, random_state=0,
                         early_stopping=True, n_iter_no_change=5, tol=0.0)
    model.fit(X, y)
    curve = model.validation_loss_curve_
    assert len(curve) == len(model.loss_curve_) == model.n_iter_ < 200
    assert model.best_validation_loss_ == min(curve)
    assert int(np.argmin(curve)) < len(curve) - 1  # stopped after the best epoch: the best was restored
    # the held-out rows: drawn after the initial weights, as scikit-learn draws them
    rng = check_random_state(0)
    Network([6, 64, 1], "relu", np.float64).initialize(rng)
    _, val = train_test_split(np.arange(400), random_state=rng, test_size=0.1)
    assert model.loss_(y[val], model.predict(X[val])) == pytest.approx(min(curve), rel=1e-12)


def test_class_weight_is_sample_weight(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    a = quiet(MLPClassifier(class_weight={0: 1.0, 1: 3.0, 2: 0.5}, **params).fit, X, y)
    b = quiet(MLPClassifier(**params).fit, X, y, sample_weight=np.choose(y, [1.0, 3.0, 0.5]))
    for u, v in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(u, v)


def test_multi_output_per_output_losses_and_sparse_input():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    signal = X @ np.array([1.0, -1.0, 0.5])
    y = np.column_stack([signal + 0.1 * rng.normal(size=300), signal + rng.standard_exponential(300)])
    loss = PerOutput(["squared_error", Quantile(quantile=0.9)])
    model = quiet(MLPRegressor(loss, hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=150,
                               random_state=0).fit, X, y)
    pred = model.predict(X)
    assert pred.shape == (300, 2)
    assert np.corrcoef(pred[:, 0], y[:, 0])[0, 1] > 0.95
    assert 0.8 < np.mean(y[:, 1] <= pred[:, 1]) < 0.97  # the 0.9 quantile of the second output
    dense = quiet(MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit, X, y[:, 0])
    sparse = quiet(MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit, sp.csr_matrix(X), y[:, 0])
    np.testing.assert_allclose(dense.coefs_[0], sparse.coefs_[0], rtol=1e-12)


def test_distillation_with_soft_targets(blobs):
    X, y = blobs
    teacher = quiet(MLPClassifier(hidden_layer_sizes=(16,), max_iter=100, random_state=0).fit, X, y)
    soft = teacher.predict_proba(X)
    for name in ("soft_cross_entropy", "kl_divergence"):
        student = quiet(MLPRegressor(name, hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100,
                                     random_state=1).fit, X, soft)
        probs = student.predict(X)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
        assert np.mean(probs.argmax(axis=1) == soft.argmax(axis=1)) > 0.9
    with pytest.raises(ValueError, match="rows of probabilities|shape"):
        MLPRegressor("kl_divergence").fit(X, y)


def test_binary_losses_focal_and_one_vs_rest(blobs):
    X, y = blobs
    rare = (y == 2).astype(int)
    focal = quiet(MLPClassifier(Focal(gamma=2.0), hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=50,
                                random_state=0).fit, X, rare)
    assert focal.decision_function(X).shape == (300,)
    np.testing.assert_allclose(focal.predict_proba(X).sum(axis=1), 1.0)
    assert focal.score(X, rare) > 0.8
    ovr = quiet(MLPClassifier(get_loss("log_loss"), hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit, X, y)
    assert ovr.n_outputs_ == 3 and ovr.out_activation_ == "logit"
    default = quiet(MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit, X, y)
    assert default.out_activation_ == "softmax"  # "log_loss" on three classes: scikit-learn's softmax
    hinge = quiet(MLPClassifier("hinge", hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=30,
                                random_state=0).fit, X, y)
    assert not hasattr(hinge, "predict_proba")
    assert hinge.score(X, y) > 0.7


def _asymmetric(y, r, over=4.0):
    e = r - y
    return over * e * e if e > 0 else e * e


def test_custom_loss_fits_and_pickles():
    X, y = make_regression(150, 4, noise=5.0, random_state=0)
    y = y / y.std()
    loss = make_loss(_asymmetric, name="over_costs_more", over=4.0)
    model = quiet(MLPRegressor(loss, hidden_layer_sizes=(8,), max_iter=40, random_state=0).fit, X, y)
    plain = quiet(MLPRegressor(hidden_layer_sizes=(8,), max_iter=40, random_state=0).fit, X, y)
    assert np.mean(model.predict(X) > y) < np.mean(plain.predict(X) > y)  # over-prediction is avoided
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))


def test_gradient_clipping_bounds_each_step():
    X, y = make_regression(50, 3, random_state=0)
    params = dict(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, learning_rate_init=1.0, batch_size=50,
                  max_iter=1, random_state=0, shuffle=False)
    start = quiet(MLPRegressor(**dict(params, learning_rate_init=1e-300)).fit, X, y)
    clipped = quiet(MLPRegressor(max_grad_norm=1e-3, **params).fit, X, y)
    moved = np.concatenate([(a - b).ravel() for a, b in zip(clipped.coefs_ + clipped.intercepts_,
                                                             start.coefs_ + start.intercepts_)])
    assert np.linalg.norm(moved) == pytest.approx(1e-3, rel=1e-6)


def test_verbose_prints_each_epoch(blobs):
    X, y = blobs
    out = io.StringIO()
    with redirect_stdout(out):
        quiet(MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, verbose=True, early_stopping=True,
                            random_state=0).fit, X, y)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("Iteration")]
    assert len(lines) == 3 and "validation loss" in lines[0]


@pytest.mark.parametrize("params, match", [
    (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(3, -1)), "hidden_layer_sizes"),
    (dict(loss="log_loss"), "log_loss.*binary loss.*MLPRegressor"),
    (dict(loss="no_such_loss"), "no_such_loss"),
    (dict(activation="softplus"), "activation"),
    (dict(max_grad_norm=0.0), "max_grad_norm"),
])
def test_bad_parameters_name_the_culprit(params, match):
    X, y = make_regression(20, 2, random_state=0)
    with pytest.raises(ValueError, match=match):
        MLPRegressor(**params).fit(X, y)


def test_bad_targets():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="Poisson"):
        MLPRegressor("poisson").fit(X, -np.ones(20))
    with pytest.raises(ValueError, match="multiclass loss|binary or multiclass"):
        MLPClassifier("squared_error").fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="2 classes"):
        MLPClassifier().fit(X, np.zeros(20))
