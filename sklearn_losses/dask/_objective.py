"""The objective of a linear model over a Dask collection partitioned by rows, for the in-memory solvers.

Each evaluation of the loss and its gradient is one map over the row blocks
(every block evaluates its weighted *sum* through the in-memory
:class:`~sklearn_losses.solvers._objective.LinearObjective`, which reaches the
loss's compiled kernels) and a tree reduction of ``(sum of losses, sum of
gradients, total weight)``; the client divides by the total weight and hands
``(value, gradient)`` to the same L-BFGS / Newton-CG code as an in-memory fit.
The data never leave the workers; a block is loaded (or generated) when its
task runs and dropped after, so the collection may exceed the cluster's
memory. The reduction's order is fixed by the blocks' order, so a fit gives
the same result on any number of workers.

Threads: a block's kernels may be threaded (blocks of 200,000 entries or
more), and every worker thread runs a task, so a task uses its share of the
host's cores, ``cores // threads of the workers on that host``
(:func:`threads_per_task`; numba's thread count is set per calling thread);
the environment variable ``SKLEARN_LOSSES_DASK_THREADS`` overrides it. Two
workers of one thread each on two cores then run one numba thread each
instead of two.

``prepare`` maps a block's raw labels and weights to the problem's targets
and weights (a classifier's class encoding and ``class_weight``): it runs on
the workers, so it is a picklable object (:class:`Targets`).
"""

import math

import numpy as np

from .._workers import THREADS_VARIABLE, numba_threads, threads_per_task, usable_cores  # noqa: F401 (re-exported)
from ..solvers._objective import START_SAMPLES, LinearObjective, flat_start, start_constant

__all__ = ["DaskObjective", "Targets", "block_statistics", "numba_threads", "threads_per_task", "tree_sum"]

class Targets:
    """A problem's targets and weights from a block's labels and weights (picklable: runs on the workers).

    ``classes`` None: numeric targets, validated by ``validate(y)`` (the
    estimator's own target check). Otherwise labels encoded by their index in
    ``classes``; ``positive`` j gives the one-vs-rest indicator of class j,
    ``binary`` the indicator of the second class, neither the indices (a
    multiclass loss); ``class_weights`` (per class) multiply the weights.
    """

    def __init__(self, validate=None, classes=None, positive=None, binary=False, class_weights=None):
        self.validate, self.classes, self.positive = validate, classes, positive
        self.binary, self.class_weights = binary, class_weights

    def __call__(self, y, w):
        if self.classes is None:
            return self.validate(y), w
        y = np.asarray(y).ravel()
        encoded = np.searchsorted(self.classes, y)
        encoded = np.minimum(encoded, self.classes.size - 1)
        if np.any(self.classes[encoded] != y):
            raise ValueError(f"y contains labels absent from the classes found in a first pass "
                             f"({self.classes.tolist()}); the collection changed between passes.")
        if self.class_weights is not None:
            factor = self.class_weights[encoded]
            w = factor if w is None else w * factor
        if self.positive is not None:
            return (encoded == self.positive).astype(np.float64), w
        if self.binary:
            return (encoded == 1).astype(np.float64), w
        return encoded.astype(np.float64), w


def _block_sums(X, y, w, theta, loss, prepare, fit_intercept, n_outputs, threads=None):
    """``(sum_i w_i loss_i, its gradient in theta, sum_i w_i)`` over one row block."""
    n_params = theta.size
    X = np.ascontiguousarray(X)
    y, w = prepare(y, None if w is None else np.asarray(w, dtype=np.float64).ravel())
    total = float(X.shape[0] if w is None else np.sum(w))
    if X.shape[0] == 0 or not total > 0:
        return 0.0, np.zeros(n_params), 0.0
    with numba_threads(threads):
        value, grad = LinearObjective(loss, X, y, w, fit_intercept, n_outputs).loss_gradient(theta)
    return value * total, grad * total, total


def _add(a, b):
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def tree_sum(parts):
    """The sum of delayed tuples by a balanced binary tree (depth ``log2(len(parts))``), in their order."""
    from dask import delayed

    add = delayed(_add, pure=True)
    while len(parts) > 1:
        parts = [add(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def _block_statistics(X, y, w, prepare, per_block):
    """Validate one block (``prepare`` checks its targets); return its rows, total weight after ``prepare`` and an
    evenly spaced sample of its raw targets and weights."""
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise ValueError(f"X must be numeric; got dtype {X.dtype}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("Input X contains NaN or infinity.")
    if w is not None:
        w = np.asarray(w, dtype=np.float64).ravel()
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("sample_weight contains negative, NaN or infinite values; weights must be finite and "
                             "non-negative.")
    _, weights = prepare(y, w)
    n = X.shape[0]
    rows = slice(None, None, max(1, math.ceil(n / max(per_block, 1))))
    return n, float(n if weights is None else np.sum(weights)), np.asarray(y)[rows], None if w is None else w[rows]


def block_statistics(blocks, prepare):
    """One pass over the blocks: validated, their number of rows, total weight (after ``prepare``'s class
    weights, which every problem of a fit shares), and a sample of the raw targets and weights (about
    :data:`START_SAMPLES` rows; each problem encodes it with its own ``prepare`` for its start point)."""
    import dask

    per_block = math.ceil(START_SAMPLES / max(len(blocks), 1))
    stats = dask.compute(*[dask.delayed(_block_statistics, pure=True)(X, y, w, prepare, per_block)
                           for X, y, w in blocks])
    n = sum(s[0] for s in stats)
    total = sum(s[1] for s in stats)
    y_sample = np.concatenate([s[2] for s in stats])
    w_sample = None if stats[0][3] is None else np.concatenate([s[3] for s in stats])
    return n, total, y_sample, w_sample


class DaskObjective:
    """Mean loss of a linear model over row ``blocks`` ``[(X, y, w), ...]`` (delayed objects); the interface of
    :class:`~sklearn_losses.solvers._objective.LinearObjective` that the full-batch solvers use."""

    lower_bounds = None
    has_epoch_kernel = False

    def __init__(self, loss, blocks, prepare, fit_intercept, n_outputs, n_features, n_samples, total_weight,
                 y_sample, w_sample, threads=None):
        if not total_weight > 0:
            raise ValueError("sample_weight sums to zero: the weighted mean loss is undefined.")
        self.loss, self.blocks, self.prepare = loss, blocks, prepare
        self.fit_intercept, self.n_outputs, self.n_features = fit_intercept, n_outputs, n_features
        self.n_samples, self.total_weight = n_samples, total_weight
        self._y_sample, self._w_sample = y_sample, w_sample
        self.sample_weight = None
        self.threads = threads
        self.n_evaluations = 0
        self._start = None

    @property
    def n_params(self):
        return self.n_outputs * (self.n_features + int(self.fit_intercept))

    def loss_gradient(self, theta, rows=None):
        import dask

        if rows is not None:
            raise ValueError("A distributed objective evaluates the whole collection (no minibatches).")
        theta = np.asarray(theta, dtype=np.float64)
        block = dask.delayed(_block_sums, pure=True)
        parts = [block(X, y, w, theta, self.loss, self.prepare, self.fit_intercept, self.n_outputs, self.threads)
                 for X, y, w in self.blocks]
        value, grad, _ = dask.compute(tree_sum(parts))[0]
        self.n_evaluations += 1
        return value / self.total_weight, grad / self.total_weight

    def unpack(self, theta):
        k, p = self.n_outputs, self.n_features
        coef = theta[: k * p].reshape(k, p)
        intercept = theta[k * p:] if self.fit_intercept else np.zeros(k)
        return coef, intercept

    def start(self):
        """Zero coefficients and the loss's best constant of the target sample as intercept, unless that is no
        better than zero or flat there (the rule of the in-memory objective's start)."""
        if self._start is None:
            self._start = self._find_start()
        return self._start[0].copy()

    def _find_start(self):
        theta = np.zeros(self.n_params)
        value0, grad0 = self.loss_gradient(theta)
        if not self.fit_intercept:
            return theta, grad0, value0
        try:
            with np.errstate(all="ignore"):
                b = start_constant(self.loss, self._y_sample, self._w_sample, self.n_outputs)
        except ValueError:
            return theta, grad0, value0
        b = np.broadcast_to(np.asarray(b, dtype=np.float64), (self.n_outputs,))
        if not np.all(np.isfinite(b)):
            return theta, grad0, value0
        start = theta.copy()
        start[self.n_outputs * self.n_features:] = b
        with np.errstate(all="ignore"):
            value, grad = self.loss_gradient(start)
        if np.isfinite(value) and value <= value0 and not flat_start(self.loss, grad, grad0):
            return start, grad, value
        return theta, grad0, value0

    def known_value(self, theta):
        start = self._start
        return start[2] if start is not None and np.array_equal(theta, start[0]) else None

    def gradient_scale(self):
        if self._start is None:
            self.start()
        grad = self._start[1]
        scale = float(np.max(np.abs(grad))) if grad.size else 0.0
        return scale if np.isfinite(scale) and scale > 0 else 1.0
