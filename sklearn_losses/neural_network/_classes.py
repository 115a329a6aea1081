"""MLPRegressor and MLPClassifier: small neural networks trained on any loss."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from .._estimator import keeps_model_on_failure
from .._targets import (ScoreClassifierMixin, encode_classes, multilabel_targets, regression_targets, resolve_loss,
                        seen_class_counts, takes_multilabel)
from ._base import _BaseMLP, _StreamingClassifierMixin, _has_stochastic_solver

__all__ = ["MLPClassifier", "MLPRegressor"]

_SHARED_DOC = r"""
    hidden_layer_sizes : array-like of int or int, default=(100,)
        Number of units of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity", "gelu"}, default="relu"
        Activation of the hidden layers (``gelu`` is the exact
        ``x * Phi(x)``). The output layer is linear: the loss's link turns its
        output into a prediction.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        As scikit-learn's MLP: Adam, SGD with (Nesterov) momentum, or
        full-batch L-BFGS-B (scipy) for small data.
    alpha : float, default=1e-4
        Strength of the L2 penalty, with scikit-learn's MLP meaning: each
        batch objective is ``weighted mean loss + alpha / (2 * W) *
        ||coefficients||^2`` with ``W`` the batch's total sample weight (its
        size when unweighted).
    batch_size : int or "auto", default="auto"
        Minibatch size of the stochastic solvers (``"auto"``: ``min(200,
        n_samples)``).
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of ``solver="sgd"``, as in scikit-learn.
    learning_rate_init : float, default=1e-3
    power_t : float, default=0.5
        Exponent of the ``invscaling`` schedule.
    max_iter : int, default=200
        Epochs of the stochastic solvers, iterations of L-BFGS.
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Initial weights (drawn as scikit-learn draws them), shuffling and the
        early-stopping split.
    output_bias_init : {"baseline", "random"}, default="baseline"
        The output layer's initial biases: the loss's best constant
        prediction (:meth:`~sklearn_losses.losses.BaseLoss.baseline_prediction`,
        so that the untrained network predicts it: the mean, the class
        log-priors, ...), or drawn with the weights as scikit-learn draws them
        (``"random"``: the same initial network as ``sklearn.neural_network``).
    tol : float, default=1e-4
        Minimal improvement of the monitored loss; L-BFGS's gradient tolerance.
    verbose : bool or int, default=False
        Print the training (and validation) loss after every epoch.
    warm_start : bool, default=False
        Start from the previous fit's weights.
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), stop when the validation *loss* has not improved by
        ``tol`` for more than ``n_iter_no_change`` epochs, and restore the
        weights of the best epoch.
    validation_fraction : float, default=0.1
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's constants.
    n_iter_no_change : int, default=10
    max_fun : int, default=15000
        Maximal number of objective evaluations of L-BFGS.
    max_grad_norm : float or None, default=None
        Clip each minibatch gradient to this Euclidean norm (stochastic
        solvers).
"""

_ATTRIBUTES_DOC = r"""loss_ : BaseLoss
        The resolved loss.
    coefs_ : list of ndarray
        Weights of each layer, ``coefs_[i]`` of shape ``(fan_in, fan_out)``
        as in scikit-learn.
    intercepts_ : list of ndarray
        Biases of each layer.
    loss_curve_ : list of float
        Training objective after each epoch (each L-BFGS iteration).
    validation_loss_curve_ : list of float or None
        Mean loss on the held-out set after each epoch (early stopping only).
    best_loss_ : float or None
        Best training objective (stochastic solvers without early stopping).
    best_validation_loss_ : float or None
        Best validation loss (early stopping).
    n_iter_ : int
        Epochs (stochastic solvers) or iterations (L-BFGS) run.
    t_ : int
        Number of training samples seen by the stochastic solver.
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str
        Name of the loss's link (the output layer is linear; the link turns
        its output into a prediction).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.
"""


class MLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = rf"""A multi-layer perceptron regressor trained on any regression or distribution loss.

    A drop-in for :class:`sklearn.neural_network.MLPRegressor`: the same
    parameters with the same meaning, plus ``loss`` (any registered, composite
    or custom loss: ``huber``, ``quantile``, :class:`~sklearn_losses.losses.PerOutput`
    for a loss per output, ``kl_divergence`` / ``soft_cross_entropy`` for
    targets that are probability vectors, e.g. a teacher's predictions to
    distil), ``max_grad_norm`` and ``sample_weight`` in every solver.

    Parameters
    ----------
    loss : str or loss instance, default="squared_error"
        Note that this library's ``squared_error`` is ``(y - r)^2`` (no factor
        1/2): its gradients are twice scikit-learn's.
    {_SHARED_DOC}
    Attributes
    ----------
    {_ATTRIBUTES_DOC}"""

    _tasks = ("regression", "distribution")
    _y_numeric = True

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, batch_size="auto", learning_rate="constant", learning_rate_init=1e-3,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 max_fun=15000, max_grad_norm=None, output_bias_init="baseline"):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.max_grad_norm = max_grad_norm
        self.output_bias_init = output_bias_init

    def _targets(self, y, sample_weight, partial, classes):
        loss = resolve_loss(self, self.loss)
        y, multi = regression_targets(type(self).__name__, loss, y)
        return loss, y, y.shape[1] if multi else 1, sample_weight, {}

    def _set_targets(self, fitted):
        pass

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and ``y`` (shape ``(n,)`` or ``(n, n_outputs)``)."""
        return self._fit(X, y, sample_weight)

    @available_if(_has_stochastic_solver)
    @keeps_model_on_failure
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of the stochastic solver on the given data."""
        return self._fit(X, y, sample_weight, partial=True)

    def predict_raw(self, X):
        """The network's output before the loss's inverse link."""
        return self._raw_predict(X)

    def predict(self, X):
        """Predictions in target space (the loss's inverse link of the network's output)."""
        raw = self._raw_predict(X)
        return self.loss_.inverse_link(raw)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class MLPClassifier(ScoreClassifierMixin, ClassifierMixin, _StreamingClassifierMixin, _BaseMLP):
    __doc__ = rf"""A multi-layer perceptron classifier trained on any binary, overlap or multiclass loss.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`, plus ``loss``,
    ``class_weight``, ``max_grad_norm`` and ``sample_weight`` in every solver.
    A multiclass loss (``cross_entropy``, ``multiclass_focal``,
    ``multiclass_hinge``) gives one output per class; a binary or overlap
    loss (``soft_dice``, ``soft_fbeta``, ...) gives one output for two
    classes and one per class, one-vs-rest, for more. A multilabel indicator
    ``y`` (as scikit-learn's) gives one output per label with a binary or
    overlap loss: ``predict`` returns the indicator matrix, ``predict_proba``
    each label's probability. Overlap losses are losses of the whole batch:
    L-BFGS fits the exact objective; the stochastic solvers minimise the
    loss of each minibatch, a biased estimate of the full-data loss (the
    bias shrinks with the batch size: ``batch_size="auto"`` is 1024 for
    them). The
    default ``loss="log_loss"`` is scikit-learn's: logistic for two classes,
    softmax cross-entropy for more (a ``LogLoss`` *instance* is always
    one-vs-rest).

    Parameters
    ----------
    loss : str or loss instance, default="log_loss"
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``; with
        ``partial_fit``, ``"balanced"`` uses the running class counts (the
        balanced weights of all the samples seen so far, this call's included).
    {_SHARED_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    {_ATTRIBUTES_DOC}"""

    _tasks = ("binary", "multiclass", "overlap")
    _y_numeric = False
    _parameter_constraints = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, loss="log_loss", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, batch_size="auto", learning_rate="constant", learning_rate_init=1e-3,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 max_fun=15000, max_grad_norm=None, class_weight=None,
                 output_bias_init="baseline"):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.max_grad_norm = max_grad_norm
        self.output_bias_init = output_bias_init
        self.class_weight = class_weight

    def _targets(self, y, sample_weight, partial, classes):
        loss = resolve_loss(self, self.loss)
        multilabel = multilabel_targets(self, y, loss, partial)
        if multilabel is not None:  # one output per label, the loss on the (n, n_labels) indicator
            indicator, fitted = multilabel
            return loss, indicator, indicator.shape[1], sample_weight, fitted
        y = column_or_1d(y, warn=True)
        known = self.classes_ if partial else None
        seen = seen_class_counts(self, partial, classes)
        classes_, encoded, sample_weight, counts = encode_classes(type(self).__name__, y, sample_weight,
                                                                  self.class_weight, known, classes,
                                                                  seen_counts=seen)
        k = classes_.shape[0]
        if isinstance(self.loss, str) and self.loss == "log_loss" and k > 2:
            loss = resolve_loss(self, "cross_entropy")  # scikit-learn's meaning of log_loss for more than two classes
        if loss.task == "multiclass":
            Y, n_outputs = encoded.astype(np.float64), k
        elif k == 2:
            Y, n_outputs = encoded.astype(np.float64), 1
        else:
            Y, n_outputs = np.eye(k)[encoded], k
        return loss, Y, n_outputs, sample_weight, {"classes": classes_, "encoded": encoded, "counts": counts}

    def _set_targets(self, fitted):
        self.classes_ = fitted["classes"]
        self._class_counts = fitted["counts"]  # samples per class seen by partial_fit (balanced weights)
        self._indicator_dtype = fitted.get("indicator_dtype")  # multilabel targets: predict's dtype

    def _stratify(self, Y):
        if Y.ndim == 2 and not np.all(Y.sum(axis=1) == 1):  # multilabel rows: no one class to stratify by
            return None
        return Y if Y.ndim == 1 else np.argmax(Y, axis=1)

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and class labels ``y``."""
        return self._fit(X, y, sample_weight)

    def decision_function(self, X):
        """Decision scores: shape ``(n,)`` for two classes (``z1 - z0`` for a multiclass loss), else
        ``(n, n_classes)``."""
        raw = self._raw_predict(X)
        if getattr(self, "_indicator_dtype", None) is not None:
            return raw  # multilabel: one score per label
        return raw[:, 1] - raw[:, 0] if raw.ndim == 2 and self.classes_.shape[0] == 2 else raw

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = takes_multilabel(self)
        return tags
