"""Starting fits from the loss's best constant (``baseline_prediction``) against starting from zero.

Run:  python benchmarks/bench_baseline.py            (about 1 minute)
      python benchmarks/bench_baseline.py --quick    (fewer samples)

For each loss and solver, the same linear fit twice: the intercept starting
at ``loss.baseline_prediction(y, w)`` (what the estimators do) and at zero
(the start before; forced here by replacing ``LinearObjective.start``).
Reported: iterations, fit time (best of three) and the final objectives,
which must agree (the problems are convex): the start changes the path, not
the optimum. The targets are offset from zero as real targets often are
(prices, counts with a large mean), which is where the start helps.
"""

import argparse

import numpy as np
from bench_linear import timed  # (run from benchmarks/, as the other scripts)
from sklearn.datasets import make_classification, make_regression

from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
from sklearn_losses.solvers._objective import LinearObjective


def cases(n):
    X, y = make_regression(n, 20, noise=5.0, random_state=0)
    Xc, yc = make_classification(n, 20, n_informative=8, n_classes=3, weights=[0.6, 0.3, 0.1], random_state=0)
    counts = np.random.default_rng(0).poisson(np.exp(4.0 + 0.05 * X[:, 0] / X[:, 0].std()))
    return [
        ("squared_error lbfgs, y ~ 1000", lambda: LinearRegressor("squared_error", solver="lbfgs"), X, 1000 + y),
        ("huber lbfgs, y ~ 1000", lambda: LinearRegressor("huber", solver="lbfgs"), X, 1000 + y),
        ("poisson lbfgs, mean 55", lambda: LinearRegressor("poisson", solver="lbfgs"), X, counts),
        ("poisson newton, mean 55", lambda: LinearRegressor("poisson", solver="newton"), X, counts),
        ("quantile 0.9 ipm, y ~ 1000", lambda: LinearRegressor("quantile", alpha=1e-4), X, 1000 + y),
        ("cross_entropy lbfgs, priors .6/.3/.1", lambda: LinearClassifier("cross_entropy", solver="lbfgs"), Xc, yc),
        ("squared_error adam 5 epochs, y ~ 1000",
         lambda: LinearRegressor("squared_error", solver="adam", max_iter=5, random_state=0), X, 1000 + y),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 5000 if args.quick else 50000
    original = LinearObjective.start
    import warnings

    warnings.simplefilter("ignore")
    print(f"n = {n:,} samples, 20 features")
    print(f"{'fit':40s} {'start':>9s} {'iters':>6s} {'time':>8s} {'objective':>20s}")
    for name, make, X, y in cases(n):
        make().fit(X[:200], y[:200])  # compile / cache load outside the timing
        rows = []
        for label, start in (("baseline", original), ("zero", lambda self: np.zeros(self.n_params))):
            LinearObjective.start = start
            try:
                seconds, est = timed(lambda: make().fit(X, y), repeat=3)
            finally:
                LinearObjective.start = original
            rows.append((label, est.n_iter_, seconds, est.objective_))
        for label, n_iter, seconds, objective in rows:
            print(f"{name:40s} {label:>9s} {n_iter:6d} {seconds:7.3f}s {objective:20.12g}")


if __name__ == "__main__":
    main()
