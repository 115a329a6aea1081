"""L-BFGS(-B) on the fused objective; L1 penalties exactly through a split.

For a smooth loss the objective plus the L2 part of the penalty is passed to
:func:`scipy.optimize.minimize` (``method="L-BFGS-B"``), which calls the fused
one-pass kernel once per evaluation. An L1 part ``l1 * ||w||_1`` is handled
exactly, not by smoothing: with ``w = w_plus - w_minus`` and both parts
bounded below by 0 it becomes the linear term ``l1 * sum(w_plus + w_minus)``,
and L-BFGS-B's bound constraints produce exact zeros. An objective may bound
the parameters after the coefficients from below (``lower_bounds``: the
increments of an ordinal model's ordered thresholds).
"""

import numpy as np
from scipy.optimize import minimize

from ._objective import optimality, smooth_objective

__all__ = ["lbfgs"]


def lbfgs(objective, penalty, theta0, max_iter=1000, tol=1e-4, verbose=0):
    """Minimise ``objective`` + ``penalty``; returns ``(theta, n_iter, converged, curve)``.

    ``curve`` holds the penalised objective after each iteration; ``tol`` is
    the tolerance on the largest component of the projected gradient,
    relative to the largest component of the loss gradient at zero
    coefficients (:meth:`LinearObjective.gradient_scale`).
    """
    scale = objective.gradient_scale()
    gtol = tol * scale
    n_coef = objective.n_outputs * objective.n_features
    l1 = penalty.l1
    smooth = smooth_objective(objective, penalty)
    lower = getattr(objective, "lower_bounds", None)
    tail_bounds = [(None, None)] * (len(theta0) - n_coef) if lower is None else \
        [(None if not np.isfinite(b) else float(b), None) for b in lower]

    def merge(x):
        """theta from the split variables: coef = w_plus - w_minus."""
        return np.concatenate([x[:n_coef] - x[n_coef:2 * n_coef], x[2 * n_coef:]])

    if l1 > 0:
        def fun(x):
            value, grad = smooth(merge(x))
            g = grad[:n_coef]
            value += l1 * x[:2 * n_coef].sum()
            return value, np.concatenate([g + l1, l1 - g, grad[n_coef:]])

        coef0 = theta0[:n_coef]
        x0 = np.concatenate([np.maximum(coef0, 0), np.maximum(-coef0, 0), theta0[n_coef:]])
        bounds = [(0, None)] * (2 * n_coef) + tail_bounds
    else:
        fun, x0 = smooth, np.asarray(theta0, dtype=np.float64)
        bounds = None if lower is None else [(None, None)] * n_coef + tail_bounds

    curve = []

    def record(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"lbfgs iter {len(curve):4d}: objective {curve[-1]:.10g}")

    result = minimize(
        fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, callback=record,
        options={"maxiter": max_iter, "maxfun": 2 * max_iter + 20, "gtol": gtol,
                 "ftol": 64 * np.finfo(float).eps, "maxls": 50},
    )
    x = result.x
    theta = merge(x) if l1 > 0 else x
    # Converged by our criterion, not scipy's status: its "no progress" exits
    # (relative reduction below ftol, a stalled line search) also happen far
    # from the optimum, for instance with a wrong gradient. A stalled line
    # search or a relative reduction of the objective below ftol (64 eps) is
    # accepted at the limit of float precision only: the gradient down by
    # seven orders of magnitude from that at zero coefficients.
    reached = optimality(objective, penalty, theta)
    converged = reached <= gtol or (result.status in (0, 2) and reached <= max(gtol, 1e-7 * scale))
    if not curve:
        curve.append(float(result.fun))
    return theta, int(result.nit), bool(converged), curve
