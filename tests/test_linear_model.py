"""Behaviour of LinearRegressor and LinearClassifier: solvers, penalties, weights, API."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.losses import Huber, Quantile, make_loss

X_REG, Y_REG = make_regression(300, 8, noise=2.0, random_state=0)
X_CLF, Y_CLF = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
Y_BIN = (Y_CLF == 0).astype(int)


def _close(a, b, rtol=1e-5, atol=1e-7):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("loss", ["squared_error", "huber", "quantile", "epsilon_insensitive", "log_cosh"])
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
def test_every_regression_solver_reaches_a_stationary_point(loss, penalty):
    """The optimum is certified by the objective: no small move lowers it."""
    est = LinearRegressor(loss, penalty=penalty, alpha=0.05, tol=1e-10, max_iter=5000).fit(X_REG, Y_REG)
    theta = np.append(est.coef_, est.intercept_)
    rng = np.random.default_rng(0)

    def objective(t):
        raw = X_REG @ t[:-1] + t[-1]
        value = est.loss_.loss(Y_REG, raw)
        a = est.alpha
        l1 = {"l2": 0, "l1": a, "elasticnet": a * 0.15, None: 0}[penalty]
        l2 = {"l2": a, "l1": 0, "elasticnet": a * 0.85, None: 0}[penalty]
        return value + l1 * np.abs(t[:-1]).sum() + 0.5 * l2 * t[:-1] @ t[:-1]

    best = objective(theta)
    _close(best, est.objective_, rtol=1e-9)
    for _ in range(20):
        step = rng.normal(size=theta.shape) * 1e-4
        assert objective(theta + step) >= best - 1e-12


def test_solver_auto_follows_declared_properties():
    assert LinearRegressor("quantile").fit(X_REG, Y_REG).solver_ == "ipm"
    assert LinearRegressor("huber").fit(X_REG, Y_REG).solver_ == "lbfgs"
    assert LinearClassifier("hinge").fit(X_CLF, Y_CLF).solver_ == "ipm"
    assert LinearClassifier("log_loss", early_stopping=True, random_state=0).fit(X_CLF, Y_CLF).solver_ == "adam"


@pytest.mark.slow_in_python
def test_newton_lbfgs_and_ipm_agree_where_they_overlap():
    a = LinearRegressor("squared_error", solver="newton", alpha=0.1, tol=1e-10).fit(X_REG, Y_REG)
    b = LinearRegressor("squared_error", solver="lbfgs", alpha=0.1, tol=1e-10).fit(X_REG, Y_REG)
    _close(a.coef_, b.coef_, rtol=1e-6)
    c = LinearClassifier("log_loss", solver="newton", alpha=0.01, tol=1e-10).fit(X_CLF, Y_BIN)
    d = LinearClassifier("log_loss", solver="lbfgs", alpha=0.01, tol=1e-10).fit(X_CLF, Y_BIN)
    _close(c.coef_, d.coef_, rtol=1e-5)


def test_l1_gives_exact_zeros():
    X = np.hstack([X_REG, np.random.default_rng(0).normal(size=(300, 20))])
    for loss in ("squared_error", "quantile"):
        est = LinearRegressor(loss, penalty="l1", alpha=1.0, tol=1e-10).fit(X, Y_REG)
        zeros = np.abs(est.coef_) < 1e-8
        assert zeros.sum() >= 15, (loss, est.coef_)
        if loss == "squared_error":
            assert np.all(est.coef_[zeros] == 0.0)


def test_class_weight_equals_sample_weight():
    weights = {0: 3.0, 1: 0.5, 2: 1.0}
    a = LinearClassifier(class_weight=weights, tol=1e-10).fit(X_CLF, Y_CLF)
    b = LinearClassifier(tol=1e-10).fit(X_CLF, Y_CLF, sample_weight=np.vectorize(weights.get)(Y_CLF))
    _close(a.coef_, b.coef_)
    c = LinearClassifier(class_weight="balanced", tol=1e-10).fit(X_CLF[:200], Y_CLF[:200])
    counts = np.bincount(Y_CLF[:200])
    sw = (200 / (3 * counts))[Y_CLF[:200]]
    d = LinearClassifier(tol=1e-10).fit(X_CLF[:200], Y_CLF[:200], sample_weight=sw)
    _close(c.coef_, d.coef_)


@pytest.mark.parametrize("loss", ["squared_error", "quantile"])
def test_sparse_csr_csc_and_float32_agree_with_dense(loss):
    X = X_REG.copy()
    X[np.abs(X) < 0.8] = 0.0
    dense = LinearRegressor(loss, alpha=0.01, tol=1e-10).fit(X, Y_REG)
    for Xs in (sp.csr_matrix(X), sp.csc_matrix(X)):
        sparse = LinearRegressor(loss, alpha=0.01, tol=1e-10).fit(Xs, Y_REG)
        _close(sparse.coef_, dense.coef_, rtol=1e-6)
        _close(sparse.predict(Xs), dense.predict(X), rtol=1e-6)
    single = LinearRegressor(loss, alpha=0.01, tol=1e-6).fit(X.astype(np.float32), Y_REG)
    _close(single.coef_, dense.coef_, rtol=1e-3, atol=1e-3)


def test_multi_output_equals_separate_fits_and_distribution_targets():
    Y = np.column_stack([Y_REG, -2 * Y_REG + 1])
    joint = LinearRegressor("huber", alpha=0.01, tol=1e-10).fit(X_REG, Y)
    for j in range(2):
        # the loss is averaged over outputs: alone, each output sees alpha * n_outputs
        alone = LinearRegressor("huber", alpha=0.02, tol=1e-10).fit(X_REG, Y[:, j])
        _close(joint.coef_[j], alone.coef_, rtol=1e-6)
    assert joint.predict(X_REG).shape == Y.shape
    P = np.eye(3)[Y_CLF] * 0.8 + 0.2 / 3
    dist = LinearRegressor("kl_divergence", alpha=1e-3, tol=1e-8).fit(X_CLF, P)
    proba = dist.predict(X_CLF)
    _close(proba.sum(axis=1), 1.0)
    assert np.mean(proba.argmax(axis=1) == Y_CLF) > 0.6


def test_classifier_outputs_and_probabilities():
    for loss in ("log_loss", "cross_entropy", "focal"):
        est = LinearClassifier(loss, alpha=1e-3).fit(X_CLF, Y_CLF)
        proba = est.predict_proba(X_CLF)
        assert proba.shape == (300, 3)
        _close(proba.sum(axis=1), 1.0)
        assert est.score(X_CLF, Y_CLF) > 0.6
        np.testing.assert_array_equal(est.predict(X_CLF), est.classes_[proba.argmax(axis=1)])
    binary = LinearClassifier("cross_entropy", tol=1e-10).fit(X_CLF, Y_BIN)
    logistic = LinearClassifier("log_loss", tol=1e-10, alpha=binary.alpha / 2).fit(X_CLF, Y_BIN)
    # softmax over two columns with L2 on both (w0 = -w1 at the optimum) = logistic on the
    # difference d = 2 w1 with half the alpha
    _close(binary.coef_, logistic.coef_, rtol=1e-4)
    _close(binary.predict_proba(X_CLF), logistic.predict_proba(X_CLF), rtol=1e-5)
    hinge = LinearClassifier("hinge").fit(X_CLF, Y_BIN)
    assert not hasattr(hinge, "predict_proba")
    labels = np.array(["cat", "dog"])[Y_BIN]
    assert set(LinearClassifier().fit(X_CLF, labels).predict(X_CLF)) <= {"cat", "dog"}


def test_warm_start_partial_fit_and_early_stopping():
    cold = LinearRegressor("huber", tol=1e-8).fit(X_REG, Y_REG)
    warm = LinearRegressor("huber", tol=1e-8, warm_start=True).fit(X_REG, Y_REG)
    warm.fit(X_REG, Y_REG)
    assert warm.n_iter_ < cold.n_iter_
    online = LinearClassifier(random_state=0, learning_rate_init=0.05)
    for _ in range(30):
        online.partial_fit(X_CLF, Y_CLF, classes=np.unique(Y_CLF))
    assert online.score(X_CLF, Y_CLF) > 0.6 and online.t_ == 30
    stopped = LinearRegressor(early_stopping=True, random_state=0, max_iter=500, n_iter_no_change=3,
                              learning_rate_init=1.0)
    stopped.fit(X_REG, Y_REG)
    assert len(stopped.validation_loss_curve_) == len(stopped.loss_curve_) == stopped.n_iter_
    assert stopped.n_iter_ < 500


def test_loss_curve_decreases_and_gridsearch_reaches_loss_parameters():
    est = LinearRegressor("huber", tol=1e-8).fit(X_REG, Y_REG)
    curve = np.array(est.loss_curve_)
    assert np.all(np.diff(curve) <= 1e-12) and curve[-1] == pytest.approx(est.objective_)
    search = GridSearchCV(LinearRegressor(Huber()), {"loss__delta": [0.5, 5.0]}, cv=3).fit(X_REG, Y_REG)
    assert search.best_params_["loss__delta"] in (0.5, 5.0)
    fitted = pickle.loads(pickle.dumps(search.best_estimator_))
    _close(fitted.predict(X_REG), search.best_estimator_.predict(X_REG))


def test_clear_errors():
    with pytest.raises(ValueError, match="LogLoss is a binary loss"):
        LinearRegressor("log_loss").fit(X_REG, Y_REG)
    with pytest.raises(ValueError, match="Huber is a regression loss"):
        LinearClassifier("huber").fit(X_CLF, Y_CLF)
    with pytest.raises(ValueError, match="Unknown loss 'hubber'"):
        LinearRegressor("hubber").fit(X_REG, Y_REG)
    with pytest.raises(ValueError, match="solver='newton' cannot be used: Quantile is not differentiable"):
        LinearRegressor(Quantile(), solver="newton").fit(X_REG, Y_REG)
    with pytest.raises(ValueError, match="quantile"):
        LinearRegressor(Quantile(quantile=1.5)).fit(X_REG, Y_REG)
    with pytest.raises(ValueError, match="early_stopping=True needs a stochastic solver"):
        LinearRegressor(solver="lbfgs", early_stopping=True).fit(X_REG, Y_REG)
    with pytest.raises(ValueError, match="y_true must lie in"):
        LinearRegressor("poisson").fit(X_REG, Y_REG)
    wide = sp.random(50, 20_000, density=0.001, format="csr", random_state=0)
    with pytest.raises(ValueError, match="interior-point method factors a dense .* solver='dcd'"):
        LinearClassifier("hinge", solver="ipm").fit(wide, np.arange(50) % 2)
    with pytest.raises(ValueError, match="No exact solver for Hinge: with an L1 part"):
        LinearClassifier("hinge", penalty="l1").fit(wide, np.arange(50) % 2)
    with pytest.raises(ValueError, match="solver='dcd' cannot be used: it needs penalty='l2' with alpha > 0"):
        LinearClassifier("hinge", solver="dcd", alpha=0.0).fit(X_CLF, Y_CLF)
    with pytest.raises(ValueError, match="classes must be passed"):
        LinearClassifier().partial_fit(X_CLF, Y_CLF)


def test_divergence_raises_and_keeps_the_fitted_model():
    est = LinearRegressor(solver="sgd", learning_rate_init=1e6, max_iter=100, random_state=0)
    good = LinearRegressor(tol=1e-8).fit(X_REG, Y_REG)
    est.coef_, est.intercept_ = good.coef_.copy(), good.intercept_
    with pytest.raises(ValueError, match="diverged"):
        est.fit(X_REG, Y_REG * 1e6)
    _close(est.coef_, good.coef_)


def test_custom_loss_fits_like_the_builtin():
    def huber(y, r, delta=1.0):
        e = abs(y - r)
        if e <= delta:
            return 0.5 * e * e
        return delta * (e - 0.5 * delta)

    custom = LinearRegressor(make_loss(huber), tol=1e-10).fit(X_REG, Y_REG)
    builtin = LinearRegressor(Huber(), tol=1e-10).fit(X_REG, Y_REG)
    _close(custom.coef_, builtin.coef_, rtol=1e-6)


def test_non_convergence_warns():
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        LinearRegressor("huber", max_iter=2, tol=1e-12).fit(X_REG, Y_REG)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LinearRegressor("huber").fit(X_REG, Y_REG)


@pytest.mark.parametrize("method, extra", [
    ("sgd", {}), ("adam", {}), ("sgd", {"schedule": "invscaling", "power_t": 0.3}),
    ("sgd", {"schedule": "optimal", "alpha": 1e-2, "t0": 50.0}), ("sgd", {"nesterov": False, "average": 1}),
    ("adam", {"average": 100}), ("sgd", {"schedule": "adaptive", "shuffle": False}),
])
@pytest.mark.parametrize("sparse", [False, True])
def test_compiled_epoch_equals_the_python_minibatch_loop(method, extra, sparse):
    """Every schedule, momentum variant and averaging: the compiled epoch takes the Python loop's steps."""
    from sklearn_losses.losses import get_loss
    from sklearn_losses.penalties import get_penalty
    from sklearn_losses.solvers._objective import LinearObjective
    from sklearn_losses.solvers.sgd import StochasticSettings, StochasticState, stochastic_epochs

    X = sp.csr_matrix(X_CLF) if sparse else X_CLF
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=X_CLF.shape[0])
    results = []
    for compiled in (True, False):
        objective = LinearObjective(get_loss("log_loss"), X, Y_BIN.astype(float), weights, True)
        objective._fused = objective._fused and compiled  # False: the NumPy path, batch by batch
        state = StochasticState(objective.n_params)
        theta, _, _, curve, _ = stochastic_epochs(
            objective, get_penalty("elasticnet", 1e-2, 0.5), np.zeros(objective.n_params), state,
            StochasticSettings(method=method, learning_rate_init=0.05, **extra), max_epochs=4, batch_size=32,
            rng=0, tol=0.0)
        results.append((theta, curve, state))
    _close(results[0][0], results[1][0], rtol=1e-10, atol=1e-12)
    _close(results[0][1], results[1][1], rtol=1e-10)
    compiled, python = results[0][2], results[1][2]
    assert compiled.t == python.t and compiled.seen == python.seen == 4 * X_CLF.shape[0]
    assert compiled.n_average == python.n_average
    _close(compiled.average, python.average, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss", ["quantile", "hinge"])
def test_interior_point_curve_is_the_objective(loss):
    est = (LinearClassifier(loss) if loss == "hinge" else LinearRegressor(loss)).fit(
        X_CLF, Y_BIN if loss == "hinge" else Y_REG[: X_CLF.shape[0]])
    assert est.solver_ == "ipm"
    assert len(est.loss_curve_) == est.n_iter_
    assert est.loss_curve_[-1] == pytest.approx(est.objective_, rel=1e-9)
    assert min(est.loss_curve_) >= est.objective_ * (1 - 1e-9)


def test_newton_cg_matches_lbfgs_on_softmax_and_multi_output_with_weights():
    weights = np.random.default_rng(0).uniform(0.0, 2.0, X_CLF.shape[0])
    a = LinearClassifier("cross_entropy", alpha=0.01, solver="newton-cg", tol=1e-10).fit(X_CLF, Y_CLF, weights)
    b = LinearClassifier("cross_entropy", alpha=0.01, solver="lbfgs", tol=1e-10).fit(X_CLF, Y_CLF, weights)
    assert a.solver_ == "newton-cg" and a.n_iter_ < b.n_iter_ and a.objective_ <= b.objective_ + 1e-13
    # L-BFGS ends where the objective stops falling by 64 eps per step: coefficients to about 1e-7
    _close(a.coef_, b.coef_, rtol=1e-6, atol=3e-7)
    Y = np.column_stack([Y_REG, np.sin(Y_REG / 50)])
    c = LinearRegressor("squared_error", alpha=0.01, solver="newton-cg", tol=1e-10).fit(X_REG, Y)
    d = LinearRegressor("squared_error", alpha=0.01, solver="lbfgs", tol=1e-10).fit(X_REG, Y)
    _close(c.coef_, d.coef_, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="solver='newton-cg' cannot be used: .*L1"):
        LinearClassifier("cross_entropy", penalty="l1", solver="newton-cg").fit(X_CLF, Y_CLF)
