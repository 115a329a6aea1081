"""How each tree's leaf values are set, chosen from what the loss declares.

=================  ==============================  =====================================================
rule               losses                          splits on / leaf value
=================  ==============================  =====================================================
``"newton"``       ``hessian="exact"``, twice      gradient and hessian / Newton step ``-G / (H + l2)``
                   differentiable (squared error,  (in an iteration that would raise the training loss,
                   log loss, Poisson, cross-       as far out on an exponential tail, the line search
                   entropy, ...)                   below; see the boosting loop)
``"pieces"``       piecewise linear (absolute      slope, unit hessian / the exact minimiser of the
                   error, pinball, epsilon-        leaf's loss from its linear pieces (a weighted
                   insensitive, hinge)             quantile of the residuals)
``"search"``       ``hessian="indefinite"`` (focal, gradient and the positive part of the hessian, or
                   non-convex custom losses), not  unit hessian / a line search on the leaf's loss,
                   twice differentiable (Huber,    started at the Newton step: a root of its
                   squared hinge, ...), no hessian derivative, found by bracketing and safeguarded
                   or exponential growth in an     regula falsi
                   identity-linked raw prediction
                   (LINEX, exponential loss)
``"batch"``        batch losses (soft F1, Dice,    gradient, unit hessian / the leaves' mean negative
                   Lovasz, ...)                    gradient, times one step size found by a line search
                                                   on the batch objective
=================  ==============================  =====================================================

"Unit hessian" is the sample weight: the tree then fits the negative
gradient by weighted least squares, as scikit-learn's exact
``GradientBoostingRegressor`` does for its absolute, quantile and Huber
losses. This is why the zero-hessian losses train here where XGBoost and
LightGBM custom objectives stop splitting (their leaves need a positive
hessian sum).
"""

import numpy as np

from ._tree_kernels import piecewise_leaf_minimisers

__all__ = ["leaf_rule", "leaf_values", "left_slopes", "split_hessian"]


def leaf_rule(loss):
    """The rule (see the module's table) for ``loss``, from its declared properties."""
    if loss.structure == "batch":
        return "batch"
    if loss.hessian == "exact" and loss.twice_differentiable and not _newton_biased(loss):
        return "newton"
    if loss.piecewise_linear and loss.structure == "elementwise":
        return "pieces"
    return "search"


def _newton_biased(loss):
    """Whether Newton steps are biased leaves for ``loss``: it grows exponentially in an identity-linked raw
    prediction (LINEX, the exponential loss), where a leaf's Newton step ``1 - 1/m`` falls short of its
    minimiser ``log m`` (LINEX, ``m`` the mean of ``exp(a e)``) on every side. Log-link deviances (Poisson,
    gamma) grow exponentially too, but there the Newton step is the IRLS step every booster takes."""
    return loss.growth == "exponential" and loss.link.name == "identity"


def left_slopes(slopes, breaks, raw):
    """Each sample's slope just left of ``raw`` for a piecewise-linear loss (``linear_pieces``): its
    gradient, and at a kink the one-sided derivative from below (scikit-learn's convention for the
    absolute error). The split search of the piecewise rule uses these rather than the loss's gradient,
    which is 0 at a kink: every sample takes part, also the ones a previous leaf (a quantile of the
    residuals) fitted exactly, which are many when the targets have ties."""
    side = (breaks < raw[:, None]).sum(axis=1)
    return np.take_along_axis(slopes, side[:, None], axis=1)[:, 0]


def split_hessian(loss, rule, hessian, weight):
    """The hessian the split search uses: the loss's, its positive part, or the weights."""
    if rule == "newton":
        return hessian
    if rule == "search" and loss.hessian == "indefinite":
        return np.maximum(hessian, 0.0)
    return weight


class LeafProblem:
    """What setting one tree's leaf values needs: the loss, targets, weights, current raw predictions."""

    def __init__(self, loss, y, weight, sample_weight, raw, squeeze, l2, pieces=None):
        self.loss, self.y, self.weight, self.sample_weight = loss, y, weight, sample_weight
        self.raw, self.squeeze, self.l2, self.pieces = raw, squeeze, l2, pieces

    def _gradient(self, raw, reduction="none"):
        r = raw[:, 0] if self.squeeze else raw
        g = self.loss.gradient(self.y, r, self.sample_weight, reduction=reduction, check_input=False)
        return g.reshape(raw.shape[0], -1)


def leaf_values(problem, rule, column, rows, leaves):
    """The value of each leaf (before the learning rate) for rule ``rule``, as an array in ``leaves``' order.

    ``leaves`` are ``(node, start, stop, sums)`` of :func:`~._grower.grow_tree`
    with ``sums = (G, H, n)`` of the split search's gradients and hessians.
    """
    sums = np.array([leaf[3] for leaf in leaves]).reshape(len(leaves), 3)
    l2 = problem.l2
    with np.errstate(divide="ignore", invalid="ignore"):
        newton = np.where(sums[:, 1] + l2 > 0, -sums[:, 0] / (sums[:, 1] + l2), 0.0)
    if rule == "newton":
        return newton
    starts = np.array([leaf[1] for leaf in leaves], dtype=np.intp)
    stops = np.array([leaf[2] for leaf in leaves], dtype=np.intp)
    if rule == "pieces":
        slopes, breaks = problem.pieces
        out = np.empty(len(leaves))
        piecewise_leaf_minimisers(rows, starts, stops, slopes, breaks, problem.weight, problem.raw, column, out)
        return out
    leaf_of_row = _leaf_of_row(problem, rows, starts, stops)
    if rule == "search":
        return _line_search(problem, column, leaf_of_row, newton, sums)
    # batch: one step size for the whole tree along its leaves' mean negative gradients
    direction = newton[leaf_of_row]
    if not np.any(direction):
        return newton

    def slope(alpha):
        trial = problem.raw.copy()
        trial[:, column] += alpha[0] * direction
        g = problem._gradient(trial, reduction="mean")[:, column]
        return np.array([g @ direction])

    alpha = increasing_root(slope, np.ones(1), slope(np.zeros(1)))
    return alpha[0] * newton


def _leaf_of_row(problem, rows, starts, stops):
    """Each row's leaf (its index in ``starts``): the leaves are contiguous slices of ``rows``."""
    by_start = np.argsort(starts, kind="stable")
    leaf_of_row = np.empty(problem.raw.shape[0], dtype=np.intp)
    leaf_of_row[rows[starts[by_start[0]]:stops[by_start[-1]]]] = np.repeat(by_start, (stops - starts)[by_start])
    return leaf_of_row


def _line_search(problem, column, leaf_of_row, newton, sums):
    """Each leaf's minimiser of its loss (plus ``l2 v^2 / 2``), started at the Newton step."""
    l2 = problem.l2

    def derivative(v):
        trial = problem.raw.copy()
        trial[:, column] += v[leaf_of_row]
        g = problem._gradient(trial)[:, column]
        return np.bincount(leaf_of_row, weights=g, minlength=v.shape[0]) + l2 * v

    return increasing_root(derivative, newton, sums[:, 0])


def increasing_root(derivative, start, d0, max_expand=60, max_iter=60, rtol=1e-10):
    """For each entry, a root of a derivative that increases through it (the minimiser of a convex function).

    ``derivative(v)`` evaluates all entries at once; ``d0 = derivative(0)``.
    From ``v = 0`` towards ``start`` (the Newton step, taken in the descent
    direction), the step doubles until the derivative changes sign or
    vanishes, then regula falsi (Illinois) with bisection safeguards narrows
    the bracket. Entries whose derivative is 0 at 0 stay at 0; where the
    derivative never changes sign within ``2**max_expand`` times the first
    step (no finite minimiser), the last step whose derivative is at most
    ``rtol`` times the first is kept, else the largest one tried.
    """
    d0 = np.asarray(d0, dtype=np.float64)
    sign = np.sign(-d0)  # the descent direction
    step = np.where(np.sign(start) == sign, np.abs(start), 0.0)
    step = np.where((step > 0) & np.isfinite(step), step, 1.0) * sign
    active = sign != 0
    lo = np.zeros_like(d0)
    d_lo = d0.copy()
    hi = step.copy()
    d_hi = np.zeros_like(d0)
    bracketed = ~active
    flat = np.zeros(d0.shape, dtype=bool)
    for _ in range(max_expand):
        todo = active & ~bracketed
        if not todo.any():
            break
        trial = np.where(todo, hi, 0.0)
        d = derivative(trial)
        crossed = todo & (np.sign(d) != np.sign(d0))
        tiny = todo & ~crossed & (np.abs(d) <= rtol * np.abs(d0))
        d_hi = np.where(crossed, d, d_hi)
        bracketed |= crossed | tiny
        flat |= tiny
        move = todo & ~crossed & ~tiny
        lo = np.where(move, hi, lo)
        d_lo = np.where(move, d, d_lo)
        hi = np.where(move, 2.0 * hi, hi)
    unbounded = active & ~bracketed
    flat |= unbounded
    lo = np.where(unbounded, hi / 2.0, lo)
    refine = active & ~flat
    side = np.zeros(d0.shape, dtype=np.int8)
    for _ in range(max_iter):
        width = np.abs(hi - lo)
        todo = refine & (width > rtol * (np.abs(lo) + np.abs(hi)))
        if not todo.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            secant = lo - d_lo * (hi - lo) / (d_hi - d_lo)
        inside = np.isfinite(secant) & ((secant - lo) * (secant - hi) < 0)
        mid = np.where(inside, secant, 0.5 * (lo + hi))
        d = derivative(np.where(todo, mid, 0.0))
        same = todo & (np.sign(d) == np.sign(d_lo))
        other = todo & ~same
        lo = np.where(same, mid, lo)
        d_lo = np.where(same, d, d_lo)
        hi = np.where(other, mid, hi)
        d_hi = np.where(other, d, d_hi)
        # Illinois: halve the derivative kept at the end that stayed twice
        d_hi = np.where(same & (side == 1), 0.5 * d_hi, d_hi)
        d_lo = np.where(other & (side == -1), 0.5 * d_lo, d_lo)
        side = np.where(same, 1, np.where(other, -1, side)).astype(np.int8)
    with np.errstate(divide="ignore", invalid="ignore"):
        final = lo - d_lo * (hi - lo) / (d_hi - d_lo)
    final = np.where(np.isfinite(final) & ((final - lo) * (final - hi) <= 0), final, 0.5 * (lo + hi))
    return np.where(flat, hi, np.where(active, final, 0.0))
