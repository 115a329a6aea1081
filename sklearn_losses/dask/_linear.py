"""LinearRegressor and LinearClassifier that fit on Dask arrays and dataframes without gathering them.

The same estimators as :mod:`sklearn_losses.linear_model` (same parameters,
attributes and in-memory behaviour); on a Dask collection ``fit`` runs the
full-batch solver on the client with every evaluation of the objective
distributed over the row blocks (:mod:`._objective`), and ``predict``,
``predict_proba``, ``decision_function`` and ``score`` return lazy Dask arrays.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_n_features, check_is_fitted

from .. import linear_model
from .._estimator import class_sample_weight, keeps_model_on_failure
from .._targets import probabilistic, regression_targets, resolve_loss
from ..linear_model._base import _mean_curve
from ..penalties import get_penalty
from ..solvers import SOLVERS
from ._objective import DaskObjective, Targets, block_statistics, threads_per_task

__all__ = ["LinearClassifier", "LinearRegressor", "is_dask_collection"]

#: Solvers that run on a distributed objective (full-batch, gradient-based).
DISTRIBUTED_SOLVERS = ("lbfgs", "newton-cg")


def is_dask_collection(x):
    """Whether ``x`` is a Dask array, dataframe or series (False when Dask is not installed)."""
    try:
        from dask.base import is_dask_collection as dask_check
    except ImportError:  # pragma: no cover - dask is an optional dependency
        return False
    return dask_check(x)


def _as_array(x, name, lengths):
    """A Dask array from a Dask array, dataframe or series (``lengths``: compute the partitions' sizes)."""
    if hasattr(x, "to_dask_array"):
        return x.to_dask_array(lengths=True) if lengths else x.to_dask_array()
    if not hasattr(x, "chunks"):
        raise TypeError(f"{name} must be a Dask collection like X; got {type(x).__name__}.")
    return x


def _along(values, Xa, name):
    """``values`` (y or sample_weight) as a Dask array: a Dask collection as it is; an in-memory array (small next
    to X: one number per row) split into X's row blocks."""
    if is_dask_collection(values):
        return _as_array(values, name, lengths=True)
    values = np.asarray(values)
    if values.ndim == 0 or values.shape[0] != Xa.shape[0]:
        raise ValueError(f"X and {name} have inconsistent numbers of samples: {Xa.shape[0]} and "
                         f"{values.shape[0] if values.ndim else 'a scalar'}.")
    import dask.array as da

    return da.from_array(values, chunks=(Xa.chunks[0],) + tuple((s,) for s in values.shape[1:]))


def _blocks(X, y, sample_weight):
    """Aligned row blocks ``[(X_block, y_block, w_block), ...]`` (delayed) of Dask X, y and sample_weight."""
    Xa = _as_array(X, "X", lengths=True)
    if Xa.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got a Dask array of shape {Xa.shape}.")
    Xa = Xa.rechunk({1: -1})
    ya = _along(y, Xa, "y")
    if ya.shape[0] != Xa.shape[0]:
        raise ValueError(f"X and y have inconsistent numbers of samples: {Xa.shape[0]} and {ya.shape[0]}.")
    ya = ya.rechunk((Xa.chunks[0],) + tuple((s,) for s in ya.shape[1:]))
    wa = None
    if sample_weight is not None:
        wa = _along(sample_weight, Xa, "sample_weight")
        if wa.shape != (Xa.shape[0],):
            raise ValueError(f"sample_weight must have shape ({Xa.shape[0]},); got {wa.shape}.")
        wa = wa.rechunk((Xa.chunks[0],))
    X_blocks = Xa.to_delayed().ravel()
    y_blocks = ya.to_delayed().reshape(len(X_blocks), -1)[:, 0]
    w_blocks = wa.to_delayed().ravel() if wa is not None else [None] * len(X_blocks)
    return Xa, ya, [(xb, yb, wb) for xb, yb, wb in zip(X_blocks, y_blocks, w_blocks)]


def _set_feature_names(estimator, X):
    """``feature_names_in_`` from a Dask dataframe's columns (all strings, as scikit-learn requires), else none."""
    columns = getattr(X, "columns", None)
    names = None if columns is None else np.asarray(list(columns), dtype=object)
    if names is not None and names.size and all(isinstance(name, str) for name in names):
        estimator.feature_names_in_ = names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


class _RegressionTargets:
    """The regressor's target check on a block (picklable)."""

    def __init__(self, name, loss):
        self.name, self.loss = name, loss

    def __call__(self, y):
        y, multi = regression_targets(self.name, self.loss, y)
        if multi:
            raise ValueError(f"{self.name} on Dask collections takes 1-D targets; got y of shape {y.shape}.")
        return y


class _DaskFitMixin:
    """The distributed ``fit`` and the lazy predictions shared by the two estimators."""

    def _distributed_solver(self, loss, penalty):
        solver = "lbfgs" if self.solver == "auto" else self.solver
        if solver not in DISTRIBUTED_SOLVERS:
            raise ValueError(f"solver={self.solver!r} does not run on Dask collections; use one of "
                             f"{DISTRIBUTED_SOLVERS} (or 'auto'), or dask_ml's Incremental with partial_fit for "
                             "the stochastic solvers.")
        if self.early_stopping:
            raise ValueError("early_stopping needs a stochastic solver; on Dask collections use dask_ml's "
                             "Incremental with partial_fit.")
        info = SOLVERS[solver]
        reasons = info.unmet(loss, penalty)
        if reasons:
            raise ValueError(f"loss={self.loss!r} cannot be fitted on a Dask collection: {'; '.join(reasons)}. "
                             f"The distributed fit uses {solver!r}; use a differentiable loss, or fit in memory.")
        if loss.structure not in ("elementwise", "row"):
            raise ValueError(f"loss={self.loss!r}: {type(loss).__name__} is not a sum over samples "
                             f"(structure={loss.structure!r}), so its row blocks cannot be summed.")
        return info

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit in memory, or on Dask collections by distributing each evaluation of the objective (see the class)."""
        if is_dask_collection(X):
            return self._fit_dask(X, y, sample_weight)
        return super().fit(X, y, sample_weight)

    def _fit_dask(self, X, y, sample_weight):
        self._validate_params()
        loss = resolve_loss(self, self.loss)
        penalty = get_penalty(self.penalty, self.alpha, self.l1_ratio)
        info = self._distributed_solver(loss, penalty)
        Xa, ya, blocks = _blocks(X, y, sample_weight)
        _set_feature_names(self, X)
        _check_n_features(self, Xa, reset=True)
        problems, fitted = self._dask_problems(ya, loss)
        # one validating pass for every problem: they differ only in how the labels are encoded
        n, total, y_raw, w_raw = block_statistics(blocks, problems[0][0])
        if n == 0:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        results = []
        threads = threads_per_task()
        for prepare, n_outputs in problems:
            y_sample, w_sample = prepare(y_raw, w_raw)
            objective = DaskObjective(loss, blocks, prepare, self.fit_intercept, n_outputs, Xa.shape[1], n,
                                      total, y_sample, w_sample, threads)
            theta0 = objective.start()
            theta, n_iter, converged, curve = info.func(objective, penalty, theta0, max_iter=self.max_iter,
                                                        tol=self.tol, verbose=self.verbose)
            value, _ = objective.loss_gradient(theta)
            if not (np.all(np.isfinite(theta)) and np.isfinite(value)):
                raise ValueError(f"{type(self).__name__}: the distributed fit diverged (non-finite coefficients "
                                 f"or loss) with loss {type(loss).__name__}; scale the features or increase alpha.")
            coef, intercept = objective.unpack(theta)
            results.append((coef, intercept, n_iter, converged, curve, value + penalty.value(coef)))
        if not all(r[3] for r in results):
            warnings.warn(f"{type(self).__name__} did not converge on the Dask collection: loss "
                          f"{type(loss).__name__} with solver {info.name!r} (max_iter={self.max_iter}); increase "
                          "max_iter or tol, or scale the features.", ConvergenceWarning)
        self.loss_ = loss
        self.solver_ = info.name
        self._stochastic_states = None
        dtype = Xa.dtype if Xa.dtype in (np.float32, np.float64) else np.float64
        self._set_coefficients([r[0].astype(dtype, copy=False) for r in results],
                               [np.asarray(r[1], dtype=dtype) for r in results], fitted)
        self.n_iter_ = max(r[2] for r in results)
        self.loss_curve_ = _mean_curve([r[4] for r in results])
        self.validation_loss_curve_ = None
        self.objective_ = float(np.mean([r[5] for r in results]))
        return self

    # ------------------------------------------------------------ lazy predictions
    def _memory_or_lazy(self, method, X):
        """``method(X)`` for in-memory ``X``; for a Dask collection, ``method`` mapped over its row blocks."""
        return self._map_rows(method, X) if is_dask_collection(X) else method(X)

    def _map_rows(self, method, X):
        """``method`` (an in-memory prediction) over the row blocks of Dask ``X``, lazily."""
        check_is_fitted(self)
        Xa = _as_array(X, "X", lengths=False)
        if Xa.ndim != 2 or Xa.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {Xa.shape[1] if Xa.ndim == 2 else Xa.shape} features, but "
                             f"{type(self).__name__} is expecting {self.n_features_in_} features as input.")
        Xa = Xa.rechunk({1: -1})
        names = getattr(self, "feature_names_in_", None)
        probe = _call_on_block(np.zeros((1, self.n_features_in_), dtype=Xa.dtype), method, names)
        if probe.ndim == 1:
            return Xa.map_blocks(_call_on_block, method, names=names, dtype=probe.dtype, drop_axis=1,
                                 chunks=(Xa.chunks[0],))
        return Xa.map_blocks(_call_on_block, method, names=names, dtype=probe.dtype,
                             chunks=(Xa.chunks[0], (probe.shape[1],)))


def _call_on_block(block, method, names=None):
    if names is not None:  # fitted on a dataframe: give the block its columns (no feature-name warning)
        import pandas as pd

        block = pd.DataFrame(block, columns=names)
    return method(block)


def _weighted_mean(values, w):
    """The mean of a Dask array, weighted by ``w`` (a Dask array of its blocks, or None)."""
    return values.mean() if w is None else (values * w).sum() / w.sum()


def _score_inputs(prediction, y, sample_weight):
    """``y`` and ``sample_weight`` (Dask or in-memory) as Dask arrays in the row blocks of ``prediction``."""
    ya = _along(y, prediction, "y").rechunk(prediction.chunks[0])
    w = None if sample_weight is None else _along(sample_weight, prediction, "sample_weight").rechunk(
        prediction.chunks[0])
    return ya, w


class LinearRegressor(_DaskFitMixin, linear_model.LinearRegressor):
    __doc__ = (
        "Linear regression with any loss, fitted in memory or on Dask collections without gathering them.\n\n"
        "Parameters and attributes: those of :class:`sklearn_losses.linear_model.LinearRegressor`. On a Dask\n"
        "array or dataframe ``X`` (``y`` and ``sample_weight`` Dask collections of the same rows, or in-memory\n"
        "arrays split into X's row blocks), ``fit``\n"
        "distributes every evaluation of the objective over the row blocks and runs ``solver`` (``'auto'``:\n"
        "``'lbfgs'``, or ``'newton-cg'``) on the client; the predictions and ``score`` are then lazy Dask arrays.\n"
    )

    def _dask_problems(self, y, loss):
        if y.ndim != 1:
            raise ValueError(f"{type(self).__name__} on Dask collections takes 1-D targets; got y of shape "
                             f"{y.shape}.")
        return [(Targets(validate=_RegressionTargets(type(self).__name__, loss)), 1)], {"multi": False}

    def predict(self, X):
        return self._memory_or_lazy(super().predict, X)

    def predict_raw(self, X):
        return self._memory_or_lazy(super().predict_raw, X)

    def score(self, X, y, sample_weight=None):
        """R^2 of the predictions; a lazy 0-d Dask array for Dask inputs."""
        if not is_dask_collection(X):
            return super().score(X, y, sample_weight)
        prediction = self.predict(X)
        ya, w = _score_inputs(prediction, y, sample_weight)
        ya = ya.astype(np.float64)
        mean = _weighted_mean(ya, w)
        residual = _weighted_mean((ya - prediction) ** 2, w)
        spread = _weighted_mean((ya - mean) ** 2, w)
        return 1.0 - residual / spread


class LinearClassifier(_DaskFitMixin, linear_model.LinearClassifier):
    __doc__ = (
        "Linear classification with any loss, fitted in memory or on Dask collections without gathering them.\n\n"
        "Parameters and attributes: those of :class:`sklearn_losses.linear_model.LinearClassifier`. On Dask\n"
        "collections the classes are found in a first pass, each evaluation of the objective is distributed over\n"
        "the row blocks (``class_weight`` applied on the workers), and ``predict``, ``predict_proba``,\n"
        "``decision_function`` and ``score`` return lazy Dask arrays.\n"
    )

    def _dask_problems(self, y, loss):
        import dask
        import dask.array as da

        if y.ndim != 1:
            raise ValueError(f"{type(self).__name__} on Dask collections takes 1-D class labels; got y of shape "
                             f"{y.shape}.")
        classes, counts = dask.compute(*da.unique(y, return_counts=True))
        check_classification_targets(classes)
        if classes.shape[0] < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes; the training data contain only one "
                             f"class ({classes[0]!r}).")
        weights = None
        if isinstance(self.class_weight, dict):  # per class (validated as in memory)
            weights = class_sample_weight(self.class_weight, classes)
        elif self.class_weight == "balanced":  # scikit-learn's n / (k * n_c)
            weights = counts.sum() / (classes.size * counts.astype(np.float64))
        k = classes.shape[0]
        fitted = {"classes": classes, "counts": None, "encoded": None}
        if loss.task == "multiclass":
            return [(Targets(classes=classes, class_weights=weights), k)], fitted
        if k == 2:
            return [(Targets(classes=classes, binary=True, class_weights=weights), 1)], fitted
        return [(Targets(classes=classes, positive=j, class_weights=weights), 1) for j in range(k)], fitted

    def decision_function(self, X):
        return self._memory_or_lazy(super().decision_function, X)

    def predict(self, X):
        return self._memory_or_lazy(super().predict, X)

    @available_if(probabilistic)
    def predict_proba(self, X):
        return self._memory_or_lazy(super().predict_proba, X)

    @available_if(probabilistic)
    def predict_log_proba(self, X):
        return self._memory_or_lazy(super().predict_log_proba, X)

    def score(self, X, y, sample_weight=None):
        """Accuracy; a lazy 0-d Dask array for Dask inputs."""
        if not is_dask_collection(X):
            return super().score(X, y, sample_weight)
        prediction = self.predict(X)
        ya, w = _score_inputs(prediction, y, sample_weight)
        return _weighted_mean((ya == prediction).astype(np.float64), w)
