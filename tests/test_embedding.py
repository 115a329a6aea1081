"""LinearEmbedding and MLPEmbedding: what they learn, their options, and bad input (NumPy references only).

The contrastive and softmax losses are NumPy code; the triplet losses count their triplets in a compiled kernel,
so the tests that fit them are marked ``slow_in_python``.
"""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.embedding import LinearEmbedding, MLPEmbedding
from sklearn_losses.embedding._linear import pca_directions
from sklearn_losses.embedding._objective import EmbeddingObjective, LinearMap, NetworkMap
from sklearn_losses.losses import Contrastive, NTXent, SupCon, TripletMargin

ESTIMATORS = {
    "LinearEmbedding": LinearEmbedding("contrastive", 3, max_iter=15, random_state=0),
    "MLPEmbedding": MLPEmbedding("contrastive", (8,), 3, max_iter=15, random_state=0),
}


def _data(n=240, n_features=8, noise_features=4, seed=0):
    """Four blobs in the first ``n_features - noise_features`` features, large noise in the others: the
    raw neighbours are mostly wrong, a good embedding drops the noise."""
    rng = np.random.default_rng(seed)
    X, y = make_blobs(n, n_features - noise_features, centers=4, cluster_std=1.0, random_state=seed)
    X = np.hstack([X, 12.0 * rng.standard_normal((n, noise_features))])  # PCA's leading directions: noise
    return X, y


def _split(n=480):
    X, y = _data(n)
    half = n // 2
    return X[:half], y[:half], X[half:], y[half:]


def _knn_accuracy(transform, X, y, X_test, y_test):
    return KNeighborsClassifier(3).fit(transform(X), y).score(transform(X_test), y_test)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# ------------------------------------------------------------ the objective
@pytest.mark.parametrize("model", [LinearMap(3, 5), NetworkMap([5, 4, 3], "tanh")], ids=["linear", "mlp"])
@pytest.mark.parametrize("loss", [NTXent(temperature=0.5), SupCon(temperature=0.3, distance="euclidean")],
                         ids=["ntxent", "supcon"])
def test_objective_gradient_equals_finite_differences(model, loss):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((12, 5)), rng.integers(0, 3, 12)
    w = rng.uniform(0.5, 2.0, 12)
    objective = EmbeddingObjective(model, loss, X, y, w)
    theta = rng.standard_normal(model.n_params) * 0.5
    value, grad = objective.loss_gradient(theta)
    h = 1e-6
    numeric = np.array([(objective.loss_gradient(theta + h * e)[0] - objective.loss_gradient(theta - h * e)[0])
                        / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    # a minibatch is the loss of its rows alone
    np.testing.assert_allclose(objective.loss_gradient(theta, rows=(2, 9))[0],
                               loss.loss(y[2:9], model.embed(theta, X[2:9]), w[2:9]), rtol=1e-12)


def test_objective_of_a_batch_without_weight_is_zero_with_zero_gradient():
    model = LinearMap(2, 3)
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    objective = EmbeddingObjective(model, Contrastive(), X, y, np.array([0.0, 0.0, 1.0, 1.0]))
    value, grad = objective.loss_gradient(np.ones(6), rows=(0, 2))
    assert value == 0.0 and np.all(grad == 0.0)


# ------------------------------------------------------------ what they learn
@pytest.mark.parametrize("loss, solver", [("contrastive", "adam"), ("contrastive", "sgd"), ("supcon", "adam"),
                                          ("supcon", "sgd"), ("supcon", "lbfgs")])
def test_linear_embedding_drops_noise_features(loss, solver):
    X, y, X_test, y_test = _split()
    model = LinearEmbedding(loss, 2, solver=solver, max_iter=150 if solver != "lbfgs" else 60,
                            learning_rate_init=0.05, random_state=0).fit(X, y)
    start = PCA(2).fit(X)  # the noise's directions: the start of the fit
    accuracy = _knn_accuracy(model.transform, X, y, X_test, y_test)
    assert accuracy >= 0.95
    assert accuracy > _knn_accuracy(start.transform, X, y, X_test, y_test) + 0.5
    assert model.components_.shape == (2, X.shape[1])
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.n_iter_ == len(model.loss_curve_)


@pytest.mark.slow_in_python
@pytest.mark.parametrize("mining", ["all", "semihard"])
def test_triplet_embedding_drops_noise_features(mining):
    X, y, X_test, y_test = _split()
    model = LinearEmbedding(TripletMargin(mining=mining), 2, max_iter=150, learning_rate_init=0.05,
                            random_state=0).fit(X, y)
    assert _knn_accuracy(model.transform, X, y, X_test, y_test) >= 0.95


@pytest.mark.slow_in_python
def test_batch_hard_triplets_improve_on_their_start():
    # batch-hard mining trains poorly from a bad start (Hermans et al. 2017 say so); from the signal's
    # first two features (kNN 0.71 on the unit circle) it reaches about 0.92
    X, y, X_test, y_test = _split()
    kw = dict(init="identity", random_state=0)
    start = LinearEmbedding(TripletMargin(mining="batch_hard"), 2, max_iter=1, learning_rate_init=1e-12, **kw)
    model = LinearEmbedding(TripletMargin(mining="batch_hard"), 2, max_iter=50, **kw).fit(X, y)
    before = _knn_accuracy(start.fit(X, y).transform, X, y, X_test, y_test)
    assert _knn_accuracy(model.transform, X, y, X_test, y_test) > before + 0.15
    assert model.loss_.loss(y, model.transform(X)) < 0.5 * start.loss_.loss(y, start.transform(X))


def test_mlp_embedding_separates_rings_that_no_linear_map_separates():
    rng = np.random.default_rng(0)
    radius = np.repeat([1.0, 3.0], 150)
    angle = rng.uniform(0, 2 * np.pi, 300)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + 0.1 * rng.standard_normal((300, 2))
    y = (radius > 2).astype(int)
    order = rng.permutation(300)
    X, y = X[order], y[order]
    mlp = MLPEmbedding(Contrastive(normalize=False, neg_margin=2.0), (32,), 1, learning_rate_init=0.01,
                       max_iter=100, random_state=0).fit(X[:200], y[:200])
    linear = LinearEmbedding(Contrastive(normalize=False, neg_margin=2.0), 1, max_iter=100,
                             random_state=0).fit(X[:200], y[:200])
    assert _knn_accuracy(mlp.transform, X[:200], y[:200], X[200:], y[200:]) >= 0.95
    assert _knn_accuracy(linear.transform, X[:200], y[:200], X[200:], y[200:]) < 0.8
    assert len(mlp.coefs_) == 2 and mlp.coefs_[1].shape == (32, 1)
    assert mlp.transform(X).shape == (300, 1)


def test_transform_normalises_when_the_loss_does():
    X, y = _data(n=80)
    model = LinearEmbedding("contrastive", 3, max_iter=3, random_state=0).fit(X, y)
    np.testing.assert_allclose(np.linalg.norm(model.transform(X), axis=1), 1.0, rtol=1e-12)
    raw = model.set_params(normalize_output=False).transform(X)
    np.testing.assert_allclose(raw, X @ model.components_.T, rtol=1e-12)
    unnormalised = LinearEmbedding(Contrastive(normalize=False), 3, max_iter=3, random_state=0).fit(X, y)
    np.testing.assert_allclose(unnormalised.transform(X), X @ unnormalised.components_.T, rtol=1e-12)


# ------------------------------------------------------------ options
def test_pca_init_is_the_principal_directions_and_completes_to_any_width():
    X, _ = _data(n=60)
    directions = pca_directions(X, 3)
    reference = PCA(3).fit(X).components_
    np.testing.assert_allclose(np.abs(directions @ reference.T), np.eye(3), atol=1e-8)
    full = pca_directions(X[:1], X.shape[1])  # one sample: still an orthonormal basis
    np.testing.assert_allclose(full @ full.T, np.eye(X.shape[1]), atol=1e-10)


@pytest.mark.parametrize("init", ["pca", "lda", "identity", "random"])
def test_every_init_starts_where_it_says(init):
    X, y = _data(n=80)
    model = LinearEmbedding("contrastive", 5, init=init, max_iter=1, learning_rate_init=1e-12,
                            random_state=0).fit(X, y)
    L = model.components_
    if init == "identity":
        np.testing.assert_allclose(L, np.eye(5, X.shape[1]), atol=1e-9)
    elif init == "pca":
        np.testing.assert_allclose(L, pca_directions(X, 5), atol=1e-9)
    elif init == "lda":  # 3 discriminant directions (4 classes), then principal directions orthogonal to them
        assert np.linalg.matrix_rank(L) == 5
        np.testing.assert_allclose(L[:3] @ L[3:].T, 0.0, atol=1e-8)
    else:
        assert np.std(L) > 0.5


def test_a_given_init_matrix_is_used_and_checked():
    X, y = _data(n=60)
    start = np.random.default_rng(0).standard_normal((2, X.shape[1]))
    model = LinearEmbedding("contrastive", 2, init=start, max_iter=1, learning_rate_init=1e-12).fit(X, y)
    np.testing.assert_allclose(model.components_, start, atol=1e-9)
    with pytest.raises(ValueError, match="init.*shape"):
        LinearEmbedding("contrastive", 3, init=start).fit(X, y)
    with pytest.raises(ValueError, match="init.*NaN"):
        LinearEmbedding("contrastive", 2, init=np.full((2, X.shape[1]), np.nan)).fit(X, y)


def test_lda_init_needs_two_classes():
    X, _ = _data(n=40)
    with pytest.raises(ValueError, match="init='lda'"):
        LinearEmbedding("contrastive", 2, init="lda").fit(X, np.zeros(40))


def test_n_components_above_the_features_is_refused_for_a_linear_map_only():
    X, y = _data(n=40)
    with pytest.raises(ValueError, match="n_components=9"):
        LinearEmbedding("contrastive", 9).fit(X, y)
    assert MLPEmbedding("contrastive", (4,), 9, max_iter=2).fit(X, y).transform(X).shape == (40, 9)


def test_partial_fit_continues_and_warm_start_starts_from_the_last_model():
    X, y = _data(n=120)
    model = LinearEmbedding("contrastive", 2, random_state=0)
    model.partial_fit(X, y)
    first = model.components_.copy()
    model.partial_fit(X, y)
    assert model.n_iter_ == 1 and not np.allclose(model.components_, first)
    with pytest.raises(ValueError, match="loss changed"):
        model.set_params(loss="supcon").partial_fit(X, y)
    warm = LinearEmbedding("contrastive", 2, max_iter=5, warm_start=True, random_state=0).fit(X, y)
    after = warm.components_.copy()
    warm.set_params(max_iter=1, learning_rate_init=1e-12).fit(X, y)
    np.testing.assert_allclose(warm.components_, after, atol=1e-8)


def test_early_stopping_keeps_a_validation_curve_and_needs_a_stochastic_solver():
    X, y = _data(n=200)
    model = LinearEmbedding("contrastive", 2, early_stopping=True, max_iter=40, random_state=0).fit(X, y)
    assert len(model.validation_loss_curve_) == model.n_iter_
    with pytest.raises(ValueError, match="early_stopping"):
        LinearEmbedding("contrastive", solver="lbfgs", early_stopping=True).fit(X, y)


def test_a_zero_weight_is_the_same_as_no_sample():
    X, y = _data(n=60)
    w = np.ones(60)
    w[::4] = 0.0
    keep = w > 0
    kw = dict(init="identity", n_components=3, solver="lbfgs", max_iter=30)
    weighted = LinearEmbedding("supcon", **kw).fit(X, y, sample_weight=w)
    dropped = LinearEmbedding("supcon", **kw).fit(X[keep], y[keep])
    np.testing.assert_allclose(weighted.components_, dropped.components_, rtol=1e-7, atol=1e-9)


def test_same_seed_gives_the_same_model_and_float32_stays_float32():
    X, y = _data(n=100)
    a = LinearEmbedding("contrastive", 2, max_iter=5, random_state=3).fit(X, y)
    b = LinearEmbedding("contrastive", 2, max_iter=5, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.components_, b.components_)
    for template in ESTIMATORS.values():
        model = clone(template).fit(X.astype(np.float32), y)
        assert model.transform(X.astype(np.float32)).dtype == np.float32
        assert model.transform(X).dtype == np.float64


@pytest.mark.slow_in_python
def test_grid_search_over_the_loss_margin_in_a_pipeline():
    X, y = _data(n=160)
    pipe = make_pipeline(StandardScaler(), LinearEmbedding("triplet", 2, max_iter=100, learning_rate_init=0.05,
                                                           random_state=0), KNeighborsClassifier(3))
    search = GridSearchCV(pipe, {"linearembedding__loss__margin": [0.1, 0.5]}, cv=2).fit(X, y)
    assert search.best_params_["linearembedding__loss__margin"] in (0.1, 0.5)
    assert search.best_estimator_[1].loss_.margin == search.best_params_["linearembedding__loss__margin"]
    assert search.best_score_ > 0.9


def test_feature_names_out():
    X, y = _data(n=40)
    model = LinearEmbedding("contrastive", 3, max_iter=2).fit(X, y)
    assert list(model.get_feature_names_out()) == ["linearembedding0", "linearembedding1", "linearembedding2"]


# ------------------------------------------------------------ bad input and robustness
@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_input_is_a_clear_error(name):
    X, y = _data(n=40)
    model = clone(ESTIMATORS[name])
    bad_X = X.copy()
    bad_X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad_X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(X, y, sample_weight=-np.ones(40))
    with pytest.raises(ValueError, match="[Ss]ample weights"):
        model.fit(X, y, sample_weight=np.zeros(40))
    with pytest.raises(ValueError, match="loss='squared_error'.*embedding"):
        clone(model).set_params(loss="squared_error").fit(X, y)
    with pytest.raises(ValueError, match="continuous"):
        model.fit(X, X[:, 0])
    with pytest.raises(NotFittedError):
        clone(model).transform(X)
    model.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.transform(X[:, :3])
    with pytest.raises(ValueError, match="infinity"):
        model.transform(np.where(X > 1, np.inf, X))


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("scale", [1e150, 1e300])
def test_huge_features_give_a_finite_model_or_a_clear_error(name, scale):
    X, y = _data(n=60)
    model = clone(ESTIMATORS[name])
    try:
        model.fit(X * scale, y)
    except ValueError as error:
        assert "diverged" in str(error) or "NaN or infinity" in str(error)
        return
    assert np.all(np.isfinite(model.transform(X * scale)))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_failed_refit_keeps_the_previous_model(name):
    X, y = _data(n=60)
    model = clone(ESTIMATORS[name]).fit(X, y)
    before = model.transform(X)
    with pytest.raises(ValueError):
        model.fit(X, y, sample_weight=-np.ones(60))
    np.testing.assert_array_equal(model.transform(X), before)


def test_one_class_gives_loss_zero_and_keeps_the_start():
    X, _ = _data(n=40)
    model = LinearEmbedding("supcon", 2, init="identity", max_iter=3).fit(X, np.zeros(40))
    assert model.loss_curve_[-1] == 0.0
    np.testing.assert_allclose(model.components_, np.eye(2, X.shape[1]))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_transform_from_threads_equals_serial_and_pickles(name):
    X, y = _data(n=80)
    model = clone(ESTIMATORS[name]).fit(X, y)
    expected = model.transform(X)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: model.transform(X), range(8)))
    for result in results:
        np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).transform(X), expected)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_cross_validation_in_worker_processes_equals_in_process(name):
    X, y = _data(n=120)
    pipe = make_pipeline(clone(ESTIMATORS[name]), KNeighborsClassifier(3))
    serial = cross_val_score(pipe, X, y, cv=3)
    parallel = cross_val_score(pipe, X, y, cv=3, n_jobs=2)
    np.testing.assert_array_equal(serial, parallel)
