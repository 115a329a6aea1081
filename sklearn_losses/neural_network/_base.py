"""Shared machinery of :class:`MLPRegressor` and :class:`MLPClassifier`.

A fit validates the data, lets the subclass turn ``y`` into the loss's
targets (``_targets``), trains a copy of the parameters and only then sets
the fitted attributes, so a fit that fails (bad input, divergence) leaves an
earlier model untouched.
"""

import copy
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from .._estimator import NamedLossParamsMixin, check_sample_weight, keeps_model_on_failure
from ..losses import BaseLoss
from ..solvers._objective import flat_start, start_constant
from ..solvers._optim import Progress, validation_split
from ._kernels import ACTIVATIONS
from ._network import Network
from ._train import Optimizer, fit_lbfgs, fit_stochastic

__all__ = []

STOCHASTIC_SOLVERS = ("sgd", "adam")


def _has_stochastic_solver(estimator):
    if estimator.solver not in STOCHASTIC_SOLVERS:
        raise AttributeError(f"partial_fit is only available for stochastic optimizers (sgd, adam); "
                             f"solver={estimator.solver!r}.")
    return True


class _StreamingClassifierMixin:
    """``partial_fit`` of the MLP classifiers: ``classes`` (every class; ordered classes in their order) is
    required on the first call."""

    @available_if(_has_stochastic_solver)
    @keeps_model_on_failure
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the stochastic solver; ``classes`` (all of them) is required on the first call, except
        for a multilabel indicator ``y`` (its columns are the labels)."""
        multilabel = np.ndim(y) == 2 and np.shape(y)[1] > 1
        if not hasattr(self, "classes_") and classes is None and not multilabel:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, partial=True, classes=classes)


class _BaseMLP(NamedLossParamsMixin, BaseEstimator):
    """Base of the MLP estimators: parameters, validation, the fit driver and prediction."""

    _parameter_constraints = {
        "loss": [str, BaseLoss],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "output_bias_init": [StrOptions({"baseline", "random"})],
    }
    _tasks = ()

    @staticmethod
    def _start_output_bias(network, params, loss, Y, sample_weight, n_outputs):
        """Set the output biases (in place) to the loss's best constant prediction, where it has one.

        Not where the loss is flat there (the best constant at infinity, all
        predictions saturated: no gradient would reach the hidden layers);
        see :meth:`~sklearn_losses.solvers._objective.LinearObjective.start`.
        """
        try:
            with np.errstate(all="ignore"):
                b = start_constant(loss, Y, sample_weight, n_outputs)
                b = np.broadcast_to(np.asarray(b, dtype=np.float64), (n_outputs,))
                raw = np.zeros((Y.shape[0], n_outputs)) if Y.ndim == 2 or loss.per_row else np.zeros(Y.shape[0])
                at_zero = loss.gradient(Y, raw, sample_weight, check_input=False)
                at_b = loss.gradient(Y, raw + (b if raw.ndim == 2 else b[0]), sample_weight, check_input=False)
        except ValueError:
            return
        flat = flat_start(loss, at_b, at_zero)
        if np.all(np.isfinite(b)) and not flat:
            _, b0, _, fan_out = network.layers[-1]
            params[b0:b0 + fan_out] = b

    # ------------------------------------------------------------ subclasses
    def _targets(self, y, sample_weight, partial, classes):
        """Return ``(loss, Y, n_outputs, sample_weight, fitted)``; ``fitted`` holds target attributes."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _set_targets(self, fitted):
        raise NotImplementedError  # pragma: no cover - abstract

    def _stratify(self, Y):
        return None

    def _make_network(self, units, dtype, Y, loss):
        """The network for ``units`` (``[n_features, *hidden, n_outputs]``) and ``loss``."""
        return Network(units, self.activation, dtype, vector_output=Y.ndim == 2)

    def _packed(self, network):
        """The fitted parameters as ``network``'s flat vector (None if their shapes do not fit)."""
        return network.pack(self.coefs_, self.intercepts_)

    def _unpack(self, network, params):
        """Set the fitted parameters from the flat vector."""
        self.coefs_, self.intercepts_ = network.unpack(params)

    # --------------------------------------------------------------- helpers
    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if not hasattr(sizes, "__iter__") else list(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers; got {self.hidden_layer_sizes!r}.")
        return [int(s) for s in sizes]

    def _validate_X_y(self, X, y, reset):
        dtype = [np.float64, np.float32] if reset else self._dtype
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=dtype, order="C",
                             multi_output=True, y_numeric=self._y_numeric, reset=reset)
        return (X.tocsr() if sp.issparse(X) else X), y

    # ------------------------------------------------------------------- fit
    def _fit(self, X, y, sample_weight=None, partial=False, classes=None):
        self._validate_params()
        sizes = self._hidden_layer_sizes()
        continuing = hasattr(self, "coefs_") and (self.warm_start or partial)
        if partial and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True.")
        X, y = self._validate_X_y(X, y, reset=not continuing)
        sample_weight = check_sample_weight(sample_weight, X)
        loss, Y, n_outputs, sample_weight, fitted = self._targets(y, sample_weight, partial and continuing,
                                                                   classes)
        if not np.sum(sample_weight) > 0:
            raise ValueError("sample_weight sums to zero: there is nothing to fit.")
        if np.all(sample_weight == 1.0):
            sample_weight = None
        dtype = self._dtype if continuing else X.dtype
        Y = Y.astype(dtype)
        network = self._make_network([X.shape[1], *sizes, n_outputs], dtype, Y, loss)
        rng = check_random_state(self.random_state)
        params = self._packed(network) if continuing else None
        if continuing and params is None:
            raise ValueError(
                f"{type(self).__name__}: the network's shape changed since the last fit (hidden_layer_sizes "
                "or the number of outputs); call fit with warm_start=False.")
        if continuing and type(loss) is not type(self.loss_):
            raise ValueError("warm_start / partial_fit: the loss changed since the last fit; call fit with "
                             "warm_start=False.")
        if params is None:
            params = network.initialize(rng)
            if self.output_bias_init == "baseline":
                self._start_output_bias(network, params, loss, Y, sample_weight, n_outputs)
        record = self._record(continuing)
        if self.solver == "lbfgs":
            params = fit_lbfgs(self, loss, network, params, X, Y, sample_weight, record)
            optimizer = None
        else:
            previous = getattr(self, "_optimizer", None) if partial and continuing else None
            if previous is not None and previous.solver == self.solver:
                optimizer = copy.deepcopy(previous)  # a failed fit keeps the model's optimizer state
            else:  # a new fit, or the solver changed since the last one
                optimizer = Optimizer(self, network.n_params, dtype)
            rows = np.arange(X.shape[0])
            validation = None
            if self.early_stopping:
                rows, validation = self._split(X, Y, sample_weight, rng)
            # a minibatch's products are too small to gain from BLAS threads, and
            # numba's BLAS (scipy's OpenBLAS) and NumPy's contend for the cores:
            # 2 threads made an epoch of a (128, 64) network 14x slower
            with threadpool_limits(limits=1, user_api="blas"):
                params = fit_stochastic(self, loss, network, params, optimizer,
                                        (X, Y, sample_weight, rows, rng), validation, record, partial)
        # every check passed: only now replace the fitted state
        self.loss_ = loss
        self._dtype = dtype
        self._network = network
        self._optimizer = optimizer
        self._set_targets(fitted)
        self._unpack(network, params)
        self.n_layers_ = len(sizes) + 2
        self.n_outputs_ = n_outputs
        self.out_activation_ = loss.link.name
        self.n_iter_ = record.n_iter
        self.t_ = record.t
        self.loss_curve_ = record.loss_curve
        self.validation_loss_curve_ = record.validation_curve if self.early_stopping else None
        best = record.progress.best
        self.best_loss_ = best if self.solver != "lbfgs" and not self.early_stopping else None
        self.best_validation_loss_ = best if self.early_stopping else None
        self._no_improvement = record.progress.no_improvement
        return self

    def _record(self, continuing):
        """Curves and counters; a warm start continues those of the last fit, as scikit-learn's."""
        record = SimpleNamespace(n_iter=0, t=0, loss_curve=[], validation_curve=[], progress=Progress())
        if continuing:
            record.n_iter, record.t, record.loss_curve = self.n_iter_, self.t_, list(self.loss_curve_)
            if self.best_loss_ is not None and not self.early_stopping:
                record.progress.best, record.progress.no_improvement = self.best_loss_, self._no_improvement
        return record

    def _split(self, X, Y, sample_weight, rng):
        """Hold out ``validation_fraction`` of the rows (stratified for classifiers) for early stopping."""
        train, val = validation_split(X.shape[0], self.validation_fraction, rng, self._stratify(Y), sample_weight)
        w_val = None if sample_weight is None else sample_weight[val]
        return train, (X[val], Y[val], w_val)

    # ------------------------------------------------------------- predict
    def _raw_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=self._dtype, reset=False)
        # from coefs_ and intercepts_, as scikit-learn (users edit them in place)
        params = self._packed(self._network)
        if params is None:
            raise ValueError(f"{type(self).__name__}: coefs_ or intercepts_ no longer have the fitted shapes.")
        return self._network.raw_prediction(params, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
