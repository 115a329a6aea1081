"""What the estimators share about losses and targets.

Resolving an estimator's ``loss``, class encoding, regression targets, and
class predictions and probabilities from decision scores.
"""

import numpy as np
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._estimator import class_sample_weight
from .losses import get_loss
from .losses._base import LABEL_TASKS

__all__ = ["PROBABILITY_LINKS", "ScoreClassifierMixin", "categorical_order", "encode_classes", "loss_kind",
           "multilabel_targets", "ordinal_classes", "probabilistic", "probabilities", "regression_target_tags", "regression_targets",
           "resolve_loss", "takes_multilabel"]

#: Links whose inverse is a probability.
PROBABILITY_LINKS = ("logit", "softmax", "cumulative", "conditional")


def loss_kind(loss):
    """``"a binary loss"``, ``"an overlap loss"``: the loss's task for an error message."""
    return f"{'an' if loss.task[0] in 'aeiou' else 'a'} {loss.task} loss"


def resolve_loss(estimator, loss):
    """``loss`` (name or instance) as a loss of one of ``estimator._tasks``, its parameters validated.

    The error names ``estimator.loss`` as the user wrote it.
    """
    loss = get_loss(loss)
    if loss.task not in estimator._tasks:
        raise ValueError(
            f"loss={estimator.loss!r}: {type(loss).__name__} is {loss_kind(loss)}; "
            f"{type(estimator).__name__} accepts {' or '.join(estimator._tasks)} losses."
        )
    loss.kernel_arguments()  # validates the loss's own parameters
    return loss


def encode_classes(name, y, sample_weight, class_weight, known_classes=None, classes=None, seen_counts=None):
    """Return ``(classes_, encoded, sample_weight, counts)`` for class labels ``y``.

    ``known_classes`` are those of an earlier ``partial_fit`` call, ``classes``
    those announced by the first one; otherwise the classes are the labels of
    ``y``. ``class_weight`` (dict or ``"balanced"``) is multiplied into
    ``sample_weight``. ``name`` (the estimator's) goes into the error messages.

    Streaming (``partial_fit``), ``"balanced"`` weighs by the running class
    counts: ``seen_counts`` are the samples of each class in the earlier
    calls; with this call's they give ``N / (K * n_c)``, scikit-learn's
    balanced weights of all the data seen so far. Without ``seen_counts``
    streaming refuses ``"balanced"``. ``counts`` are ``seen_counts`` plus this
    call's samples per class (``None`` without ``seen_counts``).
    """
    check_classification_targets(y)
    if known_classes is not None:
        classes_ = known_classes
    elif classes is not None:
        classes_ = np.unique(classes)
    else:
        classes_ = np.unique(y)
    if classes_.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 classes; the training data contain only one class "
                         f"({classes_[0]!r}).")
    unknown = np.setdiff1d(np.unique(y), classes_)
    if unknown.size:
        raise ValueError(f"y contains labels not in classes: {unknown.tolist()}.")
    encoded = np.searchsorted(classes_, y)
    counts = None if seen_counts is None else \
        np.asarray(seen_counts, dtype=np.float64) + np.bincount(encoded, minlength=classes_.shape[0])
    streaming = classes is not None or known_classes is not None
    if isinstance(class_weight, str) and class_weight == "balanced" and streaming:
        if counts is None:  # the counts of the whole data, which partial_fit does not see
            raise ValueError("class_weight='balanced' is not supported with partial_fit; pass a dict.")
        per_class = counts.sum() / (classes_.shape[0] * np.maximum(counts, 1.0))
        sample_weight = sample_weight * per_class[encoded]
    elif class_weight is not None:
        sample_weight = sample_weight * class_sample_weight(class_weight, y)
    weighted_classes = np.unique(encoded[sample_weight > 0])
    if weighted_classes.shape[0] < 2 and known_classes is None and classes is None:
        raise ValueError(
            f"{name} needs at least 2 classes with positive sample weight; got only class "
            f"{classes_[weighted_classes[0]]!r}." if weighted_classes.size else
            f"{name}: every sample weight is zero, no class to learn from."
        )
    return classes_, encoded, sample_weight, counts


def multilabel_targets(estimator, y, loss, partial=False):
    """``(indicator, fitted)`` for a multilabel indicator ``y``: the (n, C) float64 indicator, checked for
    ``loss``, and the fitted target attributes; None for other targets.

    Multilabel targets are 2-D with more than one column (as scikit-learn's
    ``type_of_target`` says ``"multilabel-indicator"``); each label is a
    binary problem, so the loss must be binary or overlap. ``ValueError``
    naming the estimator for 2-D targets that are not 0/1 indicators, for a
    multiclass loss, for ``class_weight`` (per-label weights would differ
    between the labels: pass ``sample_weight``), and, in ``partial_fit``
    (``partial``), for targets of another kind or number of labels than the
    earlier calls'. ``fitted`` holds ``classes`` (the label indices),
    ``indicator_dtype`` (``predict``'s dtype) and no class counts or encoding.
    """
    streamed = getattr(estimator, "_indicator_dtype", None) is not None
    if np.ndim(y) != 2 or np.shape(y)[1] < 2:
        if partial and streamed:
            raise ValueError(f"partial_fit: {type(estimator).__name__} was fitted on multilabel targets; y must be "
                             f"an indicator matrix of {estimator.classes_.shape[0]} columns.")
        return None
    name = type(estimator).__name__
    if partial and (not streamed or estimator.classes_.shape[0] != np.shape(y)[1]):
        raise ValueError(f"partial_fit: y has {np.shape(y)[1]} labels but {name} was fitted on other targets.")
    kind = type_of_target(y)
    values = np.asarray(y)
    if kind != "multilabel-indicator" or not np.all((values == 0) | (values == 1)):
        shown = kind if kind != "multilabel-indicator" else f"values {np.unique(values)[:5].tolist()}"
        raise ValueError(f"{name}: 2-D y must be a multilabel indicator matrix (0/1, one column per label); got "
                         f"{shown}. Multiclass-multioutput targets are not supported.")
    if loss.task not in LABEL_TASKS:
        raise ValueError(f"loss={estimator.loss!r}: {type(loss).__name__} is {loss_kind(loss)} (one class per "
                         "sample); multilabel targets need a binary or overlap loss (log_loss, focal, soft_dice, ...).")
    if getattr(estimator, "class_weight", None) is not None:
        raise ValueError(f"{name}: class_weight is not supported for multilabel targets; pass sample_weight.")
    fitted = {"classes": np.arange(values.shape[1]), "counts": None, "encoded": None, "indicator_dtype": values.dtype}
    return np.asarray(y, dtype=np.float64), fitted


def takes_multilabel(estimator):
    """The ``multi_label`` estimator tag: whether ``estimator.loss`` is a binary or overlap loss."""
    try:
        return get_loss(estimator.loss).task in LABEL_TASKS
    except (TypeError, ValueError):
        return False


def seen_class_counts(estimator, partial, classes):
    """Samples per class that earlier ``partial_fit`` calls of ``estimator`` saw (zeros at the first call).

    ``None`` outside ``partial_fit`` (``partial`` false and no ``classes``).
    """
    if partial:
        counts = getattr(estimator, "_class_counts", None)
        return np.zeros(estimator.classes_.shape[0]) if counts is None else counts
    return None if classes is None else np.zeros(np.unique(classes).shape[0])


def regression_targets(name, loss, y):
    """Validate numeric targets for ``loss``; returns ``(y as float64, multi_output)``."""
    y = np.asarray(y)
    if y.dtype.kind not in "fiub":
        raise ValueError(f"y must be numeric for {name}; got dtype {y.dtype}.")
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError("Input y contains NaN or infinity.")
    if loss.task == "distribution" and (y.ndim != 2 or y.shape[1] < 2):
        raise ValueError(f"{type(loss).__name__} needs y of shape (n_samples, n_classes) with rows "
                         f"of probabilities; got shape {y.shape}.")
    loss.validate_target(y)
    return y, y.ndim == 2


def regression_target_tags(tags, estimator):
    """Set a regressor's target tags: single and multi-output, positive-only when ``estimator.loss``'s targets
    are bounded below by 0 (Poisson, Gamma, ...). Returns ``tags``."""
    tags.target_tags.multi_output = True
    tags.target_tags.single_output = True
    try:
        low = getattr(get_loss(estimator.loss).target_domain, "low", -np.inf)
    except (TypeError, ValueError):
        low = -np.inf
    tags.target_tags.positive_only = low >= 0
    return tags


def probabilistic(estimator):
    """``available_if`` check of ``predict_proba``: the loss's link gives probabilities."""
    loss = getattr(estimator, "loss_", None) or get_loss(estimator.loss)
    if loss.link.name not in PROBABILITY_LINKS:
        raise AttributeError(
            f"predict_proba is not available for {type(loss).__name__}: its link "
            f"({loss.link.name}) does not give probabilities. Use decision_function, or calibrate with "
            "sklearn.calibration.CalibratedClassifierCV."
        )
    return True


def probabilities(loss, scores):
    """Class probabilities from decision ``scores`` through ``loss``'s link.

    One column of scores (two classes) gives ``[1 - p, p]``; one-vs-rest
    sigmoids are normalised to sum to one; softmax scores are used as they are.
    """
    if scores.ndim == 1:
        p = loss.inverse_link(scores) if loss.link.name == "logit" else \
            loss.inverse_link(np.column_stack([np.zeros_like(scores), scores]))[:, 1]
        p = np.column_stack([1.0 - p, p])
    else:
        p = loss.inverse_link(scores)
        if loss.link.name != "softmax":
            p = p / np.maximum(p.sum(axis=1, keepdims=True), np.finfo(p.dtype).tiny)
    return p.astype(scores.dtype, copy=False)


class ScoreClassifierMixin:
    """``predict``, ``predict_proba`` and ``predict_log_proba`` from ``decision_function``.

    For classifiers whose scores are ``(n,)`` for two classes (positive: the
    second class) and ``(n, n_classes)`` otherwise, with probabilities through
    the fitted loss's link.
    """

    def predict(self, X):
        """Class labels: the largest score, or a positive score for two classes; for multilabel targets, the
        indicator matrix of the positive scores (in the targets' dtype)."""
        scores = self.decision_function(X)
        if getattr(self, "_indicator_dtype", None) is not None:
            return (scores > 0).astype(self._indicator_dtype)
        index = (scores > 0).astype(np.intp) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[index]

    @available_if(probabilistic)
    def predict_proba(self, X):
        """Class probabilities from the loss's link (sigmoid or softmax); for multilabel targets, the
        probability of each label (n_samples, n_labels)."""
        scores = self.decision_function(X)  # checks that the model is fitted
        if getattr(self, "_indicator_dtype", None) is not None:  # multilabel: each label's probability
            return self.loss_.inverse_link(scores).astype(scores.dtype, copy=False)
        return probabilities(self.loss_, scores)

    @available_if(probabilistic)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


def categorical_order(y):
    """The categories of a pandas ordered categorical ``y`` (a Series or Categorical), else None."""
    dtype = getattr(y, "dtype", None)
    if getattr(dtype, "name", None) == "category" and getattr(dtype, "ordered", False):
        return list(dtype.categories)
    return None


def ordinal_classes(name, y, classes=None):
    """``(classes_, ranks)``: the ordered classes and each label's rank (0 for the lowest class).

    The order is ``classes`` when given (any labels, e.g. ``["Fair", "Good",
    "Ideal"]``), else the categories of a pandas ordered categorical ``y``
    (all of them, absent ones included), else the sorted unique labels.
    ``ValueError`` naming ``name`` for labels outside the classes, repeated
    classes, or fewer than two classes.
    """
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    if classes is None:
        classes = categorical_order(y)
    labels = np.asarray(y)
    if labels.ndim != 1 and not (labels.ndim == 2 and labels.shape[1] == 1):
        raise ValueError(f"{name}: y must be 1-D (one ordered label per sample); got shape {np.shape(y)}.")
    labels = column_or_1d(labels, warn=True)
    if classes is None:
        if labels.dtype.kind not in "iubUS":  # integer and text labels are classes; floats and objects are checked
            check_classification_targets(labels)
        classes_ = np.unique(labels)
    else:
        classes_ = np.asarray(list(classes))
        if classes_.ndim != 1 or np.unique(classes_).shape[0] != classes_.shape[0]:
            raise ValueError(f"{name}: classes must list each ordered class once; got {list(classes)!r}.")
    if classes_.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 ordered classes; got one class ({classes_.tolist()!r}).")
    order = np.argsort(classes_, kind="stable")
    try:
        position = np.searchsorted(classes_[order], labels)
        position = np.clip(position, 0, classes_.shape[0] - 1)
        known = classes_[order][position] == labels
    except TypeError:  # labels not comparable with the classes (mixed types)
        known = np.zeros(labels.shape[0], dtype=bool)
        position = np.zeros(labels.shape[0], dtype=np.intp)
    if not np.all(known):
        unknown = np.unique(np.asarray(labels[~known], dtype=object).astype(str))
        raise ValueError(f"{name}: y contains labels not in classes {classes_.tolist()!r}: {unknown.tolist()!r}.")
    return classes_, order[position].astype(np.intp)
