"""LinearClassifier: a linear model trained on any binary, overlap or multiclass loss; multilabel targets."""

from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import column_or_1d

from .._estimator import keeps_model_on_failure
from .._targets import (ScoreClassifierMixin, encode_classes, multilabel_targets, seen_class_counts,
                        takes_multilabel)
from ..solvers._samplers import SAMPLERS
from ._base import _LinearModel, _Problem

__all__ = ["LinearClassifier"]


class LinearClassifier(ScoreClassifierMixin, ClassifierMixin, _LinearModel):
    r"""Linear classification with any binary, overlap or multiclass loss; multilabel targets.

    The objective is that of :class:`LinearRegressor`. A binary loss
    (``log_loss``, ``hinge``, ``focal``, ...) or an overlap loss
    (``soft_dice``, ``soft_fbeta``, ``tversky``, ... : a function of the
    whole batch, fitted exactly by the full-batch solvers) fits one score
    for two classes and one score per class, one-vs-rest, for more. A
    multilabel indicator ``y`` (n_samples, n_labels) fits one score per label
    with a binary or overlap loss; ``predict`` then returns the indicator
    matrix of the positive scores and ``predict_proba`` each label's
    probability. A multiclass loss
    (``cross_entropy``, ``multiclass_hinge``, ``multiclass_focal``) fits all
    classes jointly (softmax coefficients); with two classes its two rows of
    coefficients are reported as their difference, so ``coef_`` always has
    one row for binary problems.

    Parameters
    ----------
    loss : str or loss instance, default="log_loss"
        A binary or multiclass loss (name, instance or custom loss).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``
        (``"balanced"``: ``n_samples / (n_classes * bincount(y))``). Identical
        to passing the same weights as ``sample_weight``. With
        ``partial_fit``, ``"balanced"`` uses the running counts: each call
        weighs its samples by the balanced weights of all the samples seen so
        far, this call's included (scikit-learn's SGDClassifier refuses it).
    penalty, alpha, l1_ratio, fit_intercept, max_iter, tol, warm_start : as in LinearRegressor
    early_stopping, validation_fraction, n_iter_no_change : as in LinearRegressor
    batch_size, learning_rate_init, n_jobs, random_state, verbose : as in LinearRegressor
    learning_rate, power_t, average, shuffle : as in LinearRegressor
    momentum, nesterovs_momentum, beta_1, beta_2, epsilon : as in LinearRegressor
    batch_sampler : {"uniform", "stratified", "balanced"}, default="uniform"
        Stochastic solvers: how the rows are arranged into minibatches (once
        per ``fit`` or ``partial_fit`` call; the batches are then visited in
        a new random order every epoch). ``"stratified"``: every batch holds
        the classes in their overall proportions; ``"balanced"``: every
        batch holds ``samples_per_class`` rows of each class, the rows of
        smaller classes repeated, so the classes weigh the same in an epoch
        (batches of ``samples_per_class * n_classes`` rows; ``batch_size``
        then only sets the default ``samples_per_class``).
    samples_per_class : int or None, default=None
        ``batch_sampler="balanced"``: rows of each class per batch (default
        ``batch_size // n_classes``, at least 1).
    solver : str, default="auto"
        As in :class:`LinearRegressor`. ``solver="auto"`` picks, for the
        hinge loss, the interior-point method on dense X and dual coordinate
        descent on sparse X, and L-BFGS for differentiable losses;
        ``solver="newton-cg"`` fits multiclass (softmax) losses by a
        second-order method.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    loss_ : BaseLoss
        The loss instance used.
    solver_ : str
        The solver used.
    n_iter_ : int
    loss_curve_ : list of float
        The penalised objective after each iteration or epoch (for
        one-vs-rest fits, the mean over the binary problems).
    validation_loss_curve_ : list of float or None
        The same objective on the validation set (early stopping).
    objective_ : float
        Final value of the penalised objective (for one-vs-rest fits, the
        mean over the binary problems).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    Notes
    -----
    ``predict_proba`` exists when the loss has a probabilistic link (logit or
    softmax). One-vs-rest probabilities are the per-class sigmoids normalised
    to sum to one.
    """

    _tasks = ("binary", "multiclass", "overlap")
    _parameter_constraints = {
        **_LinearModel._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "batch_sampler": [StrOptions(set(SAMPLERS))],
        "samples_per_class": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, loss="log_loss", *, penalty="l2", alpha=1e-4, l1_ratio=0.15, fit_intercept=True,
                 solver="auto", max_iter=1000, tol=1e-4, class_weight=None, warm_start=False,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5, batch_size="auto",
                 learning_rate_init=0.01, learning_rate="constant", power_t=0.5, average=False, shuffle=True,
                 momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 batch_sampler="uniform", samples_per_class=None, n_jobs=None, random_state=None, verbose=0):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.average = average
        self.shuffle = shuffle
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_sampler = batch_sampler
        self.samples_per_class = samples_per_class
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _problems(self, y, loss, sample_weight, partial, classes):
        multilabel = multilabel_targets(self, y, loss, partial)
        if multilabel is not None:
            return self._multilabel_problems(*multilabel, loss, sample_weight)
        y = column_or_1d(y, warn=True)
        seen = seen_class_counts(self, partial, classes)
        classes_, encoded, sample_weight, counts = encode_classes(
            type(self).__name__, y, sample_weight, self.class_weight, self.classes_ if partial else None, classes,
            seen_counts=seen)
        k = classes_.shape[0]
        if loss.task == "multiclass":
            problems = [_Problem(loss, encoded.astype(np.float64), k)]
        elif k == 2:
            problems = [_Problem(loss, encoded.astype(np.float64))]
        else:
            problems = [_Problem(loss, (encoded == j).astype(np.float64)) for j in range(k)]
        return problems, sample_weight, {"classes": classes_, "counts": counts, "encoded": encoded}

    def _multilabel_problems(self, indicator, fitted, loss, sample_weight):
        """One binary problem per label of a multilabel indicator (the losses are means over the labels)."""
        if self.batch_sampler != "uniform":
            raise ValueError(f"batch_sampler={self.batch_sampler!r} needs one class per sample; multilabel "
                             "targets use batch_sampler='uniform'.")
        problems = [_Problem(loss, np.ascontiguousarray(indicator[:, j])) for j in range(indicator.shape[1])]
        return problems, sample_weight, fitted

    def _set_coefficients(self, coefs, intercepts, fitted):
        coef = np.vstack(coefs)
        intercept = np.concatenate([np.atleast_1d(b) for b in intercepts])
        self.classes_ = fitted["classes"]
        self._class_counts = fitted["counts"]  # samples per class seen by partial_fit (balanced weights)
        self._indicator_dtype = fitted.get("indicator_dtype")  # multilabel targets: predict's dtype
        self._joint_binary = coef.shape[0] == 2 and self.classes_.shape[0] == 2 and self._indicator_dtype is None
        if self._joint_binary:  # a multiclass loss on two classes: one score z1 - z0
            self._joint_coef, self._joint_intercept = coef, intercept
            coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        self.coef_, self.intercept_ = coef, intercept

    def _previous_thetas(self, problems, n_features):
        if getattr(self, "_joint_binary", False):
            saved = self.coef_, self.intercept_
            self.coef_, self.intercept_ = self._joint_coef, self._joint_intercept
            try:
                return super()._previous_thetas(problems, n_features)
            finally:
                self.coef_, self.intercept_ = saved
        return super()._previous_thetas(problems, n_features)

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels of any type, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight)

    @keeps_model_on_failure
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the stochastic solver on the given data.

        ``classes`` (all labels) is required on the first call, except for a
        multilabel indicator ``y`` (its columns are the labels).
        """
        multilabel = np.ndim(y) == 2 and np.shape(y)[1] > 1
        if not hasattr(self, "classes_") and classes is None and not multilabel:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, partial=True, classes=classes)

    def decision_function(self, X):
        """Scores: shape (n_samples,) for two classes, (n_samples, n_classes) otherwise, and
        (n_samples, n_labels) for multilabel targets."""
        raw = self._raw_predict(X)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = takes_multilabel(self)
        return tags
