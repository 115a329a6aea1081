"""Polishing: from the active set a dual solver ends on to the exact optimum.

SMO and Newton's method stop when the optimality conditions hold to within
``tol`` in units of the decision function (LIBSVM's criterion), so two fits
of the same problem that take different paths (weighted samples against
repeated ones, rows in another order) end up to ``tol`` apart. The optimum
itself is unique in the decision function (the objective is strictly convex
in ``f``), so a fit that ends *at* it gives the same model whatever the path.

For the piecewise-linear and -quadratic losses of :mod:`._smo`, once SMO has
found which samples are *free* (``u_i`` strictly inside a segment of its
slopes, so that ``f_i + b`` must equal the break ``t_i`` of that segment)
and which are *bound* (``u_i`` at a slope), the optimum is the solution of
the equality-constrained quadratic programme on the free samples:

.. math:: (K_{FF} + \\mathrm{diag}(\\kappa_F))\\, \\delta + b\\,\\mathbf 1 = t_F - f_F,
          \\qquad \\mathbf 1^T \\delta = 0,

``delta`` the change of ``a_F`` (the bound ``a_B`` fixed). The step is
taken as far as the free samples stay in their segments (those that reach an
end become bound and the system is solved again, a primal active-set method),
and the result is kept only if every bound sample then satisfies its own
condition to float precision; otherwise SMO's solution stands. One Cholesky
factorisation of the free block per round, with iterative refinement (the
block is singular when samples repeat), costs O(|F|^3): the polish runs up
to :data:`POLISH_MAX` free samples.

The joint multiclass problem of :mod:`._multiclass` is polished the same way,
its free variables now pairs (sample, class) and its equalities one per
sample and one per class (the multipliers are the samples' levels and the
intercepts); that system is indefinite and, with repeated samples, rank
deficient, so it is solved by a rank-revealing least-squares solver, up to
:data:`MULTICLASS_POLISH_MAX` unknowns.

For smooth losses every sample is free; a few steps of Newton's method in
the primal from the solver's point (:func:`._newton.kernel_newton`, which
converges quadratically there) take the fit to the optimum, up to
:data:`NEWTON_POLISH_MAX` samples (an LU of the whole system per step).
"""

import numpy as np
import scipy.linalg

from ._smo import initial_decision, kernel_rows

__all__ = ["MULTICLASS_POLISH_MAX", "NEWTON_POLISH_MAX", "POLISH_MAX", "POLISH_TOL", "polish_multiclass", "polish_smo"]

#: Largest free set polished (a Cholesky factorisation of this size per round,
#: about 15 ms at 1,000 on 2 cores: the polish stays a small part of a fit).
POLISH_MAX = 1000

#: Largest multiclass system polished (free pairs, classes and samples: a
#: least-squares solve of this size per round, about 20 ms at 600; 0.6 s at 1,900).
MULTICLASS_POLISH_MAX = 600

#: Largest smooth problem polished by Newton's method (an LU of this size per step).
NEWTON_POLISH_MAX = 1000

#: Relative accuracy of a polished optimum (decision values, in units of their scale).
POLISH_TOL = 1e-10

#: Most rounds of the active-set method (each makes at least one free sample bound).
_ROUNDS = 8


def kernel_block(store, rows):
    """``K[rows][:, rows]`` from the kernel rows of ``store`` (:func:`._smo.kernel_rows`)."""
    return kernel_rows(store, rows)[:, rows]


def add_columns(store, rows, delta, f):
    """``f += K[:, rows] @ delta`` (in place; K is symmetric)."""
    a = np.zeros(f.size)
    a[rows] = delta
    f += initial_decision(store, a)


def _segments(u, slopes, w):
    """Per sample, the segment ``k`` with ``slopes[k] < u < slopes[k + 1]`` (-1: at a slope or left out)."""
    inside = (u[:, None] > slopes[:, :-1]) & (u[:, None] < slopes[:, 1:])
    k = np.where(inside.any(axis=1), inside.argmax(axis=1), -1)
    k[w <= 0] = -1
    return k


def _solve_saddle(M, r):
    """``(delta, b)`` with ``M delta + b 1 = r``, ``1^T delta = 0``; None if it cannot be solved accurately.

    ``M`` is positive semi-definite (singular when samples repeat): a ridge of
    ``1e-12`` of its largest diagonal makes it factorisable, and iterative
    refinement on the unregularised system removes the ridge's bias.
    """
    m = r.size
    ridge = 1e-12 * max(float(np.max(np.diag(M))), 1e-300)
    try:
        factor = scipy.linalg.cho_factor(M + ridge * np.eye(m), lower=True, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return None
    ones = np.ones(m)
    x1 = scipy.linalg.cho_solve(factor, ones, check_finite=False)
    denominator = float(x1.sum())
    if not denominator > 0.0:
        return None
    delta, b = np.zeros(m), 0.0
    scale = 1.0 + float(np.max(np.abs(r)))
    for _ in range(6):
        residual = r - M @ delta - b
        gap = -float(delta.sum())
        if max(float(np.max(np.abs(residual))), abs(gap)) <= 1e-13 * scale:
            break
        x = scipy.linalg.cho_solve(factor, residual, check_finite=False)
        db = (float(x.sum()) - gap) / denominator
        delta += x - db * x1
        b += db
    if not (np.all(np.isfinite(delta)) and np.isfinite(b)):
        return None
    return delta, b


def polish_smo(store, kappa_w, slopes, breaks, w, u, f):
    """Move SMO's ``(u, f)`` (updated in place) to the exact optimum; returns the intercept, or None.

    ``f = K a + kappa_w a`` with ``a = -w u`` (:func:`._smo.smo`). Returns None, leaving ``u`` and ``f`` as they
    were, when the free set is empty or larger than :data:`POLISH_MAX`, or
    when the optimum is not reached from SMO's active set.
    """
    u0, f0 = u.copy(), f.copy()
    b = None
    for _ in range(_ROUNDS):
        k = _segments(u, slopes, w)
        free = np.flatnonzero(k >= 0)
        if free.size == 0 or free.size > POLISH_MAX:
            break
        kf = k[free]
        M = kernel_block(store, free)
        M[np.arange(free.size), np.arange(free.size)] += kappa_w[free]
        solved = _solve_saddle(M, breaks[free, kf] - f[free])
        if solved is None:
            break
        delta, b_new = solved
        wf = w[free]
        step, new = _step_to_bounds(u[free], u[free] - delta / wf, slopes[free, kf], slopes[free, kf + 1])
        change = -wf * (new - u[free])  # the change of a_F actually taken
        u[free] = new
        add_columns(store, free, change, f)
        f[free] += kappa_w[free] * change
        if step >= 1.0:
            b = b_new
            break
        b = None
    if b is not None and _satisfied(u, f, b, slopes, breaks, w):
        return b
    u[:], f[:] = u0, f0
    return None


def _satisfied(u, f, b, slopes, breaks, w):
    """Whether every sample's ``f_i + b`` lies in its optimal interval to :data:`POLISH_TOL`."""
    scale = 1.0 + float(np.max(np.abs(f), initial=0.0)) + abs(b)
    lo, hi = optimal_sets(u, slopes, breaks)
    keep = w > 0.0
    g = f + b
    return not bool(np.any(keep & ((g < lo - POLISH_TOL * scale) | (g > hi + POLISH_TOL * scale))))


def optimal_sets(u, slopes, breaks):
    """Vectorised :func:`~sklearn_losses.solvers.dcd._optimal_set`: per sample the interval where ``u_i`` is optimal.

    ``slopes`` (n, S) are the slopes of each sample's piecewise-linear
    conjugate, ``breaks`` (n, S - 1) its break points.
    """
    n, last = slopes.shape[0], slopes.shape[1] - 1
    rows = np.arange(n)
    # the first slope at or above u among s_1..s_last (s_0 < u < s_last inside)
    k = 1 + np.argmax(u[:, None] <= slopes[:, 1:], axis=1)
    lo = breaks[rows, k - 1]
    at_slope = (k < last) & (u == slopes[rows, k])
    hi = np.where(at_slope, breaks[rows, np.minimum(k, last - 1)], lo)
    below, above = u <= slopes[:, 0], u >= slopes[:, last]
    lo = np.where(below, -np.inf, np.where(above, breaks[:, last - 1], lo))
    hi = np.where(below, breaks[:, 0], np.where(above, np.inf, hi))
    return lo, hi


def _step_to_bounds(current, target, low, high):
    """The longest step in [0, 1] from ``current`` to ``target`` within ``[low, high]``, and the new values.

    The values that block the step are set exactly to the bound they reach.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(target < low, (current - low) / (current - target),
                        np.where(target > high, (high - current) / (target - current), 1.0))
    step = float(min(np.min(room), 1.0))
    new = current + step * (target - current)
    if step < 1.0:
        blocked = room <= step
        new[blocked & (target < low)] = low[blocked & (target < low)]
        new[blocked & (target > high)] = high[blocked & (target > high)]
    return step, new


def polish_multiclass(store, lo, hi, offset, a, b):
    """Move block descent's ``(a, b)`` to the exact optimum of :mod:`._multiclass`'s dual; None if not reached.

    ``a``, ``lo``, ``hi``, ``offset``: shape (n, K); optimality is
    ``G_im = (K a_m)_i + o_im + b_m`` equal to a level ``beta_i`` for the free
    ``a_im``, at least it at the lower bound, at most it at the upper one, with
    ``sum_m a_im = 0`` and ``sum_i a_im = 0``.
    """
    n, k = a.shape
    a = a.copy()
    Ka = np.stack([initial_decision(store, np.ascontiguousarray(a[:, m])) for m in range(k)])  # (K, n)
    solved_b = None
    for _ in range(_ROUNDS):
        fi, fm = np.nonzero((a > lo) & (a < hi))
        samples, where = np.unique(fi, return_inverse=True)
        nf, size = fi.size, fi.size + k + samples.size
        if nf == 0 or size > MULTICLASS_POLISH_MAX:
            break
        block = kernel_block(store, samples)
        M = np.zeros((size, size))
        M[:nf, :nf] = block[np.ix_(where, where)] * (fm[:, None] == fm[None, :])
        M[np.arange(nf), nf + fm] = M[nf + fm, np.arange(nf)] = 1.0  # intercepts / sum over samples
        M[np.arange(nf), nf + k + where] = M[nf + k + where, np.arange(nf)] = -1.0  # levels / sum over classes
        rhs = np.concatenate([-(Ka[fm, fi] + offset[fi, fm]), -a.sum(axis=0), a[samples].sum(axis=1)])
        solution = scipy.linalg.lstsq(M, rhs, lapack_driver="gelsy", check_finite=False)[0]
        scale = 1.0 + float(np.max(np.abs(rhs)))
        if not (np.all(np.isfinite(solution)) and np.max(np.abs(M @ solution - rhs)) <= 1e-11 * scale):
            break
        delta = solution[:nf]
        step, new = _step_to_bounds(a[fi, fm], a[fi, fm] + delta, lo[fi, fm], hi[fi, fm])
        change = new - a[fi, fm]
        a[fi, fm] = new
        for m in range(k):
            rows = fm == m
            column = np.ascontiguousarray(Ka[m])
            add_columns(store, fi[rows], change[rows], column)
            Ka[m] = column
        if step >= 1.0:
            # a common shift of every b_m and beta_i changes nothing: sum(b) = 0, as block descent keeps it
            solved_b = solution[nf:nf + k] - np.mean(solution[nf:nf + k])
            break
    if solved_b is None:
        return None
    G = Ka.T + offset + solved_b
    scale = 1.0 + float(np.max(np.abs(G)))
    top = np.max(np.where(a > lo, G, -np.inf), axis=1)
    bottom = np.min(np.where(a < hi, G, np.inf), axis=1)
    if np.any(top - bottom > POLISH_TOL * scale) or np.max(np.abs(a.sum(axis=0))) > POLISH_TOL * scale:
        return None
    return a, solved_b
