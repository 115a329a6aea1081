"""The best constant raw prediction of a loss: closed forms and the generic minimisations behind them.

:meth:`BaseLoss.baseline_prediction` minimises ``sum_i w_i l(y_i, b)`` over a
constant ``b`` (a scalar; a row for losses on rows). Losses with a closed form
(mean, weighted median and quantile, log-mean, log-odds, class log-priors)
override ``_baseline``; every other loss, custom losses and composites
included, is minimised here through its public methods only:

* convex element-wise losses: the root of the summed (sub)gradient, a
  non-decreasing function of ``b``, bracketed by doubling steps and found by
  bisection to a few ulp (exact for piecewise-linear losses too, whose
  minimiser is a kink);
* non-convex ones: the best of a grid of candidates (quantiles of the
  targets through the link, and a wide grid), refined by bounded Brent
  minimisation around it;
* losses on rows: L-BFGS over the row from the link of the mean target.
"""

import numpy as np
from scipy.optimize import minimize, minimize_scalar

__all__ = ["gradient_root", "minimise_row", "minimise_scalar", "weighted_mean", "weighted_quantile"]

#: Smallest probability or mean used where the minimiser is at infinity (all
#: targets 0 for Poisson, one class only for the log loss), as scikit-learn's
#: intercept-only fits clip.
EPS = 10 * np.finfo(np.float64).eps

_MAX_DOUBLINGS = 2100  # from 1e-3 to past the float range


def weighted_mean(y, w):
    return float(np.average(y, weights=w))


def weighted_quantile(y, w, q):
    """The smallest ``v`` with ``sum(w[y <= v]) >= q sum(w)``: a minimiser of the pinball loss at ``q``."""
    order = np.argsort(y, kind="stable")
    ys = np.asarray(y, dtype=np.float64)[order]
    cum = np.cumsum(np.ones(ys.size) if w is None else np.asarray(w, dtype=np.float64)[order])
    k = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(ys[min(k, ys.size - 1)])


def _centre(loss, y, w):
    """A starting point in raw space: the link of the weighted mean (median for the identity), else 0."""
    if loss.link.name == "identity":
        return weighted_quantile(y, w, 0.5)
    with np.errstate(all="ignore"):
        mean = min(max(weighted_mean(y, w), EPS), 1.0 - EPS) if loss.link.name == "logit" else weighted_mean(y, w)
        centre = float(np.asarray(loss.link.link(np.array([max(mean, EPS)])))[0])
    return centre if np.isfinite(centre) else 0.0


def _slope(loss, y, w, b):
    grad = loss.gradient(y, np.full(y.size, b), w, reduction="sum", check_input=False)
    return float(np.sum(grad))


def _total(loss, y, w, b):
    with np.errstate(all="ignore"):
        return float(loss.loss(y, np.full(y.size, b), w, reduction="sum", check_input=False))


def gradient_root(loss, y, w, strict=False):
    """A constant ``b`` where the summed gradient ``sum_i w_i l'(y_i, b)`` changes sign.

    For a convex loss the best constant. Searched outwards from the link of
    the targets' centre (doubling steps, then bisection to the last float).
    If the sum never turns (the infimum at infinity): None when ``strict``,
    else the last finite point reached on that side.
    """
    return _root(lambda b: _slope(loss, y, w, b), _centre(loss, y, w), strict)


def _root(slope, centre, strict=False):
    """A point where the non-decreasing ``slope`` changes sign (the minimiser of a convex function)."""
    s = slope(centre)
    if s == 0.0:
        return centre
    step = 1e-3 * (1.0 + abs(centre))
    direction = -1.0 if s > 0 else 1.0
    near, far = centre, centre
    for _ in range(_MAX_DOUBLINGS):
        far = centre + direction * step
        value = slope(far)
        if not np.isfinite(far):
            return None if strict else near
        if (value <= 0.0) if direction < 0 else (value >= 0.0):
            break
        near = far
        step *= 2.0
    else:
        return None if strict else near
    return _bisect(slope, *((far, near) if direction < 0 else (near, far)))


def _bisect(slope, lo, hi):
    """Where ``slope`` turns from negative to non-negative in ``[lo, hi]``, to the last float."""
    for _ in range(2200):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if slope(mid) < 0.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _candidates(loss, y, w, centre):
    """Raw predictions to try for a non-convex loss: the targets' quantiles through the link, and a grid."""
    qs = np.unique([weighted_quantile(y, w, q) for q in np.linspace(0.0, 1.0, 21)] + [weighted_mean(y, w)])
    with np.errstate(all="ignore"):
        if loss.link.name == "logit":
            through = np.linspace(-12.0, 12.0, 49)
        else:
            through = np.asarray(loss.link.link(qs), dtype=np.float64)
    grid = centre + np.concatenate([-np.geomspace(1e-3, 1e3, 25)[::-1], [0.0], np.geomspace(1e-3, 1e3, 25)])
    points = np.concatenate([through, grid])
    return np.unique(points[np.isfinite(points)])


def minimise_scalar(loss, y, w):
    """The constant ``b`` minimising ``sum_i w_i l(y_i, b)``, for an element-wise loss and 1-D ``y``."""
    if loss.convex:
        return float(gradient_root(loss, y, w))
    centre = _centre(loss, y, w)
    points = _candidates(loss, y, w, centre)
    values = np.array([_total(loss, y, w, b) for b in points])
    values[~np.isfinite(values)] = np.inf
    k = int(np.argmin(values))
    best, best_value = float(points[k]), float(values[k])
    lo = points[k - 1] if k > 0 else best - 1.0 - abs(best)
    hi = points[k + 1] if k + 1 < points.size else best + 1.0 + abs(best)
    if loss.differentiable and _slope(loss, y, w, lo) < 0.0 < _slope(loss, y, w, hi):
        # a local minimum in the bracket: the sign change of the slope, by bisection to a few ulp
        # (reproducible: weighted and repeated samples give the same start, unlike Brent's steps)
        root = _bisect(lambda b: _slope(loss, y, w, b), lo, hi)
        if _total(loss, y, w, root) <= best_value:
            return float(root)
    refined = minimize_scalar(lambda b: _total(loss, y, w, b), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-12 * (1.0 + abs(best)), "maxiter": 500})
    if np.isfinite(refined.fun) and refined.fun <= best_value:
        return float(refined.x)
    return best


def minimise_row(loss, y, w, n_classes, start):
    """The constant row ``b`` (K,) minimising ``sum_i w_i l(y_i, b)`` by L-BFGS from ``start``."""
    n = y.shape[0]
    total = float(n if w is None else np.sum(w))

    def objective(b):
        raw = np.broadcast_to(b, (n, n_classes))
        value, grad = loss.loss_gradient(y, np.ascontiguousarray(raw), w, reduction="sum", check_input=False)
        return value / total, np.sum(grad, axis=0) / total

    result = minimize(objective, np.asarray(start, dtype=np.float64), jac=True, method="L-BFGS-B",
                      options={"maxiter": 1000, "gtol": 1e-12, "ftol": 1e-15})
    return np.asarray(result.x, dtype=np.float64)


def centred(row):
    """Logits defined up to a constant: the representative with mean zero (as scikit-learn's)."""
    row = np.asarray(row, dtype=np.float64)
    return row - row.mean()


def log_priors(probabilities):
    """Centred log-probabilities of a row of probabilities, clipped away from 0."""
    return centred(np.log(np.clip(probabilities, EPS, None)))
