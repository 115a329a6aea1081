"""Shared fitting machinery of the kernel SVM estimators.

Every estimator fits one or more binary or regression *problems* (one for a
regressor or a binary classifier, one per class or per pair of classes for
multiclass) on the same kernel matrix. The objective of a problem is
scikit-learn's, ``C sum_i s_i l(y_i, f(x_i)) + 1/2 ||f||_H^2`` with
``f = sum_j a_j k(x_j, .) + b``; divided by ``C sum_i s_i`` it is the weighted
mean loss plus ``alpha / 2 ||f||_H^2`` with ``alpha = 1 / (C sum_i s_i)``, the
convention of the rest of the library.

Piecewise-linear and piecewise-quadratic losses (hinge, epsilon-insensitive,
pinball, absolute; squared hinge, modified Huber, squared error, Huber,
smooth L1, squared epsilon-insensitive) are solved exactly in the dual by SMO
(:mod:`._smo`), smooth convex losses (log loss, exponential, Poisson, ...) by
SMO with the gradient inverted numerically (:mod:`._smooth`), non-convex ones
with a hessian (focal, custom) by Newton's method on ``(a, b)``
(:mod:`._newton`). Polyhedral
multiclass losses (the multiclass hinges) are one joint problem over all
classes, solved by block coordinate descent in the dual (:mod:`._multiclass`).
"""

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .._estimator import NamedLossParamsMixin, check_sample_weight
from .._targets import resolve_loss
from ..losses import NonFiniteLossError, get_loss
from ..solvers.dcd import balance
from ._approximate import APPROXIMATIONS, approximate_decision, approximate_fit, approximate_partial_fit
from ._kernel import KERNELS, Kernel
from ._multiclass import block_descent
from ._newton import MAX_NEWTON_SAMPLES, kernel_newton
from ._polish import NEWTON_POLISH_MAX, POLISH_TOL, polish_multiclass, polish_smo
from ._smo import initial_decision, intercept, row_store, smo, smo_state
from ._smooth import CONVERGED, MAX_ITER, NON_FINITE, STALLED, best_constant_value, smooth_dual
from ._smooth import solvable as smooth_solvable

__all__ = ["_KernelSVM", "_approximating"]


def _approximating(estimator):
    """``partial_fit`` exists on the approximate path only."""
    if estimator.kernel_approximation is None:
        raise AttributeError("partial_fit needs kernel_approximation='nystroem' or 'random_fourier' (the exact "
                             "kernel solvers see all the data at once).")
    return True


#: Largest kernel matrix kept in float64 (8,000 samples); larger ones are
#: float32, which halves the memory the solver touches (decision values then
#: carry relative errors of about 1e-7, far below SVC's tolerance of 1e-3).
FLOAT64_BYTES = 512 * 2 ** 20


class _Solution(NamedTuple):
    rows: np.ndarray  # training rows of the problem
    dual: np.ndarray  # a, one per row
    intercept: float
    n_iter: int
    why: str = None  # why the solver stopped short of its tolerance (None: it converged)
    kernel_dual: np.ndarray = None  # K a on the problem's rows, when the solver keeps it
    capped: bool = False  # stopped by max_iter (the user's limit)


def _stopped(solver, n_iter, max_iter, tol):
    """The reason a solver stopped at ``max_iter`` (None if it did not)."""
    if n_iter < max_iter:
        return None
    return f"{solver} reached max_iter={max_iter} before the tolerance tol={tol:g}; increase max_iter"


class _KernelSVM(NamedLossParamsMixin, BaseEstimator):
    """Kernel, C, tolerances and the per-problem solvers."""

    _parameter_constraints = {
        "loss": [str, object],
        "C": [Interval(Real, 0, None, closed="neither")],
        "kernel": [StrOptions(set(KERNELS)), callable],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0, None, closed="neither")],
        "coef0": [Real],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, -1, None, closed="left")],
        "cache_size": [Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
        "kernel_approximation": [StrOptions(set(APPROXIMATIONS)), None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither"), None],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "stochastic_params": [dict, None],
        "partial_fit_epochs": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def _resolve_loss(self, **params):
        loss = resolve_loss(self, get_loss(self.loss, **params) if isinstance(self.loss, str) else self.loss)
        if self.kernel_approximation is not None:  # any loss of the linear estimators
            return loss
        if loss.structure not in ("elementwise", "row"):
            raise ValueError(f"loss={self.loss!r}: the exact kernel solvers need a sum of per-sample losses; "
                             f"{type(loss).__name__} has structure={loss.structure!r}. Use "
                             "kernel_approximation='nystroem' (the linear solvers take it).")
        if loss.per_row and not loss.polyhedral:
            raise ValueError(f"loss={self.loss!r}: the exact kernel solvers fit a multiclass loss jointly only when "
                             f"it is polyhedral (multiclass_hinge); {type(loss).__name__} is not. Use a binary "
                             "loss with multi_class='ovr' or 'ovo', or kernel_approximation='nystroem'.")
        if not (loss.piecewise_quadratic or loss.polyhedral or (loss.differentiable and loss.has_hessian)):
            raise ValueError(f"loss={self.loss!r}: {type(loss).__name__} is neither piecewise quadratic "
                             "(solved exactly by SMO) nor differentiable with a hessian (Newton).")
        return loss

    def _validate_X(self, X, reset=True):
        return validate_data(self, X, reset=reset, **self._check_options())

    def _check_options(self):
        dtype = np.float64 if self.kernel == "precomputed" else [np.float64, np.float32]
        # C order whatever the input's (pandas gives Fortran order): kernel rows,
        # gamma="scale" and the solver then see the same numbers
        return dict(accept_sparse="csr", dtype=dtype, order="C")

    def _row_dtype(self, n):
        """float64 rows up to :data:`FLOAT64_BYTES` for the whole matrix, float32 beyond."""
        return np.float64 if n * n * 8 <= FLOAT64_BYTES else np.float32

    def _matrix_dtype(self, n):
        """float64 up to :data:`FLOAT64_BYTES`, float32 beyond, within ``cache_size`` MB."""
        budget = self.cache_size * 2 ** 20
        if n * n * 8 <= min(budget, FLOAT64_BYTES):
            return np.float64
        if n * n * 4 <= budget:
            return np.float32
        raise ValueError(
            f"{type(self).__name__}: the kernel matrix of {n} samples needs {n * n * 4 / 2 ** 20:.0f} MB "
            f"in float32, more than cache_size={self.cache_size} MB. Raise cache_size, or use "
            "sklearn.kernel_approximation.Nystroem with a linear model for large data."
        )

    def _fit_approximate(self, X, y, weight, loss, partial=False, classes=None, sample_weight=None):
        """The approximate path (:mod:`._approximate`); ``weight`` without C."""
        self._kernel = getattr(self, "_kernel", None) if partial and hasattr(self, "linear_") else \
            self._new_kernel(X, sample_weight)
        if partial:
            approximate_partial_fit(self, X, y, weight, loss, self._kernel.gamma, classes)
        else:
            approximate_fit(self, X, y, weight, loss, self._kernel.gamma)
        self.n_iter_ = np.atleast_1d(self.linear_.n_iter_)
        self.loss_ = loss
        return self

    def _new_kernel(self, X, sample_weight):
        """The kernel resolved on the training data, data checked.

        ``gamma="scale"`` comes from the variance weighted by ``sample_weight``
        (not by class weights: those reweight the loss, not the data).
        """
        kernel = Kernel(self.kernel, self.gamma, self.degree, self.coef0, X, sample_weight)
        kernel.check_data(X)
        return kernel

    def _max_iter(self):
        return np.iinfo(np.int64).max if self.max_iter == -1 else self.max_iter

    def _store(self, X, rows, kind, whole):
        """Kernel rows of the samples ``rows`` (None: all) for SMO or block descent, and the diagonal.

        Named kernels on dense data: rows computed when needed into a cache of
        ``cache_size`` MB (``kind``, :func:`._smo.row_store`); otherwise the
        matrix is held whole (taken from ``whole`` when given).
        """
        n = X.shape[0] if rows is None else rows.size
        if kind is not None:
            dtype = self._row_dtype(n)
            slots = self.cache_size * 2 ** 20 // (n * np.dtype(dtype).itemsize)
            data = np.ascontiguousarray(self._kernel.prepare(X if rows is None else X[rows]), dtype=np.float64)
            return (row_store(n, slots, dtype, data, kind, self._kernel.formula_gamma, self.coef0, self.degree),
                    self._kernel.diagonal(data))
        K = self._matrix(X, rows, whole, self._matrix_dtype(n))
        return row_store(n, n, K.dtype, K=K), np.diagonal(K).astype(np.float64)

    def _matrix(self, X, rows, whole, dtype):
        """The kernel matrix of the samples ``rows`` (None: all): from ``whole``, or computed in ``dtype``."""
        if whole is not None:
            return whole[np.ix_(rows, rows)]
        return self._kernel.gram(X if rows is None else X[rows], dtype)

    def _fit_problems(self, X, problems, weight, loss, sample_weight=None):
        """Fit every ``(rows, y)`` problem; ``weight`` is ``C`` times the sample (and class) weights."""
        dual = loss.piecewise_quadratic or smooth_solvable(loss)  # else Newton's method
        largest = max(X.shape[0] if rows is None else rows.size for rows, _ in problems)
        if not dual and largest > MAX_NEWTON_SAMPLES:  # before any kernel matrix is built
            raise ValueError(
                f"{type(loss).__name__} is not convex, so it is fitted by Newton's method, which solves an "
                f"n x n system and is meant for at most {MAX_NEWTON_SAMPLES} samples; got {largest}. Use "
                "a convex loss or Nystroem features with a linear model (kernel_approximation='nystroem')."
            )
        self._kernel = self._new_kernel(X, sample_weight)
        kind = self._kernel.row_kind(X) if dual else None
        whole = None
        if kind is None and any(rows is not None for rows, _ in problems):
            whole = self._kernel.gram(X, self._matrix_dtype(X.shape[0]) if dual else np.float64)
        tasks = [(rows, y, weight if rows is None else weight[rows]) for rows, y in problems]
        n_jobs = getattr(self, "n_jobs", None)
        if n_jobs in (None, 1) or len(problems) == 1:
            solutions = [self._solve(X, rows, y, w, loss, dual, kind, whole) for rows, y, w in tasks]
        else:  # the problems are independent: the same solutions in any process
            from joblib import Parallel, delayed

            solutions = Parallel(n_jobs=n_jobs)(delayed(self._solve)(X, rows, y, w, loss, dual, kind, whole)
                                                for rows, y, w in tasks)
        return self._finish(X, solutions, loss, problems, weight)

    def _solve(self, X, rows, y, w, loss, dual, kind, whole):
        """The solution of one binary problem (the rows ``rows`` of X, or all; targets ``y``, weights ``w``)."""
        if not dual:
            return self._newton(self._matrix(X, rows, whole, np.float64), loss, y, w, rows)
        store, diag = self._store(X, rows, kind, whole)
        if loss.piecewise_quadratic:
            return self._smo(store, diag, loss, y, w, self._max_iter(), rows)
        a, b, f, n_iter, status = smooth_dual(store, diag, loss, y, w, self.tol, self._max_iter())
        if status in (STALLED, NON_FINITE) and y.size <= MAX_NEWTON_SAMPLES:
            # the dual lost its precision (C too large for float64) or overflowed:
            # Newton's method in the primal does not cancel K a against b
            solution = self._newton(self._matrix(X, rows, whole, np.float64), loss, y, w, rows)
            if solution.why is None:
                return solution
        if status == NON_FINITE:
            raise NonFiniteLossError(
                f"{type(self).__name__}: the dual solver for {type(loss).__name__} met a non-finite gradient "
                f"or step (the loss overflows at these decision values; C={self.C:g}). Lower C, scale the "
                "features or the targets; the previous model (if any) is kept.")
        why = {CONVERGED: None, MAX_ITER: _stopped("SMO", n_iter, self._max_iter(), self.tol),
               STALLED: ("SMO stalled at the limit of float64 precision before the tolerance "
                         f"tol={self.tol:g} (C={self.C:g} makes the dual ill-conditioned); lower C")}[status]
        solution = _Solution(rows, a, b, n_iter, why, f, status == MAX_ITER)
        if status == CONVERGED:
            solution = self._newton_polish(lambda: self._matrix(X, rows, whole, np.float64), loss, y, w, solution)
        return solution

    def _newton(self, K, loss, y, w, rows):
        max_iter = min(self._max_iter(), 100)
        a, b, n_iter, converged = kernel_newton(K, loss, y, w, tol=self.tol, max_iter=max_iter, verbose=self.verbose)
        why = None if converged else (
            f"Newton's method stopped after {n_iter} steps (at most {max_iter}) with a change above tol={self.tol:g}"
            " or no descent left at float precision; lower C or scale the features")
        solution = _Solution(rows, a, b, n_iter, why, K @ a, n_iter >= max_iter and max_iter == self._max_iter())
        return solution if not converged else self._newton_polish(lambda: K, loss, y, w, solution)

    def _newton_polish(self, matrix, loss, y, w, solution):
        """A converged smooth fit taken to the optimum by Newton steps (:mod:`._polish`), up to
        :data:`._polish.NEWTON_POLISH_MAX` samples; ``matrix()`` gives the float64 kernel matrix."""
        if y.size > NEWTON_POLISH_MAX or not self._polishes():
            return solution
        K = matrix()
        scale = 1.0 + float(np.max(np.abs(solution.kernel_dual))) + abs(solution.intercept)
        a, b, steps, converged = kernel_newton(K, loss, y, w, tol=POLISH_TOL * scale, max_iter=5,
                                               start=(solution.dual, solution.intercept))
        if not (np.all(np.isfinite(a)) and np.isfinite(b)):
            return solution
        return solution._replace(dual=a, intercept=b, kernel_dual=K @ a)

    def _fit_joint(self, X, y, weight, loss, n_classes, rng, sample_weight=None):
        """One problem for all classes, for a polyhedral multiclass loss (:mod:`._multiclass`)."""
        self._kernel = self._new_kernel(X, sample_weight)
        store, diag = self._store(X, None, self._kernel.row_kind(X), None)
        lower, upper, offset = loss.polyhedral_pieces(y, n_classes)
        a, b, epochs, converged = block_descent(store, diag, lower, upper, offset, weight, float(self.tol),
                                                self._max_iter(), rng)
        if converged and self._polishes():
            w = np.asarray(weight, dtype=np.float64)[:, None]
            a, b = polish_multiclass(store, -w * upper, -w * lower, offset, a, b) or (a, b)
        why = None if converged else _stopped("block coordinate descent", epochs, self._max_iter(), self.tol)
        return self._finish(X, [_Solution(None, a[:, m], b[m], epochs, why) for m in range(n_classes)], loss)

    def _finish(self, X, solutions, loss, problems=None, weight=None):
        """Check the solutions (finite, better than a constant model) and set the fitted attributes."""
        for s in solutions:
            if not (np.all(np.isfinite(s.dual)) and np.isfinite(s.intercept)):
                raise NonFiniteLossError(
                    f"{type(self).__name__}: the fit of {type(loss).__name__} gave non-finite dual coefficients "
                    f"(C={self.C:g}); check X and the kernel for non-finite values; the previous model (if any) "
                    "is kept.")
        if problems is not None and self._kernel.positive_semidefinite:
            solutions = [s if s.kernel_dual is None else
                         self._check_better_than_constant(loss, y, weight if rows is None else weight[rows], s)
                         for (rows, y), s in zip(problems, solutions)]
        reasons = sorted({s.why for s in solutions if s.why is not None})
        if reasons:
            warnings.warn(f"{type(self).__name__} ({type(loss).__name__}) did not converge: {'; '.join(reasons)}.",
                          ConvergenceWarning)
        self._set_support(X, solutions)
        self.n_iter_ = np.array([s.n_iter for s in solutions])
        self.loss_ = loss
        return self

    def _smo(self, store, diag, loss, y, w, max_iter, rows):
        slopes, breaks, kappa = loss.quadratic_pieces(y)
        slopes = np.ascontiguousarray(slopes, dtype=np.float64)
        breaks = np.ascontiguousarray(breaks, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        kappa_w = np.divide(kappa, w, out=np.zeros_like(w), where=w > 0)
        # a start inside the box with sum(w u) = 0
        u, reached = balance(np.clip(0.0, slopes[:, 0], slopes[:, -1]), w, slopes[:, 0], slopes[:, -1])
        if not reached:
            raise ValueError(f"{type(loss).__name__}: no feasible dual start for these targets.")
        f = initial_decision(store, -w * u) - kappa_w * w * u
        n_iter, converged = smo(store, diag, kappa_w, slopes, breaks, w, u, f, float(self.tol), max_iter,
                                *smo_state(u.size))
        why = None
        if not converged:
            why = _stopped("SMO", n_iter, max_iter, self.tol) or (
                f"SMO stalled on a pair that admits no step at float precision before the tolerance "
                f"tol={self.tol:g} (C={self.C:g}); lower C")
        b = polish_smo(store, kappa_w, slopes, breaks, w, u, f) if converged and self._polishes() else None
        a = -w * u
        return _Solution(rows, a, intercept(u, f, slopes, breaks, w) if b is None else b, int(n_iter), why,
                         f - kappa_w * a, n_iter >= max_iter)

    def _polishes(self):
        """Whether converged fits are polished to the exact optimum (:mod:`._polish`): PSD kernels."""
        return self._kernel.positive_semidefinite

    def _check_better_than_constant(self, loss, y, w, solution):
        """Refuse a solution whose objective is above that of the best constant model (a failed solve).

        The objective is ``sum_i w_i l(y_i, f_i) + a^T K a / 2``; a constant
        model ``f = b`` (``a = 0``) is feasible, so an optimum can never be
        worse than the best one. A fit stopped by the user's ``max_iter`` is
        kept (with its ConvergenceWarning, which then says so); any other is
        refused with an error.
        """
        a, Ka = solution.dual, solution.kernel_dual
        w = np.asarray(w, dtype=np.float64)
        decision = Ka + solution.intercept
        value = float(loss.loss(y, decision, w, reduction="sum", check_input=False)) + 0.5 * float(a @ Ka)
        constant = best_constant_value(loss, y, w)
        # the solvers stop with decision values within tol of optimal ones, which
        # moves the objective by about tol per unit of weight: allow that
        margin = self.tol * float(np.sum(w)) + 1e-9 * abs(constant)
        if value <= constant + margin:
            return solution
        if solution.capped:
            return solution._replace(why=f"{solution.why} (the model is still worse on the training data than the "
                                         "best constant prediction)")
        how = solution.why or "it stopped at its tolerance"
        raise ValueError(
            f"{type(self).__name__}: the solver did not reach the optimum for {type(loss).__name__} with "
            f"C={self.C:g} ({how}), and its model is worse on the training data than the best "
            f"constant prediction (objective {value:.6g} against {constant:.6g}). Lower C or scale the "
            "features; the previous model (if any) is kept.")

    def _set_support(self, X, solutions):
        """``support_``, ``support_vectors_``, ``dual_coef_`` (one row per problem) and ``intercept_``."""
        n = X.shape[0]
        dense = np.zeros((len(solutions), n))
        for k, s in enumerate(solutions):
            dense[k, slice(None) if s.rows is None else s.rows] = s.dual
        support = np.flatnonzero(np.any(dense != 0.0, axis=0))
        self.support_ = support
        self.support_vectors_ = X[support] if self.kernel != "precomputed" else np.empty((0, 0))
        self.dual_coef_ = dense[:, support]
        self.intercept_ = np.array([s.intercept for s in solutions])

    def _decision(self, X):
        """Raw decision values, one column per problem (per class on the approximate path)."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        if hasattr(self, "linear_"):
            decision = approximate_decision(self, X)
            return decision.reshape(X.shape[0], -1)
        if self.kernel == "precomputed":
            if X.shape[1] != self.shape_fit_[0]:
                raise ValueError(f"With kernel='precomputed', X must have {self.shape_fit_[0]} columns "
                                 f"(training samples); got {X.shape[1]}.")
            K = np.asarray(X[:, self.support_].toarray() if sp.issparse(X) else X[:, self.support_])
        else:
            K = self._kernel(X, self.support_vectors_) if self.support_.size else np.zeros((X.shape[0], 0))
        return K @ self.dual_coef_.T + self.intercept_

    def _start(self, X, y, sample_weight, first=True):
        """Validation shared by ``fit`` and ``partial_fit``; returns ``(X, y, sample_weight, loss)``.

        ``first``: a fit from scratch (parameters and loss resolved anew, the
        feature count recorded), else a later ``partial_fit`` call.
        """
        if first:
            self._validate_params()
        loss = self._resolve_loss() if first else self.loss_
        X, y = validate_data(self, X, y, reset=first, y_numeric=self._y_numeric, **self._check_options())
        y = column_or_1d(y, warn=True)
        weight = self._weights(X, sample_weight)
        if first:
            # a fit starts afresh: which path predicts (linear_ or support
            # vectors) and the loss are read from the fitted attributes (a fit
            # that fails later restores them: keeps_model_on_failure)
            kept = {"n_features_in_", "feature_names_in_", "shape_fit_"}
            for name in [name for name in vars(self) if name.endswith("_") and not name.startswith("_")
                         and name not in kept]:
                delattr(self, name)
        return X, y, weight, loss

    def _weights(self, X, sample_weight):
        sample_weight = check_sample_weight(sample_weight, X)
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(f"With kernel='precomputed' X must be square (n_samples, n_samples); got {X.shape}.")
        self.shape_fit_ = X.shape
        return sample_weight

    @property
    def coef_(self):
        """Primal coefficients, for ``kernel="linear"`` only."""
        if self.kernel != "linear":
            raise AttributeError("coef_ is only available when kernel='linear'.")
        check_is_fitted(self, "dual_coef_")
        return np.asarray(self.dual_coef_ @ self.support_vectors_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.kernel != "precomputed"
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags
