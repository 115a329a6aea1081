"""What :class:`LinearEmbedding` and :class:`MLPEmbedding` share: validation, the solvers, the fitted state.

A fit validates ``X`` and the labels, resolves the loss (an embedding loss:
``task="embedding"``), builds the model's start (the subclass's ``init``),
and minimises ``loss(f_theta(X)) + alpha / 2 * ||W||^2`` (``W`` the
penalised block: the linear map, or the network's coefficients):

* ``solver="adam"`` (the default) or ``"sgd"``: minibatch epochs
  (:func:`~sklearn_losses.solvers.sgd.stochastic_epochs`) over class-balanced
  batches of ``samples_per_class`` rows of each class
  (:func:`~sklearn_losses.solvers._samplers.arrange` with ``"balanced"``),
  so every batch has positives and negatives for every class; an epoch costs
  time linear in ``n`` and memory of one batch;
* ``solver="lbfgs"``: full-batch L-BFGS (:func:`~sklearn_losses.solvers.lbfgs.lbfgs`)
  on the loss of the whole training set. Each evaluation costs ``O(n^2)``
  pairs (on 1,257 digits 20-30 s for a fit that Adam does in about 1 s to
  the same accuracy), so it suits small sets and smooth losses.

The fitted attributes are set only once the fit succeeded (a failed fit keeps
an earlier model).
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import NamedLossParamsMixin, check_sample_weight, keeps_model_on_failure
from .._targets import resolve_loss
from ..losses import BaseLoss
from ..losses._pairwise import normalize_rows
from ..penalties import Penalty
from ..solvers._optim import validation_split
from ..solvers._samplers import arrange
from ..solvers.lbfgs import lbfgs
from ..solvers.sgd import StochasticSettings, StochasticState, stochastic_epochs
from ._objective import EmbeddingObjective

__all__ = []

#: ``batch_size="auto"``: the minibatch size of the stochastic solvers.
AUTO_BATCH_SIZE = 256

#: Rows of the arranged training set whose loss at the start scales a minibatch fit's divergence check.
START_ROWS = 4096

STOCHASTIC = ("adam", "sgd")


class _Embedding(NamedLossParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base of the embedding estimators; subclasses define the model (``_make_model``, ``_initial_theta``)
    and the fitted attributes (``_set_fitted``)."""

    _parameter_constraints = {
        "loss": [str, BaseLoss],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC})],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
        "samples_per_class": [Interval(Integral, 2, None, closed="left"), None],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "normalize_output": [StrOptions({"auto"}), "boolean"],
        "shuffle": ["boolean"],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _tasks = ("embedding",)

    # ------------------------------------------------------------ subclasses
    def _make_model(self, n_features, n_components):  # pragma: no cover - abstract
        raise NotImplementedError

    def _initial_theta(self, model, X, labels, rng):  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_fitted(self, model, theta, dtype):  # pragma: no cover - abstract
        raise NotImplementedError

    # --------------------------------------------------------------- helpers
    def _solver_name(self, partial):
        if partial:
            return self.solver if self.solver in STOCHASTIC else "adam"
        if self.early_stopping and self.solver == "lbfgs":
            raise ValueError("early_stopping=True needs a stochastic solver ('adam' or 'sgd'); got solver='lbfgs'.")
        return self.solver

    def _settings(self, solver):
        return StochasticSettings(method=solver, learning_rate_init=float(self.learning_rate_init),
                                  shuffle=bool(self.shuffle))

    def _normalizes_output(self, loss):
        return bool(loss.normalize) if self.normalize_output == "auto" else bool(self.normalize_output)

    @property
    def _n_features_out(self):
        return self._model.n_outputs

    # ------------------------------------------------------------------- fit
    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the embedding to ``X`` with labels ``y`` (samples of one label are positives of each other).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Each pair (triplet, anchor) of the loss weighs the product of its samples' weights.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, partial=False)

    @keeps_model_on_failure
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of the stochastic solver (``"adam"`` unless ``solver="sgd"``) over ``X`` in class-balanced
        minibatches, continuing from the current model and optimiser state."""
        return self._fit(X, y, sample_weight, partial=True)

    def _fit(self, X, y, sample_weight, partial):
        self._validate_params()
        fitted = hasattr(self, "_theta")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=not (partial and fitted))
        check_classification_targets(y)
        labels = np.unique(y, return_inverse=True)[1].ravel()
        loss = resolve_loss(self, self.loss)
        if partial and fitted and type(loss) is not type(self.loss_):
            raise ValueError("partial_fit: the loss changed since the first call; call fit instead.")
        sample_weight = check_sample_weight(sample_weight, X)
        if not np.sum(sample_weight) > 0:
            raise ValueError("sample_weight sums to zero: the embedding loss is undefined.")
        if np.all(sample_weight == 1.0):
            sample_weight = None
        n, p = X.shape
        n_components = p if self.n_components is None else int(self.n_components)
        if n_components > p and not self._maps_to_any_width:
            raise ValueError(f"n_components={n_components} must not exceed the number of features ({p}).")
        X64 = np.ascontiguousarray(X, dtype=np.float64)
        rng = check_random_state(self.random_state)
        model = self._make_model(p, n_components)
        warm = (self.warm_start or partial) and fitted and self._theta.size == model.n_params \
            and self._model_key == (p, n_components, self._model_signature)
        theta0 = self._theta.copy() if warm else self._initial_theta(model, X64, labels, rng)
        solver = self._solver_name(partial)
        penalty = Penalty(l2=float(self.alpha))
        with np.errstate(over="ignore", invalid="ignore"):
            if solver in STOCHASTIC:
                theta, n_iter, converged, curve, val_curve, state = self._fit_stochastic(
                    model, loss, X64, labels, sample_weight, theta0, penalty, solver, rng, partial, warm)
            else:
                objective = EmbeddingObjective(model, loss, X64, labels, sample_weight)
                objective.set_start(theta0)
                theta, n_iter, converged, curve = lbfgs(objective, penalty, theta0, max_iter=self.max_iter,
                                                        tol=self.tol, verbose=self.verbose)
                # piecewise losses (margins, miners) have no stationary gradient: L-BFGS stopping short of
                # max_iter because it can make no more progress is their convergence
                converged = converged or (not loss.differentiable and n_iter < self.max_iter)
                val_curve, state = [], None
        if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(curve))):
            raise ValueError(f"{type(self).__name__}: the fit diverged (non-finite parameters or loss) with loss "
                             f"{type(loss).__name__} and solver {solver!r}. Scale the features or lower "
                             "learning_rate_init; the previous model (if any) is kept.")
        if not converged and not partial:
            warnings.warn(f"{type(self).__name__} did not converge: loss {type(loss).__name__} with solver "
                          f"{solver!r} after {n_iter} iterations (max_iter={self.max_iter}); increase max_iter "
                          "or tol, or scale the features.", ConvergenceWarning)
        self.loss_ = loss
        self.solver_ = solver
        self._model, self._theta, self._state = model, theta, state
        self._model_key = (p, n_components, self._model_signature)
        self.n_iter_ = n_iter
        self.loss_curve_ = list(curve)
        self.validation_loss_curve_ = list(val_curve) if val_curve else None
        self._set_fitted(model, theta, X.dtype)
        return self

    _maps_to_any_width = False  # a network may embed into more dimensions than the input has
    _model_signature = ()  # what else fixes the layout of the parameters (a network's layers)

    def _fit_stochastic(self, model, loss, X, labels, w, theta0, penalty, solver, rng, partial, warm):
        rows = np.arange(X.shape[0])
        validation = None
        if self.early_stopping and not partial:
            rows, val = validation_split(X.shape[0], self.validation_fraction, rng.randint(np.iinfo(np.int32).max),
                                         labels, w)
            validation = EmbeddingObjective(model, loss, X[val], labels[val], None if w is None else w[val])
        n_classes = np.unique(labels[rows]).size
        batch = AUTO_BATCH_SIZE if self.batch_size == "auto" else int(self.batch_size)
        per_class = self.samples_per_class if self.samples_per_class is not None else max(2, batch // n_classes)
        order, batch_size = arrange(rows.size, "balanced", rng, batch, labels[rows], per_class, shuffle=self.shuffle)
        rows = rows[order]
        objective = EmbeddingObjective(model, loss, X[rows], labels[rows],
                                       None if w is None else w[rows])
        objective.set_start(theta0, rows=(0, min(rows.size, START_ROWS)))
        state = copy.deepcopy(self._state) if warm and getattr(self, "_state", None) is not None else None
        state = state if state is not None and state.m.size == model.n_params else StochasticState(model.n_params)
        theta, n_iter, converged, curve, val_curve = stochastic_epochs(
            objective, penalty, theta0, state, self._settings(solver), max_epochs=1 if partial else self.max_iter,
            tol=self.tol, n_iter_no_change=self.n_iter_no_change, batch_size=batch_size,
            rng=rng.randint(np.iinfo(np.int32).max), validation=validation, verbose=self.verbose)
        return theta, n_iter, converged, curve, val_curve, state

    # ------------------------------------------------------------- transform
    def transform(self, X):
        """Embed ``X``: shape (n_samples, n_components), in ``X``'s float precision.

        With ``normalize_output`` (by default when the loss normalises), each
        embedding is divided by its norm: the geometry the loss was trained in.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        out = self._model.embed(self._theta, np.ascontiguousarray(X, dtype=np.float64))
        if self._normalizes_output(self.loss_):
            out = normalize_rows(out)[0]
        return np.asarray(out, dtype=X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
