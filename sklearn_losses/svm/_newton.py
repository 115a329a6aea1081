"""Newton's method in the span of the kernel, for twice-differentiable losses.

With ``f = K a + b`` the objective ``J = sum_i w_i l_i(f_i) + 1/2 a^T K a``
(``w = C s``) has gradient ``(K r, sum_i w_i l'_i)`` with ``r = w l' + a`` and
hessian ``[[K D K + K, K d], [d^T K, sum d]]`` with ``d = w l''`` and
``D = diag(d)``. Every block of the first row carries a factor K; dividing
it out (Chapelle, 2007, "Training a support vector machine in the primal")
leaves the ``(n + 1) x (n + 1)`` system

.. math:: (D K + I) \\Delta a + d\\, \\Delta b = -r, \\qquad
          d^T K \\Delta a + (\\textstyle\\sum_i d_i) \\Delta b = -\\textstyle\\sum_i w_i l'_i,

solved by LU at O(n^3) per step, which is why the method is limited to a
few thousand samples. A backtracking line search on J makes every step
descend; the fit stops when a step changes no decision value by more than
``tol`` (the units of SVC's tolerance).
"""

import numpy as np
import scipy.linalg

__all__ = ["MAX_NEWTON_SAMPLES", "kernel_newton"]

#: Largest problem Newton's method takes (one LU of this size per step).
MAX_NEWTON_SAMPLES = 5000


def _objective(K, loss, y, w, a, b):
    f = K @ a + b
    return float(loss.loss(y, f, w, reduction="sum", check_input=False) + 0.5 * a @ (f - b)), f


def kernel_newton(K, loss, y, w, tol=1e-3, max_iter=100, verbose=0, start=None):
    """Minimise ``sum w l(y, K a + b) + a^T K a / 2``; returns ``(a, b, n_iter, converged)``.

    ``start``: ``(a, b)`` to start from (default zeros). Every iterate is finite: a step along which the objective is not finite
    (an exp-link loss overflowing) is not taken, and the fit stops unconverged.
    """
    n = K.shape[0]
    a, b = (np.zeros(n), 0.0) if start is None else (np.array(start[0], dtype=np.float64), float(start[1]))
    value, f = _objective(K, loss, y, w, a, b)
    converged = False
    for iteration in range(1, max_iter + 1):
        g, h = loss.gradient_hessian(y, f, reduction="none", check_input=False)
        g, h = np.asarray(g, dtype=np.float64), np.maximum(np.asarray(h, dtype=np.float64), 0.0)
        d = w * h
        r = w * g + a
        system = np.empty((n + 1, n + 1))
        system[:n, :n] = d[:, None] * K
        system[np.arange(n), np.arange(n)] += 1.0
        system[:n, n] = d
        system[n, :n] = d @ K
        system[n, n] = d.sum() + 1e-12 * (1.0 + d.sum())  # (b is free when every d is 0)
        rhs = -np.append(r, float(w @ g))
        step = scipy.linalg.lu_solve(scipy.linalg.lu_factor(system, check_finite=False), rhs, check_finite=False)
        da, db = step[:n], float(step[n])
        change = float(np.max(np.abs(K @ da + db)))
        t = 1.0
        while True:
            new_value, new_f = _objective(K, loss, y, w, a + t * da, b + t * db)
            if new_value <= value or t < 1e-10:
                break
            t *= 0.5
        if not np.isfinite(new_value):  # no finite descent along the step (overflow): stop here
            break
        if verbose:
            print(f"kernel newton iter {iteration:3d}: objective {new_value:.12g}  step {t:.3g}  change {change:.3e}")
        if new_value > value:  # no descent left at float precision
            converged = change * t <= max(tol, 1e-8)
            break
        a, b, value, f = a + t * da, b + t * db, new_value, new_f
        if change * t <= tol:
            converged = True
            break
    return a, b, iteration, converged
