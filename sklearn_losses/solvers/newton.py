"""Newton's method with a backtracking line search, for smooth losses with a hessian.

Each iteration forms the (p + 1) x (p + 1) hessian
``X_a^T diag(h) X_a + l2 I`` from the loss's per-sample second derivatives
(``gradient_hessian``) and solves for the step by Cholesky. Quadratic
convergence makes it the most accurate choice for few features (p up to a
few thousand); L-BFGS is the better choice beyond that.
"""

import numpy as np
import scipy.linalg

from ._objective import smooth_objective, weighted_gram

__all__ = ["newton"]


def newton(objective, penalty, theta0, max_iter=100, tol=1e-4, verbose=0):
    """Minimise ``objective`` + L2 ``penalty``; returns ``(theta, n_iter, converged, curve)``."""
    p = objective.n_features
    scale = objective.gradient_scale()  # tolerances relative to it, as in lbfgs
    gtol = tol * scale
    value_grad = smooth_objective(objective, penalty)

    theta = np.array(theta0, dtype=np.float64)
    value, grad = value_grad(theta)
    curve, converged = [], False
    for iteration in range(1, max_iter + 1):
        _, h = objective.gradient_hessian_raw(theta)
        h = np.maximum(np.asarray(h, dtype=np.float64).ravel(), 0.0)
        hessian = weighted_gram(objective.X, h, objective.fit_intercept)
        hessian[np.diag_indices(p)] += penalty.l2
        hessian[np.diag_indices_from(hessian)] += 1e-12 * (1.0 + np.trace(hessian) / len(theta))
        try:
            step = -scipy.linalg.solve(hessian, grad, assume_a="pos", check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            step = -grad
        slope = float(grad @ step)
        if slope >= 0:  # not a descent direction (numerically singular hessian)
            step, slope = -grad, -float(grad @ grad)
        t = 1.0
        while True:
            new_theta = theta + t * step
            new_value, new_grad = value_grad(new_theta)
            if np.isfinite(new_value) and new_value <= value + 1e-4 * t * slope:
                break
            t *= 0.5
            if t < 1e-12:
                new_theta, new_value, new_grad = theta, value, grad
                break
        improvement = value - new_value
        theta, value, grad = new_theta, new_value, new_grad
        curve.append(value)
        if verbose:
            print(f"newton iter {iteration:3d}: objective {value:.12g}  |grad| {np.abs(grad).max():.2e}")
        if np.abs(grad).max() <= gtol or (t < 1e-12 and improvement == 0):
            # a stalled line search is converged at the limit of float precision
            converged = np.abs(grad).max() <= max(gtol, 1e-8 * scale)
            break
    return theta, iteration, converged, curve
