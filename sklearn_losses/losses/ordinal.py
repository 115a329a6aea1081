r"""Ordinal losses: ordered classes 0 < 1 < ... < K-1 and rows of K - 1 threshold scores.

``raw_prediction`` has shape (n_samples, K - 1); for the threshold models it
is ``z[i, k] = f(x_i) - theta_k`` with ordered thresholds ``theta_0 <= ... <=
theta_{K-2}`` fitted with the model (model parameters, not hyperparameters),
so that ``P(y > k) = F(z_k)`` for the cumulative models. ``y_true`` holds the
class ranks (estimators encode the labels in their order).

* :class:`CumulativeLink`: the likelihood of the proportional-odds (logit),
  ordered probit and complementary log-log models;
* :class:`AllThreshold` and :class:`ImmediateThreshold` (Rennie and Srebro
  2005): a binary margin loss of the catalogue on each threshold's question
  "is y above threshold k?";
* :class:`CORAL` (all-threshold log loss with per-threshold importance
  weights) and :class:`CORN` (conditional log losses, for K - 1 free scores).

The threshold losses reach their binary base loss through its public methods
(one flattened call, the threshold weights folded into the sample weights),
so any binary loss works, custom ones included, and nothing new is compiled.
"""

from numbers import Real

import numpy as np
from scipy.special import ndtri
from sklearn.utils._param_validation import StrOptions

from ..links import ConditionalLink, CumulativeLink as _CumulativeCDF, IdentityLink
from ._base import BaseLoss, check_weights
from ._baseline import EPS
from ._cumulative import LINKS, cumulative_loss_gradient
from ._domain import DecreasingRows, OrdinalIndices
from ._factory import KernelSpec
from ._math import jit_scalar
from ._registry import get_loss, register_alias, register_loss
from .composite import _Composite

__all__ = ["AllThreshold", "CORAL", "CORN", "CumulativeLink", "ImmediateThreshold", "ThresholdTerms"]


def _cumulative_priors(y, w, n_classes):
    """``P(y > k)`` for k = 0..K-2 from the weighted class frequencies."""
    counts = np.bincount(np.asarray(y, dtype=np.intp), weights=w, minlength=n_classes)
    return 1.0 - np.cumsum(counts)[:-1] / counts.sum()


class _Ordinal:
    """What every ordinal loss declares: the task, ranks as targets, one column per threshold.

    ``shared_score``: the rows are ``z_k = f - theta_k``, one score against
    ordered thresholds (estimators fit ``f`` and ``theta``); false for CORN,
    whose K - 1 scores are free.
    """

    task = "ordinal"
    shared_score = True
    structure = "row"
    target_domain = OrdinalIndices()

    def raw_width(self, n_classes):
        return n_classes - 1


class _OrdinalLoss(_Ordinal, BaseLoss):
    growth = "linear"
    robust = True


# -- cumulative link ---------------------------------------------------------------------------
@jit_scalar
def _cumulative_value(y, z, link):
    c = int(y)
    k = z.shape[0]
    return cumulative_loss_gradient(c, k, z[c - 1] if c > 0 else 0.0, z[c] if c < k else 0.0, link)[0]


@jit_scalar
def _cumulative_row_gradient(y, z, g, link):
    c = int(y)
    k = z.shape[0]
    for j in range(k):
        g[j] = 0.0
    value, ga, gb = cumulative_loss_gradient(c, k, z[c - 1] if c > 0 else 0.0, z[c] if c < k else 0.0, link)
    if c > 0:
        g[c - 1] = ga
    if c < k:
        g[c] = gb
    return value


@register_loss
class CumulativeLink(_OrdinalLoss):
    r"""Negative log-likelihood of the cumulative-link (threshold) ordinal models.

    With a latent cdf F and ``z_k = f - theta_k`` (non-increasing in k),
    ``P(y > k) = F(z_k)`` and

    .. math:: \ell(y, z) = -\log\left(F(z_{y-1}) - F(z_y)\right),
              \quad z_{-1} = +\infty,\; z_{K-1} = -\infty.

    ``distribution="logit"`` is the proportional-odds model (statsmodels
    ``OrderedModel(distr="logit")``, R's ``polr``), ``"probit"`` the ordered
    probit and ``"cloglog"`` the proportional-hazards model (F the Gumbel-min
    cdf ``1 - exp(-exp(x))``). The logarithm of the difference is computed
    without cancellation in both tails, so the loss and its gradient are
    finite for every finite input (the probit's quadratic tail and the
    cloglog's exponential one overflow only where the true value does).
    Registered as ``"cumulative_link"`` and, with each distribution, as
    ``"cumulative_logit"``, ``"cumulative_probit"`` and ``"cumulative_cloglog"``.

    Defined for non-increasing rows only (:attr:`raw_domain`; a class whose
    interval is empty, ``z_{y-1} = z_y``, has an infinite loss). The loss is
    convex in ``(f, theta)``. The declared link (:class:`~sklearn_losses.links.CumulativeLink`)
    turns rows into class probabilities.

    Parameters
    ----------
    distribution : {"logit", "probit", "cloglog"}, default="logit"
        The latent distribution F (statsmodels' ``distr``; the parameter is
        not called ``link`` because every loss declares its link object
        under that name).
    """

    name = "cumulative_link"
    raw_domain = DecreasingRows()
    hessian = "none"
    _parameter_constraints = {"distribution": [StrOptions(set(LINKS))]}
    _kernel_spec = KernelSpec("row", _cumulative_value, loss_gradient=_cumulative_row_gradient, n_params=1)

    def __init__(self, distribution="logit"):
        self.distribution = distribution

    @property
    def link(self):
        return _CumulativeCDF(self.distribution if self.distribution in LINKS else "logit")

    @property
    def growth(self):
        return {"probit": "quadratic", "cloglog": "exponential"}.get(self.distribution, "linear")

    robust = property(lambda self: self.distribution == "logit")

    def _as_floats(self):
        return (LINKS[self.distribution],)

    def _baseline_row(self, y, w, n_classes):
        """``z_k = F^{-1}(P(y > k))`` from the weighted cumulative frequencies (exact)."""
        above = np.clip(_cumulative_priors(y, w, n_classes), EPS, 1.0 - EPS)
        inverse = {"logit": lambda p: np.log(p) - np.log1p(-p), "probit": lambda p: -ndtri(1.0 - p),
                   "cloglog": lambda p: np.log(-np.log1p(-p))}[self.distribution]
        return np.minimum.accumulate(inverse(above))


for _distribution in LINKS:
    register_alias(f"cumulative_{_distribution}", CumulativeLink, distribution=_distribution)


# -- threshold losses: a binary base loss per threshold -----------------------------------------
class ThresholdTerms:
    """The (sample, threshold) elements of a threshold loss that carry weight, flattened for its base loss.

    Elements of zero weight are left out (0 times an overflowing base loss
    would be NaN) and come back as zeros.
    """

    def __init__(self, base, targets, weights, dtype=np.float64):
        self.base, self.shape, self.dtype = base, weights.shape, dtype
        keep = weights.ravel() > 0
        self.keep = None if keep.all() else keep
        self.targets = self.flat(targets).astype(dtype)
        self.weights = self.flat(weights).astype(dtype)

    def flat(self, array):
        """``array`` (shape (n, k)) flattened to the kept elements."""
        return array.ravel() if self.keep is None else array.ravel()[self.keep]

    def spread(self, part):
        """Per-element results of the kept elements back to shape (n, k), zeros elsewhere."""
        if part is None:
            return None
        if self.keep is None:
            return part.reshape(self.shape)
        full = np.zeros(self.keep.size, dtype=part.dtype)
        full[self.keep] = part
        return full.reshape(self.shape)

    def evaluate(self, raw, what="loss_gradient", reduction="sum"):
        """``(value, gradient, hessian)`` of the weighted sum (``reduction="sum"``: the value a float) or per element
        (``"none"``: shape (n, k)) on rows ``raw``; entries ``what`` does not ask for are None."""
        if not self.targets.size:  # nothing carries weight
            zeros = np.zeros(self.shape, self.dtype)
            return (zeros if reduction == "none" else 0.0), (None if what == "loss" else zeros), \
                (zeros if what == "gradient_hessian" else None)
        value, grad, hess = _Composite._call(self.base, what, self.targets, self.flat(raw), self.weights, reduction,
                                             False)
        return (self.spread(value) if reduction == "none" else value), self.spread(grad), self.spread(hess)


class _ThresholdLoss(_Ordinal, _Composite):
    """A binary base loss on each threshold's question "y > k?", with per-sample threshold weights.

    ``l(y, z) = sum_k W_k(y) base(1[y > k], z_k)``; the weights ``W(y)`` of
    shape (n, K - 1) define the loss (:meth:`_threshold_weights`). The base
    is called once on the flattened elements with positive weight, each
    weight times the sample's, so every reduction and sample weighting is the
    base loss's own.
    """

    _parameter_constraints = {"base": [str, BaseLoss]}
    _probability_link = _CumulativeCDF("logit")  # the link of the probabilities when the base is logistic

    def _components(self):
        base = get_loss(self.base)
        if base.task != "binary" or base.per_row or base.structure == "batch":
            raise ValueError(f"{type(self).__name__}: base must be a binary loss on margins (log_loss, hinge, a "
                             f"custom binary loss, ...); got {type(base).__name__}, a {base.task} loss.")
        return [base]

    @property
    def link(self):
        return self._probability_link if self._components()[0].link.name == "logit" else IdentityLink()

    growth = property(lambda self: self._components()[0].growth)

    def get_params(self, deep=True):
        """The parameters; with ``deep``, the base loss's as ``base__<name>`` (also when ``base`` is a name)."""
        params = super().get_params(deep=False)
        if deep and "base" in params:
            base = get_loss(params["base"]) if isinstance(params["base"], str) else params["base"]
            params.update({f"base__{key}": value for key, value in base.get_params(deep=True).items()})
        return params

    def set_params(self, **params):
        """As scikit-learn's; ``base__<name>`` on a base given by name first makes it a loss instance."""
        if isinstance(getattr(self, "base", None), str) and any(key.startswith("base__") for key in params) \
                and "base" in self.get_params(deep=False):
            self.base = get_loss(params.pop("base", self.base))
        return super().set_params(**params)

    def validate_target(self, y_true, n_classes=None):
        BaseLoss.validate_target(self, y_true, n_classes)

    def _threshold_weights(self, y, n_thresholds):
        raise NotImplementedError  # pragma: no cover - abstract

    def _weights(self, y, n_thresholds):
        W = np.asarray(self._threshold_weights(np.asarray(y, dtype=np.intp), n_thresholds), dtype=np.float64)
        return np.broadcast_to(W, (np.shape(y)[0], n_thresholds))

    def _arrays(self, y, raw, check_input):
        name = type(self).__name__
        raw = np.asarray(raw)
        if raw.dtype.kind not in "fiub":
            raise TypeError(f"{name}: raw_prediction must be numeric; got dtype {raw.dtype}.")
        dtype = np.float32 if raw.dtype == np.float32 else np.float64
        raw = np.ascontiguousarray(raw, dtype=dtype)
        if raw.ndim != 2 or raw.shape[1] < 1 or raw.shape[0] == 0:
            raise ValueError(f"{name}: raw_prediction must have shape (n_samples, n_classes - 1), non-empty; got "
                             f"shape {raw.shape}.")
        y = np.asarray(y)
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{name}: y_true must be numeric; got dtype {y.dtype}.")
        if y.shape != raw.shape[:1]:
            raise ValueError(f"{name}: y_true has shape {y.shape} but raw_prediction has shape {raw.shape}; "
                             f"expected y_true of shape {raw.shape[:1]}.")
        if check_input:
            self.validate_target(y, raw.shape[1])
        return y, raw, dtype

    def _targets_weights(self, y, n_thresholds, sample_weight=None):
        """``(targets, weights)`` of shape (n, n_thresholds): ``1[y > k]`` and the threshold weights (times the
        sample weights)."""
        y = np.asarray(y, dtype=np.float64)
        weights = np.array(self._weights(y, n_thresholds), dtype=np.float64)
        if sample_weight is not None:
            weights *= np.asarray(sample_weight, dtype=np.float64)[:, None]
        return (np.arange(n_thresholds) < y[:, None]).astype(np.float64), weights

    def threshold_terms(self, y_true, n_thresholds, sample_weight=None, dtype=np.float64):
        """The loss's structure as :class:`ThresholdTerms`: ``l_i = sum_k weights[i, k] base(targets[i, k], z[i, k])``
        with ``targets = 1[y > k]``, the sample weights folded into the weights.

        Solvers that evaluate the loss many times on the same targets make these once and call
        :meth:`ThresholdTerms.evaluate`.
        """
        self._kernel_params()
        base, = self._components()
        return ThresholdTerms(base, *self._targets_weights(y_true, n_thresholds, sample_weight), dtype)

    def _evaluate(self, y, raw, w, reduction, check_input, what):
        self._check_reduction(reduction)
        y, raw, dtype = self._arrays(y, raw, check_input)
        n = raw.shape[0]
        total = float(n)
        if w is not None:
            w = check_weights(w, n, check_input)
            total = float(w.sum())
        if reduction == "mean" and not total > 0:
            raise ValueError("sample_weight sums to zero: the weighted mean is undefined.")
        terms = self.threshold_terms(y, raw.shape[1], w, dtype)
        value, grad, hess = terms.evaluate(raw, what, "none" if reduction == "none" else "sum")
        scale = dtype(1.0 / total if reduction == "mean" else 1.0)
        scaled = (lambda part: None if part is None else (part * scale).astype(dtype, copy=False))  # noqa: E731
        if value is not None:
            value = scaled(value).sum(axis=1) if reduction == "none" else float(value * scale)
        return value, scaled(grad), scaled(hess)

    def _baseline_row(self, y, w, n_classes):
        """Each threshold's best constant for its own binary question (the thresholds separate): exact."""
        base, = self._components()
        k = self.raw_width(n_classes)
        targets, weights = self._targets_weights(y, k, w)
        row = np.full(k, np.nan)
        for j in range(k):
            if weights[:, j].sum() > 0:
                row[j] = base.baseline_prediction(targets[:, j], weights[:, j])
        known = np.flatnonzero(np.isfinite(row))
        if known.size == 0:
            return np.zeros(k)
        # a threshold no sample weighs: any value is as good; the nearest known one keeps rows ordered
        nearest = known[np.abs(np.arange(k)[:, None] - known[None, :]).argmin(axis=1)]
        return row[nearest]


_THRESHOLD_WEIGHTS = ("uniform", "absolute", "squared")


@register_loss
class AllThreshold(_ThresholdLoss):
    r"""All-threshold loss (Rennie and Srebro 2005): a binary loss on every threshold.

    .. math:: \ell(y, z) = \sum_{k=0}^{K-2} c_k(y)\, \phi(s_k z_k),
              \quad s_k = +1 \text{ if } y > k \text{ else } -1,

    with ``phi`` the binary margin loss ``base`` (in this library's
    convention, ``base(1[y > k], z_k)``). With the log loss it is mord's
    ``LogisticAT`` (same objective: mord's ``alpha`` is ``n_samples`` times
    the alpha of an estimator here with ``penalty="l2"``, see
    ``benchmarks/bench_ordinal.py``), with the hinge the hinge all-threshold
    loss, and any binary loss of the catalogue or a custom one works.

    ``threshold_weights`` chooses ``c_k(y)``, the cost that crossing
    threshold k adds to the ordinal error the loss is calibrated for
    (Pedregosa et al. 2017): ``"uniform"`` (``c = 1``: every threshold
    counts once, so with the hinge the loss bounds the absolute error of the
    ranks; ``"absolute"`` is the same weights under the name of that error,
    as mord's ``mode="AE"``), or ``"squared"`` (``c_k(y) = |2(k - y) + 1|``,
    the increments of the squared error of the ranks, mord's ``"SE"``).

    Parameters
    ----------
    base : str or loss, default="log_loss"
        A binary margin loss.
    threshold_weights : {"uniform", "absolute", "squared"}, default="uniform"
    """

    name = "all_threshold"
    _parameter_constraints = {**_ThresholdLoss._parameter_constraints,
                              "threshold_weights": [StrOptions(set(_THRESHOLD_WEIGHTS))]}

    def __init__(self, base="log_loss", threshold_weights="uniform"):
        self.base = base
        self.threshold_weights = threshold_weights

    def _threshold_weights(self, y, n_thresholds):
        if self.threshold_weights == "squared":
            return np.abs(2.0 * (np.arange(n_thresholds)[None, :] - y[:, None]) + 1.0)
        return np.ones((1, n_thresholds))


@register_loss
class ImmediateThreshold(_ThresholdLoss):
    r"""Immediate-threshold loss (Rennie and Srebro 2005): the binary loss on the two thresholds around y only.

    .. math:: \ell(y, z) = \phi(z_{y-1}) + \phi(-z_y)

    (a missing term at the first and last class). With the log loss it is
    mord's ``LogisticIT``. Its scores are not probabilities (each term is
    conditional on ``y`` being next to the threshold), so the declared link
    is the identity.

    Parameters
    ----------
    base : str or loss, default="log_loss"
        A binary margin loss.
    """

    name = "immediate_threshold"
    _probability_link = IdentityLink()

    def __init__(self, base="log_loss"):
        self.base = base

    def _threshold_weights(self, y, n_thresholds):
        k = np.arange(n_thresholds)[None, :]
        return ((k == y[:, None]) | (k == y[:, None] - 1)).astype(np.float64)


@register_loss
class CORAL(_ThresholdLoss):
    r"""CORAL (Cao, Mirjalili and Raschka 2020): the all-threshold log loss with importance weights.

    .. math:: \ell(y, z) = \sum_{k=0}^{K-2} \lambda_k \left(
              -1[y > k] \log \sigma(z_k) - 1[y \le k] \log(1 - \sigma(z_k))\right)

    as ``coral_pytorch.losses.coral_loss`` per sample. With ordered thresholds
    (``z_k = f - theta_k``) ``sigma(z_k)`` estimates ``P(y > k)`` and the
    declared link gives class probabilities.

    Parameters
    ----------
    importance_weights : array-like of shape (n_classes - 1,), default=None
        Non-negative weights lambda of the thresholds (None: all 1).
    """

    name = "coral"
    _parameter_constraints = {"importance_weights": ["array-like", None]}

    def __init__(self, importance_weights=None):
        self.importance_weights = importance_weights

    base = "log_loss"

    def _check_params(self):
        if self.importance_weights is not None:
            lam = np.asarray(self.importance_weights, dtype=np.float64)
            if lam.ndim != 1 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
                raise ValueError(f"CORAL: importance_weights must be a 1-D array of finite non-negative numbers; "
                                 f"got {self.importance_weights!r}.")

    def _threshold_weights(self, y, n_thresholds):
        if self.importance_weights is None:
            return np.ones((1, n_thresholds))
        lam = np.asarray(self.importance_weights, dtype=np.float64)
        if lam.shape != (n_thresholds,):
            raise ValueError(f"CORAL: importance_weights has {lam.size} entries; raw_prediction has "
                             f"{n_thresholds} thresholds (n_classes - 1).")
        return lam[None, :]


@register_loss
class CORN(_ThresholdLoss):
    r"""CORN (Shi, Cao and Raschka 2023): conditional log losses for K - 1 free scores.

    Score k models ``P(y > k | y > k - 1) = sigma(z_k)``; each sample enters
    the thresholds up to its own class:

    .. math:: \ell(y, z) = -\sum_{k < y} \log \sigma(z_k)
              - 1[y < K - 1] \log(1 - \sigma(z_y))

    The class probabilities ``P(y > k) = prod_{j <= k} sigma(z_j)`` are
    consistent for any scores (no ordering needed:
    :class:`~sklearn_losses.links.ConditionalLink`). Per sample it is the sum
    of the terms; ``coral_pytorch``'s ``corn_loss`` divides the total by the
    number of (sample, threshold) terms instead.
    """

    name = "corn"
    base = "log_loss"
    shared_score = False
    _probability_link = ConditionalLink()

    def __init__(self):
        pass

    def _threshold_weights(self, y, n_thresholds):
        return (np.arange(n_thresholds)[None, :] <= y[:, None]).astype(np.float64)
