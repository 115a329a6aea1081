"""Polished kernel SVM fits (svm/_polish.py): the exact optimum at the default tolerance, whatever the path.

At their default tol=1e-3 the exact solvers stop within tol of the optimum
and the polish then solves the optimality conditions on the active set, so
weights equal repetitions, row order does not matter, and the model equals
a fit at a tight tolerance, to float precision, for every solver: SMO
(piecewise-linear and -quadratic losses), the smooth dual, Newton's method
and block descent for the multiclass hinges.
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from sklearn_losses.losses import Focal, MulticlassHinge, Quantile, get_loss, make_loss
from sklearn_losses.svm import SVMClassifier, SVMRegressor
from sklearn_losses.svm import _polish
from sklearn_losses.svm._smo import initial_decision, row_store, smo, smo_state
from sklearn_losses.solvers.dcd import balance

X, Y = make_classification(120, 5, n_informative=3, n_redundant=0, n_classes=3, random_state=1)
Y_BIN = (Y == 0).astype(int)
XR, YR = make_regression(120, 5, noise=5.0, random_state=1)
YR = YR / YR.std()


def smooth_robust(y, r):
    """A smooth non-convex custom loss (Newton's method): log(1 + e^2)."""
    e = y - r
    return np.log(1.0 + e * e)


CASES = [
    ("hinge-smo", lambda **kw: SVMClassifier(**kw), "binary"),
    ("hinge-ovo", lambda **kw: SVMClassifier(**kw), "multiclass"),
    ("squared-hinge", lambda **kw: SVMClassifier("squared_hinge", **kw), "binary"),
    ("log-loss-smooth-dual", lambda **kw: SVMClassifier("log_loss", **kw), "binary"),
    ("focal-newton", lambda **kw: SVMClassifier(Focal(gamma=2.0), **kw), "binary"),
    ("crammer-singer", lambda **kw: SVMClassifier("multiclass_hinge", random_state=0, **kw), "multiclass"),
    ("weston-watkins", lambda **kw: SVMClassifier(MulticlassHinge("weston_watkins"), random_state=0, **kw),
     "multiclass"),
    ("epsilon-insensitive", lambda **kw: SVMRegressor(**kw), "regression"),
    ("quantile-linear", lambda **kw: SVMRegressor(Quantile(quantile=0.3), kernel="linear", **kw), "regression"),
    ("squared-error", lambda **kw: SVMRegressor("squared_error", C=10.0, **kw), "regression"),
    ("huber", lambda **kw: SVMRegressor("huber", **kw), "regression"),
    ("pseudo-huber-smooth-dual", lambda **kw: SVMRegressor("pseudo_huber", **kw), "regression"),
    ("custom-newton", lambda **kw: SVMRegressor(make_loss(smooth_robust, name="smooth_robust"), **kw),
     "regression"),
]


def _data(task):
    return {"binary": (X, Y_BIN), "multiclass": (X, Y), "regression": (XR, YR)}[task]


def _output(est, Xq):
    return est.decision_function(Xq) if hasattr(est, "decision_function") else est.predict(Xq)


@pytest.mark.parametrize("name, make, task", CASES, ids=[c[0] for c in CASES])
def test_default_tolerance_weights_equal_repetition_and_order_does_not_matter(name, make, task):
    Xd, yd = _data(task)
    repeat = np.random.default_rng(0).integers(0, 4, Xd.shape[0])
    weighted = make().fit(Xd, yd, sample_weight=repeat.astype(float))
    repeated = make().fit(np.repeat(Xd, repeat, axis=0), np.repeat(yd, repeat))
    np.testing.assert_allclose(_output(weighted, Xd), _output(repeated, Xd), rtol=1e-7, atol=1e-9)
    order = np.random.default_rng(1).permutation(Xd.shape[0])
    shuffled = make().fit(Xd[order], yd[order], sample_weight=repeat[order].astype(float))
    np.testing.assert_allclose(_output(shuffled, Xd), _output(weighted, Xd), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name, make, task", CASES, ids=[c[0] for c in CASES])
def test_polished_fit_is_the_optimum(name, make, task):
    """The default-tolerance fit equals a fit run to a tolerance of 1e-10 (not only a consistent point)."""
    Xd, yd = _data(task)
    default, tight = make().fit(Xd, yd), make(tol=1e-10, max_iter=10 ** 7).fit(Xd, yd)
    np.testing.assert_allclose(_output(default, Xd), _output(tight, Xd), rtol=1e-6, atol=1e-7)


def test_without_polish_the_solution_is_within_tolerance(monkeypatch):
    """Above the polish's size limit the fit is SMO's own, within tol of the optimum."""
    exact = SVMClassifier().fit(X, Y_BIN)
    monkeypatch.setattr(_polish, "POLISH_MAX", 0)
    monkeypatch.setattr("sklearn_losses.svm._base.NEWTON_POLISH_MAX", 0)
    rough = SVMClassifier().fit(X, Y_BIN)
    gap = np.max(np.abs(rough.decision_function(X) - exact.decision_function(X)))
    assert 0 < gap < 1e-2


def test_sigmoid_kernel_is_not_polished():
    """Not positive semi-definite: the free block need not be factorisable; SMO's solution stands."""
    est = SVMClassifier(kernel="sigmoid", gamma=0.1).fit(X, Y_BIN)
    assert np.all(np.isfinite(est.decision_function(X)))


def _hinge_state(n_iter):
    """SMO's hinge state after ``n_iter`` iterations on the binary data, kernel given whole."""
    K = np.exp(-0.2 * ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    slopes, breaks, kappa = get_loss("hinge").quadratic_pieces(Y_BIN.astype(float))
    slopes, breaks = np.ascontiguousarray(slopes, dtype=float), np.ascontiguousarray(breaks, dtype=float)
    w = np.ones(X.shape[0])
    store = row_store(w.size, w.size, np.float64, K=K)
    u, _ = balance(np.clip(0.0, slopes[:, 0], slopes[:, -1]), w, slopes[:, 0], slopes[:, -1])
    f = initial_decision(store, -w * u)
    kappa_w = np.zeros(w.size)
    smo(store, np.diag(K).copy(), kappa_w, slopes, breaks, w, u, f, 1e-12, n_iter, *smo_state(w.size))
    return store, K, kappa_w, slopes, breaks, w, u, f


@pytest.mark.parametrize("n_iter", [3, 30, 10 ** 6])
def test_polish_from_any_active_set_is_optimal_or_declines(n_iter):
    """From an early (wrong) active set the polish declines and leaves the state as it was; from the
    converged one it returns an intercept at which the hinge's own conditions hold (SVC's form)."""
    store, K, kappa_w, slopes, breaks, w, u, f = _hinge_state(n_iter)
    u0, f0 = u.copy(), f.copy()
    b = _polish.polish_smo(store, kappa_w, slopes, breaks, w, u, f)
    if b is None:
        np.testing.assert_array_equal(u, u0)
        np.testing.assert_array_equal(f, f0)
        assert n_iter < 10 ** 6  # the converged state is polished
        return
    a = -w * u
    np.testing.assert_allclose(f, K @ a, atol=1e-10)  # f kept consistent with a
    assert abs(a.sum()) < 1e-10
    s = 2.0 * Y_BIN - 1.0
    alpha, margin = s * a, s * (f + b)  # a_i = y_i alpha_i, 0 <= alpha_i <= C
    assert np.all(alpha >= -1e-12) and np.all(alpha <= 1.0 + 1e-12)
    free = (alpha > 0.0) & (alpha < 1.0)
    assert free.any()
    np.testing.assert_allclose(margin[free], 1.0, atol=1e-9)  # free: on the margin
    assert np.all(margin[alpha == 0.0] >= 1.0 - 1e-9)  # not support vectors: outside it
    assert np.all(margin[alpha == 1.0] <= 1.0 + 1e-9)  # at C: inside it


def test_vectorised_optimal_sets_equal_the_scalar_ones():
    """The polish's KKT check (NumPy) uses the same optimal intervals as the solvers' scalar ``_optimal_set``."""
    from sklearn_losses.solvers.dcd import _optimal_set
    from sklearn_losses.svm._polish import optimal_sets

    rng = np.random.default_rng(0)
    for n_slopes in (2, 3, 4):
        n = 500
        slopes = np.sort(rng.normal(size=(n, n_slopes)), axis=1)
        breaks = np.sort(rng.normal(size=(n, n_slopes - 1)), axis=1)
        u = 1.5 * rng.normal(size=n)
        at_slope = rng.random(n) < 0.4  # exactly at a slope: the intervals with two ends
        u[at_slope] = slopes[np.arange(n), rng.integers(0, n_slopes, size=n)][at_slope]
        lo, hi = optimal_sets(u, slopes, breaks)
        expected = np.array([_optimal_set(u[i], slopes[i], breaks[i]) for i in range(n)])
        np.testing.assert_array_equal(lo, expected[:, 0])
        np.testing.assert_array_equal(hi, expected[:, 1])
