"""Kernel SVM benchmark: SVMClassifier against sklearn.svm.SVC on the same data, same C and gamma.

Run ``python benchmarks/bench_svm.py`` (about 3 minutes on 2 cores;
``--quick`` for a smaller run). For n = 2,000 / 10,000 / 20,000 training
samples with 20 features (``make_classification``, 5% label noise) and 5,000
held-out samples, it reports the fit time and held-out accuracy of

* the hinge loss, whose problem is SVC's: also the largest difference of the
  decision values (both stop at SVC's default tolerance 1e-3);
* the squared hinge (solved exactly by the same SMO with the curvature on the
  diagonal), against the same SVC fit;

the log loss (kernel logistic regression, solved exactly by SMO in the dual)
against Platt scaling of SVC on 5-fold decision values
(``CalibratedClassifierCV(SVC(), ensemble=False)``, what scikit-learn 1.9
recommends in place of the deprecated ``SVC(probability=True)``), the
scikit-learn way to get probabilities from a kernel machine: fit time,
held-out log loss and accuracy; the multiclass hinge fitted natively (Crammer-Singer and Weston-Watkins, one
joint problem) against SVC's one-vs-one hinge on 4 classes at n = 2,000 and
10,000 (``--multiclass-n`` to change); and the approximate path (Nystroem,
500 components, then the linear solver)
at n = 200,000, where SVC's O(n^2) kernel work is out of reach. Compile and
cache-load time is measured once, before the runs, on small data.
"""

import argparse
import time

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.svm import SVC

from sklearn_losses.losses import MulticlassHinge
from sklearn_losses.svm import SVMClassifier


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def data(n, n_test=5000, n_classes=2):
    X, y = make_classification(n + n_test, 20, n_informative=10, n_classes=n_classes, flip_y=0.05, random_state=0)
    return X[:n], y[:n], X[n:], y[n:]


def warm_up():
    """Compile (or load from the cache) every specialisation the runs use.

    Beyond 8,000 samples kernel rows are float32, a second specialisation of
    the solver: one fit at 8,200 samples loads it.
    """
    start = time.perf_counter()
    for n in (300, 8_200):
        X, y, _, _ = data(n, 10)
        for loss in ("hinge", "squared_hinge", "log_loss"):
            SVMClassifier(loss).fit(X, y)
        X, y, _, _ = data(n, 10, n_classes=4)
        for kind in MULTICLASS:
            SVMClassifier(MulticlassHinge(kind), random_state=0).fit(X, y)
    X, y, _, _ = data(300, 10)
    for loss in ("hinge", "squared_hinge"):
        SVMClassifier(loss, kernel_approximation="nystroem", n_components=50).fit(X, y)
    print(f"warm-up fits (compile / cache load, and fits at 300 and 8,200 samples): "
          f"{time.perf_counter() - start:.2f} s")


def bench_exact(n):
    X, y, X_test, y_test = data(n)
    t_ref, ref = timed(lambda: SVC().fit(X, y))
    acc_ref = ref.score(X_test, y_test)
    for loss in ("hinge", "squared_hinge"):
        t_ours, ours = timed(lambda: SVMClassifier(loss).fit(X, y))
        acc = ours.score(X_test, y_test)
        extra = ""
        if loss == "hinge":
            diff = np.abs(ours.decision_function(X_test) - ref.decision_function(X_test)).max()
            extra = f"  max |decision difference| {diff:.1e}"
        print(f"{loss:13s} n={n:>6,}: ours {t_ours:7.2f} s  SVC(hinge) {t_ref:7.2f} s  speed-up "
              f"{t_ref / t_ours:5.2f}x  accuracy ours {acc:.4f}  SVC {acc_ref:.4f}  "
              f"support vectors ours {ours.support_.size}  SVC {ref.support_.size}{extra}")


def bench_probability(n):
    X, y, X_test, y_test = data(n)
    t_ref, ref = timed(lambda: CalibratedClassifierCV(SVC(), method="sigmoid", cv=5, ensemble=False).fit(X, y))
    t_ours, ours = timed(lambda: SVMClassifier("log_loss").fit(X, y))
    print(f"log_loss      n={n:>6,}: ours {t_ours:7.2f} s  SVC + Platt {t_ref:7.2f} s  speed-up "
          f"{t_ref / t_ours:5.2f}x  held-out log loss ours {log_loss(y_test, ours.predict_proba(X_test)):.4f}  "
          f"SVC {log_loss(y_test, ref.predict_proba(X_test)):.4f}  accuracy ours {ours.score(X_test, y_test):.4f}  "
          f"SVC {ref.score(X_test, y_test):.4f}")


MULTICLASS = ("crammer_singer", "weston_watkins")


def bench_multiclass(n):
    X, y, X_test, y_test = data(n, n_classes=4)
    t_ref, ref = timed(lambda: SVC().fit(X, y))
    print(f"multiclass    n={n:>6,}: SVC (one-vs-one hinge) {t_ref:7.2f} s  accuracy {ref.score(X_test, y_test):.4f}")
    for kind in MULTICLASS:
        t_ours, ours = timed(lambda: SVMClassifier(MulticlassHinge(kind), random_state=0).fit(X, y))
        print(f"  {kind:15s} ours {t_ours:7.2f} s  speed-up {t_ref / t_ours:5.2f}x  accuracy "
              f"{ours.score(X_test, y_test):.4f}  support vectors {ours.support_.size} (SVC {ref.support_.size})")


def bench_approximate(n, n_components=500):
    X, y, X_test, y_test = data(n)
    for loss in ("hinge", "squared_hinge"):
        t_ours, ours = timed(lambda: SVMClassifier(loss, kernel_approximation="nystroem",
                                                   n_components=n_components, random_state=0).fit(X, y))
        print(f"{loss:13s} n={n:>7,}: approximate path (Nystroem, {n_components} components, "
              f"{ours.linear_.solver_}) {t_ours:7.2f} s  accuracy {ours.score(X_test, y_test):.4f}  "
              "(SVC not run: its kernel work grows as n^2)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--multiclass-n", type=int, nargs="*", default=None)
    args = parser.parse_args()
    warm_up()
    for n in (2_000, 5_000) if args.quick else (2_000, 10_000, 20_000):
        bench_exact(n)
    for n in (2_000, 5_000) if args.quick else (2_000, 10_000, 20_000):
        bench_probability(n)
    for n in args.multiclass_n or ((2_000,) if args.quick else (2_000, 10_000)):
        bench_multiclass(n)
    bench_approximate(20_000 if args.quick else 200_000)


if __name__ == "__main__":
    main()
