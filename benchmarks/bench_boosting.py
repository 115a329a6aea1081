"""Gradient boosting with any loss against scikit-learn's HistGradientBoosting* and exact GradientBoosting.

Side by side in one run, same loss, iterations, leaves and learning rate:

* held-out loss on diabetes (mean over 10 random 75/25 splits) and on
  100,000 x 20 synthetic rows, for squared_error, absolute_error, quantile
  (0.5 and 0.9), poisson and log_loss;
* fit time at n = 100,000 (the best of ``--repeats`` fits each, after one
  warm-up fit that compiles the kernels);
* the quantile 0.9 loss against scikit-learn's exact GradientBoostingRegressor
  at n = 100,000 (held-out pinball and fit time).

Run: ``python benchmarks/bench_boosting.py [--repeats 2] [--skip-exact]``.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.ensemble import GradientBoostingRegressor as ExactGB
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split

from sklearn_losses.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn_losses.losses import get_loss

CASES = [  # (our loss, scikit-learn's loss and parameters)
    (get_loss("squared_error"), {"loss": "squared_error"}),
    (get_loss("absolute_error"), {"loss": "absolute_error"}),
    (get_loss("quantile", quantile=0.5), {"loss": "quantile", "quantile": 0.5}),
    (get_loss("quantile", quantile=0.9), {"loss": "quantile", "quantile": 0.9}),
    (get_loss("poisson"), {"loss": "poisson"}),
]
SHARED = dict(max_iter=100, max_leaf_nodes=31, learning_rate=0.1, early_stopping=False)


def timed(fit, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        best = min(best, time.perf_counter() - start)
    return model, best


def held_out(loss, y, prediction):
    return float(loss.loss(y, loss.link.link(np.atleast_1d(prediction)) if loss.link.name != "identity"
                           else prediction))


def regression_data(kind, seed):
    if kind == "diabetes":
        return load_diabetes(return_X_y=True)
    X, y = make_regression(100_000 // 3 * 4, 20, n_informative=10, noise=20, random_state=seed)
    return X, y / np.std(y)


def positive(y, loss):
    return np.exp(y / 2) if loss.link.name == "log" else y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-exact", action="store_true")
    args = parser.parse_args()
    GradientBoostingRegressor(max_iter=2).fit(*load_diabetes(return_X_y=True))  # compile the kernels once
    print(f"{'data':<10} {'loss':<16} {'ours':>10} {'HGB':>10} {'ours s':>8} {'HGB s':>8} {'ratio':>6}")
    for kind in ("diabetes", "synthetic"):
        for loss, theirs in CASES:
            ours_values, their_values, ours_t, their_t = [], [], [], []
            splits = range(10) if kind == "diabetes" else range(1)
            for seed in splits:
                X, y = regression_data(kind, seed)
                y = positive(y, loss)
                Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=seed)
                repeats = args.repeats if kind == "synthetic" else 1
                ours, t_ours = timed(lambda: GradientBoostingRegressor(loss, **SHARED).fit(Xa, ya), repeats)
                ref, t_ref = timed(lambda: HistGradientBoostingRegressor(**theirs, **SHARED).fit(Xa, ya), repeats)
                ours_values.append(held_out(loss, yb, ours.predict(Xb)))
                their_values.append(held_out(loss, yb, ref.predict(Xb)))
                ours_t.append(t_ours)
                their_t.append(t_ref)
            name = loss.__class__.__name__ + (f"({loss.quantile})" if hasattr(loss, "quantile") else "")
            print(f"{kind:<10} {name:<16} {np.mean(ours_values):>10.5g} {np.mean(their_values):>10.5g} "
                  f"{np.mean(ours_t):>8.2f} {np.mean(their_t):>8.2f} {np.mean(ours_t) / np.mean(their_t):>6.2f}")
    X, y = make_classification(133_333, 20, n_informative=10, random_state=0)
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=0)
    ours, t_ours = timed(lambda: GradientBoostingClassifier(**SHARED).fit(Xa, ya), args.repeats)
    ref, t_ref = timed(lambda: HistGradientBoostingClassifier(**SHARED).fit(Xa, ya), args.repeats)
    log_loss = get_loss("log_loss")
    print(f"{'synthetic':<10} {'LogLoss':<16} {log_loss.loss(yb, ours.decision_function(Xb)):>10.5g} "
          f"{log_loss.loss(yb, ref.decision_function(Xb)):>10.5g} {t_ours:>8.2f} {t_ref:>8.2f} "
          f"{t_ours / t_ref:>6.2f}")
    if not args.skip_exact:
        X, y = regression_data("synthetic", 0)
        Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=0)
        loss = get_loss("quantile", quantile=0.9)
        ours, t_ours = timed(lambda: GradientBoostingRegressor(loss, **SHARED).fit(Xa, ya), 1)
        start = time.perf_counter()
        exact = ExactGB(loss="quantile", alpha=0.9, n_estimators=100, max_leaf_nodes=31, learning_rate=0.1).fit(Xa, ya)
        t_exact = time.perf_counter() - start
        print(f"exact GB quantile(0.9) n=100,000: ours {loss.loss(yb, ours.predict(Xb)):.5g} in {t_ours:.2f} s, "
              f"scikit-learn's exact {loss.loss(yb, exact.predict(Xb)):.5g} in {t_exact:.2f} s "
              f"({t_exact / t_ours:.1f}x)")


if __name__ == "__main__":
    main()
