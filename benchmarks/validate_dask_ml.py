"""dask-ml's Incremental and ParallelPostFit around every estimator with partial_fit, on a LocalCluster.

For each estimator that streams (the linear models with their stochastic
solvers, the MLPs, the approximate-kernel SVMs):

* ``Incremental(estimator, shuffle_blocks=False).fit(X, y)`` on a Dask array
  of 8 blocks must give exactly the model of calling ``partial_fit`` on the
  same blocks in the same order in memory (dask-ml passes one block per call);
* ``ParallelPostFit(estimator).predict(X)`` (and ``predict_proba`` where it
  exists) on the Dask array must equal the in-memory prediction;
* ``IncrementalSearchCV`` is tried once and its outcome reported (with
  dask 2026.8.0 and dask-ml 2025.1.0 it fails inside dask-ml: "Attempting to
  use an asynchronous Client in a synchronous context of dask.compute").

Run: ``python benchmarks/validate_dask_ml.py`` in an environment with the
``dask`` extra and ``dask-ml`` (the ``bench`` extra). Prints one line per
check and exits non-zero if a check fails.
"""

import sys
import warnings

import numpy as np


def estimators():
    from sklearn_losses.linear_model import LinearClassifier, LinearRegressor
    from sklearn_losses.neural_network import MLPClassifier, MLPRegressor
    from sklearn_losses.svm import SVMClassifier, SVMRegressor

    return [
        (LinearRegressor("huber", solver="adam", random_state=0), "regression"),
        (LinearRegressor("squared_error", solver="sgd", random_state=0), "regression"),
        (LinearClassifier("log_loss", solver="adam", random_state=0), "classification"),
        (LinearClassifier("focal", solver="sgd", random_state=0), "classification"),
        (MLPRegressor(loss="huber", hidden_layer_sizes=(16,), random_state=0), "regression"),
        (MLPClassifier(hidden_layer_sizes=(16,), random_state=0), "classification"),
        (SVMRegressor(kernel="rbf", kernel_approximation="random_fourier", alpha=1e-3, random_state=0),
         "regression"),
        (SVMClassifier(kernel="rbf", kernel_approximation="nystroem", alpha=1e-3, random_state=0),
         "classification"),
    ]


def main():
    import dask.array as da
    from dask_ml.wrappers import Incremental, ParallelPostFit
    from distributed import Client, LocalCluster
    from sklearn.base import clone

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 6))
    score = X @ rng.standard_normal(6)
    targets = {"regression": score + rng.standard_normal(4000),
               "classification": np.digitize(score + rng.standard_normal(4000), [-1.0, 1.0])}
    Xd = da.from_array(X, chunks=(500, 6))
    failures = 0
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
        for template, task in estimators():
            y = targets[task]
            yd = da.from_array(y, chunks=500)
            name = f"{type(template).__name__}({getattr(template, 'loss', '')}, {getattr(template, 'solver', '')})"
            extra = {"classes": np.unique(y)} if task == "classification" else {}
            wrapped = Incremental(clone(template), shuffle_blocks=False).fit(Xd, yd, **extra)
            manual = clone(template)
            for start in range(0, 4000, 500):
                manual.partial_fit(X[start:start + 500], y[start:start + 500], **extra)
            same = np.array_equal(wrapped.estimator_.predict(X), manual.predict(X))
            failures += not same
            print(f"Incremental     {name:55s} same model as partial_fit on the blocks: {same}")
            fitted = clone(template).fit(X, y)
            post = ParallelPostFit(fitted)
            same = np.array_equal(post.predict(Xd).compute(), fitted.predict(X))
            if hasattr(fitted, "predict_proba"):
                same &= np.allclose(post.predict_proba(Xd).compute(), fitted.predict_proba(X), rtol=1e-12)
            failures += not same
            print(f"ParallelPostFit {name:55s} same predictions as in memory: {same}")
        try:
            from dask_ml.model_selection import IncrementalSearchCV

            from sklearn_losses.linear_model import LinearClassifier

            search = IncrementalSearchCV(LinearClassifier(solver="adam", random_state=0),
                                         {"alpha": [1e-4, 1e-2]}, n_initial_parameters=2, max_iter=3,
                                         random_state=0)
            search.fit(Xd, da.from_array(targets["classification"], chunks=500),
                       classes=np.unique(targets["classification"]))
            print(f"IncrementalSearchCV works: best {search.best_params_}, score {search.best_score_:.3f}")
        except Exception as error:  # reported, not a failure of ours
            print(f"IncrementalSearchCV fails with this dask/dask-ml: {type(error).__name__}: {error}")
    print("all checks passed" if not failures else f"{failures} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
