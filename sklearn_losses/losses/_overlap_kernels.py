"""Compiled passes of the overlap losses for large batches: the soft counts and the gradient from them.

The overlap losses (:mod:`.overlap`) are NumPy expressions over chunks of
rows; from :func:`~sklearn_losses._config.parallel_threshold` entries on,
these two threaded kernels do the same work, one label (column) at a time:
one pass computes the sigmoid once per entry, sums the counts and keeps its
derivative in the gradient's array; a second, memory-bound pass scales it by
what the counts give. The counts are summed over chunks
of :data:`~sklearn_losses._config.CHUNK_SIZE` rows whose partial sums are
then added in order, so the result is the same bits whatever the number of
threads.
"""

import numpy as np

from .._config import CHUNK_SIZE, PARALLEL_KERNEL_OPTIONS
from .._jit import njit, on_materialise
from ._math import exp

prange = range  # numba's prange once numba is loaded (the kernels compile after that)


@on_materialise
def _parallel_range():
    global prange
    from numba import prange

__all__ = ["scale_slopes", "soft_counts"]


@njit(**PARALLEL_KERNEL_OPTIONS)
def soft_counts(y, raw, w, weighted, slopes, store):
    """``(3,)``: the sums of ``w y p``, ``w (1 - y) p`` and ``w y (1 - p)`` over one label, ``p = sigmoid(raw)``.

    One label's column: 1-D arrays (contiguous ones vectorise; a column of a
    C-ordered multilabel array is strided and runs scalar). With ``store``,
    ``slopes[i]`` receives ``w_i p (1 - p)``, the weight times the derivative
    of ``p`` in ``raw`` (the gradient is that times a factor of ``y`` and the
    counts: :func:`scale_slopes`), so that the gradient needs no second
    evaluation of the sigmoid.
    """
    n = raw.shape[0]
    chunks = (n + CHUNK_SIZE - 1) // CHUNK_SIZE
    partial = np.zeros((chunks, 3))
    for k in prange(chunks):
        start = k * CHUNK_SIZE
        stop = min(start + CHUNK_SIZE, n)
        tp = 0.0
        fp = 0.0
        fn = 0.0
        if store:  # two loops, not a test in one: the single loop measured 10-20% slower (bench_overlap.py)
            for i in range(start, stop):
                wi = w[i] if weighted else 1.0
                r = np.float64(raw[i])
                t = np.float64(y[i])
                e = exp(-abs(r))
                d = 1.0 / (1.0 + e)
                p = d if r >= 0.0 else e * d
                q = e * d if r >= 0.0 else d  # 1 - p without cancellation
                tp += wi * t * p
                fp += wi * (1.0 - t) * p
                fn += wi * t * q
                slopes[i] = wi * (e * d * d)  # p (1 - p) = e / (1 + e)^2
        else:
            for i in range(start, stop):
                wi = w[i] if weighted else 1.0
                r = np.float64(raw[i])
                t = np.float64(y[i])
                e = exp(-abs(r))
                d = 1.0 / (1.0 + e)
                p = d if r >= 0.0 else e * d
                q = e * d if r >= 0.0 else d
                tp += wi * t * p
                fp += wi * (1.0 - t) * p
                fn += wi * t * q
        partial[k, 0] = tp
        partial[k, 1] = fp
        partial[k, 2] = fn
    total = np.zeros(3)
    for k in range(chunks):  # in order: independent of the threads
        for j in range(3):
            total[j] += partial[k, j]
    return total


@njit(**PARALLEL_KERNEL_OPTIONS)
def scale_slopes(y, positive, negative, slopes):
    """In place over one label: ``slopes[i] *= y positive + (1 - y) negative``, the gradient."""
    n = slopes.shape[0]
    for i in prange(n):
        t = np.float64(y[i])
        slopes[i] *= t * positive + (1.0 - t) * negative
