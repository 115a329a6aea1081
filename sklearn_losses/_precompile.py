"""Compile the kernels of chosen estimators and losses ahead of need, into the kernel cache.

A first fit in a fresh environment compiles every kernel it calls (seconds
per estimator); later processes load them from the disk cache in
milliseconds. :func:`precompile` (and ``sklearn-losses precompile``) runs
small representative fits of each chosen estimator family and loss, with and
without sample weights, and with the threaded kernels forced, so that the
kernels a real fit will call are compiled once per machine, in parallel
processes with ``jobs > 1``. What it compiles is exactly what a fit compiles:
the same code paths, on small bundled data.
"""

import functools
import itertools
import os
import time
import warnings
import numpy as np

from .losses import get_loss
from .losses._base import LABEL_TASKS

__all__ = ["FAMILIES", "cache_locations", "precompile"]

#: Estimator families and the default loss of each of their estimators.
FAMILIES = ("linear", "svm", "mlp", "boosting")


def cache_locations():
    """Where compiled kernels go: the generated modules' directory and numba's cache."""
    from .losses._factory import kernel_dir

    numba_dir = os.environ.get("NUMBA_CACHE_DIR")
    where = f"numba's cache in {numba_dir}" if numba_dir else "numba's cache beside them and the package's files"
    return f"{kernel_dir()} ({where})"


def _default_losses(families):
    from ._compare import DEFAULT_LOSSES
    from .ensemble import GradientBoostingClassifier, GradientBoostingRegressor
    from .linear_model import LinearClassifier, LinearRegressor, OrdinalClassifier
    from .neural_network import MLPClassifier, MLPOrdinalClassifier, MLPRegressor
    from .svm import SVMClassifier, SVMRegressor

    estimators = {"linear": (LinearRegressor, LinearClassifier, OrdinalClassifier),
                  "svm": (SVMRegressor, SVMClassifier), "mlp": (MLPRegressor, MLPClassifier, MLPOrdinalClassifier),
                  "boosting": (GradientBoostingRegressor, GradientBoostingClassifier)}
    names = []
    for family in families:
        names += [cls().get_params()["loss"] for cls in estimators[family]]
    for task in ("regression", "binary", "multiclass", "ordinal"):
        names += DEFAULT_LOSSES[task]
    return list(dict.fromkeys(names))


def _resolve(estimators, losses):
    from .losses import available_losses

    families = list(FAMILIES) if estimators is None else [estimators] if isinstance(estimators, str) else list(estimators)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise ValueError(f"estimators: unknown estimator family {unknown[0] if unknown else None!r}; "
                         f"choose among {', '.join(FAMILIES)}.")
    registry = {info.name: info.task for info in available_losses()}
    if losses is None or losses == "default":
        names = _default_losses(families)
    elif losses == "all":
        names = sorted(registry)
    else:
        names = [losses] if isinstance(losses, str) else list(losses)
    for name in names:
        if name not in registry:
            try:  # an alias ("cumulative_probit")
                registry[name] = get_loss(name).task
            except ValueError:
                raise ValueError(f"losses: unknown loss {name!r}; available: {', '.join(sorted(registry))} "
                                 "(or 'default', 'all').") from None
    return [(family, name, registry[name]) for family in families for name in names]


@functools.lru_cache(maxsize=None)
def _data(task):
    """Small bundled data for ``task`` (features standardised; loaded once per process)."""
    from sklearn import datasets

    if task == "regression":
        X, y = datasets.load_diabetes(return_X_y=True)
        X, y = X[:120], y[:120] / y.std()  # positive targets: valid for every regression loss
    elif task == "boxes":  # corner boxes around the (positive) targets, sized by two features
        X, y = _data("regression")
        half = np.exp(0.3 * X[:, :2])
        return X, np.column_stack([y - half[:, 0], y - half[:, 1], y + half[:, 0], y + half[:, 1]])
    elif task in LABEL_TASKS:
        X, y = datasets.load_breast_cancer(return_X_y=True)
        X, y = X[:120], y[:120]
    elif task == "ordinal":  # three ordered classes of the diabetes target's terciles
        X, y = datasets.load_diabetes(return_X_y=True)
        X, y = X[:150], np.digitize(y[:150], np.quantile(y[:150], [1 / 3, 2 / 3]))
    else:  # multiclass; distribution targets are class probabilities
        X, y = datasets.load_iris(return_X_y=True)
        if task == "distribution":
            y = np.eye(3)[y] * 0.8 + 0.2 / 3
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y


def _estimator(family, loss, task):
    if task == "ordinal":
        if family == "linear":
            from .linear_model import OrdinalClassifier

            return OrdinalClassifier(loss, max_iter=20)
        if family == "mlp":
            from .neural_network import MLPOrdinalClassifier

            return MLPOrdinalClassifier(loss, hidden_layer_sizes=(8,), max_iter=3, random_state=0)
        raise ValueError(f"{family}: no estimator of ordinal targets")
    if family == "linear":
        from .linear_model import LinearClassifier, LinearRegressor

        cls = LinearRegressor if task in ("regression", "distribution") else LinearClassifier
        instance = get_loss(loss)
        # a loss of the whole batch without a gradient (Lovász): the subgradient solver its fits need
        solver = "adam" if instance.structure == "batch" and not instance.differentiable else "auto"
        return cls(loss, max_iter=20, solver=solver)
    if family == "svm":
        from .svm import SVMClassifier, SVMRegressor

        return (SVMRegressor if task in ("regression", "distribution") else SVMClassifier)(loss)
    if family == "boosting":
        from .ensemble import GradientBoostingClassifier, GradientBoostingRegressor

        cls = GradientBoostingRegressor if task in ("regression", "distribution") else GradientBoostingClassifier
        return cls(loss, max_iter=3, early_stopping=False)
    from .neural_network import MLPClassifier, MLPRegressor

    cls = MLPRegressor if task in ("regression", "distribution") else MLPClassifier
    return cls(loss, hidden_layer_sizes=(8,), max_iter=3, random_state=0)


def _exercise(model, X, y, weighted):
    weights = np.linspace(0.5, 1.5, X.shape[0]) if weighted else None
    model.fit(X, y, sample_weight=weights)
    model.predict(X)
    for method in ("decision_function", "predict_proba"):
        if hasattr(model, method):
            try:
                getattr(model, method)(X)
            except (AttributeError, ValueError):  # e.g. no probabilities for a hinge loss
                pass
    model.score(X, y, sample_weight=weights)


def _run_item(item, threaded, weighted):
    """Compile one (family, loss, task); returns ``(item, seconds, None or the reason it was skipped)``."""
    family, loss, task = item
    # binary and overlap losses also fit one-vs-rest; box losses (a box link) fit boxes
    tasks = [task] + (["multiclass"] if task in LABEL_TASKS else [])
    # threshold "0": every kernel threaded (the variants of large arrays)
    boxes = get_loss(loss).link.name == "box"
    runs = itertools.product([None, "0"] if threaded else [None], tasks, [False, True] if weighted else [False])
    start = time.perf_counter()
    failed = set()  # tasks the family does not take with this loss
    saved = os.environ.get("SKLEARN_LOSSES_PARALLEL_THRESHOLD")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for threshold, fit_task, w in runs:
                if fit_task in failed:
                    continue
                if threshold is not None:
                    os.environ["SKLEARN_LOSSES_PARALLEL_THRESHOLD"] = threshold
                try:
                    _exercise(_estimator(family, loss, fit_task), *_data("boxes" if boxes else fit_task), w)
                except (ValueError, TypeError) as error:
                    if fit_task == task:
                        return item, time.perf_counter() - start, \
                            f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
                    failed.add(fit_task)
        finally:
            if saved is None:
                os.environ.pop("SKLEARN_LOSSES_PARALLEL_THRESHOLD", None)
            else:
                os.environ["SKLEARN_LOSSES_PARALLEL_THRESHOLD"] = saved
    return item, time.perf_counter() - start, None


def _run_items(items, threaded, weighted):
    return [_run_item(item, threaded, weighted) for item in items]


def precompile(estimators=None, losses=None, *, jobs=1, threaded=True, weighted=True, progress=None):
    """Compile the kernels that the chosen estimators use with the chosen losses, into the kernel cache.

    Parameters
    ----------
    estimators : str or list of str, default=None
        Estimator families among ``"linear"``, ``"svm"``, ``"mlp"``,
        ``"boosting"``; None: all of them. Each family's regressor and classifier are fitted, as the
        loss's task requires.
    losses : "default", "all" or list of str, default=None
        Registered loss names. None or ``"default"``: the estimators' default
        losses and the candidates ``sklearn-losses compare`` uses by default;
        ``"all"``: every registered loss. Pairs that a family does not take
        (a loss that kernel SVMs cannot fit, say) are reported as skipped.
    jobs : int, default=1
        Processes compiling in parallel (each pair is compiled in one of
        them; ``1``: in this process).
    threaded : bool, default=True
        Also compile the threaded kernels, which fits use from 200,000 array
        elements on (``SKLEARN_LOSSES_PARALLEL_THRESHOLD``). They take about
        half of the time.
    weighted : bool, default=True
        Also compile the kernels with sample weights.
    progress : callable, optional
        ``progress(done, total, label)`` after each pair.

    Returns
    -------
    list of dict
        One per pair: ``estimator``, ``loss``, ``task``, ``seconds`` and
        ``skipped`` (None, or why the family does not take the loss).

    Notes
    -----
    The kernels go where every fit looks for them (see
    :func:`sklearn_losses.losses._factory.kernel_dir`, and ``NUMBA_CACHE_DIR``
    for numba's own cache): set the same environment for the processes that
    will fit. The cache is per machine, Python, numba and package version; a
    second run compiles nothing (it runs the same small fits: about 20 s for
    the defaults on 2 cores).
    """
    if not isinstance(jobs, (int, np.integer)) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer; got {jobs!r}.")
    items = _resolve(estimators, losses)
    results = []

    def record(done):
        for item, seconds, skipped in done:
            family, loss, task = item
            results.append({"estimator": family, "loss": loss, "task": task, "seconds": seconds, "skipped": skipped})
            if progress is not None:
                progress(len(results), len(items), f"{family} {loss}")

    if jobs == 1 or len({item[1] for item in items}) == 1:
        for item in items:
            record([_run_item(item, threaded, weighted)])
        return results
    # One task per loss (its kernels serve every family: no two processes
    # compile the same loss kernel), in the order given.
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    groups = {}
    for item in items:
        groups.setdefault(item[1], []).append(item)
    with ProcessPoolExecutor(max_workers=min(jobs, len(groups)), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_run_items, group, threaded, weighted) for group in groups.values()]
        for future in futures:
            record(future.result())
    return results
