"""Slow, obvious NumPy versions of every registered loss.

These transcribe the formulas of DESIGN.md directly, with no attention to
speed or to extreme inputs. The test suite checks every compiled kernel
against them on moderate inputs, and ``benchmarks/bench_losses.py`` times the
plain NumPy ``loss_gradient`` of a few of them against the kernels.

``REFERENCE_VALUES[name](loss, y_true, raw_prediction)`` returns the per-sample
(unweighted) loss values of ``loss`` (an instance, for its parameters).
"""

import numpy as np
from scipy.special import expit, log_softmax, ndtr, softmax

from ._reference_overlap import BOX_VALUES, OVERLAP_VALUES
from ._reference_embedding import EMBEDDING_VALUES
from .losses import get_loss

__all__ = ["REFERENCE_BATCH_VALUES", "REFERENCE_VALUES", "REFERENCE_LOSS_GRADIENTS"]


def _barron(loss, y, r):
    x = (y - r) / loss.scale
    a = loss.alpha
    if a == 2:
        return 0.5 * x**2
    if a == 0:
        return np.log(0.5 * x**2 + 1)
    if a == -np.inf:
        return 1 - np.exp(-0.5 * x**2)
    b = abs(a - 2)
    return b / a * ((x**2 / b + 1) ** (a / 2) - 1)


def _tweedie(loss, y, r):
    p, mu = loss.power, np.exp(r)
    if p == 1:
        return _poisson(loss, y, r)
    if p == 2:
        return _gamma(loss, y, r)
    return 2 * (np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p))
                - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))


def _poisson(loss, y, r):
    mu = np.exp(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y / mu), 0.0)
    return 2 * (ylogy - y + mu)


def _gamma(loss, y, r):
    mu = np.exp(r)
    return 2 * (np.log(mu / y) + y / mu - 1)


def _focal(loss, y, z):
    p = expit(z)
    p_t = np.where(y == 1, p, 1 - p)
    alpha_t = 1.0 if loss.alpha is None else np.where(y == 1, loss.alpha, 1 - loss.alpha)
    return -alpha_t * (1 - p_t) ** loss.gamma * np.log(p_t)


def _cross_entropy(loss, y, z):
    logp = log_softmax(z, axis=1)
    eps, n_classes = loss.label_smoothing, z.shape[1]
    target = np.eye(n_classes)[y.astype(int)] * (1 - eps) + eps / n_classes
    return -(target * logp).sum(axis=1)


def _multiclass_hinge(loss, y, z):
    idx = y.astype(int)
    zy = z[np.arange(len(z)), idx][:, None]
    margins = np.maximum(0, 1 - zy + z)
    margins[np.arange(len(z)), idx] = 0
    if loss.kind == "weston_watkins":
        return margins.sum(axis=1) / z.shape[1]
    others = z.copy()
    others[np.arange(len(z)), idx] = -np.inf
    return np.maximum(0, 1 + others.max(axis=1) - zy[:, 0])


def _multiclass_focal(loss, y, z):
    p_y = softmax(z, axis=1)[np.arange(len(z)), y.astype(int)]
    return -(1 - p_y) ** loss.gamma * np.log(p_y)


def _soft_ce(loss, y, z):
    return -(y * log_softmax(z, axis=1)).sum(axis=1)


def _kl(loss, y, z):
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(y), 0.0)
    return (ylogy - y * log_softmax(z, axis=1)).sum(axis=1)


def _eps(loss, y, r):
    return np.maximum(0, np.abs(y - r) - loss.epsilon)


def _huber(loss, y, r):
    e = np.abs(y - r)
    d = loss.delta
    return np.where(e <= d, 0.5 * e**2, d * (e - 0.5 * d))


def _log_loss(loss, y, z):
    p = expit(z)
    return -(loss.pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p))


_CDFS = {"logit": expit, "probit": ndtr, "cloglog": lambda x: -np.expm1(-np.exp(x))}
_SFS = {"logit": lambda x: expit(-x), "probit": lambda x: ndtr(-x), "cloglog": lambda x: np.exp(-np.exp(x))}


def _cumulative(loss, y, z):
    """-log(F(z_{y-1}) - F(z_y)) with z_{-1} = inf and z_{K-1} = -inf."""
    n = len(y)
    padded = np.column_stack([np.full(n, np.inf), z, np.full(n, -np.inf)])
    c = y.astype(int)
    F, S = _CDFS[loss.distribution], _SFS[loss.distribution]
    a, b = padded[np.arange(n), c], padded[np.arange(n), c + 1]
    with np.errstate(all="ignore"):
        if loss.distribution == "cloglog":  # Sf(b) - Sf(a) underflows beyond b = 6.6: its logarithm directly
            upper = np.exp(b) - np.log(-np.expm1(np.exp(b) - np.exp(a)))
        else:
            upper = -np.log(S(b) - S(a))
        return np.where(b > 0, upper, -np.log(F(a) - F(b)))  # the difference of the smaller tails


def _thresholds(weights):
    """A threshold loss: sum_k W_k(y) base(1[y > k], z_k), the base from its own reference."""
    def value(loss, y, z):
        base = get_loss(getattr(loss, "base", "log_loss"))
        k = np.arange(z.shape[1])
        targets = (k[None, :] < y[:, None]).astype(float)
        return np.sum(weights(loss, y[:, None], k[None, :]) * REFERENCE_VALUES[base.name](base, targets, z), axis=1)
    return value


def _coral_weights(loss, y, k):
    return np.ones(k.shape) if loss.importance_weights is None else np.asarray(loss.importance_weights)[k]


REFERENCE_VALUES = {
    "cumulative_link": _cumulative,
    "all_threshold": _thresholds(lambda loss, y, k: np.abs(2 * (k - y) + 1.0) if loss.threshold_weights == "squared"
                                 else np.ones(k.shape)),
    "immediate_threshold": _thresholds(lambda loss, y, k: ((k == y) | (k == y - 1)).astype(float)),
    "coral": _thresholds(_coral_weights),
    "corn": _thresholds(lambda loss, y, k: (k <= y).astype(float)),
    "squared_error": lambda loss, y, r: (y - r) ** 2,
    "absolute_error": lambda loss, y, r: np.abs(y - r),
    "huber": _huber,
    "smooth_l1": lambda loss, y, r: np.where(
        np.abs(y - r) < loss.beta, 0.5 * (y - r) ** 2 / max(loss.beta, 1e-300),
        np.abs(y - r) - 0.5 * loss.beta),
    "pseudo_huber": lambda loss, y, r: loss.delta**2 * (np.sqrt(1 + ((y - r) / loss.delta) ** 2) - 1),
    "log_cosh": lambda loss, y, r: np.log(np.cosh(y - r)),
    "quantile": lambda loss, y, r: np.where(
        y >= r, loss.quantile * (y - r), (1 - loss.quantile) * (r - y)),
    "expectile": lambda loss, y, r: np.abs(loss.expectile - (y < r)) * (y - r) ** 2,
    "linex": lambda loss, y, r: np.exp(loss.a * (y - r)) - loss.a * (y - r) - 1,
    "epsilon_insensitive": _eps,
    "squared_epsilon_insensitive": lambda loss, y, r: _eps(loss, y, r) ** 2,
    "general_robust": _barron,
    "poisson": _poisson,
    "gamma": _gamma,
    "tweedie": _tweedie,
    "log_loss": _log_loss,
    "hinge": lambda loss, y, z: np.maximum(0, loss.margin - (2 * y - 1) * z),
    "squared_hinge": lambda loss, y, z: np.maximum(0, 1 - (2 * y - 1) * z) ** 2,
    "modified_huber": lambda loss, y, z: np.where(
        (2 * y - 1) * z < -1, -4 * (2 * y - 1) * z, np.maximum(0, 1 - (2 * y - 1) * z) ** 2),
    "exponential": lambda loss, y, z: np.exp(-(2 * y - 1) * z),
    "focal": _focal,
    "cross_entropy": _cross_entropy,
    "multiclass_hinge": _multiclass_hinge,
    "multiclass_focal": _multiclass_focal,
    "soft_cross_entropy": _soft_ce,
    "kl_divergence": _kl,
    **BOX_VALUES,
}


def _soft_f_beta(loss, y, z, w=None):
    """1 - F-beta from soft precision and recall: ``(1 + b^2) P R / (b^2 P + R)``."""
    w = np.ones_like(z) if w is None else w
    p = expit(z)
    tp, predicted, actual = np.sum(w * y * p), np.sum(w * p), np.sum(w * y)
    precision, recall = tp / predicted, tp / actual
    b2 = loss.beta ** 2
    return 1.0 - (1 + b2) * precision * recall / (b2 * precision + recall)


#: Batch losses (``structure="batch"``): ``(loss, y, raw, sample_weight=None)`` -> the batch's loss.
REFERENCE_BATCH_VALUES = {
    "soft_f1": _soft_f_beta,
    **OVERLAP_VALUES,
    **EMBEDDING_VALUES,
}


# Plain NumPy loss+gradient (weighted mean reduction, no weights), written as a
# NumPy user would, for the benchmark.
def _huber_loss_gradient(loss, y, r):
    e = y - r
    small = np.abs(e) <= loss.delta
    value = np.where(small, 0.5 * e**2, loss.delta * (np.abs(e) - 0.5 * loss.delta))
    grad = np.where(small, -e, -loss.delta * np.sign(e))
    return value.mean(), grad / len(y)


def _log_loss_loss_gradient(loss, y, z):
    value = np.logaddexp(0, z) - y * z
    return value.mean(), (expit(z) - y) / len(y)


def _focal_loss_gradient(loss, y, z):
    g = loss.gamma
    t = (2 * y - 1) * z
    p_t = expit(t)
    log_p = -np.logaddexp(0, -t)
    q = 1 - p_t
    value = -(q**g) * log_p
    grad_t = q**g * (g * p_t * log_p - q)
    return value.mean(), (2 * y - 1) * grad_t / len(y)


def _cross_entropy_loss_gradient(loss, y, z):
    logp = log_softmax(z, axis=1)
    idx = (np.arange(len(z)), y.astype(int))
    grad = np.exp(logp)
    grad[idx] -= 1
    return -logp[idx].mean(), grad / len(y)


REFERENCE_LOSS_GRADIENTS = {
    "huber": _huber_loss_gradient,
    "log_loss": _log_loss_loss_gradient,
    "focal": _focal_loss_gradient,
    "cross_entropy": _cross_entropy_loss_gradient,
}
