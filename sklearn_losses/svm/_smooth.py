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
``gradient_hessian``: the solver is generated for each loss
(:mod:`sklearn_losses._codegen.smooth_svm`) and compiled by the kernel
factory (:func:`~sklearn_losses.losses._factory.get_kernels`), so it is
compiled once and cached on disk, and the loss's hyperparameters stay
runtime arguments.

The start is :data:`START` times the gradients of the best constant model
``b0`` (``sum_i w_i l_i'(b0) = 0``): a feasible dual point near the gradients'
zero; its ``K a`` costs every kernel row once. Unlike Newton's method in the primal (O(n^3) time,
O(n^2) memory) this scales as SMO does.
"""

import numpy as np

from .._codegen.smooth_svm import CONVERGED, MAX_ITER, NON_FINITE, STALLED, smooth_source
from ..losses._baseline import gradient_root
from ..losses._factory import get_kernels
from ._smo import initial_decision, smo_state

__all__ = ["CONVERGED", "MAX_ITER", "NON_FINITE", "STALLED", "best_constant_value", "smooth_dual", "smooth_source", "solvable"]



def solvable(loss):
    """Whether :func:`smooth_dual` applies: a convex element-wise loss with an exact hessian, compiled."""
    return bool(loss.convex and loss.structure == "elementwise" and loss.hessian == "exact"
                and loss.kernel_spec is not None)


def _constant_start(loss, y, w):
    """The best constant raw prediction: ``sum_i w_i l_i'(b) = 0`` (the losses' ``gradient_root``)."""
    b = gradient_root(loss, y, w, strict=True)
    if b is None:
        raise ValueError(f"{type(loss).__name__}: no constant model balances the gradient for these targets.")
    return float(b)


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
