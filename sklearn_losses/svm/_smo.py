"""Exact kernel solver for piecewise-linear and -quadratic losses: SMO with second-order pair selection.

With ``f(x) = sum_i a_i k(x_i, x) + b`` the problem of the SVM estimators,
``C sum_i s_i l_i(f(x_i)) + 1/2 ||f||_H^2`` (``s`` the sample weights), has
the dual

.. math:: \\max_a\\; -\\tfrac12 a^T K a + \\sum_i g_i(a_i)
          \\quad\\text{s.t.}\\quad \\sum_i a_i = 0,

with ``a_i = -C s_i u_i``, ``u_i`` a subgradient of ``l_i`` at the optimum, and
``g_i`` concave and piecewise linear: on the segment of ``u_i`` between two
slopes of ``l_i`` its derivative is the break between them
(:meth:`~sklearn_losses.losses.BaseLoss.linear_pieces`). For the hinge this
is the dual of :class:`sklearn.svm.SVC` (``a_i = y_i alpha_i``, ``0 <= alpha_i
<= C s_i``), for the epsilon-insensitive loss that of
:class:`sklearn.svm.SVR`; the pinball and absolute losses come for free.
A loss whose conjugate adds ``kappa_i u^2 / 2``
(:meth:`~sklearn_losses.losses.BaseLoss.quadratic_pieces`: squared hinge,
squared error, Huber, ...) adds ``kappa_i / (C s_i)`` to the diagonal of K
(the outer slopes may then be infinite: an unbounded box), as LIBLINEAR
does for the squared hinge.

``u_i`` is optimal when ``f_i`` lies in the interval ``[lo_i, hi_i]`` where
``u_i`` is a subgradient (a break if ``u_i`` is between slopes, the piece
between two breaks if ``u_i`` is a slope). A common ``b`` exists if and only
if ``max_i (lo_i - (Ka)_i) <= min_j (hi_j - (Ka)_j)``. Each iteration takes
the most violating ``i`` and, among the ``j`` that violate with it, the one
with the largest second-order gain (Fan, Chen and Lin, 2005, as LIBSVM),
then maximises the dual exactly along ``a_i += d, a_j -= d``, stepping across
the breaks of both losses. The method stops when the violation is below
``tol`` (LIBSVM's criterion, in units of the decision function).
"""

import numpy as np

from .._jit import njit
from .._config import KERNEL_OPTIONS, SCALAR_OPTIONS
from ..losses._math import exp
from ..solvers.dcd import _optimal_set
from ._kernel import named_kernel

__all__ = ["FULL", "KIND_NAMES", "LINEAR", "POLY", "RBF", "SIGMOID", "initial_decision", "intercept", "kernel_rows", "move",
           "partner", "row_store", "smo", "smo_state", "violator"]

_TAU = 1e-12

#: Iterations between two shrinking passes (LIBSVM: min(n, 1000)).
SHRINK_EVERY = 1000


@njit(**SCALAR_OPTIONS)
def _bounds(lo, hi, i, u, slopes, breaks, w):
    """``lo[i], hi[i]``: the interval of ``f_i`` where ``u_i`` is optimal (all of R for a sample left out)."""
    if w[i] == 0.0:
        lo[i], hi[i] = -np.inf, np.inf
    else:
        lo[i], hi[i] = _optimal_set(u[i], slopes[i], breaks[i])


@njit(**SCALAR_OPTIONS)
def _down(u, s):
    """Moving ``u`` down: index k of the segment (s[k], s[k+1]) entered; -1 if at the bottom."""
    for k in range(s.size - 2, -1, -1):
        if s[k] < u:
            return k
    return -1


@njit(**SCALAR_OPTIONS)
def _up(u, s):
    """Moving ``u`` up: index k of the segment (s[k], s[k+1]) entered; -1 if at the top."""
    for k in range(s.size - 1):
        if s[k + 1] > u:
            return k
    return -1


@njit(**SCALAR_OPTIONS)
def _pair_step(ui, si, ti, wi, uj, sj, tj, wj, gap, eta):
    """Exact maximisation along ``a_i += d, a_j -= d``; returns (d, ui, uj).

    ``gap = f_i - f_j`` (kernel part of the decision values); ``u_i`` moves
    down by ``d / w_i`` and ``u_j`` up by ``d / w_j``.
    """
    d = 0.0
    for _ in range(si.size + sj.size):
        ki = _down(ui, si)
        kj = _up(uj, sj)
        if ki < 0 or kj < 0:
            break
        slope = (ti[ki] - tj[kj]) - gap - eta * d
        if slope <= 0.0:
            break
        room_i = (ui - si[ki]) * wi
        room_j = (sj[kj + 1] - uj) * wj
        limit = min(room_i, room_j)
        step = slope / eta if eta > 0.0 else np.inf
        if step < limit:
            d += step
            ui -= step / wi
            uj += step / wj
            break
        d += limit
        ui = si[ki] if room_i == limit else ui - limit / wi
        uj = sj[kj + 1] if room_j == limit else uj + limit / wj
    return d, ui, uj


#: Kernels computed row by row inside the solver (``FULL``: K is given whole).
FULL, LINEAR, RBF, POLY, SIGMOID = 0, 1, 2, 3, 4

#: Their names, as :class:`._kernel.Kernel` has them.
KIND_NAMES = {LINEAR: "linear", RBF: "rbf", POLY: "poly", SIGMOID: "sigmoid"}


@njit(**KERNEL_OPTIONS)
def _fill(row, i, XT, sq, dots, kind, gamma, coef0, degree):
    """Row i of the kernel of X (given transposed, ``XT`` of shape (p, n)) into ``row``.

    The dot products are accumulated four features at a time across all
    samples, a loop over contiguous memory that vectorises (2x faster than
    one short dot product per sample at 20 features, and than one feature at
    a time at 100); the rbf kernel then uses
    ``|x_i - x_k|^2 = |x_i|^2 + |x_k|^2 - 2 x_i.x_k``, as LIBSVM does.
    """
    n = dots.size
    p = XT.shape[0]
    for k in range(n):
        dots[k] = 0.0
    m = 0
    while m + 4 <= p:  # four features per pass over dots: a quarter of the traffic through the cache
        x0, x1, x2, x3 = XT[m, i], XT[m + 1, i], XT[m + 2, i], XT[m + 3, i]
        if x0 != 0.0 or x1 != 0.0 or x2 != 0.0 or x3 != 0.0:
            c0, c1, c2, c3 = XT[m], XT[m + 1], XT[m + 2], XT[m + 3]
            for k in range(n):
                dots[k] += x0 * c0[k] + x1 * c1[k] + x2 * c2[k] + x3 * c3[k]
        m += 4
    for m in range(m, p):
        xim = XT[m, i]
        if xim != 0.0:
            column = XT[m]
            for k in range(n):
                dots[k] += xim * column[k]
    if kind == RBF:
        sqi = sq[i]
        for k in range(n):  # the library's polynomial exp vectorises (numba's np.exp does not without SVML)
            row[k] = exp(-gamma * max(sqi + sq[k] - 2.0 * dots[k], 0.0))
    elif kind == LINEAR:
        for k in range(n):
            row[k] = dots[k]
    elif kind == POLY:
        for k in range(n):
            row[k] = (gamma * dots[k] + coef0) ** degree
    else:
        for k in range(n):
            row[k] = np.tanh(gamma * dots[k] + coef0)


@njit(**KERNEL_OPTIONS)
def _row(store, i):
    """Row i of the kernel matrix (= column i), from the row cache or computed into it.

    ``store = (cache, slot_of, owner, last_used, clock, XT, sq, dots, kind,
    gamma, coef0, degree)`` (:func:`row_store`): ``cache`` holds rows in
    slots, ``slot_of[i]`` is the slot of row i (-1: not cached), ``owner`` the
    row in each slot (-1: free), ``clock`` the time and the slots in use. A
    missing row takes a free slot, or else replaces the least recently used
    row (as LIBSVM's kernel cache).
    """
    cache, slot_of, owner, last_used, clock, XT, sq, dots, kind, gamma, coef0, degree = store
    slot = slot_of[i]
    if slot < 0:
        if clock[1] < owner.size:  # a free slot (they are taken in order)
            slot = clock[1]
            clock[1] += 1
        else:
            slot = 0
            for t in range(1, owner.size):
                if last_used[t] < last_used[slot]:
                    slot = t
            slot_of[owner[slot]] = -1
        owner[slot] = i
        slot_of[i] = slot
        _fill(cache[slot], i, XT, sq, dots, kind, gamma, coef0, degree)
    clock[0] += 1
    last_used[slot] = clock[0]
    return cache[slot]


def row_store(n, slots, dtype, X=None, kind=FULL, gamma=1.0, coef0=0.0, degree=3, K=None):
    """The ``store`` of :func:`_row`: a whole matrix ``K`` (kind FULL) or a cache of ``slots`` rows of X's kernel."""
    if K is not None:
        index = np.arange(n, dtype=np.int64)
        empty = np.empty(0)
        return (K, index, index.copy(), np.zeros(n, dtype=np.int64), np.array([0, n], dtype=np.int64),
                np.empty((0, 0)), empty, empty, FULL, 1.0, 0.0, 3)
    slots = int(min(max(slots, 2), n))
    XT = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
    return (np.empty((slots, n), dtype=dtype), np.full(n, -1, dtype=np.int64), np.full(slots, -1, dtype=np.int64),
            np.full(slots, -1, dtype=np.int64), np.zeros(2, dtype=np.int64), XT, np.einsum("ij,ij->j", XT, XT),
            np.empty(n), kind, float(gamma), float(coef0), int(degree))


def kernel_rows(store, rows, keep=False):
    """Rows ``rows`` of the kernel matrix of ``store`` (float64, shape ``(len(rows), n)``), with NumPy.

    The Python side's access to the kernel (a start's decision values, the
    polish of :mod:`._polish`): rows in the row cache are read from it, the
    others computed by :func:`._kernel.named_kernel` (the formulas of
    :func:`_fill`) and rounded to the cache's dtype, so that they are the rows
    the compiled solvers see (compiling a function for this would cost a first fit about
    2 s: it links :func:`_fill` once more). ``keep``: computed rows also take
    the cache's free slots (a start that touches every row fills the cache,
    as SMO would).
    """
    cache, slot_of, owner, last_used, clock, XT, _, _, kind, gamma, coef0, degree = store
    rows = np.asarray(rows, dtype=np.int64)
    slots = slot_of[rows]
    out = np.empty((rows.size, slot_of.size))
    cached = slots >= 0
    out[cached] = cache[slots[cached]]
    missing = rows[~cached]
    if missing.size:
        values = named_kernel(KIND_NAMES[kind], XT[:, missing].T, XT.T, gamma, coef0, degree)
        values = values.astype(cache.dtype, copy=False)
        out[~cached] = values
        if keep:
            taken = min(missing.size, owner.size - int(clock[1]))
            free = np.arange(clock[1], clock[1] + taken)
            cache[free] = values[:taken]
            owner[free] = missing[:taken]
            slot_of[missing[:taken]] = free
            last_used[free] = clock[0] + 1 + np.arange(taken)
            clock[0] += taken
            clock[1] += taken
    return out


#: Kernel entries per block of :func:`initial_decision` (bounds its float64 scratch to 32 MB).
_BLOCK_ENTRIES = 2 ** 22


def initial_decision(store, a):
    """``K @ a`` (K symmetric) from the rows of the non-zero ``a`` (:func:`kernel_rows`, in blocks)."""
    f = np.zeros(a.size)
    nonzero = np.flatnonzero(a)
    step = max(1, _BLOCK_ENTRIES // max(a.size, 1))
    for start in range(0, nonzero.size, step):
        rows = nonzero[start:start + step]
        f += a[rows] @ kernel_rows(store, rows, keep=True)
    return f


@njit(**KERNEL_OPTIONS)
def violator(lo, hi, f, tol, active, counts, extremes):
    """The sample ``i`` of the next SMO step, the one that violates most; -1 when optimal within ``tol``.

    Shrinking: every :data:`SHRINK_EVERY` calls, samples that can be in no
    violating pair (beyond the current extremes) leave the scans
    (``active[:counts[0]]``); ``f`` is still updated for all, so when the
    active samples are optimal all come back for a final check.
    ``counts = [n_active, countdown]`` and ``extremes = [g_max, g_min]`` (the
    extremes of ``lo - f`` and ``hi - f``) carry this state between calls and
    on to :func:`partner` (start: :func:`smo_state`).
    """
    n = f.size
    while True:
        counts[1] -= 1
        if counts[1] == 0:
            counts[1] = min(n, SHRINK_EVERY)
            m = 0
            for t in range(counts[0]):
                k = active[t]
                if lo[k] - f[k] > extremes[1] or hi[k] - f[k] < extremes[0]:
                    active[m] = k
                    m += 1
            counts[0] = m
        i = -1
        g_max = -np.inf
        g_min = np.inf
        for t in range(counts[0]):
            k = active[t]
            v = lo[k] - f[k]
            if v > g_max:
                g_max = v
                i = k
            v = hi[k] - f[k]
            if v < g_min:
                g_min = v
        extremes[0], extremes[1] = g_max, g_min
        if i >= 0 and g_max - g_min >= tol:
            return i
        if counts[0] == n:
            return -1
        for k in range(n):  # optimal on the active samples: check them all
            active[k] = k
        counts[0] = n
        counts[1] = min(n, SHRINK_EVERY)
        extremes[0], extremes[1] = np.inf, -np.inf


@njit(**KERNEL_OPTIONS)
def partner(Ki, i, diag, kappa_w, hi, f, tol, active, counts, extremes):
    """``(j, eta)``: the partner of :func:`violator`'s ``i`` (kernel row ``Ki``); ``j = -1`` if none.

    ``j``, among the samples that violate with ``i`` by at least ``tol``,
    gives the largest second-order gain (Fan, Chen and Lin, 2005); ``eta`` is
    the curvature along the pair.
    """
    kii = diag[i] + kappa_w[i]
    j = -1
    best = np.inf
    for t in range(counts[0]):
        k = active[t]
        b = extremes[0] - (hi[k] - f[k])
        if b >= tol:  # pairs violating by less cannot stop the solver (and may not move: duplicates)
            eta = kii + diag[k] - 2.0 * Ki[k] + kappa_w[k]
            if eta <= 0.0:
                eta = _TAU
            gain = -b * b / eta
            if gain < best:
                best = gain
                j = k
    if j < 0:
        return -1, 0.0
    eta = kii + diag[j] - 2.0 * Ki[j] + kappa_w[j]
    if eta <= 0.0:  # not positive definite along the pair (sigmoid kernels): as LIBSVM
        eta = _TAU
    return j, eta


@njit(**KERNEL_OPTIONS)
def move(Ki, Kj, kappa_w, f, i, j, di, dj):
    """``f`` after ``a_i += di, a_j -= dj`` (``di = dj`` keeps ``sum(a)``; smooth losses differ by rounding).

    ``Ki`` and ``Kj`` are the kernel rows of i and j: fetch ``Kj`` after
    ``Ki`` (the row cache keeps at least two rows, so the most recent one
    stays).
    """
    for k in range(f.size):
        f[k] += di * Ki[k] - dj * Kj[k]
    f[i] += di * kappa_w[i]
    f[j] -= dj * kappa_w[j]


def smo_state(n):
    """The ``active``, ``counts`` and ``extremes`` arrays :func:`violator` and :func:`partner` start from."""
    return (np.arange(n), np.array([n, min(n, SHRINK_EVERY)], dtype=np.int64), np.array([np.inf, -np.inf]))


@njit(**KERNEL_OPTIONS)
def smo(store, diag, kappa_w, slopes, breaks, w, u, f, tol, max_iter, active, counts, extremes):
    """SMO on the kernel rows of ``store`` (:func:`row_store`); ``w = C s`` (0 for samples left out).

    ``diag`` is the diagonal of K; ``kappa_w = kappa / w`` the curvature of
    the conjugate of piecewise-quadratic losses in the units of ``a`` (0 for
    piecewise-linear ones): it adds ``kappa_w`` to the diagonal of K, and
    ``f = K a + kappa_w a``. ``u`` (in the slopes' range, with ``sum(w u) = 0``) and ``f = K a``,
    ``a = -w u``, are updated in place; ``active``, ``counts``, ``extremes``:
    :func:`smo_state`. Returns (iterations, converged).
    """
    n = u.size
    lo = np.empty(n)
    hi = np.empty(n)
    for i in range(n):
        _bounds(lo, hi, i, u, slopes, breaks, w)
    for it in range(max_iter):
        i = violator(lo, hi, f, tol, active, counts, extremes)
        if i < 0:
            return it, True
        Ki = _row(store, i)
        j, eta = partner(Ki, i, diag, kappa_w, hi, f, tol, active, counts, extremes)
        if j < 0:
            return it, True
        d, ui, uj = _pair_step(u[i], slopes[i], breaks[i], w[i], u[j], slopes[j], breaks[j], w[j],
                               f[i] - f[j], eta)
        if d <= 0.0:
            return it, False  # no progress possible: a degenerate pair
        u[i], u[j] = ui, uj
        _bounds(lo, hi, i, u, slopes, breaks, w)
        _bounds(lo, hi, j, u, slopes, breaks, w)
        move(Ki, _row(store, j), kappa_w, f, i, j, d, d)
    return max_iter, False


def intercept(u, f, slopes, breaks, w):
    """The intercept: the mean of ``t - f`` over samples at a break, else the middle of the feasible interval."""
    free = (w > 0) & np.all(u[:, None] != slopes, axis=1) & (u > slopes[:, 0]) & (u < slopes[:, -1])
    if free.any():
        k = (u[free, None] > slopes[free]).sum(axis=1) - 1
        return float(np.mean(breaks[free, k] - f[free]))
    lo, hi = np.empty_like(u), np.empty_like(u)
    for i in range(u.size):
        lo[i], hi[i] = _optimal_set(u[i], slopes[i], breaks[i])
    keep = w > 0
    low, high = np.max((lo - f)[keep], initial=-np.inf), np.min((hi - f)[keep], initial=np.inf)
    if np.isfinite(low) and np.isfinite(high):
        return 0.5 * (low + high)
    return float(low if np.isfinite(low) else high if np.isfinite(high) else 0.0)
