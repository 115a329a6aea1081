"""Any loss as a metric and as a scorer for ``cross_val_score`` / ``GridSearchCV``."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics._scorer import _BaseScorer
from sklearn.utils.validation import _check_response_method

from ._targets import loss_kind
from .losses import get_loss
from .losses._base import LABEL_TASKS

__all__ = ["LossScorer", "OrdinalScorer", "loss_score", "make_loss_scorer", "make_ordinal_scorer",
           "mean_absolute_rank_error", "quadratic_weighted_kappa"]

_RESPONSE_METHODS = ("auto", "decision_function", "predict_proba", "predict")
_CLASSIFICATION_TASKS = ("binary", "multiclass", "distribution", "overlap")


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

    Batch losses (``soft_dice``, ``soft_fbeta``, ...: ``structure="batch"``)
    score the whole held-out fold as one batch: the score is minus the soft
    overlap loss of the fold. Multilabel targets (an indicator ``y``) are
    scored against the per-label scores.

    Ordinal losses score the rows ``estimator.raw_prediction(X)`` (a
    pipeline's: its last step's on the transformed X) against the ranks of
    the labels in ``estimator.classes_`` (their order).
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
        y_true = np.asarray(y_true)
        task = self.loss.task
        if y_true.ndim == 2 and y_true.shape[1] > 1 and task in LABEL_TASKS:
            return self._multilabel_raw(name, out, y_true)
        classes = np.asarray(estimator.classes_)
        index = np.searchsorted(classes, y_true)
        index = np.clip(index, 0, len(classes) - 1)
        if np.any(classes[index] != y_true):
            raise ValueError("y_true holds labels that the estimator was not fitted on.")
        out = np.asarray(out, dtype=float)
        if name == "predict":
            raise TypeError(f"{self.loss!r} needs scores, not labels: use decision_function or predict_proba.")
        if name == "predict_proba" and out.ndim == 1:  # binary: the probability of classes_[1]
            out = np.column_stack([1.0 - out, out])
        if task in LABEL_TASKS:
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

    def _multilabel_raw(self, name, out, y_true):
        """A multilabel indicator and the estimator's per-label scores (or log-odds of its probabilities)."""
        out = np.asarray(out, dtype=float)
        if name == "predict":
            raise TypeError(f"{self.loss!r} needs scores, not labels: use decision_function or predict_proba.")
        if out.shape != y_true.shape:
            raise ValueError(f"the estimator's {name} has shape {out.shape}; the multilabel y has {y_true.shape}.")
        if name == "predict_proba":
            p = np.clip(out, 1e-15, 1 - 1e-15)
            out = np.log(p) - np.log1p(-p)
        return y_true.astype(float), out

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        """``-loss`` of ``estimator`` on ``(X, y_true)``; ``method_caller`` may serve cached responses."""
        sample_weight = kwargs.pop("sample_weight", None)
        if kwargs:
            raise TypeError(f"Unexpected scoring parameters: {sorted(kwargs)}.")
        if self.loss.task == "ordinal":
            return self._sign * self._score_func(*_ordinal_raw(self.loss, estimator, X, y_true),
                                                 sample_weight=sample_weight)
        classification = self.loss.task in _CLASSIFICATION_TASKS
        if classification and not is_classifier(estimator) and not hasattr(estimator, "classes_"):
            raise TypeError(f"{type(self.loss).__name__} is {loss_kind(self.loss)}; "
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


# -- ordinal metrics ----------------------------------------------------------------------------
def _ranks(y, classes):
    """Ranks of the labels ``y`` in the ordered ``classes`` (``ValueError`` for a label not among them)."""
    classes = np.asarray(classes)
    lookup = {label: rank for rank, label in enumerate(classes.tolist())}
    try:
        return np.array([lookup[label] for label in np.asarray(y).tolist()], dtype=np.intp)
    except (KeyError, TypeError):
        unknown = sorted({str(label) for label in np.asarray(y).tolist() if label not in lookup})
        raise ValueError(f"labels {unknown!r} are not among the ordered classes {classes.tolist()!r}.") from None


def _ordinal_raw(loss, estimator, X, y_true):
    while hasattr(estimator, "steps") and not hasattr(estimator, "raw_prediction"):  # a pipeline: its last step's
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    if not hasattr(estimator, "raw_prediction") or not hasattr(estimator, "classes_"):
        raise TypeError(f"{type(loss).__name__} is an ordinal loss; {type(estimator).__name__} has no "
                        "raw_prediction rows to score (use an OrdinalClassifier or MLPOrdinalClassifier).")
    return _ranks(y_true, estimator.classes_).astype(float), np.asarray(estimator.raw_prediction(X), dtype=float)


def mean_absolute_rank_error(y_true, y_pred, *, classes=None, sample_weight=None):
    """Weighted mean of ``|rank(y_true) - rank(y_pred)|``: the ordinal MAE, in classes (lower is better).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels.
    classes : array-like, default=None
        The classes from lowest to highest (default: sorted unique labels of both).
    sample_weight : array-like of shape (n_samples,), default=None
    """
    classes = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)])) if classes is None else classes
    error = np.abs(_ranks(y_true, classes) - _ranks(y_pred, classes))
    return float(np.average(error, weights=sample_weight))


def quadratic_weighted_kappa(y_true, y_pred, *, classes=None, sample_weight=None):
    """Cohen's kappa with quadratic weights on the ranks (1: perfect agreement, 0: chance; higher is better).

    :func:`sklearn.metrics.cohen_kappa_score` with ``weights="quadratic"`` on
    the ranks of the labels in ``classes`` (default: sorted unique labels).
    """
    from sklearn.metrics import cohen_kappa_score

    classes = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)])) if classes is None else classes
    ranks = np.arange(len(classes))
    return float(cohen_kappa_score(_ranks(y_true, classes), _ranks(y_pred, classes), labels=ranks,
                                   weights="quadratic", sample_weight=sample_weight))


_ORDINAL_METRICS = {"mae": (mean_absolute_rank_error, -1), "qwk": (quadratic_weighted_kappa, 1)}


class _OrdinalMetric:
    def __init__(self, name):
        self.name = name
        self.__name__ = _ORDINAL_METRICS[name][0].__name__

    def __call__(self, y_true, y_pred, classes, sample_weight=None):
        return _ORDINAL_METRICS[self.name][0](y_true, y_pred, classes=classes, sample_weight=sample_weight)


class OrdinalScorer(_BaseScorer):
    """Scorer of an ordinal metric on ``predict``, the ranks taken in ``estimator.classes_`` (their order).

    Build it with :func:`make_ordinal_scorer`.
    """

    def __init__(self, metric):
        if metric not in _ORDINAL_METRICS:
            raise ValueError(f"metric must be one of {sorted(_ORDINAL_METRICS)}; got {metric!r}.")
        self.metric = metric
        super().__init__(_OrdinalMetric(metric), _ORDINAL_METRICS[metric][1], {}, response_method="predict")

    def __repr__(self):
        return f"make_ordinal_scorer({self.metric!r})"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        sample_weight = kwargs.pop("sample_weight", None)
        if kwargs:
            raise TypeError(f"Unexpected scoring parameters: {sorted(kwargs)}.")
        y_pred = method_caller(estimator, "predict", X)
        classes = getattr(estimator, "classes_", None)
        return self._sign * self._score_func(y_true, y_pred, classes, sample_weight=sample_weight)


def make_ordinal_scorer(metric):
    """A scorer of an ordinal metric: ``"mae"`` (minus :func:`mean_absolute_rank_error`) or ``"qwk"``
    (:func:`quadratic_weighted_kappa`), with the class order of the fitted estimator's ``classes_``.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_losses.linear_model import OrdinalClassifier
    >>> import numpy as np
    >>> X = np.arange(40.0)[:, None]; y = np.repeat(["low", "mid", "high"], [14, 13, 13])
    >>> model = OrdinalClassifier(classes=["low", "mid", "high"])
    >>> scores = cross_val_score(model, X, y, cv=2, scoring=make_ordinal_scorer("mae"))
    >>> bool((scores <= 0).all())
    True
    """
    return OrdinalScorer(metric)
