"""The kernel SVM's dual solver for smooth convex losses, generated for each loss.

The algorithm is described in :mod:`sklearn_losses.svm._smooth`, which runs
it; its pair step calls the loss's per-sample ``gradient_hessian``, so the
solver is generated per loss (the loss's functions inlined) and compiled by
the kernel factory. ``$PARAMS`` stands for the loss's hyperparameters,
``$CONVERGED`` ... for the outcomes the Python side reads.
"""

from . import HEADER, import_lines, param_list, render

__all__ = ["CONVERGED", "MAX_ITER", "NON_FINITE", "STALLED", "smooth_source"]

#: Outcomes of :func:`smooth_smo`.
CONVERGED, MAX_ITER, STALLED, NON_FINITE = 0, 1, 2, 3

_SOURCE = '''
from sklearn_losses.svm._smo import _row, move as _move, partner as _partner, violator as _violator

_MAX_STEPS = 200
_MAX_BRACKET = 2100  # doublings from 1e-12 * scale past 1e300


@njit(**_OPTIONS)  # not inlined (as SCALAR_OPTIONS would): that multiplies the code and the compile time
def _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, x$PARAMS):
    """With r_i moved to x: the imbalance d_i - d_j of the two dual steps, its derivative, z = r_j, d_i, d_j."""
    gi, hi = _gradient_hessian(yi, x$PARAMS)
    di = wi * (gi0 - gi)
    z = x - gap - eta * di
    gj, hj = _gradient_hessian(yj, z$PARAMS)
    dj = wj * (gj - gj0)
    return di - dj, -wi * hi - wj * hj * (1.0 + eta * wi * hi), z, di, dj


@njit(**_OPTIONS)
def _pair_step(yi, ri, wi, yj, rj, wj, gap, eta$PARAMS):
    """Exact maximisation along a_i += d, a_j -= d, in the primal points: returns (r_i, r_j, d_i, d_j).

    r_i moves down to x; then d_i = w_i (l_i'(r_i) - l_i'(x)) and stationarity
    gives r_j = x - gap - eta d_i; x is the root of the decreasing function
    d_i - d_j (equal dual steps), bracketed and found by Newton's method with
    bisection. Working with r rather than u keeps dual variables next to the
    ends of the gradient's range accurate (as keeping both alpha and C - alpha
    does in Yu, Huang and Lin 2011).
    """
    gi0 = _gradient_hessian(yi, ri$PARAMS)[0]
    gj0 = _gradient_hessian(yj, rj$PARAMS)[0]
    e, de, z, di, dj = _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, ri$PARAMS)
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
        e, de, z, di, dj = _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, x$PARAMS)
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
        e, de, z, di, dj = _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, x$PARAMS)
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
            e, de, z, di, dj = _balance(yi, gi0, wi, yj, gj0, wj, gap, eta, x$PARAMS)
            break
        x = nxt
    return x, z, di, dj


@njit(**_OPTIONS)
def smooth_smo(store, diag, y, w, r, f, tol, max_iter, active, counts, extremes$PARAMS):
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
        i = _violator(lo, hi, f, tol, active, counts, extremes)
        if i < 0:
            return it, $CONVERGED
        Ki = _row(store, i)
        j, eta = _partner(Ki, i, diag, kappa_w, hi, f, tol, active, counts, extremes)
        if j < 0:
            return it, $CONVERGED
        ri, rj, di, dj = _pair_step(y[i], r[i], w[i], y[j], r[j], w[j], f[i] - f[j], eta$PARAMS)
        if not (np.isfinite(ri) and np.isfinite(rj) and np.isfinite(di) and np.isfinite(dj)):
            return it, $NON_FINITE
        if not (di > 0.0 and dj > 0.0):
            return it, $STALLED
        r[i] = lo[i] = hi[i] = ri
        r[j] = lo[j] = hi[j] = rj
        _move(Ki, _row(store, j), kappa_w, f, i, j, di, dj)
    return max_iter, $MAX_ITER
'''


def smooth_source(spec):
    """Template for the kernel factory: the smooth-loss SVM dual solver (:mod:`sklearn_losses.svm._smooth`) for ``spec``."""
    if spec.kind != "elementwise" or not spec.has_hessian:
        raise ValueError("The smooth-loss kernel solver needs an element-wise loss with a hessian.")
    # the hyperparameters are runtime arguments; the outcomes are the Python side's constants
    source = render(_SOURCE, PARAMS=param_list(spec.n_params), CONVERGED=CONVERGED, MAX_ITER=MAX_ITER,
                    STALLED=STALLED, NON_FINITE=NON_FINITE)
    return "\n".join([*HEADER, *import_lines(spec), source])
