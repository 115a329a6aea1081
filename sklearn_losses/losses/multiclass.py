"""Multiclass losses on class indices y in {0, ..., K-1} and rows of K scores.

``raw_prediction`` has shape (n_samples, K). Softmax losses share one stable
log-sum-exp; their ``gradient_hessian`` returns the diagonal of each sample's
K x K hessian block.
"""

import math
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..links import IdentityLink, SoftmaxLink
from ._base import BaseLoss
from ._baseline import centred, log_priors, minimise_row
from ._domain import ClassIndices
from ._factory import KernelSpec
from ._math import exp, jit_scalar
from ._registry import register_loss

__all__ = ["CrossEntropy", "MulticlassFocal", "MulticlassHinge"]


def _priors(y, w, n_classes):
    """Weighted class frequencies."""
    counts = np.bincount(np.asarray(y, dtype=np.intp), weights=w, minlength=n_classes)
    return counts / counts.sum()


class _MulticlassLoss(BaseLoss):
    task = "multiclass"
    structure = "row"

    def _baseline_row(self, y, w, n_classes):
        """L-BFGS from the log-priors."""
        return centred(minimise_row(self, y, w, n_classes, log_priors(_priors(y, w, n_classes))))
    target_domain = ClassIndices()
    link = SoftmaxLink()
    growth = "linear"
    robust = True


@jit_scalar
def _ce_value(y, z, p, lse, smoothing):
    c = int(y)
    if smoothing == 0.0:
        return lse - z[c]
    # lse minus the smoothed target's mean score: in shifted rows (scores <= 0, lse >= 0) no
    # inf - inf arises whatever the kernels' reassociation does; term by term, no sum overflows
    inv = smoothing / z.shape[0]
    target = (1.0 - smoothing) * z[c]
    for k in range(z.shape[0]):
        target += z[k] * inv
    return lse - target


@jit_scalar
def _ce_gradient_in_place(y, p, f, smoothing):
    """``p`` holds f * softmax(z); subtract f times the (smoothed) one-hot target."""
    p[int(y)] -= f * (1.0 - smoothing)
    if smoothing > 0.0:
        uniform = f * smoothing / p.shape[0]
        for k in range(p.shape[0]):
            p[k] -= uniform


@jit_scalar
def _ce_loss_gradient(y, z, p, lse, f, smoothing):
    value = _ce_value(y, z, p, lse, smoothing)
    _ce_gradient_in_place(y, p, f, smoothing)
    return value


@jit_scalar
def _ce_gradient_hessian(y, z, p, lse, h, smoothing):
    for k in range(p.shape[0]):
        h[k] = p[k] * (1.0 - p[k])
    _ce_gradient_in_place(y, p, 1.0, smoothing)


@register_loss
class CrossEntropy(_MulticlassLoss):
    r"""Softmax cross-entropy, as ``torch.nn.functional.cross_entropy``.

    .. math::

        \ell(y, z) = (1 - \varepsilon)\left(-\log p_y\right)
        + \frac{\varepsilon}{K} \sum_{k=1}^{K} \left(-\log p_k\right),
        \quad p = \mathrm{softmax}(z)

    With ``label_smoothing=0`` the mean equals :func:`sklearn.metrics.log_loss`
    on the softmax probabilities. The loss depends on the differences of a
    row's scores only, and is computed from them at any magnitude; with
    label smoothing, a row whose scores span more than the float range
    (differences beyond 1.8e308) has an infinite loss.

    Parameters
    ----------
    label_smoothing : float, default=0.0
        Mass epsilon in [0, 1] spread uniformly over the K classes.
    """

    name = "cross_entropy"
    _parameter_constraints = {"label_smoothing": [Interval(Real, 0, 1, closed="both")]}
    _kernel_spec = KernelSpec(
        "softmax", _ce_value, loss_gradient=_ce_loss_gradient, gradient_hessian=_ce_gradient_hessian,
        n_params=1, scaled_gradient=True,
    )

    def __init__(self, label_smoothing=0.0):
        self.label_smoothing = label_smoothing

    def _baseline_row(self, y, w, n_classes):
        """The log of the smoothed class priors ``(1 - eps) pi + eps / K``."""
        eps = float(self.label_smoothing)
        return log_priors((1.0 - eps) * _priors(y, w, n_classes) + eps / n_classes)


@jit_scalar
def _hinge_loss_gradient(y, z, g, weston_watkins):
    c = int(y)
    n_classes = z.shape[0]
    for k in range(n_classes):
        g[k] = 0.0
    if weston_watkins > 0.5:
        total = 0.0
        active = 0
        for k in range(n_classes):
            d = 1.0 - z[c] + z[k]
            if k != c and d > 0.0:
                total += d
                g[k] = 1.0 / n_classes
                active += 1
        g[c] = -active / n_classes
        return total / n_classes
    best = -math.inf
    arg = 0 if c != 0 else 1
    for k in range(n_classes):
        if k != c and z[k] > best:
            best = z[k]
            arg = k
    d = 1.0 + best - z[c]
    if d > 0.0:
        g[arg] = 1.0
        g[c] = -1.0
        return d
    return 0.0


@jit_scalar
def _hinge_value(y, z, weston_watkins):
    c = int(y)
    if weston_watkins > 0.5:
        total = 0.0
        for k in range(z.shape[0]):
            d = 1.0 - z[c] + z[k]
            if k != c and d > 0.0:
                total += d
        return total / z.shape[0]
    best = -math.inf
    for k in range(z.shape[0]):
        if k != c and z[k] > best:
            best = z[k]
    d = 1.0 + best - z[c]
    return d if d > 0.0 else 0.0


@jit_scalar
def _hinge_gradient_hessian(y, z, g, h, weston_watkins):
    _hinge_loss_gradient(y, z, g, weston_watkins)
    for k in range(z.shape[0]):
        h[k] = 0.0


def _hinge_baseline(weights, weston_watkins):
    """The constant scores ``z`` (mean zero) minimising ``sum_c W_c l(c, z)`` for the multiclass hinges.

    Crammer-Singer: ``min sum_c W_c t_c`` with ``t_c >= z_k - z_c + [k != c]``
    for every ``k`` (``k = c``: ``t_c >= 0``); Weston-Watkins: ``min sum_c W_c
    sum_{k != c} s_ck / K`` with ``s_ck >= 0`` and ``s_ck >= 1 + z_k - z_c``.
    """
    from scipy.optimize import linprog

    K = weights.size
    pairs = [(c, k) for c in range(K) for k in range(K) if k != c or not weston_watkins]
    n_slack = len(pairs) if weston_watkins else K
    cost = np.concatenate([np.zeros(K), weights[[c for c, _ in pairs]] / K if weston_watkins else weights])
    rows, bounds = [], []
    for t, (c, k) in enumerate(pairs):  # z_k - z_c - slack <= -[k != c]
        row = np.zeros(K + n_slack)
        row[k] += 1.0
        row[c] -= 1.0
        row[K + (t if weston_watkins else c)] -= 1.0
        rows.append(row)
        bounds.append(-1.0 if k != c else 0.0)
    equal = np.concatenate([np.ones(K), np.zeros(n_slack)])[None, :]  # sum(z) = 0
    result = linprog(cost, A_ub=np.array(rows), b_ub=np.array(bounds), A_eq=equal, b_eq=[0.0],
                     bounds=[(None, None)] * K + [(0.0, None)] * n_slack, method="highs")
    return centred(result.x[:K])


@register_loss
class MulticlassHinge(_MulticlassLoss):
    r"""Multiclass hinge loss.

    ``kind="crammer_singer"`` (Crammer and Singer 2001):

    .. math:: \ell(y, z) = \max\left(0, 1 + \max_{k \ne y} z_k - z_y\right)

    ``kind="weston_watkins"`` (as ``torch.nn.functional.multi_margin_loss``):

    .. math:: \ell(y, z) = \frac{1}{K} \sum_{k \ne y} \max(0, 1 - z_y + z_k)

    The link is the identity: the scores are not probabilities. Both are
    polyhedral (:meth:`polyhedral_pieces`): the maximum of ``<u, z + o>``
    over ``u`` with ``sum(u) = 0``, ``o_k = 1`` for ``k != y`` and
    ``o_y = 0``; Crammer-Singer: ``0 <= u_k <= 1`` for ``k != y``,
    ``-1 <= u_y <= 0``; Weston-Watkins: ``0 <= u_k <= 1/K``,
    ``-(K-1)/K <= u_y <= 0``.

    Parameters
    ----------
    kind : {"crammer_singer", "weston_watkins"}, default="crammer_singer"
    """

    name = "multiclass_hinge"
    hessian = "zero"
    link = IdentityLink()
    differentiable = False
    twice_differentiable = False
    polyhedral = True
    _parameter_constraints = {"kind": [StrOptions({"crammer_singer", "weston_watkins"})]}
    _kernel_spec = KernelSpec(
        "row", _hinge_value, loss_gradient=_hinge_loss_gradient,
        gradient_hessian=_hinge_gradient_hessian, n_params=1,
    )

    def __init__(self, kind="crammer_singer"):
        self.kind = kind

    def _as_floats(self):
        return (1.0 if self.kind == "weston_watkins" else 0.0,)

    def _baseline_row(self, y, w, n_classes):
        """A linear programme in the scores and one slack per class (Crammer-Singer) or pair (Weston-Watkins)."""
        return _hinge_baseline(_priors(y, w, n_classes), self.kind == "weston_watkins")

    def polyhedral_pieces(self, y_true, n_classes):
        weston_watkins, = self.kernel_arguments()
        true = np.arange(n_classes) == np.asarray(y_true, dtype=np.intp)[:, None]
        each, total = (1.0 / n_classes, (n_classes - 1) / n_classes) if weston_watkins else (1.0, 1.0)
        return np.where(true, -total, 0.0), np.where(true, 0.0, each), np.where(true, 0.0, 1.0)


@jit_scalar
def _focal_terms(q, log_p, gamma):
    """(1 - p)^gamma and an accurate log p from q = 1 - p (sum of the others)."""
    if q < 0.5:
        log_p = math.log1p(-q)
    if gamma == 0.0:
        a = 1.0
    elif q > 0.0:
        a = exp(gamma * math.log(q))
    else:
        a = 0.0
    return a, log_p


@jit_scalar
def _others(y, p):
    """1 - p_y, summed from the other probabilities (accurate when p_y -> 1)."""
    c = int(y)
    q = 0.0
    for k in range(p.shape[0]):
        if k != c:
            q += p[k]
    return q


@jit_scalar
def _mfocal_value(y, z, p, lse, gamma):
    a, log_p = _focal_terms(_others(y, p), z[int(y)] - lse, gamma)
    return -a * log_p


@jit_scalar
def _mfocal_loss_gradient(y, z, p, lse, gamma):
    c = int(y)
    q = _others(y, p)
    a, log_p = _focal_terms(q, z[c] - lse, gamma)
    ratio = log_p / q if q > 0.0 else -1.0  # log(p) / (1 - p) -> -1 as p -> 1
    # p log(p) -> 0 as p -> 0 (log p = -inf when score differences overflow: not 0 * inf)
    p_ratio = p[c] * ratio if p[c] > 0.0 else 0.0
    coef = a * (gamma * p_ratio - 1.0)
    for k in range(p.shape[0]):
        p[k] = -coef * p[k]
    p[c] = coef * q
    return -a * log_p


@register_loss
class MulticlassFocal(_MulticlassLoss):
    r"""Multiclass (softmax) focal loss.

    .. math:: \ell(y, z) = -(1 - p_y)^\gamma \log p_y, \quad p = \mathrm{softmax}(z)

    :math:`1 - p_y` is computed as the sum of the other probabilities and
    :math:`\log p_y` as ``log1p(-(1 - p_y))`` when p_y is close to 1, so the
    loss and gradient stay accurate for confident predictions. ``gamma=0``
    is :class:`CrossEntropy`. No hessian is provided.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter, >= 0.
    """

    name = "multiclass_focal"
    hessian = "none"
    _parameter_constraints = {"gamma": [Interval(Real, 0, None, closed="left")]}
    _kernel_spec = KernelSpec("softmax", _mfocal_value, loss_gradient=_mfocal_loss_gradient, n_params=1)

    def __init__(self, gamma=2.0):
        self.gamma = gamma

    @property
    def convex(self):
        return self.gamma == 0
