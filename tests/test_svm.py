"""Kernel SVM estimators: agreement with SVC/SVR, weights, every kernel, the Newton path, errors."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC, SVR

from sklearn_losses.losses import Quantile, get_loss, make_loss
from sklearn_losses.svm import SVMClassifier, SVMRegressor

X, Y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
Y_BIN = (Y == 0).astype(int)
XR, YR = make_regression(300, 6, noise=5.0, random_state=0)
YR = YR / YR.std()
TOL = 1e-7  # both solvers run to a violation below this: decision values agree to about 1e-6


@pytest.mark.parametrize("kernel", ["rbf", pytest.param("linear", marks=pytest.mark.slow_in_python), "poly"])
@pytest.mark.parametrize("multiclass", [False, True])
def test_hinge_matches_svc(kernel, multiclass):
    y = Y if multiclass else Y_BIN
    ours = SVMClassifier(kernel=kernel, C=2.0, tol=TOL).fit(X, y)
    ref = SVC(kernel=kernel, C=2.0, tol=TOL).fit(X, y)
    # the standard is 1e-3; at a tolerance of 1e-7 both reach 1e-4 (LIBSVM's
    # float32 kernel cache limits it on the less well-conditioned linear and poly kernels)
    decision, expected = ours.decision_function(X), ref.decision_function(X)
    np.testing.assert_allclose(decision, expected, atol=1e-4)
    if multiclass:  # the two best per-class scores apart
        top = np.sort(expected, axis=1)
        clear = top[:, -1] - top[:, -2] > 1e-3
    else:
        clear = np.abs(expected) > 1e-3
    np.testing.assert_array_equal(ours.predict(X)[clear], ref.predict(X)[clear])
    if not multiclass:
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    if kernel == "linear" and not multiclass:
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)


def test_precomputed_callable_and_sparse_kernels_match_rbf():
    gamma = 0.2
    ref = SVMClassifier(gamma=gamma, tol=TOL).fit(X, Y_BIN).decision_function(X)
    K = rbf_kernel(X, X, gamma=gamma)
    pre = SVMClassifier(kernel="precomputed", tol=TOL).fit(K, Y_BIN)
    np.testing.assert_allclose(pre.decision_function(K), ref, atol=1e-6)
    call = SVMClassifier(kernel=lambda A, B: rbf_kernel(A, B, gamma=gamma), tol=TOL).fit(X, Y_BIN)
    np.testing.assert_allclose(call.decision_function(X), ref, atol=1e-6)
    sparse = SVMClassifier(gamma=gamma, tol=TOL).fit(sp.csr_matrix(X), Y_BIN)
    np.testing.assert_allclose(sparse.decision_function(sp.csr_matrix(X)), ref, atol=1e-6)
    with pytest.raises(ValueError, match="300 features"):
        pre.decision_function(K[:, :10])


def test_epsilon_insensitive_matches_svr():
    for kernel in ("rbf", "linear"):
        ours = SVMRegressor(kernel=kernel, C=3.0, epsilon=0.2, tol=TOL).fit(XR, YR)
        ref = SVR(kernel=kernel, C=3.0, epsilon=0.2, tol=TOL).fit(XR, YR)
        np.testing.assert_allclose(ours.predict(XR), ref.predict(XR), atol=1e-5)
        assert ours.support_.size == ref.support_.size


def test_sample_and_class_weights_match_svc():
    sw = np.random.default_rng(0).uniform(0.0, 3.0, X.shape[0])
    sw[:10] = 0.0
    cw = {0: 2.0, 1: 0.5, 2: 1.0}
    ours = SVMClassifier(class_weight=cw, tol=TOL).fit(X, Y, sample_weight=sw)
    # gamma="scale" is the sample-weighted variance here (SVC's is unweighted): give SVC the same gamma
    ref = SVC(class_weight=cw, tol=TOL, gamma=ours._kernel.gamma).fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
    balanced = SVMClassifier(class_weight="balanced", tol=TOL).fit(X, Y_BIN)
    np.testing.assert_allclose(balanced.decision_function(X),
                               SVC(class_weight="balanced", tol=TOL).fit(X, Y_BIN).decision_function(X), atol=1e-5)


@pytest.mark.parametrize("loss", ["hinge", pytest.param("log_loss", marks=pytest.mark.slow_in_python)])
def test_sample_weight_equals_repetition(loss):
    # gamma="scale" from the weighted variance: the same for weights and repetition (unlike SVC's)
    repeat = np.r_[np.full(50, 3), np.ones(250, dtype=int)]
    a = SVMClassifier(loss, tol=1e-9).fit(X, Y_BIN, sample_weight=repeat.astype(float))
    b = SVMClassifier(loss, tol=1e-9).fit(np.repeat(X, repeat, axis=0), np.repeat(Y_BIN, repeat))
    assert a._kernel.gamma == pytest.approx(b._kernel.gamma, rel=1e-12)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), atol=1e-6)


def test_one_vs_rest_and_one_vs_one_shapes_and_votes():
    ovo = SVMClassifier(tol=1e-6).fit(X, Y)
    ovr = SVMClassifier(multi_class="ovr", tol=1e-6).fit(X, Y)
    assert ovo.dual_coef_.shape[0] == 3 and ovr.dual_coef_.shape[0] == 3  # 3 pairs, 3 classes
    assert ovo.decision_function(X).shape == ovr.decision_function(X).shape == (300, 3)
    assert np.mean(ovo.predict(X) == ovr.predict(X)) > 0.9
    four = np.r_[Y, 3][:300]
    four[::7] = 3
    assert SVMClassifier().fit(X, four).dual_coef_.shape[0] == 6


def test_pinball_and_absolute_losses_give_quantiles():
    noisy = YR + np.random.default_rng(0).standard_normal(300)
    # the free intercept makes the fit a quantile of the residuals: at most a fraction q strictly
    # below, at least q at or below (many samples are interpolated exactly, f(x_i) = y_i)
    for loss, q in ((Quantile(quantile=0.2), 0.2), (Quantile(quantile=0.8), 0.8), ("absolute_error", 0.5)):
        prediction = SVMRegressor(loss, C=10.0, tol=1e-6).fit(XR, noisy).predict(XR)
        scale = 1e-8 * (1 + np.abs(noisy))
        assert np.mean(noisy < prediction - scale) <= q + 1e-12
        assert np.mean(noisy <= prediction + scale) >= q - 1e-12


def _pseudo_huber_like(y, r, scale=1.0):
    e = (y - r) / scale
    return scale * scale * ((1.0 + e * e) ** 0.5 - 1.0)


@pytest.mark.parametrize("loss", [
    # piecewise quadratic: SMO with the curvature on the diagonal of K
    "squared_hinge", "modified_huber", "squared_error", "huber", "smooth_l1", "squared_epsilon_insensitive",
    # smooth and convex: SMO with the gradient inverted numerically
    "log_loss", "exponential", "pseudo_huber", "log_cosh", "poisson", "linex", "custom_convex",
])
def test_dual_solvers_reach_the_primal_optimum_newton_finds(loss):
    """Each exact dual solver reaches the optimum Newton's method finds in the primal."""
    from sklearn_losses.svm._newton import kernel_newton

    if loss == "custom_convex":  # compiled from Python source, derivatives derived: the same dual solver
        loss = make_loss(_pseudo_huber_like, name="custom_convex", convex=True, scale=0.5)
    classifier = get_loss(loss).task == "binary"
    data, y = (X, Y_BIN) if classifier else (XR, np.exp(YR / 2) if loss == "poisson" else YR)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, data.shape[0])
    est = (SVMClassifier if classifier else SVMRegressor)(loss, C=3.0, tol=1e-9).fit(data, y, sample_weight=sw)
    K = rbf_kernel(data, data, gamma=est._kernel.gamma)
    a, b, _, converged = kernel_newton(K, est.loss_, y.astype(float), 3.0 * sw, tol=1e-12, max_iter=200)
    assert converged
    dense = np.zeros(data.shape[0])
    dense[est.support_] = est.dual_coef_[0]
    np.testing.assert_allclose(K @ dense + est.intercept_[0], K @ a + b, atol=1e-7)


@pytest.mark.slow_in_python
def test_smooth_losses_are_stationary():
    for loss, y in [("log_loss", Y_BIN), ("exponential", Y_BIN)]:
        est = SVMClassifier(loss, C=2.0, tol=1e-10).fit(X, y)
        K = rbf_kernel(X, X, gamma=est._kernel.gamma)
        a = est.dual_coef_[0]
        dense = np.zeros(300)
        dense[est.support_] = a
        f = K @ dense + est.intercept_[0]
        g = est.loss_.gradient(y.astype(float), f, reduction="none")
        # stationarity: C g + a = 0 (in the span of K) and sum(g) = 0 (intercept)
        np.testing.assert_allclose(2.0 * g + dense, 0.0, atol=1e-7)
        assert abs(g.sum()) < 1e-7
    proba = SVMClassifier("log_loss").fit(X, Y_BIN).predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with pytest.raises(AttributeError) as info:
        SVMClassifier().fit(X, Y_BIN).predict_proba(X)
    assert "CalibratedClassifierCV" in str(info.value.__cause__)
    smooth = SVMRegressor("log_cosh", C=5.0, tol=1e-10).fit(XR, YR)
    assert smooth.score(XR, YR) > 0.95


@pytest.mark.slow_in_python
def test_gridsearch_over_loss_parameters_and_pickle():
    search = GridSearchCV(SVMRegressor(Quantile()), {"loss__quantile": [0.3, 0.7], "C": [1.0, 10.0]}, cv=3)
    search.fit(XR, YR)
    assert search.best_estimator_.loss_.quantile in (0.3, 0.7)
    est = SVMClassifier().fit(X, Y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert clone(est).get_params() == est.get_params()


def test_clear_errors_and_convergence_warning():
    with pytest.raises(ValueError, match="kernel"):
        SVMClassifier(kernel="cosine").fit(X, Y_BIN)
    with pytest.raises(ValueError, match="gamma"):
        SVMClassifier(gamma=-1.0).fit(X, Y_BIN)
    with pytest.raises(ValueError, match="Hinge is a binary loss; SVMRegressor accepts regression"):
        SVMRegressor("hinge").fit(XR, YR)
    with pytest.raises(ValueError, match="square"):
        SVMClassifier(kernel="precomputed").fit(X, Y_BIN)
    with pytest.raises(ValueError, match="cache_size"):
        SVMClassifier(kernel="precomputed", cache_size=0.1).fit(rbf_kernel(X), Y_BIN)
    with pytest.raises(ValueError, match="Focal is not convex, so .*Newton's method, .* at most 5000"):
        big = np.random.default_rng(0).standard_normal((5001, 2))
        SVMClassifier("focal").fit(big, big[:, 0] > 0)
    with pytest.raises(ValueError, match="1 class"):
        SVMClassifier().fit(X, Y_BIN, sample_weight=Y_BIN.astype(float))
    with pytest.raises(ValueError, match="y_true"):
        SVMRegressor("poisson").fit(XR, YR)
    with pytest.warns(ConvergenceWarning):
        SVMClassifier(max_iter=3).fit(X, Y_BIN)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SVMClassifier().fit(X, Y_BIN)
    assert get_loss("hinge").piecewise_linear


@pytest.mark.slow_in_python
def test_approximate_path_fits_streams_and_explains_its_limits():
    Xb, yb = make_classification(3000, 8, n_informative=5, random_state=0)
    exact = SVMClassifier().fit(Xb, yb)
    approx = SVMClassifier(kernel_approximation="nystroem", n_components=300, random_state=0).fit(Xb, yb)
    assert not hasattr(approx, "support_") and approx.linear_.loss_.__class__.__name__ == "Hinge"
    # the same objective up to the kernel approximation: agreement of the predictions
    assert np.mean(approx.predict(Xb) == exact.predict(Xb)) > 0.95
    stream = SVMClassifier(kernel_approximation="random_fourier", n_components=300, alpha=1.0 / 3000,
                           random_state=0)
    for _ in range(5):
        for start in range(0, 3000, 500):
            stream.partial_fit(Xb[start:start + 500], yb[start:start + 500], classes=[0, 1])
    assert stream.score(Xb, yb) > 0.85
    reg = SVMRegressor(kernel_approximation="nystroem", n_components=200, C=10.0, random_state=0).fit(XR, YR)
    assert reg.score(XR, YR) > 0.9
    with pytest.raises(ValueError, match="needs alpha"):
        SVMRegressor(kernel_approximation="nystroem").partial_fit(XR, YR)
    with pytest.raises(ValueError, match="classes must be passed"):
        SVMClassifier(kernel_approximation="nystroem", alpha=1e-3).partial_fit(X, Y)
    with pytest.raises(ValueError, match="approximates the rbf kernel"):
        SVMClassifier(kernel="poly", kernel_approximation="random_fourier").fit(X, Y)
    assert not hasattr(SVMClassifier(), "partial_fit")


def test_probability_by_platt_scaling_for_losses_without_a_link():
    est = SVMClassifier(probability=True).fit(X, Y)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(proba.argmax(axis=1) == est.predict(X)) > 0.9
    assert est.calibrator_ is not None
    assert not hasattr(SVMClassifier(), "predict_proba")
    assert hasattr(SVMClassifier("log_loss", multi_class="ovr"), "predict_proba")
    ovo = SVMClassifier("log_loss").fit(X, Y)  # one-vs-one scores: no link-based probabilities
    assert not hasattr(ovo, "predict_proba")
    # unfitted, one-vs-one answers as for more than two classes; a binary fit has probabilities
    assert not hasattr(SVMClassifier("log_loss"), "predict_proba")
    assert hasattr(SVMClassifier("log_loss").fit(X, Y_BIN), "predict_proba")


@pytest.mark.parametrize("weighted", [False, True])
def test_probability_with_metadata_routing_enabled(weighted):
    import sklearn

    sw = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    plain = SVMClassifier(probability=True, random_state=0).fit(X, Y, sample_weight=sw)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = SVMClassifier(probability=True, random_state=0).fit(X, Y, sample_weight=sw)
        from sklearn.model_selection import cross_val_score

        scores = cross_val_score(SVMClassifier(probability=True, random_state=0).set_fit_request(sample_weight=True)
                                 .set_score_request(sample_weight=False),
                                 X, Y, params={"sample_weight": np.ones(X.shape[0])}, cv=3)
    np.testing.assert_allclose(routed.predict_proba(X), plain.predict_proba(X), rtol=1e-12)
    assert np.all(scores > 0.5)


def test_one_streaming_pass_comes_close_to_the_full_fit():
    from sklearn.datasets import make_friedman1
    from sklearn.preprocessing import StandardScaler

    X, y = make_friedman1(n_samples=4000, noise=0.5, random_state=0)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    X_train, y_train, X_test, y_test = X[:3000], y[:3000], X[3000:], y[3000:]
    settings = dict(kernel_approximation="nystroem", n_components=200, random_state=0, C=10.0)
    full = SVMRegressor("squared_error", **settings).fit(X_train, y_train).score(X_test, y_test)
    stream = SVMRegressor("squared_error", alpha=1.0 / (10.0 * 3000), **settings)
    for start in range(0, 3000, 500):  # each batch seen once
        stream.partial_fit(X_train[start:start + 500], y_train[start:start + 500])
    assert stream.score(X_test, y_test) > full - 0.05 > 0.8
    # the settings are parameters: a step size of 1e-6 barely moves
    slow = SVMRegressor("squared_error", alpha=1.0 / (10.0 * 3000), learning_rate_init=1e-6, **settings)
    slow.partial_fit(X_train[:500], y_train[:500])
    assert slow.score(X_test, y_test) < 0.2
