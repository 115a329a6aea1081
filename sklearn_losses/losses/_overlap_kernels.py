"""Compiled passes of the overlap losses for large batches: the soft counts and the gradient from them.

The overlap losses (:mod:`.overlap`) are NumPy expressions over chunks of
rows; from :func:`~sklearn_losses._config.parallel_threshold` entries on,
these two threaded kernels do the same work: one pass computes the sigmoid
once per entry, sums the counts and keeps its derivative in the gradient's
array; a second, memory-bound pass scales it by what the counts give. The counts are summed over chunks
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
    """``(C, 3)``: per label (column) the sums of ``w y p``, ``w (1 - y) p``, ``w y (1 - p)``, ``p = sigmoid(raw)``.

    With ``store``, ``slopes[i, c]`` receives ``w_i p (1 - p)``, the weight
    times the derivative of ``p`` in ``raw`` (the gradient is that times a
    factor of ``y`` and the counts: :func:`scale_slopes`), so that the
    gradient needs no second evaluation of the sigmoid.
    """
    n, labels = raw.shape
    chunks = (n + CHUNK_SIZE - 1) // CHUNK_SIZE
    partial = np.zeros((chunks, labels, 3))
    for k in prange(chunks):
        start = k * CHUNK_SIZE
        stop = min(start + CHUNK_SIZE, n)
        for c in range(labels):  # scalar accumulators per label: the inner loops vectorise
            tp = 0.0
            fp = 0.0
            fn = 0.0
            if store:
                for i in range(start, stop):
                    wi = w[i] if weighted else 1.0
                    r = np.float64(raw[i, c])
                    t = np.float64(y[i, c])
                    e = exp(-abs(r))
                    d = 1.0 / (1.0 + e)
                    p = d if r >= 0.0 else e * d
                    q = e * d if r >= 0.0 else d  # 1 - p without cancellation
                    tp += wi * t * p
                    fp += wi * (1.0 - t) * p
                    fn += wi * t * q
                    slopes[i, c] = wi * (e * d * d)  # the weight's factor of the gradient, p (1 - p)
            else:
                for i in range(start, stop):
                    wi = w[i] if weighted else 1.0
                    r = np.float64(raw[i, c])
                    t = np.float64(y[i, c])
                    e = exp(-abs(r))
                    d = 1.0 / (1.0 + e)
                    p = d if r >= 0.0 else e * d
                    q = e * d if r >= 0.0 else d
                    tp += wi * t * p
                    fp += wi * (1.0 - t) * p
                    fn += wi * t * q
            partial[k, c, 0] = tp
            partial[k, c, 1] = fp
            partial[k, c, 2] = fn
    total = np.zeros((labels, 3))
    for k in range(chunks):  # in order: independent of the threads
        for c in range(labels):
            for j in range(3):
                total[c, j] += partial[k, c, j]
    return total


@njit(**PARALLEL_KERNEL_OPTIONS)
def scale_slopes(y, dS, factor, slopes):
    """In place: ``slopes[i, c] *= factor (y dS[c, 0] + (1 - y) dS[c, 1] - y dS[c, 2])``, the gradient."""
    n, labels = slopes.shape
    chunks = (n + CHUNK_SIZE - 1) // CHUNK_SIZE
    for k in prange(chunks):
        start = k * CHUNK_SIZE
        stop = min(start + CHUNK_SIZE, n)
        for c in range(labels):  # the label's two slopes hoisted: the inner loop vectorises
            positive = factor * (dS[c, 0] - dS[c, 2])
            negative = factor * dS[c, 1]
            for i in range(start, stop):
                t = np.float64(y[i, c])
                slopes[i, c] *= t * positive + (1.0 - t) * negative
