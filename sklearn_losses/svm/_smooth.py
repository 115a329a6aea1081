"""Exact kernel solver for smooth convex losses: SMO on the dual, the loss's gradient inverted numerically.

For a convex, twice-differentiable element-wise loss the dual variable of
sample i is ``u_i = l_i'(r_i)``, a point of the open range of the gradient,
and the dual objective's derivative in ``u_i`` is the primal point
``r_i = (l_i')^{-1}(u_i)``: the optimality conditions of :mod:`._smo` hold
with ``lo_i = hi_i = r_i``, so the same pair selection applies (every
sample is a support vector). A pair step ``a_i += d, a_j -= d`` maximises
the dual along the pair exactly: stationarity is

.. math:: r_i(u_i - d / w_i) - r_j(u_j + d / w_j) = f_i - f_j + \\eta d .

The step is computed in the primal points rather than in ``u`` (no inverse
of ``l'`` is needed, and dual variables next to the ends of the gradient's
range stay accurate): for a new ``r_i = x``, ``d_i = w_i (l_i'(r_i) -
l_i'(x))``, stationarity gives ``r_j``, and ``x`` is the root of ``d_i -
d_j`` (equal dual steps), bracketed and found by Newton's method with
bisection (Keerthi et al. 2005 and Yu, Huang and Lin 2011 solve the dual of
kernel and linear logistic regression with such one-variable Newton steps).
The loss enters through its per-sample
``gradient_hessian``: the solver is generated for each loss by the kernel
factory (:func:`~sklearn_losses.losses._factory.get_kernels`, template
:func:`smooth_source`), so it is compiled once and cached on disk, and the
loss's hyperparameters stay runtime arguments.

The start is :data:`START` times the gradients of the best constant model
``b0`` (``sum_i w_i l_i'(b0) = 0``): a feasible dual point near the gradients'
zero; its ``K a`` costs every kernel row once. Unlike Newton's method in the primal (O(n^3) time,
O(n^2) memory) this scales as SMO does.
"""

import numpy as np
from scipy.optimize import brentq

from ..losses._factory import HEADER, get_kernels, import_lines
from ._smo import initial_decision, smo_state

__all__ = ["CONVERGED", "MAX_ITER", "NON_FINITE", "STALLED", "best_constant_value", "smooth_dual", "smooth_source", "solvable"]

_SOURCE = '''
from sklearn_losses.svm._smo import move as _move, working_set as _working_set

_MAX_STEPS = 200
_MAX_BRACKET = 2100  # doublings from 1e-12 * scale past 1e300


@njit(**_OPTIONS)  # not inlined (as SCALAR_OPTIONS would): that multiplies the code and the compile time
def _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, x__PARAMS__):
    """With r_i moved to x: the imbalance d_i - d_j of the two dual steps, its derivative, z = r_j, d_i, d_j."""
    gi, hi = _gradient_hessian(yi, x__PARAMS__)
    di = wi * (gi0 - gi)
    z = x - gap - eta * di
    gj, hj = _gradient_hessian(yj, z__PARAMS__)
    dj = wj * (gj - gj0)
    return di - dj, -wi * hi - wj * hj * (1.0 + eta * wi * hi), z, di, dj


@njit(**_OPTIONS)
def _pair_step(yi, ri, wi, yj, rj, wj, gap, eta__PARAMS__):
    """Exact maximisation along a_i += d, a_j -= d, in the primal points: returns (r_i, r_j, d_i, d_j).

    r_i moves down to x; then d_i = w_i (l_i'(r_i) - l_i'(x)) and stationarity
    gives r_j = x - gap - eta d_i; x is the root of the decreasing function
    d_i - d_j (equal dual steps), bracketed and found by Newton's method with
    bisection. Working with r rather than u keeps dual variables next to the
    ends of the gradient's range accurate (as keeping both alpha and C - alpha
    does in Yu, Huang and Lin 2011).
    """
    gi0 = _gradient_hessian(yi, ri__PARAMS__)[0]
    gj0 = _gradient_hessian(yj, rj__PARAMS__)[0]
    e, de, z, di, dj = _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, ri__PARAMS__)
    if e != e or de != de:
        return ri, rj, np.nan, np.nan  # non-finite gradients or hessians: the caller stops
    if not e < 0.0:
        return ri, rj, 0.0, 0.0
    x_hi = ri
    # the Newton step from r_i, within [1e-12, 1] x (1 + |r_i|): a flat gradient
    # (de near 0) would otherwise start a bisection over 1e200
    scale = 1.0 + abs(ri)
    step = min(max(e / de if de < 0.0 else scale, 1e-12 * scale), scale)
    if not step > 0.0:
        step = scale
    x_lo = ri
    for _ in range(_MAX_BRACKET):  # bracket the root below r_i (bounded: the step doubles each time)
        x = ri - step
        e, de, z, di, dj = _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, x__PARAMS__)
        if e != e:
            return ri, rj, np.nan, np.nan
        if e >= 0.0:
            x_lo = x
            break
        x_hi = x
        step *= 2.0
        if step > 1e300:  # the gradients are flat: as far as they move
            return x_hi, z, di, dj
    else:
        return x_hi, z, di, dj
    x = 0.5 * (x_lo + x_hi) if e > 0.0 else x
    for _ in range(_MAX_STEPS):
        e, de, z, di, dj = _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, x__PARAMS__)
        if e != e:
            return ri, rj, np.nan, np.nan
        if e == 0.0:
            break
        if e > 0.0:
            x_lo = x
        else:
            x_hi = x
        nxt = x - e / de if de < 0.0 else 0.5 * (x_lo + x_hi)
        if not x_lo < nxt < x_hi:
            nxt = 0.5 * (x_lo + x_hi)
        if abs(nxt - x) <= 4e-16 * (1.0 + abs(x)):
            x = nxt
            e, de, z, di, dj = _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, x__PARAMS__)
            break
        x = nxt
    return x, z, di, dj


@njit(**_OPTIONS)
def smooth_smo(store, diag, y, w, r, f, tol, max_iter, active, counts, extremes__PARAMS__):
    """SMO for a smooth loss; the primal points ``r`` and ``f = K a`` (``a = -w l'(r)``) are updated in place.

    Returns ``(iterations, status)``: :data:`CONVERGED`, :data:`MAX_ITER`,
    :data:`STALLED` (a pair step that gains nothing at float precision) or
    :data:`NON_FINITE` (a gradient, hessian or step that is not finite).
    """
    n = r.size
    kappa_w = np.zeros(n)
    lo = r.copy()
    hi = r.copy()
    for i in range(n):
        if w[i] == 0.0:
            lo[i], hi[i] = -np.inf, np.inf
    for it in range(max_iter):
        i, j, eta = _working_set(store, diag, kappa_w, lo, hi, f, tol, active, counts, extremes)
        if j < 0:
            return it, __CONVERGED__
        ri, rj, di, dj = _pair_step(y[i], r[i], w[i], y[j], r[j], w[j], f[i] - f[j], eta__PARAMS__)
        if not (np.isfinite(ri) and np.isfinite(rj) and np.isfinite(di) and np.isfinite(dj)):
            return it, __NON_FINITE__
        if not (di > 0.0 and dj > 0.0):
            return it, __STALLED__
        r[i] = lo[i] = hi[i] = ri
        r[j] = lo[j] = hi[j] = rj
        _move(store, kappa_w, f, i, j, di, dj)
    return max_iter, __MAX_ITER__
'''


def solvable(loss):
    """Whether :func:`smooth_dual` applies: a convex element-wise loss with an exact hessian, compiled."""
    return bool(loss.convex and loss.structure == "elementwise" and loss.hessian == "exact"
                and loss.kernel_spec is not None)


def smooth_source(spec):
    """Template for the kernel factory: the solver of this module for the loss of ``spec``."""
    if spec.kind != "elementwise" or not spec.has_hessian:
        raise ValueError("The smooth-loss kernel solver needs an element-wise loss with a hessian.")
    params = "".join(f", p{k}" for k in range(spec.n_params))  # hyperparameters: runtime arguments
    source = _SOURCE.replace("__PARAMS__", params)
    for name, value in (("CONVERGED", CONVERGED), ("MAX_ITER", MAX_ITER), ("STALLED", STALLED),
                        ("NON_FINITE", NON_FINITE)):  # the outcomes, as the Python side names them
        source = source.replace(f"__{name}__", str(value))
    return "\n".join([*HEADER, *import_lines(spec), source])



def _constant_start(loss, y, w):
    """The best constant raw prediction: ``sum_i w_i l_i'(b) = 0`` (by Brent's method on a bracket)."""
    def total(b):
        return float(np.dot(w, loss.gradient(y, np.full(y.size, b), reduction="none")))

    lo, hi = -1.0, 1.0
    for _ in range(200):
        if total(lo) <= 0.0 <= total(hi):
            return brentq(total, lo, hi, xtol=1e-14, rtol=1e-15)
        lo, hi = 2.0 * lo, 2.0 * hi
    raise ValueError(f"{type(loss).__name__}: no constant model balances the gradient for these targets.")


def best_constant_value(loss, y, w):
    """``min_b sum_i w_i l(y_i, b)`` over a few candidates: the root of the summed gradient (convex losses), 0.

    An upper bound on the objective of the best constant model: a solver's
    optimum is never above it.
    """
    candidates = [0.0]
    try:
        candidates.append(_constant_start(loss, y, w))
    except ValueError:
        pass
    values = [float(loss.loss(y, np.full(y.size, b), w, reduction="sum", check_input=False)) for b in candidates]
    finite = [v for v in values if np.isfinite(v)]
    return min(finite) if finite else np.inf


def _inverse_gradient(loss, y, u, r):
    """Per sample, the ``r`` with ``l_i'(r) = u_i`` (vectorised bisection from a bracket around ``r``)."""
    lo, hi = r.copy(), r.copy()
    step = np.ones_like(r)
    for _ in range(2100):  # expand: the steps double up to 1e300
        g_lo = loss.gradient(y, lo, reduction="none")
        g_hi = loss.gradient(y, hi, reduction="none")
        low, high = g_lo > u, g_hi < u
        if not (low.any() or high.any()):
            break
        lo[low] -= step[low]
        hi[high] += step[high]
        step[low | high] *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        below = loss.gradient(y, mid, reduction="none") < u
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
        if np.all(hi - lo <= 4e-16 * (1.0 + np.abs(mid))):
            break
    return 0.5 * (lo + hi)


#: The start's dual variables as a fraction of the best constant model's
#: gradients: small, so that ``K a`` starts small, the gradients' ends being
#: where most samples end (well-classified ones), as LIBLINEAR starts its
#: dual logistic regression near zero.
START = 1e-3


#: Outcomes of :func:`smooth_smo`.
CONVERGED, MAX_ITER, STALLED, NON_FINITE = 0, 1, 2, 3


def smooth_dual(store, diag, loss, y, w, tol, max_iter):
    """Solve the kernel problem of a smooth convex loss; returns ``(a, b, f, iterations, status)``.

    ``store``: kernel rows (:func:`._smo.row_store`); ``diag``: the kernel's
    diagonal; ``w``: C times the sample weights. ``f`` is ``K a`` and
    ``status`` one of :data:`CONVERGED`, :data:`MAX_ITER`, :data:`STALLED`
    (no pair step gains anything at float precision, which happens when C is
    so large that ``K a`` loses its digits to cancellation) and
    :data:`NON_FINITE`.
    """
    solver = get_kernels(loss.kernel_spec, f"svm_smooth_{loss.name or type(loss).__name__}",
                         smooth_source).function("smooth_smo")
    y = np.ascontiguousarray(y, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    b0 = np.full(y.size, _constant_start(loss, y, w))
    u = START * loss.gradient(y, b0, reduction="none")  # sum(w u) = 0: a feasible dual point
    r = _inverse_gradient(loss, y, u, b0)
    f = initial_decision(store, -w * u)
    n_iter, status = solver(store, diag, y, w, r, f, float(tol), max_iter, *smo_state(y.size),
                            *loss.kernel_arguments())
    keep = w > 0
    a = -w * loss.gradient(y, r, reduction="none")
    b = float(np.mean((r - f)[keep]))
    if not (np.all(np.isfinite(a)) and np.isfinite(b)):
        status = NON_FINITE
    return a, b, f, int(n_iter), int(status)
