"""Shared machinery of the linear estimators: validation, problems, solvers, attributes.

An estimator turns ``fit(X, y)`` into one or more optimisation problems
(:class:`_Problem`: one per output or class when a solver handles one output
at a time, one joint problem otherwise), solves each with the solver that
``solver`` selects from the loss's declared properties, and only then sets the
fitted attributes, so a failed fit leaves a fitted model untouched.
"""

import copy
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import NamedLossParamsMixin, check_sample_weight
from .._targets import resolve_loss
from ..losses import BaseLoss
from ..penalties import get_penalty
from ..solvers import SOLVERS, select_solver
from ..solvers._objective import LinearObjective, optimality, smooth_objective
from ..solvers._optim import optimal_t0, resolve_batch_size, validation_split
from ..solvers._samplers import arrange
from ..solvers.sgd import StochasticSettings, StochasticState, stochastic_epochs

__all__ = []

STOCHASTIC = ("sgd", "adam")


class _Solved(NamedTuple):
    """The outcome of one problem, kept until every problem has succeeded."""

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    why: str  # why the solver stopped short of its tolerance (None: converged)
    curve: list
    val_curve: list
    objective: float


class _Problem:
    """One optimisation problem: a loss on targets ``y`` with ``n_outputs`` rows of coefficients.

    ``penalty_scale`` rescales alpha so that the sum of the problems' objectives
    over ``n_problems`` equals the estimator's objective (outputs of a
    multi-output loss solved one at a time).
    """

    def __init__(self, loss, y, n_outputs=1, penalty_scale=1.0):
        self.loss, self.y, self.n_outputs, self.penalty_scale = loss, y, n_outputs, penalty_scale


class _LinearModel(NamedLossParamsMixin, BaseEstimator):
    """Base of :class:`LinearRegressor` and :class:`LinearClassifier`."""

    _parameter_constraints = {
        "loss": [str, BaseLoss],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", *SOLVERS, *STOCHASTIC})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions({"constant", "invscaling", "optimal", "adaptive"})],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
        "shuffle": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _tasks = ()
    _y_numeric = False

    # ------------------------------------------------------------ subclasses
    def _problems(self, y, loss, sample_weight, partial, classes):
        """Return ``(problems, sample_weight, fitted)``; ``fitted`` holds target attributes."""
        raise NotImplementedError  # pragma: no cover - abstract

    def _set_coefficients(self, coefs, intercepts, fitted):
        raise NotImplementedError  # pragma: no cover - abstract

    # --------------------------------------------------------------- helpers
    def _validate_X_y(self, X, y, reset):
        X, y = validate_data(
            self, X, y, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32], order="C",
            multi_output=True, y_numeric=self._y_numeric, reset=reset,
        )
        if sp.issparse(X):
            X = X.tocsr()
            X.sum_duplicates()
            X.sort_indices()
        return X, y

    def _solver_name(self, loss, penalty, X=None):
        if self.solver in STOCHASTIC:
            return self.solver
        if self.solver == "auto" and self.early_stopping:
            return "adam"
        if self.early_stopping:
            raise ValueError(
                f"early_stopping=True needs a stochastic solver ('sgd' or 'adam'); got solver={self.solver!r}."
            )
        return select_solver(self.solver, loss, penalty, X).name

    def _batch_size(self, n, loss=None):
        return resolve_batch_size(self.batch_size, n, loss)

    def _stochastic_settings(self, solver, problem):
        """The steps of a stochastic fit (:class:`StochasticSettings`) from the estimator's parameters."""
        alpha = float(self.alpha * problem.penalty_scale)
        optimal = solver == "sgd" and self.learning_rate == "optimal"
        return StochasticSettings(
            method=solver, learning_rate_init=float(self.learning_rate_init), schedule=self.learning_rate,
            power_t=float(self.power_t), alpha=alpha, t0=optimal_t0(problem.loss, alpha) if optimal else 1.0,
            momentum=float(self.momentum), nesterov=bool(self.nesterovs_momentum), beta_1=float(self.beta_1),
            beta_2=float(self.beta_2), epsilon=float(self.epsilon), average=int(self.average),
            shuffle=bool(self.shuffle))

    # ------------------------------------------------------------------- fit
    def _fit(self, X, y, sample_weight=None, partial=False, classes=None):
        self._validate_params()
        first = not (partial and hasattr(self, "coef_"))
        X, y = self._validate_X_y(X, y, reset=first)
        loss = resolve_loss(self, self.loss)
        if not first and type(loss) is not type(self.loss_):
            raise ValueError("partial_fit: the loss changed since the first call; call fit instead.")
        sample_weight = check_sample_weight(sample_weight, X)
        problems, sample_weight, fitted = self._problems(y, loss, sample_weight, partial and not first, classes)
        if np.all(sample_weight == 1.0):
            sample_weight = None  # the unweighted kernels are faster
        base_penalty = get_penalty(self.penalty, self.alpha, self.l1_ratio)
        solver = "adam" if partial and self.solver not in STOCHASTIC else self._solver_name(loss, base_penalty, X)
        stochastic = solver in STOCHASTIC
        warm = (self.warm_start or partial) and hasattr(self, "coef_")
        previous = self._previous_thetas(problems, X.shape[1]) if warm else None
        rng = check_random_state(self.random_state)
        X_train, X_val, w_train, w_val, y_trains, y_vals, batch_size = self._split(
            X, sample_weight, problems, rng, stochastic, partial, fitted.get("encoded"))
        # a copy: the epochs advance the states in place, and a failed call keeps the model's
        states = copy.deepcopy(getattr(self, "_stochastic_states", None)) if warm else None
        if states is None or len(states) != len(problems):
            states = [None] * len(problems)
        # one seed per problem, drawn up front: each problem's draws are the same whichever
        # process solves it, and in whatever order (n_jobs)
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(problems)) if stochastic else [None] * len(problems)
        data = (X_train, X_val, w_train, w_val, batch_size)
        tasks = [(index, problem, y_trains[index], None if y_vals is None else y_vals[index],
                  None if previous is None else previous[index], states[index], seeds[index])
                 for index, problem in enumerate(problems)]
        if self.n_jobs in (None, 1) or len(problems) == 1:
            solved = [self._solve(solver, partial, data, *task) for task in tasks]
        else:
            from joblib import Parallel, delayed

            solved = Parallel(n_jobs=self.n_jobs)(delayed(self._solve)(solver, partial, data, *task)
                                                  for task in tasks)
        results = [result for result, _ in solved]
        states = [state for _, state in solved]
        reasons = sorted({r.why for r in results if r.why is not None})
        if reasons:
            warnings.warn(f"{type(self).__name__} did not converge: {'; '.join(reasons)}.", ConvergenceWarning)
        # every check passed: only now replace the fitted state
        self.loss_ = loss
        self.solver_ = solver
        self._stochastic_states = states if stochastic else None
        # coefficients in the input's precision (float32 stays float32, as scikit-learn's linear models)
        self._set_coefficients([r.coef.astype(X.dtype, copy=False) for r in results],
                               [np.asarray(r.intercept, dtype=X.dtype) for r in results], fitted)
        self.n_iter_ = max(r.n_iter for r in results)
        self.loss_curve_ = _mean_curve([r.curve for r in results])
        self.validation_loss_curve_ = _mean_curve([r.val_curve for r in results]) if X_val is not None else None
        self.objective_ = float(np.mean([r.objective for r in results]))
        if partial:
            self.t_ = getattr(self, "t_", 0) + 1
        return self

    def _why_not_converged(self, objective, penalty, theta, n_iter, solver, loss):
        """The ConvergenceWarning's reason: loss, solver, and the optimality reached where it is defined."""
        where = f"loss {type(loss).__name__} with solver {solver!r} after {n_iter} iterations"
        if solver in STOCHASTIC or not loss.differentiable:
            return f"{where} (max_iter={self.max_iter}); increase max_iter or tol, or scale the features"
        reached = optimality(objective, penalty, theta)
        wanted = self.tol * objective.gradient_scale()
        smooth, n_coef = smooth_objective(objective, penalty), objective.n_outputs * objective.n_features

        def total(t):
            return smooth(t)[0] + penalty.l1 * float(np.abs(t[:n_coef]).sum())

        value, farther = total(theta), total(2.0 * theta)
        if value < 0 and farther <= 1.5 * value:  # still falling steeply along the ray: no minimum
            return (f"{where}: the objective appears unbounded below ({value:.6g} at the fitted coefficients, "
                    f"{farther:.6g} at twice them); {type(loss).__name__} must have a minimum in raw_prediction "
                    "for each target (check its formula, or add a penalty)")
        return (f"{where} (max_iter={self.max_iter}): the largest gradient component is {reached:.3g}, above the "
                f"tolerance {wanted:.3g} (tol={self.tol:g} times the gradient at zero); increase max_iter, scale "
                "the features, or check the loss's gradient")

    def _explain_divergence(self, problem, objective, theta, theta0, sample_weight, solver):
        """Raise the precise error of a fit that ended non-finite.

        A loss that returns NaN at finite raw predictions (a custom loss's
        bug) raises its own :class:`NonFiniteLossError` when evaluated through
        its public methods, which check their output; otherwise the fit itself
        diverged.
        """
        for start in (theta0, theta):
            if np.all(np.isfinite(start)):
                coef, intercept = objective.unpack(np.asarray(start, dtype=np.float64))
                raw = objective.raw_prediction(coef, intercept)
                if np.all(np.isfinite(raw)):
                    problem.loss.loss_gradient(objective.y, raw, sample_weight=sample_weight)
        raise ValueError(
            f"{type(self).__name__}: the fit diverged (non-finite coefficients or loss) with "
            f"loss {type(problem.loss).__name__} and solver {solver!r}. Scale the features, "
            "increase alpha or lower learning_rate_init; the previous model (if any) is kept."
        )

    def _solve(self, solver, partial, data, index, problem, y_train, y_val, theta_previous, state, seed):
        """Fit one problem (a target, a one-vs-rest class, ...); returns ``(_Solved, stochastic state)``.

        Independent of the other problems, so that ``n_jobs`` can solve them in
        parallel with the same results.
        """
        X_train, X_val, w_train, w_val, batch_size = data
        stochastic = solver in STOCHASTIC
        loss = problem.loss
        penalty = get_penalty(self.penalty, self.alpha * problem.penalty_scale, self.l1_ratio)
        info = None if stochastic else SOLVERS[solver]
        if info is not None and info.single_output and problem.n_outputs > 1:
            raise ValueError(f"solver={solver!r} fits one output at a time; {type(loss).__name__} "
                             "couples the outputs. Use solver='lbfgs'.")
        objective = LinearObjective(loss, X_train, y_train, w_train, self.fit_intercept, problem.n_outputs)
        theta0 = theta_previous if theta_previous is not None else objective.start()
        if stochastic:
            state = state or StochasticState(objective.n_params)
            validation = None
            if X_val is not None:
                validation = LinearObjective(loss, X_val, y_val, w_val, self.fit_intercept, problem.n_outputs)
            theta, n_iter, converged, curve, val_curve = stochastic_epochs(
                objective, penalty, theta0, state, self._stochastic_settings(solver, problem),
                max_epochs=1 if partial else self.max_iter, tol=self.tol,
                n_iter_no_change=self.n_iter_no_change, batch_size=batch_size, rng=seed, validation=validation,
                verbose=self.verbose,
            )
            converged = converged or partial
        else:
            theta, n_iter, converged, curve = info.func(
                objective, penalty, theta0, max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
            )
            val_curve = []
        value, _ = objective.loss_gradient(theta)
        if not (np.all(np.isfinite(theta)) and np.isfinite(value)):
            self._explain_divergence(problem, objective, theta, theta0, w_train, solver)
        coef, intercept = objective.unpack(theta)
        why = None if converged else self._why_not_converged(objective, penalty, theta, n_iter, solver, loss)
        return _Solved(coef, intercept, n_iter, why, curve, val_curve, value + penalty.value(coef)), state

    def _split(self, X, sample_weight, problems, rng, stochastic, partial, labels=None):
        """Hold out a validation set (early stopping), then arrange the training rows for the minibatches.

        Returns ``(X_train, X_val, w_train, w_val, y_trains, y_vals, batch_size)``;
        the arrangement follows ``batch_sampler`` (:mod:`..solvers._samplers`;
        ``labels``: the class of each row, for classifiers).
        """
        ys = [p.y for p in problems]
        if not stochastic:
            return X, None, sample_weight, None, ys, None, None
        rows = np.arange(X.shape[0])
        X_val = w_val = y_vals = None
        if self.early_stopping and not partial:  # stratified for classifiers, as scikit-learn's SGD and MLP
            rows, idx_val = validation_split(X.shape[0], self.validation_fraction,
                                             rng.randint(np.iinfo(np.int32).max), labels, sample_weight)
            rows.sort()
            idx_val.sort()
            X_val, y_vals = X[idx_val], [y[idx_val] for y in ys]
            w_val = None if sample_weight is None else sample_weight[idx_val]
        sampler = getattr(self, "batch_sampler", "uniform")
        order, batch_size = arrange(rows.size, sampler, rng, self._batch_size(rows.size, problems[0].loss),
                                    None if labels is None else labels[rows],
                                    getattr(self, "samples_per_class", None), shuffle=self.shuffle)
        rows = rows[order]
        w_train = None if sample_weight is None else sample_weight[rows]
        return X[rows], X_val, w_train, w_val, [y[rows] for y in ys], y_vals, batch_size

    def _previous_thetas(self, problems, n_features):
        coef = np.atleast_2d(self.coef_)
        intercept = np.atleast_1d(self.intercept_)
        thetas = []
        rows = 0
        for problem in problems:
            k = problem.n_outputs
            block = coef[rows:rows + k]
            if block.shape != (k, n_features):
                return None
            parts = [block.ravel()] + ([intercept[rows:rows + k]] if self.fit_intercept else [])
            thetas.append(np.concatenate(parts).astype(np.float64))
            rows += k
        return thetas if rows == coef.shape[0] else None

    # ------------------------------------------------------------- predict
    def _raw_predict(self, X):
        check_is_fitted(self)
        # C order whatever the input's (pandas gives Fortran order): the same data
        # then gives the same result to the last bit
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C", reset=False)
        dtype = np.result_type(X.dtype, self.coef_.dtype)
        raw = X @ self.coef_.T.astype(dtype, copy=False)
        return np.asarray(raw, dtype=dtype) + np.asarray(self.intercept_, dtype=dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _mean_curve(curves):
    """Per-iteration mean over the problems' curves (shorter curves hold their last value)."""
    curves = [c for c in curves if len(c)]
    if not curves:
        return []
    length = max(len(c) for c in curves)
    padded = np.array([list(c) + [c[-1]] * (length - len(c)) for c in curves])
    return padded.mean(axis=0).tolist()
