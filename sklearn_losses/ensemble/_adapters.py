"""A loss of the catalogue as a custom objective of LightGBM's and XGBoost's scikit-learn estimators.

LightGBM and XGBoost take a custom objective as a function returning the
per-sample gradient and hessian of the loss in the raw score; their trees
need a positive hessian sum in every leaf. Two caveats their users meet:

* **zero hessians** (absolute error, pinball, epsilon-insensitive, hinge):
  the leaves' hessian sums are 0, so the boosters stop splitting and the
  model barely trains. ``hessian="unit"`` (the default for such losses)
  passes the sample weights instead, which makes each tree a least-squares
  fit of the negative gradient (the leaf values are then means of the
  gradient, not the exact quantiles that :class:`GradientBoostingRegressor`
  sets by a line search).
* **the starting score**: a custom objective starts from a raw score of 0,
  far from the best constant for pinball or log-link losses. Pass
  :meth:`init_score` as LightGBM's ``init_score`` or XGBoost's
  ``base_margin`` (and the same for the evaluation sets and, for
  prediction, add it back: ``predict(X, raw_score=True) + init``).
"""

import numpy as np

from ..losses import get_loss
from ..losses._base import check_weights

__all__ = ["as_lightgbm_objective", "as_xgboost_objective"]

HESSIANS = ("auto", "exact", "unit")


class _BoosterObjective:
    """Gradient and hessian of ``loss`` per sample, in the raw score (picklable)."""

    def __init__(self, loss, hessian="auto", n_classes=None):
        self.loss = get_loss(loss)
        if hessian not in HESSIANS:
            raise ValueError(f"hessian must be one of {HESSIANS}; got {hessian!r}.")
        if self.loss.structure in ("batch", "pairwise"):
            raise ValueError(f"{type(self.loss).__name__} is a {self.loss.structure} loss: a booster's custom "
                             "objective is a sum over samples; use GradientBoostingClassifier instead.")
        if hessian == "auto":
            hessian = "exact" if self.loss.hessian in ("exact", "indefinite") and self.loss.twice_differentiable \
                else "unit"
        self.hessian = hessian
        self.n_classes = n_classes

    def _targets(self, y_true):
        y = np.asarray(y_true, dtype=np.float64)
        return y

    def _raw(self, y_pred):
        raw = np.asarray(y_pred, dtype=np.float64)
        if self.loss.per_row and raw.ndim == 1 and self.n_classes:  # flattened multiclass scores
            raw = raw.reshape(-1, self.n_classes)
        return raw

    def gradient_hessian(self, y_true, y_pred, weight=None):
        """``(gradient, hessian)`` per sample (weighted), in ``y_pred``'s shape."""
        y, raw = self._targets(y_true), self._raw(y_pred)
        w = check_weights(weight, y.shape[0])
        if self.hessian == "exact":
            g, h = self.loss.gradient_hessian(y, raw, w, reduction="none")
            h = np.maximum(h, 0.0)  # an indefinite hessian's negative part would make a leaf's step ascend
        else:
            g = self.loss.gradient(y, raw, w, reduction="none")
            h = np.broadcast_to((np.ones(y.shape[0]) if w is None else w).reshape(-1, *([1] * (g.ndim - 1))),
                                g.shape).copy()
        return g, h

    def init_score(self, y_true, sample_weight=None):
        """The loss's best constant raw score for every sample: ``init_score`` / ``base_margin``."""
        y = self._targets(y_true)
        b = np.atleast_1d(np.asarray(self.loss.baseline_prediction(y, sample_weight, n_classes=self.n_classes),
                                     dtype=np.float64))
        return np.full(y.shape[0], b[0]) if b.size == 1 else np.tile(b, (y.shape[0], 1))

    def metric_value(self, y_true, y_pred, weight=None):
        return float(self.loss.loss(self._targets(y_true), self._raw(y_pred), check_weights(weight, len(y_true))))


class LightGBMObjective(_BoosterObjective):
    """``objective=`` of ``lightgbm.LGBMRegressor`` / ``LGBMClassifier``: ``(y_true, y_pred, weight)``."""

    def __call__(self, y_true, y_pred, weight):
        return self.gradient_hessian(y_true, y_pred, weight)

    def eval_metric(self, y_true, y_pred, weight):
        """``eval_metric=``: ``(name, mean loss, is_higher_better=False)``."""
        return type(self.loss).__name__, self.metric_value(y_true, y_pred, weight), False


class XGBoostObjective(_BoosterObjective):
    """``objective=`` of ``xgboost.XGBRegressor`` / ``XGBClassifier``: ``(y_true, y_pred, sample_weight=None)``
    (XGBoost passes ``sample_weight`` by keyword, and only when the fit has weights)."""

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.gradient_hessian(y_true, y_pred, sample_weight)

    def eval_metric(self, y_true, y_pred, sample_weight=None):
        """``eval_metric=``: the mean loss (minimised)."""
        return self.metric_value(y_true, y_pred, sample_weight)


def as_lightgbm_objective(loss, hessian="auto", n_classes=None):
    """A LightGBM custom objective (with ``eval_metric`` and ``init_score``) from a loss.

    Parameters
    ----------
    loss : str or loss instance
        An element-wise or row loss (a name, an instance, or a custom loss).
    hessian : {"auto", "exact", "unit"}, default="auto"
        ``"exact"``: the loss's hessian (its positive part for non-convex
        losses); ``"unit"``: the sample weights (gradient trees), which lets
        zero-hessian losses (absolute error, pinball, hinge) split at all;
        ``"auto"``: exact for twice-differentiable losses, else unit.
    n_classes : int, default=None
        Multiclass losses: the number of classes.

    Returns
    -------
    LightGBMObjective
        Callable ``(y_true, y_pred, weight) -> (grad, hess)``; ``.eval_metric``
        for ``eval_metric=``; ``.init_score(y, sample_weight)`` for
        ``init_score=``.
    """
    return LightGBMObjective(loss, hessian, n_classes)


def as_xgboost_objective(loss, hessian="auto", n_classes=None):
    """An XGBoost custom objective (with ``eval_metric`` and ``init_score`` for ``base_margin``) from a loss.

    Parameters are those of :func:`as_lightgbm_objective`. Returns an
    ``XGBoostObjective``: callable ``(y_true, y_pred, sample_weight) ->
    (grad, hess)``.
    """
    return XGBoostObjective(loss, hessian, n_classes)
