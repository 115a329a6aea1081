"""Same objective, same solution: the linear estimators against scikit-learn's.

Each test translates scikit-learn's parametrisation into ours (the objective is
the weighted mean loss + alpha * penalty, see ``sklearn_losses.penalties``) and
requires coefficients within 1e-4 relative and objectives within 1e-6.
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import (
    ElasticNet,
    GammaRegressor,
    HuberRegressor,
    LogisticRegression,
    PoissonRegressor,
    QuantileRegressor,
    Ridge,
    TweedieRegressor,
)
from sklearn.svm import LinearSVC, LinearSVR

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.losses import EpsilonInsensitive, Huber, Quantile, Tweedie

N = 400
X, Y = make_regression(N, 6, noise=5.0, random_state=0)
X_CLF, Y_CLF = make_classification(N, 6, n_informative=4, n_classes=3, random_state=1)
Y_BIN = (Y_CLF == 1).astype(int)
RNG = np.random.default_rng(0)
MU = np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5)
Y_COUNT = RNG.poisson(MU).astype(float)
Y_POSITIVE = RNG.gamma(2.0, MU / 2.0)


def _same_solution(ours, coef, intercept, objective_of):
    theirs = np.append(np.ravel(coef), np.ravel(intercept))
    mine = np.append(np.ravel(ours.coef_), np.ravel(ours.intercept_))
    scale = np.abs(theirs).max()
    assert np.abs(mine - theirs).max() <= 1e-4 * scale, (mine, theirs)
    f_ours, f_theirs = objective_of(mine), objective_of(theirs)
    assert abs(f_ours - f_theirs) <= 1e-6 * abs(f_theirs)
    assert f_ours <= f_theirs * (1 + 1e-9)


def _objective(est, X_, y_, l1=0.0, l2=0.0):
    p = X_.shape[1]
    k = 1 if np.ndim(est.coef_) == 1 else est.coef_.shape[0]

    def value(theta):
        coef = theta[: k * p].reshape(k, p)
        raw = X_ @ coef.T + theta[k * p:]
        raw = raw[:, 0] if (k == 1 and est.loss_.task != "multiclass") else raw
        return est.loss_.loss(y_, raw) + l1 * np.abs(coef).sum() + 0.5 * l2 * np.sum(coef ** 2)

    return value


def test_ridge():
    alpha = 0.3
    ours = LinearRegressor(alpha=alpha, tol=1e-12).fit(X, Y)
    # Ridge: ||y - Xw||^2 + a ||w||^2  =  n * (mean e^2 + (a / n) ||w||^2)
    ref = Ridge(alpha=N * alpha / 2).fit(X, Y)
    _same_solution(ours, ref.coef_, ref.intercept_, _objective(ours, X, Y, l2=alpha))


def test_elastic_net():
    alpha, ratio = 0.5, 0.6
    ours = LinearRegressor(penalty="elasticnet", alpha=alpha, l1_ratio=ratio, tol=1e-12).fit(X, Y)
    # ElasticNet: mean e^2 / 2 + a r |w| + a (1 - r) / 2 ||w||^2: half of ours with alpha = 2 a
    ref = ElasticNet(alpha=alpha / 2, l1_ratio=ratio, tol=1e-14, max_iter=100_000).fit(X, Y)
    _same_solution(ours, ref.coef_, ref.intercept_,
                   _objective(ours, X, Y, l1=alpha * ratio, l2=alpha * (1 - ratio)))


@pytest.mark.parametrize("multiclass", [False, True])
@pytest.mark.parametrize("solver", ["auto", "newton-cg"])
def test_logistic_regression(multiclass, solver):
    y = Y_CLF if multiclass else Y_BIN
    alpha = 0.01
    loss = "cross_entropy" if multiclass else "log_loss"
    ours = LinearClassifier(loss, alpha=alpha, tol=1e-12, solver=solver).fit(X_CLF, y)
    # LogisticRegression: C sum(loss) + ||w||^2 / 2 = C n (mean loss + ||w||^2 / (2 C n))
    ref = LogisticRegression(C=1 / (N * alpha), tol=1e-14, max_iter=100_000).fit(X_CLF, y)
    _same_solution(ours, ref.coef_, ref.intercept_, _objective(ours, X_CLF, y, l2=alpha))


def test_huber_regressor_at_its_fitted_scale():
    y = Y.copy()
    y[::20] += 300.0  # outliers
    ref = HuberRegressor(epsilon=1.35, alpha=1e-3, tol=1e-12, max_iter=10_000).fit(X, y)
    sigma = ref.scale_
    # At fixed scale sigma, HuberRegressor minimises (2 / sigma) sum Huber_{eps sigma}(e) + a ||w||^2
    # = (2 n / sigma) (mean Huber + (a sigma / (2 n)) ||w||^2): our alpha is a sigma / n
    alpha = ref.alpha * sigma / N
    ours = LinearRegressor(Huber(delta=1.35 * sigma), alpha=alpha, tol=1e-12).fit(X, y)
    _same_solution(ours, ref.coef_, ref.intercept_, _objective(ours, X, y, l2=alpha))


@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_quantile_regressor(alpha):
    ours = LinearRegressor(Quantile(quantile=0.7), penalty="l1", alpha=alpha).fit(X, Y)
    ref = QuantileRegressor(quantile=0.7, alpha=alpha, solver="highs").fit(X, Y)
    _same_solution(ours, ref.coef_, ref.intercept_, _objective(ours, X, Y, l1=alpha))


def test_linear_svc():
    C = 0.05
    # LinearSVC penalises its intercept; compare without one. C sum(hinge) + ||w||^2 / 2.
    ours = LinearClassifier("hinge", alpha=1 / (C * N), fit_intercept=False).fit(X_CLF, Y_BIN)
    # liblinear visits the samples in a random order: fix it, so the reference is reproducible
    ref = LinearSVC(C=C, loss="hinge", fit_intercept=False, tol=1e-12, max_iter=1_000_000,
                    dual=True, random_state=0).fit(X_CLF, Y_BIN)
    _same_solution(ours, ref.coef_, 0.0, _objective(ours, X_CLF, Y_BIN, l2=1 / (C * N)))


def test_linear_svr():
    C, eps = 0.5, 2.0
    ours = LinearRegressor(EpsilonInsensitive(epsilon=eps), alpha=1 / (C * N), fit_intercept=False).fit(X, Y)
    ref = LinearSVR(C=C, epsilon=eps, loss="epsilon_insensitive", fit_intercept=False, tol=1e-12,
                    max_iter=1_000_000, dual=True, random_state=0).fit(X, Y)
    _same_solution(ours, ref.coef_, 0.0, _objective(ours, X, Y, l2=1 / (C * N)))


@pytest.mark.parametrize("family", ["poisson", "gamma", "tweedie"])
def test_glm_regressors(family):
    alpha = 0.01
    y = Y_COUNT if family == "poisson" else Y_POSITIVE
    # scikit-learn: mean half-deviance + a / 2 ||w||^2; our loss is the full deviance: alpha = 2 a
    ref_cls = {"poisson": PoissonRegressor, "gamma": GammaRegressor}.get(family)
    if ref_cls is None:
        ref = TweedieRegressor(power=1.5, link="log", alpha=alpha, tol=1e-12, max_iter=10_000).fit(X, y)
        loss = Tweedie(power=1.5)
    else:
        ref = ref_cls(alpha=alpha, tol=1e-12, max_iter=10_000).fit(X, y)
        loss = family
    ours = LinearRegressor(loss, alpha=2 * alpha, tol=1e-12).fit(X, y)
    _same_solution(ours, ref.coef_, ref.intercept_, _objective(ours, X, y, l2=2 * alpha))
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-4)
