"""The objective of a linear model: weighted mean loss of ``X @ coef.T + intercept``.

:class:`LinearObjective` joins a loss, the data and the intercept choice; the
solvers add the penalty and hold no per-loss code (the role of
scikit-learn's ``LinearModelLoss``). Single-output element-wise losses go
through the fused one-pass kernels of :mod:`._kernels`; losses on rows
(softmax), multi-output targets and composite losses go through NumPy/BLAS
products and the loss's public ``loss_gradient``, as do full-batch
evaluations of data smaller than the threaded kernels' threshold
(:func:`~sklearn_losses._config.parallel_threshold`, 200,000 entries of X by
default): X then stays in the cache, so reading it once saves nothing, and
the loss's own kernel (which scorers and predictions use anyway) spares a
first fit the compilation of the fused one (0.5-1.5 s with a cold cache).
Minibatches keep the fused kernels.
"""

import math

import numpy as np
import scipy.sparse as sp

from .._config import LINEAR_BLOCK_BYTES, parallel_threshold
from .._jit import DISABLE_JIT
from ..losses._factory import get_kernels
from .._codegen.linear import linear_source

__all__ = ["flat_start", "start_constant", "optimality", "LinearObjective", "smooth_objective", "weighted_gram"]


def weighted_gram(X, d, fit_intercept):
    """``X_a^T diag(d) X_a`` with ``X_a = [X, 1]`` (or ``X`` without an intercept).

    The hessian of Newton's method and the normal matrix of the interior-point
    method; dense X goes through one BLAS product on ``sqrt(d) * X``.
    """
    if sp.issparse(X):
        xtdx = np.asarray((X.T @ sp.diags(d) @ X).todense())
    else:
        xs = X * np.sqrt(d)[:, None]
        xtdx = xs.T @ xs
    if not fit_intercept:
        return xtdx
    xd = np.asarray(X.T @ d).ravel()
    return np.block([[xtdx, xd[:, None]], [xd[None, :], np.array([[d.sum()]])]])


def smooth_objective(objective, penalty):
    """``theta -> (value, gradient)`` of the mean loss plus the penalty's L2 part."""
    n_coef = objective.n_outputs * objective.n_features

    def value_gradient(theta):
        value, grad = objective.loss_gradient(theta)
        coef = theta[:n_coef]
        grad[:n_coef] += penalty.gradient(coef)
        return value + 0.5 * penalty.l2 * float(coef @ coef), grad

    return value_gradient


def optimality(objective, penalty, theta):
    """Largest component of the minimum-norm subgradient of ``objective + penalty`` at ``theta``.

    Zero exactly at an optimum of a convex problem; the measure by which the
    gradient solvers judge convergence (scipy's own stopping reasons include
    "no progress", which a wrong gradient also produces).
    """
    theta = np.asarray(theta, dtype=np.float64)
    _, grad = smooth_objective(objective, penalty)(theta)
    n_coef = objective.n_outputs * objective.n_features
    lower = getattr(objective, "lower_bounds", None)  # of the parameters after the coefficients
    if lower is not None:  # at a bound, only a gradient pointing out of the feasible set counts
        tail, g = theta[n_coef:], grad[n_coef:]
        grad = grad.copy()
        grad[n_coef:] = np.where(tail <= lower, np.minimum(g, 0.0), g)
    if penalty.l1 > 0:
        coef, g = theta[:n_coef], grad[:n_coef]
        grad = grad.copy()
        grad[:n_coef] = np.where(coef != 0, g + penalty.l1 * np.sign(coef),
                                 np.sign(g) * np.maximum(np.abs(g) - penalty.l1, 0.0))
    return float(np.max(np.abs(grad))) if grad.size else 0.0


#: Rows of the subsample whose best constant starts a fit's intercept.
START_SAMPLES = 20000

#: A start whose gradient is below this fraction of the gradient at zero is
#: flat (saturated predictions): the fit starts from zero instead.
FLAT = 1e-12

#: The same for non-convex losses, whose best constant can lie on a plateau
#: that a gradient method does not leave (a box loss's best constant box is
#: often one far larger than every target, where the loss is near 1 and its
#: gradient vanishes).
FLAT_NON_CONVEX = 1e-6


def start_constant(loss, y, sample_weight, n_classes=None):
    """The constant raw prediction a fit starts from: the loss's best constant where that is exact
    (``baseline_exact``), else the link of the weighted mean target (a local search's constant can
    lie on a plateau: a box loss's best constant box is often one far larger than every target)."""
    if loss.baseline_exact:
        return loss.baseline_prediction(y, sample_weight, n_classes=n_classes if loss.per_row else None)
    mean = np.average(np.asarray(y, dtype=np.float64), axis=0, weights=sample_weight)
    return np.asarray(loss.link.link(np.atleast_2d(mean)), dtype=np.float64).reshape(np.shape(mean))


def flat_start(loss, gradient, gradient_at_zero):
    """Whether a start with ``gradient`` is too flat to start from (see :data:`FLAT`)."""
    threshold = FLAT if loss.convex else FLAT_NON_CONVEX
    return np.max(np.abs(gradient), initial=0.0) < threshold * np.max(np.abs(gradient_at_zero), initial=0.0)


class LinearObjective:
    """Mean loss of a linear model and its gradient in ``(coef, intercept)``.

    Parameters
    ----------
    loss : BaseLoss
    X : ndarray of shape (n_samples, n_features) or CSR matrix
        float32 or float64; dense arrays C-contiguous.
    y : ndarray
        Targets in the form the loss expects (already validated).
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool
    n_outputs : int
        Rows of ``coef``: 1 for single-output losses, the number of outputs or
        classes otherwise.
    """

    def __init__(self, loss, X, y, sample_weight, fit_intercept, n_outputs=1):
        self.loss, self.X, self.y = loss, X, y
        self.sample_weight = sample_weight
        self.fit_intercept = fit_intercept
        self.n_samples, self.n_features = X.shape
        self.n_outputs = n_outputs
        total = self.n_samples if sample_weight is None else float(np.sum(sample_weight))
        if not total > 0:
            raise ValueError("sample_weight sums to zero: the weighted mean loss is undefined.")
        self.scale = 1.0 / total
        spec = loss.kernel_spec  # None: a loss evaluated through other losses (composites)
        self._fused = (
            loss.structure == "elementwise" and spec is not None and n_outputs == 1
            and not DISABLE_JIT
        )
        if self._fused:
            self._kernels = get_kernels(spec, f"linear_{loss.name or type(loss).__name__}", linear_source)
            self._params = loss.kernel_arguments()
            self._sparse = sp.issparse(X)
            size = X.nnz if self._sparse else X.size
            self._parallel = size >= parallel_threshold()
            self._rows = max(4096, math.ceil(self.n_samples / 16))
            self._block = max(1, min(512, LINEAR_BLOCK_BYTES // (X.dtype.itemsize * max(self.n_features, 1))))
            self._gcoef = np.empty(self.n_features)
            self._y = np.ascontiguousarray(y, dtype=np.float64)
            self._w = None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)

    @property
    def n_params(self):
        """Length of the flat parameter vector ``[coef.ravel(), intercept]``."""
        return self.n_outputs * (self.n_features + int(self.fit_intercept))

    def start(self):
        """Starting parameters: zero coefficients, and the intercept the loss's best constant
        (:meth:`~sklearn_losses.losses.BaseLoss.baseline_prediction`; zero if there is none;
        see :func:`start_constant`).

        Large data: the constant of an evenly spaced subsample of
        :data:`START_SAMPLES` rows (a start need not be exact). The zero start
        is kept where the constant is no better, or where the loss is flat
        there (the best constant at infinity, as for a soft F1, whose
        predictions then all saturate: a gradient method would not move).
        """
        return self._start_point()[0].copy()

    def _start_point(self):
        """``(theta, gradient there, mean loss there)`` of :meth:`start`, computed once."""
        if getattr(self, "_start", None) is None:
            self._start = self._find_start()
        return self._start

    def known_value(self, theta):
        """The mean loss at ``theta`` (no penalty) if ``theta`` is the start point already computed, else None.

        Never computes the start: a warm start or ``partial_fit`` would pay
        for a baseline and two passes over X to save one.
        """
        start = getattr(self, "_start", None)
        return start[2] if start is not None and np.array_equal(theta, start[0]) else None

    def _find_start(self):
        theta = np.zeros(self.n_params)

        def at(point):
            value, grad = self.loss_gradient(point)
            return point, grad, value

        if not self.fit_intercept:
            return at(theta)
        rows = slice(None, None, max(1, self.n_samples // START_SAMPLES))
        w = None if self.sample_weight is None else np.asarray(self.sample_weight)[rows]
        try:
            with np.errstate(all="ignore"):
                b = start_constant(self.loss, np.asarray(self.y)[rows], w, self.n_outputs)
        except ValueError:  # e.g. every weight of the subsample zero
            return at(theta)
        b = np.broadcast_to(np.asarray(b, dtype=np.float64), (self.n_outputs,))
        if not np.all(np.isfinite(b)):
            return at(theta)
        start = theta.copy()
        start[self.n_outputs * self.n_features:] = b
        # through the objective's own kernel: a cheaper pass over the targets alone would compile
        # the loss's kernels too, seconds on a cold cache for milliseconds saved
        with np.errstate(all="ignore"):
            value0, grad0 = self.loss_gradient(theta)
            value, grad = self.loss_gradient(start)
        flat = flat_start(self.loss, grad, grad0)
        if np.isfinite(value) and value <= value0 and not flat:
            return start, grad, value
        return theta, grad0, value0

    def unpack(self, theta):
        """Split a flat parameter vector into ``coef`` (k, p) and ``intercept`` (k,)."""
        k, p = self.n_outputs, self.n_features
        coef = theta[: k * p].reshape(k, p)
        intercept = theta[k * p:] if self.fit_intercept else np.zeros(k)
        return coef, intercept

    def raw_prediction(self, coef, intercept, X=None):
        """``X @ coef.T + intercept``: shape (n,) for one output, (n, k) otherwise."""
        X = self.X if X is None else X
        raw = np.asarray(X @ coef.T, dtype=np.float64) + intercept
        return raw[:, 0] if self.n_outputs == 1 else raw

    def loss_gradient(self, theta, rows=None):
        """Mean loss and its gradient with respect to the flat parameters.

        ``rows=(start, stop)`` evaluates the mean over that slice of samples
        only (a minibatch), without copying the data.
        """
        coef, intercept = self.unpack(theta)
        X, y, w, scale = self.X, self.y, self.sample_weight, self.scale
        if rows is not None:
            start, stop = rows
            w = None if w is None else w[start:stop]
            total = (stop - start) if w is None else float(np.sum(w))
            scale = 1.0 / total if total > 0 else 0.0
        if self._fused and (self._parallel or rows is not None):
            weights = () if self._w is None else (self._w if rows is None else self._w[start:stop],)
            if self._sparse:
                indptr = X.indptr if rows is None else X.indptr[start:stop + 1]
                data = (X.data, X.indices, indptr)
            else:
                data = (X if rows is None else X[start:stop],)
            ys = self._y if rows is None else self._y[start:stop]
            parallel = self._parallel and rows is None
            kernel = self._kernels.get("csr" if self._sparse else "dense", self._w is not None, parallel)
            total, gb = kernel(*data, ys, *weights, coef[0], float(intercept[0]), scale,
                               self._gcoef, self._rows, self._block, *self._params)
            grad = np.append(self._gcoef, gb) if self.fit_intercept else self._gcoef.copy()
            return total * scale, grad
        if rows is not None:
            X, y = X[start:stop], y[start:stop]
            if scale == 0.0:
                return 0.0, np.zeros(self.n_params)
        raw = self.raw_prediction(coef, intercept, X)
        value, g = self.loss.loss_gradient(y, raw, w, check_input=False)
        g = g.reshape(X.shape[0], self.n_outputs)
        gcoef = np.asarray(X.T @ g).T
        parts = [gcoef.ravel()] + ([g.sum(axis=0)] if self.fit_intercept else [])
        return value, np.concatenate(parts)

    def gradient_scale(self):
        """Largest component of the loss's gradient at :meth:`start` (1 if that is 0).

        Gradient tolerances are relative to it: the mean loss makes gradients
        scale with the data (features seen by few samples have tiny gradients),
        so an absolute threshold would stop far from the optimum on some data
        and never on other. It is measured at the best constant model (zero
        coefficients, the baseline intercept), not at zero: targets far from
        zero would otherwise inflate it by their offset, which the intercept
        removes in one step.
        """
        grad = self._start_point()[1]
        scale = float(np.max(np.abs(grad))) if grad.size else 0.0
        return scale if np.isfinite(scale) and scale > 0 else 1.0

    @property
    def has_epoch_kernel(self):
        """Whether a compiled epoch of the stochastic solvers exists for this problem."""
        return self._fused

    def run_epoch(self, theta, starts, batch, lr, settings, penalty, state):
        """One compiled epoch of minibatch SGD/Adam; updates ``theta`` and ``state`` in place.

        ``settings`` is a :class:`~sklearn_losses.solvers.sgd.StochasticSettings`,
        ``lr`` its ``eta0`` (or the adaptive schedule's current rate).

        Returns the weighted mean training loss over the epoch.
        """
        p = self.n_features
        coef = theta[:p]
        intercept = theta[p:p + 1] if self.fit_intercept else np.zeros(1)
        kernel = self._kernels.get("epoch_csr" if self._sparse else "epoch_dense", self._w is not None, False)
        data = (self.X.data, self.X.indices, self.X.indptr) if self._sparse else (self.X,)
        weights = () if self._w is None else (self._w,)
        k = len(theta)
        moments_m, moments_v, average = np.zeros(p + 1), np.zeros(p + 1), np.zeros(p + 1)
        moments_m[:k], moments_v[:k], average[:k] = state.m, state.v, state.average
        total, mass, state.t, state.seen, state.n_average = kernel(
            *data, self._y, *weights, coef, intercept, self.fit_intercept,
            np.ascontiguousarray(starts, dtype=np.int64), batch, self.n_samples, settings.adam, float(lr),
            *settings.optimizer, penalty.l1, penalty.l2, moments_m, moments_v, state.t, *settings.schedule_args,
            float(state.seen), settings.average > 0, float(settings.average), average, state.n_average,
            *self._params)
        state.m, state.v, state.average = moments_m[:k], moments_v[:k], average[:k]
        return total / mass if mass > 0 else 0.0

    def gradient_hessian_raw(self, theta):
        """Per-sample gradient and hessian with respect to the raw prediction (mean reduction)."""
        coef, intercept = self.unpack(theta)
        raw = self.raw_prediction(coef, intercept)
        return self.loss.gradient_hessian(self.y, raw, self.sample_weight, check_input=False)
