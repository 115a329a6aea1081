"""Exact solver for piecewise-linear losses: a primal-dual interior-point method.

A loss that declares ``piecewise_linear`` (absolute error, pinball,
epsilon-insensitive, hinge) gives, per sample, its slopes and breakpoints in
the raw prediction r (:meth:`~sklearn_losses.losses.BaseLoss.linear_pieces`),
so that, up to a constant,

.. math:: \\ell_i(r) = s_{i0} r + \\sum_k (s_{i,k+1} - s_{ik}) \\max(0, r - t_{ik}).

With ``r = a_i^T \\theta`` (``a_i = [x_i, 1]``) and the penalty's L1 part written
the same way (``l1 |w_j| = -l1 w_j + 2 l1 max(0, w_j)``), the whole objective is

.. math:: \\min_\\theta\\; q^T \\theta + \\tfrac12 \\theta^T Q \\theta
          + \\sum_j m_j \\max(0, a_j^T \\theta - t_j),

a linear program (a convex quadratic program with an L2 penalty). It is solved
to high accuracy by Mehrotra's predictor-corrector method on the split
``a_j^T \\theta - t_j = u_j - v_j`` (``u, v >= 0``) with dual variables
``0 <= z_j <= m_j``, as in the Frisch-Newton algorithm of Portnoy and
Koenker (1997) used by R's ``quantreg``. Each iteration factors one
(p + 1) x (p + 1) matrix ``Q + A^T D A``: the cost is O(n p^2) per
iteration and independent of how non-smooth the loss is, and the result is
the true optimum of the non-smooth objective (not of a smoothed one).
"""

import numpy as np
import scipy.linalg

from ._objective import weighted_gram

__all__ = ["MAX_FEATURES", "interior_point"]

#: Largest number of parameters the interior-point method accepts (its
#: (p + 1) x (p + 1) system then takes 800 MB).
MAX_FEATURES = 10_000


class _Block:
    """Rows of the hinge sum sharing one design: a sample block or the L1 block."""

    def __init__(self, m, t, apply, adjoint, gram):
        self.m, self.t = m, t
        self.apply, self.adjoint, self.gram = apply, adjoint, gram

    def start(self, theta):
        s = self.apply(theta) - self.t
        shift = np.maximum(1.0, np.abs(s).max()) if s.size else 1.0
        self.u = np.maximum(s, 0.0) + shift
        self.v = np.maximum(-s, 0.0) + shift
        self.z = 0.5 * self.m


def _sample_block(X, fit_intercept, m, t):
    n, p = X.shape

    def apply(theta):
        r = X @ theta[:p] + (theta[p] if fit_intercept else 0.0)
        return np.asarray(r).reshape(n, 1)

    def adjoint(values):
        total = values.sum(axis=1)
        out = np.asarray(X.T @ total).ravel()
        return np.append(out, total.sum()) if fit_intercept else out

    def gram(d):
        return weighted_gram(X, d.sum(axis=1), fit_intercept)

    return _Block(m, t, apply, adjoint, gram)


def _l1_block(n_coef, n_params, strength):
    def apply(theta):
        return theta[:n_coef].copy()

    def adjoint(values):
        out = np.zeros(n_params)
        out[:n_coef] = values
        return out

    def gram(d):
        out = np.zeros((n_params, n_params))
        out[np.arange(n_coef), np.arange(n_coef)] = d
        return out

    return _Block(np.full(n_coef, 2.0 * strength), np.zeros(n_coef), apply, adjoint, gram)


def _max_step(x, dx):
    """Largest step in (0, 1] keeping ``x + step * dx >= 0``."""
    neg = dx < 0
    if not neg.any():
        return 1.0
    return min(1.0, float(np.min(-x[neg] / dx[neg])))


def interior_point(objective, penalty, theta0, max_iter=100, tol=1e-4, verbose=0):
    """Minimise ``objective`` + ``penalty`` for a piecewise-linear loss.

    ``tol`` is the estimator's tolerance; the method stops at a relative
    duality gap of ``1e-7 * tol``, within [1e-14, 1e-9] (1e-11 by default):
    it converges fast, exact solutions need a small gap, and double
    precision reaches about 1e-14.

    Returns ``(theta, n_iter, converged, curve)`` with ``curve`` the
    penalised objective at each iterate (iterates need not be monotone: the
    duality gap, not the objective, decreases).
    """
    tol = min(max(tol * 1e-7, 1e-14), 1e-9)  # the relative duality gap
    X, loss = objective.X, objective.loss
    n, p = X.shape
    n_params = p + int(objective.fit_intercept)
    if n_params > MAX_FEATURES:
        raise ValueError(
            f"The interior-point method factors a dense {n_params} x {n_params} matrix per iteration "
            f"({n_params ** 2 * 8 / 1e9:.1f} GB) for {type(loss).__name__} with {p} features; it is meant for "
            f"at most {MAX_FEATURES} features. With penalty='l2' (alpha > 0) use solver='dcd' (dual "
            "coordinate descent, any number of features); otherwise solver='sgd' or 'adam' (subgradient "
            "steps), or a smooth loss such as 'squared_hinge'."
        )
    slopes, breaks = loss.linear_pieces(objective.y)
    c = objective.scale * (np.ones(n) if objective.sample_weight is None else objective.sample_weight)
    keep = c > 0
    y, weights = objective.y, objective.sample_weight
    if not keep.all():  # zero weights contribute nothing: drop them
        X, slopes, breaks, c, y, weights = X[keep], slopes[keep], breaks[keep], c[keep], y[keep], weights[keep]
    mass = c[:, None] * np.diff(slopes, axis=1)
    if np.any(mass <= 0):
        raise ValueError(f"{type(loss).__name__}.linear_pieces must give strictly increasing slopes.")
    blocks = [_sample_block(X, objective.fit_intercept, mass, breaks)]
    q = blocks[0].adjoint((c * slopes[:, 0])[:, None])
    if penalty.l1 > 0:
        blocks.append(_l1_block(p, n_params, penalty.l1))
        q[:p] -= penalty.l1
    q_diag = np.zeros(n_params)
    q_diag[:p] = penalty.l2
    theta = np.array(theta0, dtype=np.float64)
    for block in blocks:
        block.start(theta)
    n_pairs = 2 * sum(block.m.size for block in blocks)
    scale_t = 1.0 + max(np.abs(block.t).max() for block in blocks)
    scale_q = 1.0 + np.abs(q).max()
    floor = sum(float(block.m.sum()) for block in blocks) * scale_t
    curve, converged, stalled, best_gap = [], False, 0, np.inf
    for iteration in range(1, max_iter + 1):
        r_d = q + q_diag * theta + sum(b.adjoint(b.z) for b in blocks)
        applied = [b.apply(theta) for b in blocks]
        r_p = [a - b.t - b.u + b.v for a, b in zip(applied, blocks)]
        gap = sum(float(np.sum(b.u * (b.m - b.z)) + np.sum(b.v * b.z)) for b in blocks)
        mu = gap / n_pairs
        # the objective from the raw predictions already at hand (no extra pass over X)
        value = loss.loss(y, applied[0][:, 0], weights, check_input=False) + penalty.value(theta[:p])
        curve.append(value)
        if verbose:
            print(f"ipm iter {iteration:3d}: objective {value:.12g}  gap {gap:.3e}  "
                  f"primal {max(np.abs(r).max() for r in r_p):.2e}  dual {np.abs(r_d).max():.2e}")
        feasible = (max(np.abs(r).max() for r in r_p) <= max(tol, 1e-12) * scale_t
                    and np.abs(r_d).max() <= max(tol, 1e-12) * scale_q)
        near = feasible and gap <= 1e-3 * floor
        size = abs(value) + 1e-12 if near else floor
        # converged: a gap small relative to the objective, or negligible at
        # double precision relative to the natural size of the loss
        if near and (gap <= tol * size or gap <= 1e-15 * floor):
            converged = True
            break
        # rounding limits how far the gap can fall: once feasible, stop when
        # five iterations have not halved the best gap
        if near and gap <= 1e-6 * min(size, floor):
            stalled = stalled + 1 if gap > 0.5 * best_gap else 0
            best_gap = min(best_gap, gap)
            if stalled >= 5:
                converged = True
                break
        d = [1.0 / (b.u / (b.m - b.z) + b.v / b.z) for b in blocks]
        matrix = np.diag(q_diag) + sum(b.gram(di) for b, di in zip(blocks, d))
        matrix[np.diag_indices_from(matrix)] += 1e-14 * (1.0 + np.trace(matrix) / n_params)
        factor = scipy.linalg.cho_factor(matrix, check_finite=False)

        def direction(r_u, r_v):
            rho = [rp - ru / (b.m - b.z) + rv / b.z for b, rp, ru, rv in zip(blocks, r_p, r_u, r_v)]
            rhs = -r_d - sum(b.adjoint(di * ri) for b, di, ri in zip(blocks, d, rho))
            d_theta = scipy.linalg.cho_solve(factor, rhs, check_finite=False)
            steps = []
            for b, di, ri, ru, rv in zip(blocks, d, rho, r_u, r_v):
                dz = di * (b.apply(d_theta) + ri)
                steps.append(((ru + b.u * dz) / (b.m - b.z), (rv - b.v * dz) / b.z, dz))
            alpha = 1.0
            for b, (du, dv, dz) in zip(blocks, steps):
                alpha = min(alpha, _max_step(b.u, du), _max_step(b.v, dv), _max_step(b.z, dz),
                            _max_step(b.m - b.z, -dz))
            return d_theta, steps, alpha

        # predictor (affine scaling) step
        r_u = [-b.u * (b.m - b.z) for b in blocks]
        r_v = [-b.v * b.z for b in blocks]
        _, aff, alpha = direction(r_u, r_v)
        gap_aff = sum(float(np.sum((b.u + alpha * du) * (b.m - b.z - alpha * dz))
                            + np.sum((b.v + alpha * dv) * (b.z + alpha * dz)))
                      for b, (du, dv, dz) in zip(blocks, aff))
        sigma = (gap_aff / gap) ** 3 if gap > 0 else 0.0
        # corrector: centring plus the second-order terms of the affine step
        r_u = [sigma * mu - b.u * (b.m - b.z) + du * dz for b, (du, dv, dz) in zip(blocks, aff)]
        r_v = [sigma * mu - b.v * b.z - dv * dz for b, (du, dv, dz) in zip(blocks, aff)]
        d_theta, steps, alpha = direction(r_u, r_v)
        alpha = min(1.0, 0.99995 * alpha)
        new = [(b.u + alpha * du, b.v + alpha * dv, b.z + alpha * dz) for b, (du, dv, dz) in zip(blocks, steps)]
        interior = all(np.all(u > 0) and np.all(v > 0) and np.all(z > 0) and np.all(z < b.m)
                       for b, (u, v, z) in zip(blocks, new))
        if not (interior and np.all(np.isfinite(d_theta))):
            # rounding has reached the boundary: the current point is as good as it gets
            converged = feasible and gap <= 1e-6 * min(size, floor)
            break
        theta = theta + alpha * d_theta
        for b, (u, v, z) in zip(blocks, new):
            b.u, b.v, b.z = u, v, z
    return theta, iteration, converged, curve

