"""OrdinalClassifier against statsmodels' OrderedModel and mord, side by side in one run.

Sections (all by default):

* ``--agreement``: the same maximum-likelihood fit as ``OrderedModel(distr=...)``
  fitted with BFGS, on two data sets that ship inside packages: mord's
  Copenhagen housing survey (a frequency table: ours fits its 72 rows with
  the counts as sample weights, statsmodels the 1681 expanded rows) and
  statsmodels' ANES 1996 (party identification, 7 classes). Reports the
  largest difference of coefficients and thresholds and the relative
  difference of the log-likelihoods; then the same objective as mord's
  ``LogisticAT`` / ``LogisticIT`` (mord minimises a sum plus
  ``alpha/2 ||w||^2``: its alpha is ``n * alpha`` here).
* ``--speed``: fit times at equal log-likelihood / objective (median of
  repeats), and a 100,000 x 10, 5-class synthetic fit.
* ``--quality``: held-out ordinal MAE and quadratic weighted kappa (5-fold
  CV, ANES 1996 and Copenhagen) of the cumulative-logit and all-threshold
  fits against multinomial LogisticRegression and a ridge regression
  rounded to the nearest class.

Needs the ``bench`` extra (statsmodels, mord, pandas)::

    python benchmarks/bench_ordinal.py [--agreement] [--speed] [--quality]
"""

import argparse
import time
import warnings

import numpy as np

from sklearn_losses.linear_model import OrdinalClassifier
from sklearn_losses.metrics import mean_absolute_rank_error, quadratic_weighted_kappa


def copenhagen():
    """(X table, y table, counts, X expanded, y expanded, feature names): one-hot of the three factors."""
    import os

    import mord
    import pandas as pd

    path = os.path.join(os.path.dirname(mord.__file__), "datasets", "data", "copenhagen_housing_survey.csv")
    table = pd.read_csv(path)
    X = pd.get_dummies(table[["Infl", "Type", "Cont"]], drop_first=True).astype(float)
    y = table["Sat"].map({"Low": 0, "Medium": 1, "High": 2}).to_numpy()
    counts = table["Freq"].to_numpy(dtype=float)
    rows = np.repeat(np.arange(len(table)), table["Freq"].to_numpy())
    return X.to_numpy(), y, counts, X.to_numpy()[rows], y[rows], list(X.columns)


def anes():
    """Party identification (0-6) from age, education, income, log population and TV news, standardised."""
    import statsmodels.api as sm

    data = sm.datasets.anes96.load_pandas().data
    X = data[["logpopul", "TVnews", "age", "educ", "income"]].to_numpy(dtype=float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, data["PID"].to_numpy().astype(int)


def _statsmodels(X, y, distr):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    model = OrderedModel(y, X, distr=distr)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(method="bfgs", maxiter=5000, gtol=1e-10, disp=False)
    elapsed = time.perf_counter() - start
    k = X.shape[1]
    thresholds = model.transform_threshold_params(result.params)[1:-1]
    return result.params[:k], thresholds, result.llf, elapsed


def _ours(X, y, loss, sample_weight=None, **params):
    start = time.perf_counter()
    with warnings.catch_warnings():  # tolerances at the limit of float precision: a ConvergenceWarning may come
        warnings.simplefilter("ignore")
        model = OrdinalClassifier(loss, penalty=params.pop("penalty", None), tol=params.pop("tol", 1e-9),
                                  **params).fit(X, y, sample_weight)
    elapsed = time.perf_counter() - start
    w = np.ones(len(y)) if sample_weight is None else sample_weight
    llf = -float(model.loss_.loss(np.searchsorted(model.classes_, y), model.raw_prediction(X), w, "sum"))
    return model, llf, elapsed


def _median_time(fit, repeats):
    times = []
    for _ in range(repeats):
        times.append(fit()[-1])
    return float(np.median(times))


def agreement(repeats):
    print("== maximum likelihood: OrdinalClassifier(penalty=None) vs statsmodels OrderedModel(method='bfgs')")
    print(f"{'data':<28}{'distr':<8}{'max |coef diff|':>16}{'max |thr diff|':>16}{'rel llf diff':>14}"
          f"{'ours (s)':>10}{'statsmodels (s)':>17}{'speed-up':>10}")
    Xt, yt, counts, Xe, ye, _ = copenhagen()
    Xa, ya = anes()
    cases = [("copenhagen (table+weights)", Xt, yt, counts, Xe, ye), ("copenhagen (1681 rows)", Xe, ye, None, Xe, ye),
             ("anes96 PID", Xa, ya, None, Xa, ya)]
    for name, X, y, w, X_sm, y_sm in cases:
        for distr in ("logit", "probit"):
            coef_sm, thr_sm, llf_sm, _ = _statsmodels(X_sm, y_sm, distr)
            model, llf, _ = _ours(X, y, f"cumulative_{distr}", w)
            t_ours = _median_time(lambda: _ours(X, y, f"cumulative_{distr}", w), repeats)
            t_sm = _median_time(lambda: _statsmodels(X_sm, y_sm, distr), max(1, repeats // 2))
            print(f"{name:<28}{distr:<8}{np.max(np.abs(model.coef_ - coef_sm)):>16.2e}"
                  f"{np.max(np.abs(model.thresholds_ - thr_sm)):>16.2e}{abs(llf - llf_sm) / abs(llf_sm):>14.2e}"
                  f"{t_ours:>10.4f}{t_sm:>17.4f}{t_sm / t_ours:>9.1f}x")
    print("\n== same objective as mord (sum of losses + alpha/2 ||w||^2, mord alpha = n * ours)")
    print(f"{'data':<16}{'model':<12}{'objective ours':>16}{'objective mord':>16}{'max |coef diff|':>16}"
          f"{'ours (s)':>10}{'mord (s)':>10}{'speed-up':>10}")
    import mord

    for name, X, y in (("copenhagen", Xe, ye), ("anes96 PID", Xa, ya)):
        n = len(y)
        for mord_cls, loss in ((mord.LogisticAT, "all_threshold"), (mord.LogisticIT, "immediate_threshold")):
            alpha_mord = 1.0

            def fit_mord():
                start = time.perf_counter()
                model = mord_cls(alpha=alpha_mord, max_iter=10000).fit(X, y)
                return model, time.perf_counter() - start

            def fit_ours():
                return _ours(X, y, loss, penalty="l2", alpha=alpha_mord / n, tol=1e-6)  # our default tol

            m_mord, _ = fit_mord()
            ours, _, _ = fit_ours()

            def objective(coef, thresholds):
                z = (X @ coef)[:, None] - np.asarray(thresholds)[None, :]
                return float(ours.loss_.loss(y, z, reduction="sum") + 0.5 * alpha_mord * coef @ coef)

            o_ours, o_mord = objective(ours.coef_, ours.thresholds_), objective(m_mord.coef_, m_mord.theta_)
            t_ours = _median_time(fit_ours, repeats)
            t_mord = _median_time(fit_mord, repeats)
            print(f"{name:<16}{mord_cls.__name__:<12}{o_ours:>16.8f}{o_mord:>16.8f}"
                  f"{np.max(np.abs(ours.coef_ - m_mord.coef_)):>16.2e}{t_ours:>10.4f}{t_mord:>10.4f}"
                  f"{t_mord / t_ours:>9.1f}x")


def speed(repeats):
    print("\n== 100,000 rows x 10 features, 5 classes (synthetic proportional odds)")
    rng = np.random.default_rng(0)
    n, d = 100_000, 10
    X = rng.normal(size=(n, d))
    f = X @ rng.normal(size=d) + rng.logistic(size=n)
    y = np.digitize(f, np.quantile(f, [0.2, 0.45, 0.7, 0.9]))
    for loss in ("cumulative_logit", "cumulative_probit", "all_threshold", "corn"):
        OrdinalClassifier(loss, max_iter=3).fit(X[:200], y[:200])  # compile outside the timing
        times, iters = [], 0
        for _ in range(repeats):
            start = time.perf_counter()
            model = OrdinalClassifier(loss, penalty=None).fit(X, y)
            times.append(time.perf_counter() - start)
            iters = model.n_iter_
        print(f"{loss:<20} fit {np.median(times):.3f} s ({iters} L-BFGS iterations)")
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        OrderedModel(y, X, distr="logit").fit(method="bfgs", maxiter=5000, disp=False)
    print(f"{'statsmodels logit':<20} fit {time.perf_counter() - start:.3f} s")


def quality():
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import StratifiedKFold

    print("\n== held-out quality, 5-fold CV (ordinal MAE: lower is better; QWK: higher is better)")
    Xt, yt, counts, Xe, ye, _ = copenhagen()
    Xa, ya = anes()
    print(f"{'data':<14}{'model':<34}{'MAE':>8}{'QWK':>8}")
    for name, X, y in (("copenhagen", Xe, ye), ("anes96 PID", Xa, ya)):
        classes = np.unique(y)
        models = {
            "OrdinalClassifier cumulative_logit": lambda: OrdinalClassifier("cumulative_logit", classes=classes),
            "OrdinalClassifier all_threshold": lambda: OrdinalClassifier("all_threshold", classes=classes),
            "LogisticRegression (multinomial)": lambda: LogisticRegression(max_iter=2000),
            "Ridge rounded to classes": lambda: _RoundedRidge(classes),
        }
        for label, make in models.items():
            pred = np.empty_like(y)
            for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
                pred[test] = make().fit(X[train], y[train]).predict(X[test])
            print(f"{name:<14}{label:<34}{mean_absolute_rank_error(y, pred, classes=classes):>8.4f}"
                  f"{quadratic_weighted_kappa(y, pred, classes=classes):>8.4f}")


class _RoundedRidge:
    def __init__(self, classes):
        from sklearn.linear_model import Ridge

        self.classes, self.model = classes, Ridge(alpha=1.0)

    def fit(self, X, y):
        self.model.fit(X, np.searchsorted(self.classes, y))
        return self

    def predict(self, X):
        rank = np.clip(np.rint(self.model.predict(X)), 0, len(self.classes) - 1).astype(int)
        return self.classes[rank]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreement", action="store_true")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    every = not (args.agreement or args.speed or args.quality)
    OrdinalClassifier(max_iter=3).fit(np.arange(6.0)[:, None], [0, 0, 1, 1, 2, 2])  # compile once, untimed
    if every or args.agreement:
        agreement(args.repeats)
    if every or args.speed:
        speed(args.repeats)
    if every or args.quality:
        quality()


if __name__ == "__main__":
    main()
