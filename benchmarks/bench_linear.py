"""Linear estimators against scikit-learn: fit time at the same objective, side by side.

Run:  python benchmarks/bench_linear.py            (everything, about 3 minutes)
      python benchmarks/bench_linear.py --quick    (smaller sizes, no n=20,000 highs run)
      python benchmarks/bench_linear.py --sgd-only (the stochastic solvers against SGDClassifier/SGDRegressor)

Each row fits ours and scikit-learn's estimator on the same data with the same
objective (parameters translated as in tests/test_linear_reference.py) and
reports both fit times and both final objectives, evaluated by one function.
The kernel row compares one fused objective+gradient evaluation with a
threaded read of X (the memory floor) measured in the same run.
Warm-up fits run first, so compile time is not counted (it is reported separately);
our fits of a few seconds or less are timed as the best of three.
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp
from numba import njit, prange
from sklearn.linear_model import (
    HuberRegressor,
    LogisticRegression,
    QuantileRegressor,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.svm import LinearSVC

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.losses import Huber, Quantile
from sklearn_losses.penalties import get_penalty
from sklearn_losses.solvers._objective import LinearObjective


def timed(func, repeat=1):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def objective(loss, X, y, coef, intercept, penalty):
    raw = X @ np.ravel(coef) + float(np.ravel(intercept)[0])
    return loss.loss(y, raw) + penalty.value(np.ravel(coef))


def row(name, t_ours, t_ref, f_ours, f_ref):
    speed = t_ref / t_ours if t_ref else float("nan")
    rel = (f_ours - f_ref) / abs(f_ref) if f_ref else float("nan")
    print(f"{name:38s} ours {t_ours:8.3f} s  sklearn {t_ref:8.3f} s  speed-up {speed:7.1f}x  "
          f"objective ours {f_ours:.8g}  sklearn {f_ref:.8g}  (rel. diff {rel:+.1e})")


@njit(parallel=True, fastmath=True, cache=True)
def read_floor(X):
    n = X.shape[0]
    acc = np.zeros(n)
    for i in prange(n):
        s = 0.0
        for j in range(X.shape[1]):
            s += X[i, j]
        acc[i] = s
    return acc.sum()


def bench_kernel(rng):
    X = rng.standard_normal((100_000, 100))
    y = X @ rng.standard_normal(100) + rng.standard_normal(100_000)
    theta = rng.standard_normal(101) * 0.1
    read_floor(X)
    t_read, _ = timed(lambda: read_floor(X), repeat=30)
    for name in ("huber", "squared_error", "log_loss"):
        from sklearn_losses.losses import get_loss

        target = (y > 0).astype(float) if name == "log_loss" else y
        obj = LinearObjective(get_loss(name), X, target, None, True)
        obj.loss_gradient(theta)
        t_fused, _ = timed(lambda: obj.loss_gradient(theta), repeat=30)
        obj._fused = False  # the NumPy/BLAS route: X @ w, loss kernel, X.T @ g
        t_blas, _ = timed(lambda: obj.loss_gradient(theta), repeat=30)
        print(f"objective+gradient {name:14s} X 100,000 x 100: fused {t_fused * 1e3:6.2f} ms, "
              f"read of X {t_read * 1e3:5.2f} ms ({t_fused / t_read:4.2f}x the floor), "
              f"NumPy/BLAS {t_blas * 1e3:6.2f} ms")


def bench_quantile(rng, sizes, highs_sizes):
    for n in sizes:
        X = rng.standard_normal((n, 50))
        y = X @ rng.standard_normal(50) + rng.standard_t(3, n)
        loss, penalty = Quantile(quantile=0.8), get_penalty("l1", 1e-3)
        ours_est = LinearRegressor(Quantile(quantile=0.8), penalty="l1", alpha=1e-3)
        t_ours, ours = timed(lambda: ours_est.fit(X, y), repeat=3)
        f_ours = objective(loss, X, y, ours.coef_, ours.intercept_, penalty)
        if n in highs_sizes:
            t_ref, ref = timed(lambda: QuantileRegressor(quantile=0.8, alpha=1e-3, solver="highs").fit(X, y))
            f_ref = objective(loss, X, y, ref.coef_, ref.intercept_, penalty)
        else:
            t_ref, f_ref = 0.0, float("nan")
        row(f"quantile+L1 n={n:,} p=50 (ipm vs highs)", t_ours, t_ref, f_ours, f_ref)


def bench_huber(rng, n):
    X = rng.standard_normal((n, 100))
    y = X @ rng.standard_normal(100) + rng.standard_normal(n)
    y[::50] += 50.0
    t_ref, ref = timed(lambda: HuberRegressor(epsilon=1.35, alpha=1e-4, max_iter=1000).fit(X, y))
    sigma = ref.scale_
    loss, alpha = Huber(delta=1.35 * sigma), ref.alpha * sigma / n  # same objective at sklearn's scale
    penalty = get_penalty("l2", alpha)
    t_ours, ours = timed(lambda: LinearRegressor(loss, alpha=alpha).fit(X, y), repeat=3)
    f_ours = objective(loss, X, y, ours.coef_, ours.intercept_, penalty)
    f_ref = objective(loss, X, y, ref.coef_, ref.intercept_, penalty)
    row(f"huber n={n:,} p=100 (vs HuberRegressor)", t_ours, t_ref, f_ours, f_ref)


def bench_logistic(rng, n):
    X = rng.standard_normal((n, 100))
    y = (X @ rng.standard_normal(100) + rng.logistic(size=n) > 0).astype(int)
    alpha = 1e-4
    from sklearn_losses.losses import LogLoss

    penalty = get_penalty("l2", alpha)
    t_ours, ours = timed(lambda: LinearClassifier("log_loss", alpha=alpha).fit(X, y), repeat=3)
    t_ref, ref = timed(lambda: LogisticRegression(C=1 / (n * alpha)).fit(X, y), repeat=3)
    f_ours = objective(LogLoss(), X, y, ours.coef_, ours.intercept_, penalty)
    f_ref = objective(LogLoss(), X, y, ref.coef_, ref.intercept_, penalty)
    row(f"log loss n={n:,} p=100 (vs LogisticRegression)", t_ours, t_ref, f_ours, f_ref)


def bench_hinge(rng, n):
    from sklearn_losses.losses import Hinge

    X = rng.standard_normal((n, 50))
    y = (X @ rng.standard_normal(50) + rng.standard_normal(n) > 0).astype(int)
    C = 1.0
    alpha = 1 / (C * n)
    penalty = get_penalty("l2", alpha)
    # LinearSVC penalises its intercept: compare both without one
    t_ours, ours = timed(lambda: LinearClassifier("hinge", alpha=alpha, fit_intercept=False).fit(X, y))
    t_ref, ref = timed(lambda: LinearSVC(C=C, loss="hinge", fit_intercept=False, dual=True,
                                         max_iter=10_000).fit(X, y))
    f_ours = objective(Hinge(), X, y, ours.coef_, 0.0, penalty)
    f_ref = objective(Hinge(), X, y, ref.coef_, 0.0, penalty)
    row(f"hinge dense n={n:,} p=50 (ipm vs LinearSVC)", t_ours, t_ref, f_ours, f_ref)


def sparse_text_like(rng, n, p=50_000, nnz=50):
    """n x p CSR with nnz Gaussian non-zeros a row, and labels from a noisy linear rule."""
    cols = rng.integers(0, p, size=n * nnz)
    X = sp.csr_matrix((rng.standard_normal(n * nnz), cols, np.arange(0, n * nnz + 1, nnz)), shape=(n, p))
    X.sum_duplicates()
    y = (X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def bench_sparse_margin(rng, n, loss, p=50_000):
    """A margin loss on sparse text-like data against LinearSVC (LIBLINEAR) with the same loss.

    ``"hinge"`` runs dual coordinate descent on our side, ``"squared_hinge"``
    (LinearSVC's default) L-BFGS.
    """
    X, y = sparse_text_like(rng, n, p)
    C = 1.0
    alpha = 1 / (C * n)
    penalty = get_penalty("l2", alpha)
    t_ours, ours = timed(lambda: LinearClassifier(loss, alpha=alpha, fit_intercept=False).fit(X, y))
    t_ref, ref = timed(lambda: LinearSVC(C=C, loss=loss, fit_intercept=False).fit(X, y))
    f_ours = objective(ours.loss_, X, y, ours.coef_, 0.0, penalty)
    f_ref = objective(ours.loss_, X, y, ref.coef_, 0.0, penalty)
    row(f"{loss.replace('_', ' ')} sparse n={n:,} p={p:,} ({ours.solver_} vs LinearSVC)", t_ours, t_ref,
        f_ours, f_ref)


def bench_sgd(rng, n):
    import warnings

    X = rng.standard_normal((n, 100))
    coef = rng.standard_normal(100)
    y_clf = (X @ coef + rng.logistic(size=n) > 0).astype(int)
    y_reg = X @ coef + rng.standard_normal(n)
    epochs = 10
    cases = (
        ("SGDClassifier log loss", y_clf,
         LinearClassifier("log_loss", solver="sgd", max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1,
                          random_state=0),
         SGDClassifier(loss="log_loss", max_iter=epochs, tol=None, random_state=0)),
        ("SGDRegressor squared error", y_reg,
         LinearRegressor("squared_error", solver="sgd", max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1,
                         learning_rate_init=0.001, random_state=0),
         SGDRegressor(loss="squared_error", max_iter=epochs, tol=None, random_state=0)),
    )
    for name, y, ours_est, ref_est in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours_est.fit(X[:1000], y[:1000])
            t_ours, ours = timed(lambda: ours_est.fit(X, y), repeat=3)
            t_ref, ref = timed(lambda: ref_est.fit(X, y), repeat=3)
        per_ours, per_ref = t_ours / ours.n_iter_ * 1e3, t_ref / ref.n_iter_ * 1e3
        print(f"sgd vs {name}, n={n:,} p=100: ours {per_ours:6.2f} ms/epoch (minibatch 200, whole fit / "
              f"epochs)  sklearn {per_ref:6.2f} ms/epoch  speed-up {per_ref / per_ours:4.1f}x  "
              f"score ours {ours.score(X, y):.4f} sklearn {ref.score(X, y):.4f}")


def bench_averaged_sgd(rng, n, epochs_list=(1, 3, 10), seeds=(0, 1, 2, 3, 4)):
    """Averaged SGD with Bottou's "optimal" schedule, ours and SGDClassifier's, same settings, same epochs.

    Held-out accuracy on a separate test set of 50,000 rows (logistic labels:
    the Bayes rate is below 100%), averaged over the random states ``seeds``
    (the shuffling; one standard error of one accuracy is about 0.0017), and
    the time per epoch (best of three fits, seed 0).
    """
    import warnings

    p = 100
    coef = rng.standard_normal(p)
    X = rng.standard_normal((n + 50_000, p))
    y = (X @ coef / np.sqrt(p) * 3 + rng.logistic(size=X.shape[0]) > 0).astype(int)
    X_train, y_train, X_test, y_test = X[:n], y[:n], X[n:], y[n:]
    for loss in ("log_loss", "hinge"):
        for epochs in epochs_list:
            def ours_est(seed):
                return LinearClassifier(loss, solver="sgd", learning_rate="optimal", average=True, alpha=1e-4,
                                        max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1, random_state=seed)

            def ref_est(seed):
                return SGDClassifier(loss=loss, learning_rate="optimal", average=True, alpha=1e-4, max_iter=epochs,
                                     tol=None, random_state=seed)

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours_est(0).fit(X_train[:1000], y_train[:1000])
                t_ours, ours = timed(lambda: ours_est(0).fit(X_train, y_train), repeat=3)
                t_ref, ref = timed(lambda: ref_est(0).fit(X_train, y_train), repeat=3)
                acc_ours = np.mean([ours_est(s).fit(X_train, y_train).score(X_test, y_test) for s in seeds])
                acc_ref = np.mean([ref_est(s).fit(X_train, y_train).score(X_test, y_test) for s in seeds])
            print(f"averaged sgd, optimal schedule, {loss:8s} n={n:,} p={p}, {epochs:2d} epochs: held-out accuracy "
                  f"(mean of {len(seeds)} seeds) ours {acc_ours:.4f} sklearn {acc_ref:.4f}; "
                  f"ms/epoch ours {t_ours / ours.n_iter_ * 1e3:6.2f} sklearn {t_ref / ref.n_iter_ * 1e3:6.2f} "
                  f"({t_ref / ref.n_iter_ / (t_ours / ours.n_iter_):.1f}x)")


def warm_up(rng):
    start = time.perf_counter()
    X = rng.standard_normal((300, 5))
    y = X[:, 0] + rng.standard_normal(300)
    for loss in ("huber", "quantile"):
        LinearRegressor(loss).fit(X, y)
        LinearRegressor(loss).fit(sp.csr_matrix(X), y)
    for loss in ("log_loss", "hinge"):
        LinearClassifier(loss).fit(X, y > 0)
        LinearClassifier(loss, solver="sgd" if loss == "log_loss" else "auto").fit(X, y > 0)
    LinearRegressor(Quantile(quantile=0.8), penalty="l1").fit(X, y)
    X_big = rng.standard_normal((250_000, 2))
    LinearRegressor("huber").fit(X_big, X_big[:, 0])  # threaded kernels
    LinearRegressor(Quantile(quantile=0.8), penalty="l1").fit(X_big[:5000], X_big[:5000, 0])
    LinearClassifier("log_loss").fit(X_big, X_big[:, 0] > 0)
    LinearClassifier("hinge", fit_intercept=False).fit(X_big, X_big[:, 0] > 0)
    LinearClassifier("squared_hinge", fit_intercept=False).fit(sp.csr_matrix(X_big), X_big[:, 0] > 0)
    print(f"compile / cache load before the runs: {time.perf_counter() - start:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sgd-only", action="store_true", help="only the stochastic solvers' rows")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.sgd_only:
        bench_sgd(rng, 100_000)
        bench_averaged_sgd(rng, 100_000)
        return
    warm_up(rng)
    bench_kernel(rng)
    if args.quick:
        bench_quantile(rng, (5_000, 20_000), (5_000,))
    else:
        bench_quantile(rng, (5_000, 20_000, 100_000), (5_000, 20_000))
    bench_huber(rng, 100_000)
    bench_logistic(rng, 100_000)
    bench_hinge(rng, 20_000 if args.quick else 100_000)
    for loss in ("hinge", "squared_hinge"):
        bench_sparse_margin(rng, 20_000 if args.quick else 100_000, loss)
    bench_sgd(rng, 100_000)
    bench_averaged_sgd(rng, 100_000)


if __name__ == "__main__":
    main()
