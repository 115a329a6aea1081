"""Gradient boosting with any loss against HistGradientBoosting*, LightGBM, XGBoost and exact GradientBoosting.

Side by side in one run, at the same number of trees (100), leaves (31),
learning rate (0.1) and minimum leaf size (20), without early stopping:

1. **scikit-learn's HistGradientBoosting\\*** with the same loss:
   held-out loss (mean over random 75/25 splits) on diabetes (10 splits),
   statsmodels' RAND health-insurance data (``randhie``, 20,190 x 9, the
   outpatient-visit counts; 5 splits) and 100,000 x 20 synthetic training
   rows (3 splits), for squared_error, absolute_error, quantile 0.5 and 0.9, poisson
   and log_loss (the binary targets: diabetes above its median, any visit,
   and a synthetic classification); fit times, and at n = 100,000 their
   ratio (the best of ``--repeats`` fits, after a warm-up fit that compiles
   the kernels).
2. **LightGBM and XGBoost with the same loss as a custom objective** (their
   documented way: a function returning gradient and hessian), for the
   quantile 0.9 loss and a custom asymmetric cost (LINEX, ``exp(a e) - a e -
   1`` with ``e = y - prediction``: under-forecasts cost exponentially, on
   standardised targets; for randhie the logs of the counts) and a custom
   piecewise-linear business cost (free within 0.25 of the actual value,
   then 3 per unit late and 1 per unit early: its hessian is zero, so the
   boosters get unit hessians), each started from 0 (a plain custom objective)
   and from the loss's best constant (``init_score`` / ``base_margin`` from
   :func:`~sklearn_losses.ensemble.as_lightgbm_objective`); for the quantile
   also their built-in quantile objectives, for context.
3. **Sensitivity** of the two closest cells (quantile 0.9 against HGB on the
   synthetic rows, LINEX against the boosters on randhie): the same fits on
   training targets perturbed by 1e-5 times standard normal noise (targets
   of standard deviation 1), ``--draws`` times, which shows how far a change
   that small moves each model's held-out loss, next to the gap between them.
4. **scikit-learn's exact GradientBoostingRegressor** on the quantile 0.9
   loss at n = 100,000: held-out pinball and fit time.

XGBoost bounds a leaf's hessian sum, not its sample count
(``min_child_weight``); it is set to the minimum leaf size, which is that
many samples for unit hessians and about that many for LINEX (whose hessian
averages to 1 over a leaf at the leaf's minimiser). Its custom objective
without any floor is printed too, for context.

Run: ``python benchmarks/bench_boosting.py [--repeats 2] [--skip-exact] [--skip-boosters] [--draws 6]``
(LightGBM, XGBoost and statsmodels come with the ``bench`` extra; a missing
one is skipped and said so).
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.ensemble import GradientBoostingRegressor as ExactGB
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split

from sklearn_losses.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    as_lightgbm_objective,
    as_xgboost_objective,
)
from sklearn_losses.losses import get_loss, make_loss

TREES, LEAVES, RATE, MIN_LEAF = 100, 31, 0.1, 20
SHARED = dict(max_iter=TREES, max_leaf_nodes=LEAVES, learning_rate=RATE, min_samples_leaf=MIN_LEAF,
              early_stopping=False)
REGRESSION = [  # (our loss, HistGradientBoostingRegressor's loss parameters)
    ("squared_error", {}, {"loss": "squared_error"}),
    ("absolute_error", {}, {"loss": "absolute_error"}),
    ("quantile", {"quantile": 0.5}, {"loss": "quantile", "quantile": 0.5}),
    ("quantile", {"quantile": 0.9}, {"loss": "quantile", "quantile": 0.9}),
    ("poisson", {}, {"loss": "poisson"}),
]
SPLITS = {"diabetes": 10, "randhie": 5, "synthetic": 3}
#: XGBoost's custom objective without a leaf floor (min_child_weight=0): context, not the equal-settings
#: comparison (its leaves may hold single samples, ours and LightGBM's at least MIN_LEAF)
NO_FLOOR = "XGBoost custom, best constant, no leaf floor"


def linex(y, r, a=1.0):
    """The custom asymmetric cost, written as a user would (``make_loss`` compiles and differentiates it)."""
    e = y - r
    return np.exp(a * e) - a * e - 1.0


def late_delivery(y, r, late=3.0, slack=0.25):
    """A custom piecewise-linear business cost: free within ``slack`` of the actual value, then ``late`` per
    unit when the forecast is below it and 1 per unit above (zero hessian everywhere)."""
    e = y - r
    if e > slack:
        return late * (e - slack)
    if e < -slack:
        return -e - slack
    return 0.0


def timed(fit, repeats):
    best, model = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        best = min(best, time.perf_counter() - start)
    return model, best


def load(kind, seed=0):
    """``(X, y_regression, y_binary)``; None where the data's package is missing."""
    if kind == "diabetes":
        X, y = load_diabetes(return_X_y=True)
        return X, y, (y > np.median(y)).astype(int)
    if kind == "randhie":
        try:
            import statsmodels.api as sm
        except ImportError:
            return None
        data = sm.datasets.randhie.load_pandas()
        y = data.endog.to_numpy(dtype=float)
        return data.exog.to_numpy(dtype=float), y, (y > 0).astype(int)
    n = 100_000 * 4 // 3  # 100,000 training rows
    X, y = make_regression(n, 20, n_informative=10, noise=20, random_state=seed)
    y = y / np.std(y)
    Xc, yc = make_classification(n, 20, n_informative=10, random_state=seed)
    return (X, Xc), y, yc


def regression_target(kind, y, name):
    """Poisson needs non-negative targets: the synthetic ones are exponentiated (the real ones are counts or
    positive already)."""
    return np.exp(y / 2) if name == "poisson" and kind == "synthetic" else y


def cost_targets(kind, ya, yb):
    """The custom costs' targets: standardised by the training split (randhie's visit counts as their logs)."""
    if kind == "randhie":
        ya, yb = np.log1p(ya), np.log1p(yb)
    centre, scale = np.mean(ya), np.std(ya)
    return (ya - centre) / scale, (yb - centre) / scale


def held_out(loss, y, raw):
    return float(loss.loss(y, raw))


def hgb_table(repeats):
    print("1. HistGradientBoosting* with the same loss: held-out mean loss (lower is better), fit seconds")
    print(f"{'data':<10} {'loss':<16} {'ours':>11} {'HGB':>11} {'better':>7} {'ours s':>8} {'HGB s':>8} "
          f"{'ratio':>6}")
    for kind in ("diabetes", "randhie", "synthetic"):
        data = load(kind)
        if data is None:
            print(f"{kind:<10} skipped: statsmodels is not installed")
            continue
        X, y_reg, y_bin = data
        Xr, Xc = X if kind == "synthetic" else (X, X)
        cases = [(name, params, theirs, "regression") for name, params, theirs in REGRESSION]
        cases.append(("log_loss", {}, {}, "classification"))
        repeats_here = repeats if kind == "synthetic" else 1
        for name, params, theirs, task in cases:
            loss = get_loss(name, **params)
            ours_v, their_v, ours_t, their_t, wins = [], [], [], [], 0
            for seed in range(SPLITS[kind]):
                if task == "regression":
                    y = regression_target(kind, y_reg, name)
                    Xa, Xb, ya, yb = train_test_split(Xr, y, test_size=0.25, random_state=seed)
                    ours, t_ours = timed(lambda: GradientBoostingRegressor(loss, **SHARED).fit(Xa, ya),
                                         repeats_here)
                    ref, t_ref = timed(lambda: HistGradientBoostingRegressor(**theirs, **SHARED).fit(Xa, ya),
                                       repeats_here)
                    mine = held_out(loss, yb, loss.link.link(ours.predict(Xb)))
                    other = held_out(loss, yb, loss.link.link(ref.predict(Xb)))
                else:
                    Xa, Xb, ya, yb = train_test_split(Xc, y_bin, test_size=0.25, random_state=seed, stratify=y_bin)
                    ours, t_ours = timed(lambda: GradientBoostingClassifier(**SHARED).fit(Xa, ya), repeats_here)
                    ref, t_ref = timed(lambda: HistGradientBoostingClassifier(**SHARED).fit(Xa, ya), repeats_here)
                    mine = held_out(loss, yb, ours.decision_function(Xb))
                    other = held_out(loss, yb, ref.decision_function(Xb))
                ours_v.append(mine)
                their_v.append(other)
                wins += mine <= other * (1 + 1e-9)
                ours_t.append(t_ours)
                their_t.append(t_ref)
            label = name + (f"({params['quantile']})" if "quantile" in params else "")
            ratio = f"{np.mean(ours_t) / np.mean(their_t):>6.2f}" if kind == "synthetic" else f"{'':>6}"
            print(f"{kind:<10} {label:<16} {np.mean(ours_v):>11.6g} {np.mean(their_v):>11.6g} "
                  f"{wins:>3}/{SPLITS[kind]:<3} {np.mean(ours_t):>8.2f} {np.mean(their_t):>8.2f} {ratio}",
                  flush=True)


def booster_models(loss, alpha):
    """``{label: fit(Xa, ya) -> raw prediction function}`` for LightGBM and XGBoost (those installed)."""
    models = {}
    try:
        import lightgbm
    except ImportError:
        lightgbm = None
    try:
        import xgboost
    except ImportError:
        xgboost = None
    if lightgbm is not None:
        lgb_params = dict(n_estimators=TREES, num_leaves=LEAVES, learning_rate=RATE, min_child_samples=MIN_LEAF,
                          min_child_weight=0.0, reg_lambda=0.0, max_bin=255, verbose=-1, n_jobs=2)

        def lgb_custom(from_constant):
            def fit(Xa, ya):
                objective = as_lightgbm_objective(loss)
                init = objective.init_score(ya) if from_constant else np.zeros(ya.shape[0])
                model = lightgbm.LGBMRegressor(objective=objective, **lgb_params).fit(Xa, ya, init_score=init)
                return lambda Xb: model.predict(Xb, raw_score=True) + init[0]
            return fit

        models["LightGBM custom, from 0"] = lgb_custom(False)
        models["LightGBM custom, from best constant"] = lgb_custom(True)
        if alpha is not None:
            def lgb_builtin(Xa, ya):
                model = lightgbm.LGBMRegressor(objective="quantile", alpha=alpha, **lgb_params).fit(Xa, ya)
                return model.predict
            models["LightGBM built-in quantile"] = lgb_builtin
    if xgboost is not None:
        # XGBoost has no minimum leaf size in samples: min_child_weight bounds a leaf's hessian sum. With unit
        # hessians (the quantile, the late-delivery cost, the built-in quantile) that sum is the sample count;
        # LINEX's hessian exp(a e) averages to 1 (a = 1) over a leaf at the leaf's minimiser (its first-order
        # condition), so there too a floor of MIN_LEAF is about MIN_LEAF samples
        xgb_params = dict(n_estimators=TREES, max_leaves=LEAVES, max_depth=0, grow_policy="lossguide",
                          tree_method="hist", learning_rate=RATE, reg_lambda=0.0, max_bin=256, n_jobs=2)

        def xgb_custom(from_constant, floor=MIN_LEAF):
            def fit(Xa, ya):
                objective = as_xgboost_objective(loss)
                init = objective.init_score(ya) if from_constant else np.zeros(ya.shape[0])
                model = xgboost.XGBRegressor(objective=objective, base_score=0.0, min_child_weight=floor,
                                             **xgb_params)
                model.fit(Xa, ya, base_margin=init)
                return lambda Xb: model.predict(Xb, output_margin=True, base_margin=np.full(Xb.shape[0], init[0]))
            return fit

        models["XGBoost custom, from 0"] = xgb_custom(False)
        models["XGBoost custom, from best constant"] = xgb_custom(True)
        models[NO_FLOOR] = xgb_custom(True, floor=0.0)
        if alpha is not None:
            def xgb_builtin(Xa, ya):
                model = xgboost.XGBRegressor(objective="reg:quantileerror", quantile_alpha=alpha,
                                             min_child_weight=MIN_LEAF, **xgb_params)
                return model.fit(Xa, ya).predict
            models["XGBoost built-in quantile"] = xgb_builtin
    if lightgbm is None or xgboost is None:
        print("   (skipped: " + ", ".join(n for n, m in (("lightgbm", lightgbm), ("xgboost", xgboost)) if m is None)
              + " not installed)")
    return models


def booster_table():
    print("\n2. LightGBM and XGBoost with the same loss as a custom objective: held-out mean loss")
    # the user declares what they know of their cost: LINEX grows exponentially (its leaves are line-searched)
    custom = make_loss(linex, name="linex", convex=True, growth="exponential", a=1.0)
    business = make_loss(late_delivery, name="late_delivery", convex=True, differentiable=False)
    for label, loss, alpha in (("quantile(0.9)", get_loss("quantile", quantile=0.9), 0.9),
                               ("custom LINEX", custom, None), ("custom late-delivery cost", business, None)):
        models = booster_models(loss, alpha)
        for kind in ("diabetes", "randhie", "synthetic"):
            data = load(kind)
            if data is None:
                continue
            X, y, _ = data
            X = X[0] if kind == "synthetic" else X
            results = {"ours (GradientBoostingRegressor)": []} | {name: [] for name in models}
            for seed in range(SPLITS[kind]):
                Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=seed)
                if alpha is None:
                    ya, yb = cost_targets(kind, ya, yb)
                ours = GradientBoostingRegressor(loss, **SHARED).fit(Xa, ya)
                results["ours (GradientBoostingRegressor)"].append(held_out(loss, yb, ours.predict(Xb)))
                for name, fit in models.items():
                    results[name].append(held_out(loss, yb, fit(Xa, ya)(Xb)))
            print(f"   {label} on {kind} ({SPLITS[kind]} split{'s' if SPLITS[kind] > 1 else ''}):")
            custom = [np.mean(v) for n, v in results.items() if "custom" in n and n != NO_FLOOR]
            for name, values in results.items():
                mark = ""
                if name.startswith("ours") and custom:
                    mark = ("  <- better than every custom objective" if np.mean(values) < min(custom)
                            else "  (NOT better than every custom objective)")
                    if NO_FLOOR in results:
                        mark += (", and than XGBoost's without a leaf floor"
                                 if np.mean(values) < np.mean(results[NO_FLOOR]) else
                                 ", not than XGBoost's without a leaf floor")
                elif name == NO_FLOOR:
                    mark = "  (context)"
                print(f"      {name:<44} {np.mean(values):>11.6g}{mark}", flush=True)


def sensitivity_table(draws, scale=1e-5):
    """The closest cells again over targets perturbed by ``scale`` times standard normal noise (the targets'
    standard deviation is 1; draw 0 is unperturbed): how far such a change moves each model's held-out loss,
    against the gap between the models."""
    print(f"\n3. Sensitivity of the closest cells: training targets + {scale:g} x N(0, 1), {draws} draws "
          "(draw 0 unperturbed): mean and spread over the draws of the mean held-out loss")
    linex_loss = make_loss(linex, name="linex", convex=True, growth="exponential", a=1.0)
    quantile = get_loss("quantile", quantile=0.9)
    cells = [("quantile(0.9) on synthetic", "synthetic", quantile,
              {"HistGradientBoostingRegressor": lambda Xa, ya: HistGradientBoostingRegressor(
                  loss="quantile", quantile=0.9, **SHARED).fit(Xa, ya).predict}),
             ("custom LINEX on randhie", "randhie", linex_loss,
              {n: f for n, f in booster_models(linex_loss, None).items() if "best constant" in n})]
    for label, kind, loss, references in cells:
        data = load(kind)
        if data is None or not references:
            print(f"   {label}: skipped (a package is missing)")
            continue
        X, y, _ = data
        X = X[0] if kind == "synthetic" else X
        means = {"ours (GradientBoostingRegressor)": []} | {name: [] for name in references}
        for draw in range(draws):
            values = {name: [] for name in means}
            for seed in range(SPLITS[kind]):
                Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=seed)
                if loss is linex_loss:
                    ya, yb = cost_targets(kind, ya, yb)
                if draw:
                    ya = ya + scale * np.random.default_rng(draw).normal(size=ya.shape[0])
                ours = GradientBoostingRegressor(loss, **SHARED).fit(Xa, ya)
                values["ours (GradientBoostingRegressor)"].append(held_out(loss, yb, ours.predict(Xb)))
                for name, fit in references.items():
                    values[name].append(held_out(loss, yb, fit(Xa, ya)(Xb)))
            for name, v in values.items():
                means[name].append(np.mean(v))
        print(f"   {label} ({SPLITS[kind]} splits each):")
        mine = np.array(means["ours (GradientBoostingRegressor)"])
        for name, v in means.items():
            v = np.array(v)
            won = "" if name.startswith("ours") else f"  ours better in {int(np.sum(mine < v))} of {draws} draws"
            print(f"      {name:<44} {v.mean():>11.6g} +- {v.std():<9.2g} (range {v.min():.6g} to {v.max():.6g})"
                  f"{won}", flush=True)


def exact_table():
    print("\n4. scikit-learn's exact GradientBoostingRegressor, quantile 0.9, n = 100,000")
    (X, _), y, _ = load("synthetic")
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=0)
    loss = get_loss("quantile", quantile=0.9)
    ours, t_ours = timed(lambda: GradientBoostingRegressor(loss, **SHARED).fit(Xa, ya), 1)
    exact, t_exact = timed(lambda: ExactGB(loss="quantile", alpha=0.9, n_estimators=TREES, max_leaf_nodes=LEAVES,
                                           min_samples_leaf=MIN_LEAF, learning_rate=RATE).fit(Xa, ya), 1)
    print(f"   ours: held-out pinball {loss.loss(yb, ours.predict(Xb)):.6g} in {t_ours:.2f} s; "
          f"exact: {loss.loss(yb, exact.predict(Xb)):.6g} in {t_exact:.2f} s ({t_exact / t_ours:.1f}x faster)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-exact", action="store_true")
    parser.add_argument("--skip-boosters", action="store_true")
    parser.add_argument("--draws", type=int, default=6, help="perturbed draws of section 3 (0 skips it)")
    args = parser.parse_args()
    X, y = load_diabetes(return_X_y=True)
    for name in ("squared_error", "absolute_error", "poisson"):  # compile the kernels once, outside the timings
        GradientBoostingRegressor(name, max_iter=2).fit(X, y)
    GradientBoostingClassifier(max_iter=2).fit(X, y > 140)
    hgb_table(args.repeats)
    if not args.skip_boosters:
        booster_table()
    if args.draws:
        sensitivity_table(args.draws)
    if not args.skip_exact:
        exact_table()


if __name__ == "__main__":
    main()
