"""Any loss as a metric and as a scorer for ``cross_val_score`` / ``GridSearchCV``."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics._scorer import _BaseScorer
from sklearn.utils.validation import _check_response_method

from .losses import get_loss

__all__ = ["LossScorer", "loss_score", "make_loss_scorer"]

_RESPONSE_METHODS = ("auto", "decision_function", "predict_proba", "predict")
_CLASSIFICATION_TASKS = ("binary", "multiclass", "distribution")


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


class _LossMetric:
    """``loss(y_true, y_pred, sample_weight=None)``: the weighted mean loss as a metric function.

    A class rather than a closure so that scorers pickle with the standard
    library; its signature tells scikit-learn's scorer machinery that it
    accepts ``sample_weight``.
    """

    def __init__(self, loss):
        self.loss = loss
        self.__name__ = f"{loss.name or type(loss).__name__}_loss"

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.loss.loss(y_true, y_pred, sample_weight=sample_weight)


class LossScorer(_BaseScorer):
    """Scorer returning minus the weighted mean loss of a fitted estimator.

    Build it with :func:`make_loss_scorer`. Scikit-learn scorers are "greater
    is better", so the value is ``-loss``. It is a scikit-learn scorer
    (``sklearn.metrics._scorer._BaseScorer``): in a dict of scorers, the
    estimator's responses are computed once for all of them, sample weights
    reach it with and without metadata routing, and with routing it takes
    ``set_score_request(sample_weight=True)``.

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
        if response_method != "auto":
            methods = response_method
        elif loss.task in _CLASSIFICATION_TASKS:
            methods = ("decision_function", "predict_proba")
        else:
            methods = "predict"
        super().__init__(_LossMetric(loss), -1, {}, response_method=methods)

    def __repr__(self):
        return f"make_loss_scorer({self.loss!r})"

    def _classifier_raw(self, name, out, estimator, y_true):
        classes = np.asarray(estimator.classes_)
        y_true = np.asarray(y_true)
        index = np.searchsorted(classes, y_true)
        index = np.clip(index, 0, len(classes) - 1)
        if np.any(classes[index] != y_true):
            raise ValueError("y_true holds labels that the estimator was not fitted on.")
        task = self.loss.task
        out = np.asarray(out, dtype=float)
        if name == "predict":
            raise TypeError(f"{self.loss!r} needs scores, not labels: use decision_function or predict_proba.")
        if name == "predict_proba" and out.ndim == 1:  # binary: the probability of classes_[1]
            out = np.column_stack([1.0 - out, out])
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

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        """``-loss`` of ``estimator`` on ``(X, y_true)``; ``method_caller`` may serve cached responses."""
        sample_weight = kwargs.pop("sample_weight", None)
        if kwargs:
            raise TypeError(f"Unexpected scoring parameters: {sorted(kwargs)}.")
        classification = self.loss.task in _CLASSIFICATION_TASKS
        if classification and not is_classifier(estimator) and not hasattr(estimator, "classes_"):
            raise TypeError(f"{type(self.loss).__name__} is a {self.loss.task} loss; "
                            f"{type(estimator).__name__} is not a classifier.")
        try:
            name = _check_response_method(estimator, self._response_method).__name__
        except AttributeError:
            raise TypeError(f"{type(estimator).__name__} has none of {self._response_method}: cannot score it "
                            f"with {self.loss!r}.") from None
        if classification:
            y, raw = self._classifier_raw(name, method_caller(estimator, name, X), estimator, y_true)
        else:
            prediction = np.asarray(method_caller(estimator, name, X), dtype=float)
            if self.loss.link.name == "log" and np.any(prediction <= 0):
                raise ValueError(
                    f"{type(self.loss).__name__} uses a log link: the estimator must predict "
                    "positive values."
                )
            y, raw = np.asarray(y_true, dtype=float), self.loss.link.link(prediction)
        return self._sign * self._score_func(y, raw, sample_weight=sample_weight)


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
        scikit-learn (a scikit-learn scorer object: it shares responses with
        the other scorers of a dict of scorers). With metadata routing
        enabled, call ``scorer.set_score_request(sample_weight=True)`` to
        route weights.

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
