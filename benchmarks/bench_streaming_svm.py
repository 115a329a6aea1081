"""One pass of ``partial_fit`` on the approximate-kernel SVMs against a full ``fit`` on the same data.

Regression: make_friedman1 (3,000 training rows, 1,000 held out, noise 0.5),
SVMRegressor(squared_error, Nystroem, 200 components, C=10); classification:
make_classification (3,000 / 1,000 rows, 20 features), SVMClassifier(hinge,
Nystroem, 200 components, C=1). The stream is the training rows in order,
in batches of 200 or 500 rows (as dask-ml's Incremental passes blocks); each
batch is passed once. ``alpha = 1 / (C n)`` makes the streaming objective
that of ``fit``. Also shown: the settings of the previous release (Adam at
0.01, batches of 256, one pass per batch).

    python benchmarks/bench_streaming_svm.py
"""

import platform
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification, make_friedman1
from sklearn.preprocessing import StandardScaler

from sklearn_losses.svm import SVMClassifier, SVMRegressor

N_TRAIN, N_TEST, COMPONENTS = 3000, 1000, 200


def _data(task):
    if task == "regression":
        X, y = make_friedman1(n_samples=N_TRAIN + N_TEST, noise=0.5, random_state=0)
        y = (y - y.mean()) / y.std()
    else:
        X, y = make_classification(n_samples=N_TRAIN + N_TEST, n_features=20, n_informative=8,
                                   class_sep=0.8, random_state=0)
    X = StandardScaler().fit_transform(X)
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


def _model(task, **streaming):
    common = dict(kernel_approximation="nystroem", n_components=COMPONENTS, random_state=0, **streaming)
    if task == "regression":
        return SVMRegressor("squared_error", C=10.0, **common), 10.0
    return SVMClassifier("hinge", C=1.0, **common), 1.0


def _stream(task, block, **streaming):
    X, y, X_test, y_test = _data(task)
    model, C = _model(task, **streaming)
    model.set_params(alpha=1.0 / (C * N_TRAIN))
    classes = None if task == "regression" else np.unique(y)
    start = time.perf_counter()
    for s in range(0, N_TRAIN, block):
        extra = {} if classes is None else {"classes": classes}
        model.partial_fit(X[s:s + block], y[s:s + block], **extra)
    return model.score(X_test, y_test), time.perf_counter() - start


def main():
    warnings.simplefilter("ignore")
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    previous = dict(learning_rate_init=0.01, batch_size=256, partial_fit_epochs=1)
    print(f"{'task':<15}{'model':<38}{'held-out score':>15}{'seconds':>10}")
    for task in ("regression", "classification"):
        X, y, X_test, y_test = _data(task)
        model, _ = _model(task)
        start = time.perf_counter()
        full = model.fit(X, y).score(X_test, y_test)
        print(f"{task:<15}{'fit (all rows at once)':<38}{full:>15.4f}{time.perf_counter() - start:>10.2f}")
        for block in (200, 500):
            score, seconds = _stream(task, block)
            print(f"{task:<15}{f'partial_fit, one pass, batches of {block}':<38}{score:>15.4f}{seconds:>10.2f}"
                  f"   ({score - full:+.4f} vs fit)")
            score, seconds = _stream(task, block, **previous)
            print(f"{task:<15}{f'  previous settings, batches of {block}':<38}{score:>15.4f}{seconds:>10.2f}")
    print("score: R^2 (regression) or accuracy (classification) on 1,000 held-out rows")


if __name__ == "__main__":
    main()
