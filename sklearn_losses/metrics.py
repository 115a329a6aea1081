"""Any loss as a metric and as a scorer for ``cross_val_score`` / ``GridSearchCV``."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.metadata_routing import MetadataRequest, get_routing_for_object

from .losses import get_loss

__all__ = ["LossScorer", "loss_score", "make_loss_scorer"]

_RESPONSE_METHODS = ("auto", "decision_function", "predict_proba", "predict")


def loss_score(y_true, raw_prediction, loss, sample_weight=None, **params):
    """Weighted mean of ``loss`` (lower is better).

    Parameters
    ----------
    y_true : array-like
        Targets in the loss's domain (encoded labels for classification losses).
    raw_prediction : array-like
        Raw predictions (decision values, logits, or predictions for
        identity-link losses).
    loss : str or BaseLoss
        Registered name or loss instance.
    sample_weight : array-like of shape (n_samples,), default=None
    **params
        Hyperparameters when ``loss`` is a name.

    Returns
    -------
    float
    """
    return get_loss(loss, **params).loss(y_true, raw_prediction, sample_weight=sample_weight)


class LossScorer:
    """Scorer returning minus the weighted mean loss of a fitted estimator.

    Build it with :func:`make_loss_scorer`. Scikit-learn scorers are "greater
    is better", so the value is ``-loss``.

    For classifiers, labels are encoded through ``estimator.classes_``
    (binary losses: 1 for ``classes_[1]``; multiclass losses: the index in
    ``classes_``) and the raw prediction is ``decision_function(X)``, or the
    log-odds / log-probabilities from ``predict_proba`` when there is no
    decision function. For regressors the raw prediction is the loss's link
    applied to ``predict(X)`` (``log`` for Poisson, Gamma, Tweedie).
    """

    def __init__(self, loss, response_method="auto"):
        if response_method not in _RESPONSE_METHODS:
            raise ValueError(
                f"response_method must be one of {_RESPONSE_METHODS}; got {response_method!r}."
            )
        self.loss = loss
        self.response_method = response_method

    def __repr__(self):
        return f"make_loss_scorer({self.loss!r})"

    # -- metadata routing (sample_weight), as sklearn's own scorers
    def set_score_request(self, **kwargs):
        """Request metadata for scoring, e.g. ``set_score_request(sample_weight=True)``."""
        self._metadata_request = MetadataRequest(owner=self)
        for param, alias in kwargs.items():
            self._metadata_request.score.add_request(param=param, alias=alias)
        return self

    def get_metadata_routing(self):
        """The scorer's metadata request (used by scikit-learn's routing)."""
        return self._get_metadata_request()

    def _get_metadata_request(self):
        if hasattr(self, "_metadata_request"):
            return get_routing_for_object(self._metadata_request)
        request = MetadataRequest(owner=self)
        request.score.add_request(param="sample_weight", alias=None)
        return request

    def _response(self, estimator, X, names):
        method = self.response_method
        if method != "auto":
            names = (method,)
        for name in names:
            if hasattr(estimator, name):
                return name, getattr(estimator, name)(X)
        raise TypeError(
            f"{type(estimator).__name__} has none of {names}: cannot score it with {self.loss!r}."
        )

    def _classifier_raw(self, estimator, X, y_true):
        classes = np.asarray(estimator.classes_)
        y_true = np.asarray(y_true)
        index = np.searchsorted(classes, y_true)
        index = np.clip(index, 0, len(classes) - 1)
        if np.any(classes[index] != y_true):
            raise ValueError("y_true holds labels that the estimator was not fitted on.")
        task = self.loss.task
        name, out = self._response(estimator, X, ("decision_function", "predict_proba"))
        out = np.asarray(out, dtype=float)
        if name == "predict":
            raise TypeError(f"{self.loss!r} needs scores, not labels: use decision_function or predict_proba.")
        if task == "binary":
            if len(classes) != 2:
                raise ValueError(f"{type(self.loss).__name__} is a binary loss; the estimator has {len(classes)} classes.")
            if name == "predict_proba":
                p = np.clip(out[:, 1], 1e-15, 1 - 1e-15)
                out = np.log(p) - np.log1p(-p)
            return (index == 1).astype(float), out
        if name == "predict_proba":
            out = np.log(np.clip(out, 1e-300, None))
        elif out.ndim == 1:  # binary decision_function: the score of classes_[1]
            out = np.column_stack([np.zeros_like(out), out])
        if task == "distribution":
            return np.eye(len(classes))[index], out
        return index.astype(float), out

    def __call__(self, estimator, X, y_true, sample_weight=None, **kwargs):
        """Return ``-loss`` of ``estimator`` on ``(X, y_true)``."""
        if kwargs:
            raise TypeError(f"Unexpected scoring parameters: {sorted(kwargs)}.")
        if self.loss.task in ("binary", "multiclass", "distribution"):
            if not is_classifier(estimator) and not hasattr(estimator, "classes_"):
                raise TypeError(
                    f"{type(self.loss).__name__} is a {self.loss.task} loss; "
                    f"{type(estimator).__name__} is not a classifier."
                )
            y, raw = self._classifier_raw(estimator, X, y_true)
        else:
            _, prediction = self._response(estimator, X, ("predict",))
            prediction = np.asarray(prediction, dtype=float)
            if self.loss.link.name == "log" and np.any(prediction <= 0):
                raise ValueError(
                    f"{type(self.loss).__name__} uses a log link: the estimator must predict "
                    "positive values."
                )
            y, raw = np.asarray(y_true, dtype=float), self.loss.link.link(prediction)
        return -self.loss.loss(y, raw, sample_weight=sample_weight)


def make_loss_scorer(loss, *, response_method="auto", **params):
    """Make a scikit-learn scorer from a loss.

    Parameters
    ----------
    loss : str or BaseLoss
        Registered name or loss instance (custom losses included).
    response_method : {"auto", "decision_function", "predict_proba", "predict"}, default="auto"
        Estimator method giving the raw prediction; "auto" uses
        ``decision_function`` (else ``predict_proba``) for classifiers and
        ``predict`` for regressors.
    **params
        Hyperparameters when ``loss`` is a name, e.g.
        ``make_loss_scorer("huber", delta=2.0)``.

    Returns
    -------
    LossScorer
        Callable ``scorer(estimator, X, y, sample_weight=None)`` returning
        ``-loss`` (greater is better), usable as ``scoring=`` anywhere in
        scikit-learn. With metadata routing enabled, call
        ``scorer.set_score_request(sample_weight=True)`` to route weights.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import cross_val_score
    >>> X, y = load_diabetes(return_X_y=True)
    >>> scores = cross_val_score(Ridge(), X, y, scoring=make_loss_scorer("huber", delta=20.0))
    >>> bool((scores < 0).all())
    True
    """
    return LossScorer(get_loss(loss, **params), response_method=response_method)
