"""GradientBoostingRegressor and GradientBoostingClassifier: histogram gradient boosting with any loss."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import column_or_1d

from .._targets import (ScoreClassifierMixin, encode_classes, multilabel_targets, probabilities, probabilistic,
                        regression_target_tags, regression_targets, takes_multilabel)
from ._boosting import BaseGradientBoosting

__all__ = ["GradientBoostingClassifier", "GradientBoostingRegressor"]

_COMMON_DOC = """
    loss : str or loss instance
        Any loss of a fitting task: a name, an instance, or a custom loss from
        :func:`~sklearn_losses.make_loss`.
    learning_rate : float, default=0.1
        Shrinkage: each tree's leaf values are multiplied by it.
    max_iter : int, default=100
        Boosting iterations (one tree per raw-prediction column each).
    max_leaf_nodes : int or None, default=31
        Leaves per tree (best-first growth); None: no limit.
    max_depth : int or None, default=None
        Depth limit of the trees (the root has depth 0).
    min_samples_leaf : int, default=20
        Rows per leaf; with ``sample_weight``, the sum of the weights of the
        rows (so integer weights equal repeated rows).
    l2_regularization : float, default=0.0
        ``lambda`` of the leaf values ``-G / (H + lambda)`` and of the split
        gains (sums over the leaf's rows of the weighted per-sample gradients
        and hessians of the loss). Line-searched leaves minimise the leaf's
        summed loss plus ``lambda v^2 / 2``; the exact leaves of piecewise-
        linear losses ignore it (as scikit-learn's quantile leaves).
    max_bins : int, default=255
        Bins for the non-missing values of each feature (quantiles of up to
        200,000 rows); missing values get a bin of their own.
    categorical_features : array-like of {bool, int, str}, "from_dtype" or None, default="from_dtype"
        The categorical features (scikit-learn's meaning): a boolean mask,
        integer indices, feature names, or ``"from_dtype"``: the columns of
        a DataFrame with the ``category`` dtype (their categories are
        encoded by their order in fit). A categorical feature's values are
        non-negative integer codes below ``max_bins``; a split sends a set
        of categories left (Fisher's ordering by gradient over hessian, as
        LightGBM does), and negative codes, NaN and categories unseen in fit
        are missing values.
    interaction_cst : {"pairwise", "no_interactions"} or sequence of lists of int, default=None
        Groups of features allowed to interact (scikit-learn's meaning): the
        features along a branch all belong to one group; the features no
        group lists form one more group.
    warm_start : bool, default=False
        Add trees to the fitted ensemble up to ``max_iter`` (same data, same
        loss class; its parameters may change).
    early_stopping : "auto" or bool, default="auto"
        Stop when the loss on a validation split (``validation_fraction``;
        the training loss when it is None) has not improved by ``tol`` for
        ``n_iter_no_change`` iterations. ``"auto"``: on when there are more
        than 10,000 samples.
    validation_fraction : float, int or None, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-7
        Minimum decrease of the (validation) loss, in the loss's units.
    verbose : int, default=0
    random_state : int, RandomState instance or None, default=None
        Draws the validation split and the binning subsample.
"""

_ATTRIBUTES_DOC = """
    loss_ : BaseLoss
        The loss instance used.
    n_iter_ : int
        Iterations fitted (fewer than ``max_iter`` after early stopping).
    n_trees_per_iteration_ : int
        Trees per iteration: columns of the raw prediction.
    loss_curve_ : list of float
        The mean training loss after each iteration, in the loss's units.
    validation_loss_curve_ : list of float or None
        The same on the validation split (early stopping).
    do_early_stopping_ : bool
    feature_importances_ : ndarray of shape (n_features,)
        Total split gain per feature, normalised to sum to 1.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
"""


class GradientBoostingRegressor(RegressorMixin, BaseGradientBoosting):
    __doc__ = """Histogram gradient boosting for regression, with any regression or distribution loss.

    Trees are grown on binned features (at most 255 quantile bins, missing
    values in their own bin) from gradient and hessian histograms with the
    sibling subtraction, leaf-wise (best first), as in scikit-learn's
    ``HistGradientBoostingRegressor``, whose parameter names and meanings are
    kept. The loss's declarations choose how leaves are set: Newton steps for
    twice-differentiable losses with an exact hessian; the exact weighted
    quantile for piecewise-linear losses (absolute error, pinball,
    epsilon-insensitive), which XGBoost and LightGBM custom objectives cannot
    train (zero hessian); a line search on the leaf's loss for Huber-like,
    non-convex and custom losses; a line search on the whole objective for
    batch losses. The first prediction is the loss's
    ``baseline_prediction`` (the median for absolute error, the quantile for
    pinball, the log of the mean for Poisson). Multi-output targets, and
    losses on rows (boxes, distributions), grow one tree per output.

    Parameters
    ----------""" + _COMMON_DOC.replace("    loss : str or loss instance\n",
                                        '    loss : str or loss instance, default="squared_error"\n') + """
    Attributes
    ----------""" + _ATTRIBUTES_DOC + """
    See Also
    --------
    GradientBoostingClassifier
    sklearn.ensemble.HistGradientBoostingRegressor

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn_losses.ensemble import GradientBoostingRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = GradientBoostingRegressor(loss="quantile", max_iter=20).fit(X, y)
    >>> model.n_iter_
    20
    """

    _tasks = ("regression", "distribution")

    def __init__(self, loss="squared_error", *, learning_rate=0.1, max_iter=100, max_leaf_nodes=31, max_depth=None,
                 min_samples_leaf=20, l2_regularization=0.0, max_bins=255, categorical_features="from_dtype",
                 interaction_cst=None, warm_start=False,
                 early_stopping="auto", validation_fraction=0.1, n_iter_no_change=10, tol=1e-7, verbose=0,
                 random_state=None):
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.categorical_features = categorical_features
        self.interaction_cst = interaction_cst
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state

    def _targets(self, y, loss, weight, warm):
        if np.ndim(y) == 2 and np.shape(y)[1] == 1 and not loss.per_row:
            y = column_or_1d(y, warn=True)
        y, multi = regression_targets(type(self).__name__, loss, y)
        if warm and (y.ndim != len(self._y_fit_shape) or (y.ndim == 2 and y.shape[1] != self._y_fit_shape[1])):
            raise ValueError("warm_start: y has another shape than in the first fit.")
        if loss.per_row:
            width, squeeze = loss.raw_width(y.shape[1]) if y.ndim == 2 else 1, False
        else:
            width, squeeze = (y.shape[1], False) if multi else (1, True)
        return y, width, squeeze, weight, {"shape": y.shape}, None

    def _n_classes_for(self, loss, fitted):
        return None

    def _set_fitted(self, fitted):
        self._y_fit_shape = fitted["shape"]

    def predict(self, X):
        """Predictions in target space: the loss's inverse link of the raw prediction."""
        raw = self.predict_raw(X)  # checks that the model is fitted
        return np.asarray(self.loss_.inverse_link(raw))

    def staged_predict(self, X):
        """Predictions after each iteration (a generator)."""
        for raw in self._staged_raw(X):
            yield np.asarray(self.loss_.inverse_link(self._squeezed(raw)))

    def __sklearn_tags__(self):
        return regression_target_tags(super().__sklearn_tags__(), self)


class GradientBoostingClassifier(ScoreClassifierMixin, ClassifierMixin, BaseGradientBoosting):
    __doc__ = """Histogram gradient boosting for classification, with any binary, overlap or multiclass loss.

    The trees and leaf rules are those of :class:`GradientBoostingRegressor`.
    A multiclass loss (``cross_entropy``, ``multiclass_focal``,
    ``multiclass_hinge``) grows one tree per class per iteration, as
    scikit-learn's ``HistGradientBoostingClassifier`` does with its
    multinomial log loss; a binary or overlap loss (``log_loss``, ``focal``,
    ``hinge``, ``soft_f1``, ...) grows one tree for two classes and, one-vs-
    rest, one per class for more (the library's convention: pass
    ``loss="cross_entropy"`` for scikit-learn's multinomial boosting). A
    multilabel indicator ``y`` grows one tree per label with a binary or
    overlap loss.

    Parameters
    ----------""" + _COMMON_DOC.replace("    loss : str or loss instance\n",
                                        '    loss : str or loss instance, default="log_loss"\n') + """
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)""" + _ATTRIBUTES_DOC + """
    See Also
    --------
    GradientBoostingRegressor
    sklearn.ensemble.HistGradientBoostingClassifier
    """

    _tasks = ("binary", "multiclass", "overlap")
    _y_numeric = False
    _parameter_constraints = {
        **BaseGradientBoosting._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, loss="log_loss", *, learning_rate=0.1, max_iter=100, max_leaf_nodes=31, max_depth=None,
                 min_samples_leaf=20, l2_regularization=0.0, max_bins=255, categorical_features="from_dtype",
                 interaction_cst=None, warm_start=False,
                 early_stopping="auto", validation_fraction=0.1, n_iter_no_change=10, tol=1e-7, verbose=0,
                 random_state=None, class_weight=None):
        self.loss = loss
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.categorical_features = categorical_features
        self.interaction_cst = interaction_cst
        self.warm_start = warm_start
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.class_weight = class_weight

    def _targets(self, y, loss, weight, warm):
        name = type(self).__name__
        multilabel = multilabel_targets(self, y, loss)
        if multilabel is not None:
            indicator, fitted = multilabel
            if warm and getattr(self, "_indicator_dtype", None) is None:
                raise ValueError("warm_start: y is multilabel but the first fit was not.")
            return indicator, indicator.shape[1], False, weight, fitted, None
        if warm and getattr(self, "_indicator_dtype", None) is not None:
            raise ValueError("warm_start: the first fit was multilabel; y must be an indicator matrix.")
        y = column_or_1d(y, warn=True)
        known = self.classes_ if warm else None
        classes, encoded, weight, _ = encode_classes(name, y, weight, self.class_weight, known)
        k = classes.shape[0]
        fitted = {"classes": classes, "counts": None, "encoded": encoded, "indicator_dtype": None}
        if loss.task == "multiclass":
            y_fit, width, squeeze = encoded.astype(np.float64), loss.raw_width(k), False
        elif k == 2:
            y_fit, width, squeeze = encoded.astype(np.float64), 1, True
        else:
            y_fit = (encoded[:, None] == np.arange(k)[None, :]).astype(np.float64)
            width, squeeze = k, False
        return y_fit, width, squeeze, weight, fitted, encoded

    def _check_split(self, loss, y, weight):
        if loss.task == "multiclass" and np.unique(y[weight > 0]).shape[0] < 2:
            raise ValueError(f"{type(self).__name__}: the training split holds one class only.")

    def _n_classes_for(self, loss, fitted):
        return None if fitted["classes"] is None else fitted["classes"].shape[0]

    def _set_fitted(self, fitted):
        self.classes_ = fitted["classes"]
        self._indicator_dtype = fitted.get("indicator_dtype")
        self._joint_binary = (self.loss_.task == "multiclass" and self.classes_.shape[0] == 2
                              and self._indicator_dtype is None)

    def _scores(self, raw):
        if self._joint_binary:  # a multiclass loss on two classes: one score z1 - z0
            return raw[:, 1] - raw[:, 0]
        return self._squeezed(raw)

    def decision_function(self, X):
        """Decision scores: ``(n,)`` for two classes (positive: ``classes_[1]``), else one column per class."""
        return self._scores(self._raw_predict(X))

    def staged_decision_function(self, X):
        """Decision scores after each iteration (a generator)."""
        for raw in self._staged_raw(X):
            yield self._scores(raw)

    def staged_predict(self, X):
        """Class predictions after each iteration (a generator)."""
        for scores in self.staged_decision_function(X):
            if self._indicator_dtype is not None:
                yield (scores > 0).astype(self._indicator_dtype)
            else:
                index = (scores > 0).astype(np.intp) if scores.ndim == 1 else np.argmax(scores, axis=1)
                yield self.classes_[index]

    def staged_predict_proba(self, X):
        """Class probabilities after each iteration (a generator; probabilistic links only)."""
        probabilistic(self)
        for scores in self.staged_decision_function(X):
            if self._indicator_dtype is not None:
                yield self.loss_.inverse_link(scores)
            else:
                yield probabilities(self.loss_, scores)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = takes_multilabel(self)
        return tags
