"""Truncated Newton (Newton-CG in a trust region) for smooth losses, any number of outputs.

Each step solves the Newton system approximately by conjugate gradients,
which needs only hessian-vector products. These come from central
differences of the exact gradient, ``H v ~ (g(theta + e v) - g(theta - e v))
/ (2 e)``, so the method works for losses on rows (softmax cross-entropy,
whose per-sample hessian is a full block) and multi-output losses alike,
where :mod:`.newton` needs a diagonal hessian. The gradient itself is exact,
so the method stops at the same optimum as L-BFGS; the trust region
(scipy's ``trust-ncg``) keeps the steps safe where the hessian estimate is
poor. Two gradient evaluations per product make it slower than L-BFGS on
most problems; it is offered for users who want a second-order method.
"""

import numpy as np
from scipy.optimize import minimize

from ._objective import smooth_objective

__all__ = ["newton_cg"]

#: Relative step of the central differences (about the cube root of the
#: float64 resolution, which balances truncation and rounding error).
DIFFERENCE_STEP = 6e-6


def newton_cg(objective, penalty, theta0, max_iter=100, tol=1e-4, verbose=0):
    """Minimise ``objective`` + L2 ``penalty``; returns ``(theta, n_iter, converged, curve)``.

    ``tol`` is relative to the largest loss gradient component at zero
    coefficients, as for L-BFGS.
    """
    scale = objective.gradient_scale()
    gtol = tol * scale
    value_grad = smooth_objective(objective, penalty)

    def hessp(theta, v):
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            return np.zeros_like(v)
        e = DIFFERENCE_STEP * (1.0 + float(np.linalg.norm(theta))) / norm
        return (value_grad(theta + e * v)[1] - value_grad(theta - e * v)[1]) / (2.0 * e)

    curve = []

    def record(intermediate_result):
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"newton-cg iter {len(curve):4d}: objective {curve[-1]:.10g}")

    result = minimize(value_grad, np.asarray(theta0, dtype=np.float64), jac=True, hessp=hessp,
                      method="trust-ncg", callback=record, options={"maxiter": max_iter, "gtol": gtol})
    if not curve:
        curve.append(float(result.fun))
    # status 2: the trust-region model no longer predicts the (rounded) decrease
    # of the objective; that is convergence once the gradient is at the
    # resolution of float64 objective values (sqrt(eps) of the scale)
    largest = float(np.max(np.abs(result.jac)))
    converged = result.success or largest <= gtol or (
        result.status == 2 and largest <= np.sqrt(np.finfo(float).eps) * scale)
    return result.x, int(result.nit), bool(converged), curve
