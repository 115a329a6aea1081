"""Training for F1 directly: overlap losses against scikit-learn's two usual workarounds, PyTorch's L-BFGS, the floor.

Three parts, side by side in one run:

1. **Held-out F1** on imbalanced data shipped with scikit-learn or
   statsmodels (digits one-vs-rest, each digit about 10% positives, averaged
   over the ten digits; breast cancer, malignant positive, 37%; the
   statsmodels ``fair`` affairs data, 32%, or scikit-learn's wine class 2,
   27%, without statsmodels): 5-fold stratified cross-validation of
   ``StandardScaler`` + model, for ``LogisticRegression(class_weight=
   "balanced")``, ``TunedThresholdClassifierCV(LogisticRegression(),
   scoring="f1")`` and ``LinearClassifier`` / ``MLPClassifier`` trained on
   the soft F1 (= soft Dice) and on ``log_loss + soft_dice``; mean fit time.
2. **The batch objective against PyTorch**: the same linear model and loss
   (soft Dice, and log loss + soft Dice, plus the L2 penalty) fitted by our
   L-BFGS and by ``torch.optim.LBFGS`` (strong Wolfe line search, float64,
   from zero, to the same gradient tolerance): final objective and time
   (needs torch: the ``bench`` extra).
3. **Throughput**: ``SoftDice.loss_gradient`` on 10^7 samples with a
   preallocated ``gradient_out`` against the memory-bandwidth floor of
   ``bench_losses.py`` (a threaded fused read of ``y`` and ``raw`` and write
   of the gradient), and the peak of the loss's own allocations (tracemalloc).

Run:  python benchmarks/bench_overlap.py            (about 3 minutes)
      python benchmarks/bench_overlap.py --quick    (fewer folds, smaller arrays)
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_wine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_losses.linear_model import LinearClassifier  # noqa: E402
from sklearn_losses.losses import SoftDice, WeightedSum, get_loss  # noqa: E402
from sklearn_losses.neural_network import MLPClassifier  # noqa: E402

ROBUST = WeightedSum([(1.0, "log_loss"), (1.0, "soft_dice")])


def datasets():
    """``[(name, [(X, y), ...])]``: each entry a list of binary tasks whose F1 is averaged."""
    digits = load_digits()
    cancer = load_breast_cancer()
    out = [("digits (10 x one-vs-rest, 10%)", [(digits.data, (digits.target == d).astype(int)) for d in range(10)]),
           ("breast cancer (malignant, 37%)", [(cancer.data, 1 - cancer.target)])]
    try:
        import statsmodels.api as sm

        fair = sm.datasets.fair.load_pandas().data
        X = fair.drop(columns=["affairs"]).to_numpy(dtype=float)
        out.append(("statsmodels fair (affairs > 0, 32%)", [(X, (fair["affairs"] > 0).to_numpy().astype(int))]))
    except ImportError:
        wine = load_wine()
        out.append(("wine (class 2, 27%)", [(wine.data, (wine.target == 2).astype(int))]))
    return out


def models():
    return {
        "LogisticRegression(balanced)": lambda: LogisticRegression(class_weight="balanced", max_iter=5000),
        "TunedThreshold(LogisticRegression, f1)": lambda: TunedThresholdClassifierCV(
            LogisticRegression(max_iter=5000), scoring="f1"),
        "LinearClassifier(soft_f1)": lambda: LinearClassifier("soft_f1", alpha=1e-3, max_iter=2000),
        "LinearClassifier(log_loss + soft_dice)": lambda: LinearClassifier(ROBUST, alpha=1e-3, max_iter=2000),
        "MLPClassifier(soft_f1)": lambda: MLPClassifier("soft_f1", hidden_layer_sizes=(32,), solver="lbfgs",
                                                        alpha=0.1, max_iter=300, random_state=0),
        "MLPClassifier(log_loss + soft_dice)": lambda: MLPClassifier(ROBUST, hidden_layer_sizes=(32,),
                                                                     solver="lbfgs", alpha=0.1, max_iter=300,
                                                                     random_state=0),
    }


def held_out_f1(folds):
    rows = {}
    for data_name, tasks in datasets():
        for model_name, make in models().items():
            scores, seconds = [], []
            for X, y in tasks:
                for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y):
                    model = make_pipeline(StandardScaler(), make())
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        model.fit(X[train], y[train])
                    seconds.append(time.perf_counter() - start)
                    scores.append(f1_score(y[test], model.predict(X[test])))
            rows[data_name, model_name] = (float(np.mean(scores)), float(np.mean(seconds)))
    return rows


def report_f1(rows):
    data_names = list(dict.fromkeys(d for d, _ in rows))
    model_names = list(dict.fromkeys(m for _, m in rows))
    print("\n1. Held-out F1 (mean over folds and tasks) / mean fit time")
    print(f"{'model':40s} " + " ".join(f"{d[:24]:>24s}" for d in data_names) + f" {'mean F1':>8s}")
    means = {}
    for m in model_names:
        cells = [rows[d, m] for d in data_names]
        means[m] = np.mean([f1 for f1, _ in cells])
        print(f"{m:40s} " + " ".join(f"{f1:8.4f} / {1e3 * s:8.1f} ms " for f1, s in cells) + f" {means[m]:8.4f}")
    best_reference = max(means["LogisticRegression(balanced)"], means["TunedThreshold(LogisticRegression, f1)"])
    for m in model_names[2:]:
        print(f"  {m}: mean F1 {means[m]:.4f} vs the better reference {best_reference:.4f} "
              f"({'at least as good' if means[m] >= best_reference else 'worse'})")


def torch_lbfgs(loss_name, X, y, alpha, tol):
    """Our L-BFGS and torch.optim.LBFGS on ``loss + alpha/2 ||w||^2`` of a linear model; ``(ours, torch)``."""
    import torch

    loss = get_loss(loss_name) if isinstance(loss_name, str) else loss_name
    start = time.perf_counter()
    ours = LinearClassifier(loss, alpha=alpha, tol=tol, max_iter=10000).fit(X, y)
    ours_time = time.perf_counter() - start

    Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)

    def objective():
        z = Xt @ w + b
        p = torch.sigmoid(z)
        tp, fp, fn = (yt * p).sum(), ((1 - yt) * p).sum(), (yt * (1 - p)).sum()
        value = 1 - 2 * tp / (2 * tp + fp + fn)
        if loss_name is ROBUST:
            value = value + torch.nn.functional.binary_cross_entropy_with_logits(z, yt)
        return value + 0.5 * alpha * (w @ w)

    optimizer = torch.optim.LBFGS([w, b], lr=1, max_iter=10000, max_eval=20000, tolerance_grad=1e-9,
                                  tolerance_change=1e-15, history_size=10, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        value = objective()
        value.backward()
        return value

    start = time.perf_counter()
    optimizer.step(closure)
    torch_time = time.perf_counter() - start
    with torch.no_grad():
        torch_value = float(objective())
    return (ours.objective_, ours_time), (torch_value, torch_time)


def report_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        print("\n2. PyTorch L-BFGS: torch is not installed (pip install 'sklearn-losses[bench]'); skipped")
        return
    print("\n2. The batch objective (loss + alpha/2 ||w||^2, alpha = 1e-3): our L-BFGS vs torch.optim.LBFGS")
    print(f"{'data':24s} {'loss':26s} {'ours':>14s} {'torch':>14s} {'rel. gap':>10s} {'ours s':>8s} {'torch s':>8s}")
    digits = load_digits()
    cancer = load_breast_cancer()
    for data_name, X, y in (("breast cancer", cancer.data, 1 - cancer.target),
                            ("digits 0 vs rest", digits.data, (digits.target == 0).astype(int))):
        X = StandardScaler().fit_transform(X)
        for loss in ("soft_dice", ROBUST):
            (ours, ours_time), (theirs, torch_time) = torch_lbfgs(loss, X, y, 1e-3, 1e-10)
            name = "soft_dice" if isinstance(loss, str) else "log_loss + soft_dice"
            print(f"{data_name:24s} {name:26s} {ours:14.10f} {theirs:14.10f} {(ours - theirs) / abs(theirs):10.2e} "
                  f"{ours_time:8.3f} {torch_time:8.3f}")
    print("  rel. gap < 0: ours lower (better); the target is a gap of at most 1e-6 in less time")


def report_throughput(n, repeats):
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_losses import floor_elementwise

    rng = np.random.default_rng(0)
    y = (rng.random(n) < 0.1).astype(np.float64)
    raw = rng.normal(size=n)
    out = np.empty(n)
    loss = SoftDice(smooth=1.0)
    floor_elementwise(y, raw, out)
    loss.loss_gradient(y, raw, gradient_out=out)  # compile (or load) the kernels
    floors, ours = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        floor_elementwise(y, raw, out)
        floors.append(time.perf_counter() - start)
        start = time.perf_counter()
        loss.loss_gradient(y, raw, gradient_out=out, check_input=False)
        ours.append(time.perf_counter() - start)
    tracemalloc.start()
    loss.loss_gradient(y, raw, gradient_out=out, check_input=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    floor, mine = np.median(floors), np.median(ours)
    print(f"\n3. SoftDice loss + gradient, {n:.0e} samples (median of {repeats})")
    print(f"  floor {1e3 * floor:.1f} ms, ours {1e3 * mine:.1f} ms: {mine / floor:.2f} x the floor; peak allocation "
          f"of the call {peak / 1e6:.2f} MB (inputs and gradient: {3 * n * 8 / 1e6:.0f} MB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    report_f1(held_out_f1(3 if args.quick else 5))
    report_torch()
    report_throughput(10**6 if args.quick else 10**7, 5 if args.quick else 15)


if __name__ == "__main__":
    main()
