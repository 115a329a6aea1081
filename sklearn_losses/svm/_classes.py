"""SVMClassifier and SVMRegressor: kernel machines trained on any margin or regression loss."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._estimator import class_sample_weight, keeps_model_on_failure
from ._base import _approximating, _KernelSVM

__all__ = ["SVMClassifier", "SVMRegressor"]

_COMMON_DOC = """
    C : float, default=1.0
        Inverse regularisation strength, as in :class:`sklearn.svm.SVC`: the
        objective is ``C * sum_i s_i * loss_i + ||f||^2 / 2`` over functions
        ``f = sum_j a_j k(x_j, .) + b`` (``s`` the sample weights). In the
        library's mean-loss convention this is ``alpha = 1 / (C * sum(s))``.
    kernel : {"linear", "rbf", "poly", "sigmoid", "precomputed"} or callable, default="rbf"
        As in :class:`sklearn.svm.SVC`; a callable maps ``(X, Y)`` to the
        kernel matrix.
    degree : int, default=3
        Degree of the ``"poly"`` kernel.
    gamma : {"scale", "auto"} or float, default="scale"
        ``"scale"``: ``1 / (n_features * X.var())``; ``"auto"``: ``1 / n_features``.
    coef0 : float, default=0.0
        Constant of the ``"poly"`` and ``"sigmoid"`` kernels.
    tol : float, default=1e-3
        Stopping tolerance in units of the decision function: SMO stops when
        no pair of samples violates the optimality conditions by more (as
        LIBSVM); Newton when no step changes a decision value by more.
    max_iter : int, default=-1
        Iterations of the solver; -1 for no limit.
    cache_size : float, default=1024
        Megabytes for the cache of kernel rows (as SVC's ``cache_size``;
        rows are computed when the solver needs them, least recently used
        rows make room; float64 rows up to 8,000 samples, float32 beyond).
        Precomputed, callable and sparse-input kernels are held whole and
        must fit in it.
    kernel_approximation : {"nystroem", "random_fourier"} or None, default=None
        None: the exact kernel problem. Otherwise map X to ``n_components``
        features approximating the kernel (Nystroem: any named kernel;
        random Fourier features: rbf) and fit a linear model with the same
        loss on them (:mod:`sklearn_losses.linear_model`): linear in n, for
        data beyond about 20,000 samples, and ``partial_fit`` streams
        minibatches. Attributes ``feature_map_`` and ``linear_``; no support
        vectors.
    n_components : int, default=100
        Features of the approximation.
    alpha : float, default=None
        Approximate path: the L2 strength of the mean loss, overriding
        ``1 / (C * sum(sample_weight))``; required by ``partial_fit``.
    learning_rate_init : float, default=0.05
        ``partial_fit`` (approximate path): the stochastic solver's step size.
    batch_size : int, default=32
        ``partial_fit``: the minibatch size within each batch passed.
    stochastic_params : dict or None, default=None
        ``partial_fit``: the settings of the linear model's stochastic solver
        (:class:`~sklearn_losses.linear_model.LinearClassifier`,
        :class:`~sklearn_losses.linear_model.LinearRegressor`), by their
        names there: ``solver`` (``"adam"``, the default, or ``"sgd"``),
        ``learning_rate``, ``power_t``, ``momentum``, ``nesterovs_momentum``,
        ``beta_1``, ``beta_2``, ``epsilon``, ``average``, ``shuffle`` and, for
        the classifier, ``batch_sampler`` and ``samples_per_class``. A dict
        (not flat parameters) because ``epsilon`` already names the
        regressor's margin.
    partial_fit_epochs : int, default=3
        ``partial_fit``: passes of the stochastic solver over each batch passed. With the
        defaults one pass over the data in batches of at least
        ``n_components`` rows comes within a few hundredths of R^2 of ``fit``
        (``benchmarks/bench_streaming_svm.py``). The feature map (landmarks,
        and ``gamma="scale"``) is fitted on the first batch: make it at
        least ``n_components`` rows and representative of the data.
    random_state : int, RandomState or None, default=None
        Approximate path: the landmarks or random features, and the
        minibatch order; multiclass losses: the order in which the exact
        solver visits the samples (solutions agree to within ``tol``).
    verbose : int, default=0
"""


def _ovo_votes(decision, n_classes):
    """Votes and summed confidences per class from one-vs-one decision values."""
    votes = np.zeros((decision.shape[0], n_classes))
    confidence = np.zeros_like(votes)
    k = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            votes[:, i] += decision[:, k] > 0
            votes[:, j] += decision[:, k] <= 0
            confidence[:, i] += decision[:, k]
            confidence[:, j] -= decision[:, k]
            k += 1
    return votes, confidence


def _ovo_to_ovr(decision, n_classes):
    """One-vs-one decision values to per-class scores: votes plus confidences in (-1/3, 1/3), as SVC."""
    votes, confidence = _ovo_votes(decision, n_classes)
    return votes + confidence / (3 * (np.abs(confidence) + 1))


def _has_proba(estimator):
    loss = getattr(estimator, "loss_", None) or estimator._resolve_loss()
    if loss.link.name in _PROBABILITY_LINKS and not _ovo_fitted(estimator):
        return True
    if estimator.probability:
        return True
    raise AttributeError(
        f"predict_proba is not available for {type(loss).__name__}"
        + (f": its link ({loss.link.name}) does not give probabilities" if loss.link.name not in _PROBABILITY_LINKS else
           " with one-vs-one on more than two classes (its scores are not per-class probabilities; unfitted, "
           "the number of classes is not known yet)")
        + ". Pass probability=True (Platt scaling, cross-validated) or use "
          "sklearn.calibration.CalibratedClassifierCV."
    )


#: Links whose inverse gives class probabilities.
_PROBABILITY_LINKS = ("logit", "softmax")


def _ovo_fitted(estimator):
    """One problem per pair of classes: fitted so, or (unfitted) so for more than two classes.

    Unfitted, availability cannot wait for the number of classes, so it is
    answered as for more than two (a fit on two classes then adds
    ``predict_proba``; it never disappears after a fit).
    """
    if hasattr(estimator, "classes_"):
        return estimator._ovo()
    loss = estimator._resolve_loss()
    return estimator.multi_class == "ovo" and estimator.kernel_approximation is None and not loss.per_row


class SVMClassifier(ClassifierMixin, _KernelSVM):
    __doc__ = r"""Kernel support vector classifier with any binary margin loss, or the multiclass hinge.

    Fits ``f(x) = sum_j a_j k(x_j, x) + b`` minimising
    ``C * sum_i s_i * loss(y_i, f(x_i)) + ||f||^2 / 2``. Piecewise-linear
    and -quadratic losses (``"hinge"``: :class:`sklearn.svm.SVC`'s problem;
    ``"squared_hinge"``, ``"modified_huber"``) are solved exactly in the dual
    by SMO with second-order pair selection; smooth convex losses
    (``"log_loss"``, ``"exponential"``) by the same SMO with the loss's
    gradient inverted numerically; non-convex losses with a hessian
    (``"focal"``, custom losses not declared convex) by Newton's method on
    ``(a, b)``, for up to 5,000 samples per problem.

    The multiclass hinge (``"multiclass_hinge"``, Crammer-Singer or
    Weston-Watkins) fits one function per class jointly,
    ``f_m(x) = sum_j a_jm k(x_j, x) + b_m``, minimising
    ``C * sum_i s_i * loss(y_i, f(x_i)) + sum_m ||f_m||^2 / 2`` exactly by
    block coordinate descent in the dual (one block per sample), with free
    (unpenalised) intercepts; ``multi_class`` does not apply. Other
    multiclass losses (cross-entropy) need ``kernel_approximation``.

    Parameters
    ----------
    loss : str or loss instance, default="hinge"
        A binary loss or ``"multiclass_hinge"``
        (:func:`~sklearn_losses.losses.available_losses`).
""" + _COMMON_DOC + """
    class_weight : dict or "balanced", default=None
        Multiplies the sample weights (and so C) per class. With
        ``partial_fit``, ``"balanced"`` uses the running class counts (as
        :class:`~sklearn_losses.linear_model.LinearClassifier`).
    multi_class : {"ovo", "ovr"}, default="ovo"
        Several classes and a binary loss: one problem per pair of classes
        (as SVC; the decision function is turned into per-class scores the
        way SVC does with ``decision_function_shape="ovr"``) or one per
        class against the rest. Ignored for multiclass losses.
    probability : bool, default=False
        For losses without a probabilistic link (hinge, squared hinge, ...):
        fit Platt scaling on 5-fold cross-validated decision values
        (:class:`sklearn.calibration.CalibratedClassifierCV`,
        ``method="sigmoid"``) so that ``predict_proba`` exists, as
        ``SVC(probability=True)``; it costs six more fits. Logit losses give
        probabilities through their link without it.
    n_jobs : int or None, default=None
        Number of processes that solve the one-vs-one or one-vs-rest
        problems at once (joblib; ``None`` means 1), each with its own kernel
        cache of ``cache_size``. The model is the same for every ``n_jobs``.

    Attributes
    ----------
    classes_ : ndarray
    support_ : ndarray of int
        Training samples with a non-zero dual coefficient in some problem.
    support_vectors_ : ndarray or sparse matrix
    dual_coef_ : ndarray of shape (n_problems, n_support)
        ``a_j`` of each problem (zero where a support vector is not in the
        problem). For the hinge, ``y_j * alpha_j`` as in SVC; for a
        multiclass loss one row per class, ``a_jm``.
    intercept_ : ndarray of shape (n_problems,)
    coef_ : ndarray of shape (n_problems, n_features)
        ``kernel="linear"`` only.
    loss_ : BaseLoss
    n_iter_ : ndarray of shape (n_problems,)
    """

    _parameter_constraints = {
        **_KernelSVM._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "multi_class": [StrOptions({"ovo", "ovr"})],
        "probability": ["boolean"],
        "n_jobs": [Integral, None],
    }
    _tasks = ("binary", "multiclass")
    _y_numeric = False

    def __init__(self, loss="hinge", *, C=1.0, kernel="rbf", degree=3, gamma="scale", coef0=0.0,
                 tol=1e-3, max_iter=-1, class_weight=None, multi_class="ovo", probability=False, cache_size=1024,
                 kernel_approximation=None, n_components=100, alpha=None, learning_rate_init=0.05, batch_size=32,
                 stochastic_params=None, partial_fit_epochs=3, n_jobs=None, random_state=None, verbose=0):
        self.loss = loss
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.multi_class = multi_class
        self.probability = probability
        self.cache_size = cache_size
        self.kernel_approximation = kernel_approximation
        self.n_components = n_components
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.stochastic_params = stochastic_params
        self.partial_fit_epochs = partial_fit_epochs
        self.random_state = random_state
        self.verbose = verbose

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Or the (n_samples, n_samples) kernel matrix for ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        X, y, weight, loss = self._start(X, y, sample_weight)
        data_weight = weight  # the sample weights alone, for data statistics (gamma="scale")
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if self.class_weight is not None:
            weight = weight * class_sample_weight(self.class_weight, y)
        if np.unique(encoded[weight > 0]).size < 2:
            present = np.unique(y[weight > 0]).tolist()
            raise ValueError(f"{type(self).__name__} needs at least 2 classes with positive sample weight; "
                             f"got {len(present)} class: {present}.")
        self.calibrator_ = None
        if self.probability and (loss.link.name not in _PROBABILITY_LINKS or self._ovo_classes(loss)):
            inner = clone(self).set_params(probability=False)
            if _routing_enabled():  # the clone must request the weights the calibrator routes to it
                inner.set_fit_request(sample_weight=True)
            from sklearn.calibration import CalibratedClassifierCV  # (0.05-0.15 s to import: when needed)

            self.calibrator_ = CalibratedClassifierCV(inner, method="sigmoid", cv=5, ensemble=False).fit(
                X, y, **({} if sample_weight is None else {"sample_weight": sample_weight}))
        if self.kernel_approximation is not None:
            return self._fit_approximate(X, y, weight, loss, sample_weight=data_weight)
        k = self.classes_.size
        if loss.per_row:  # a multiclass loss: one joint problem over all classes
            return self._fit_joint(X, encoded, self.C * weight, loss, k, check_random_state(self.random_state),
                                   sample_weight=data_weight)
        if k == 2:
            problems = [(None, (encoded == 1).astype(np.float64))]
        elif self.multi_class == "ovr":
            problems = [(None, (encoded == c).astype(np.float64)) for c in range(k)]
        else:  # positive = the first class of the pair, as LIBSVM
            problems = []
            for i in range(k):
                for j in range(i + 1, k):
                    rows = np.flatnonzero((encoded == i) | (encoded == j))
                    problems.append((rows, (encoded[rows] == i).astype(np.float64)))
        return self._fit_problems(X, problems, self.C * weight, loss, sample_weight=data_weight)

    @available_if(_approximating)
    @keeps_model_on_failure
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass of Adam over a minibatch, on the approximate path (needs ``alpha``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            All the classes; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        first = not hasattr(self, "linear_")
        X, y, weight, loss = self._start(X, y, sample_weight, first)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = np.unique(classes)
        data_weight = weight
        if isinstance(self.class_weight, dict):
            weight = weight * class_sample_weight(self.class_weight, y)
        # "balanced": the linear model weighs by the running class counts (see _approximate)
        return self._fit_approximate(X, y, weight, loss, partial=True, classes=self.classes_,
                                     sample_weight=data_weight)

    def _ovo(self):
        """Whether the fitted model is one-vs-one."""
        return self._ovo_classes(self.loss_) and not hasattr(self, "linear_")

    def _ovo_classes(self, loss):
        """Whether a fit with ``loss`` on ``classes_`` is one problem per pair of classes."""
        return (self.multi_class == "ovo" and self.kernel_approximation is None and self.classes_.size > 2
                and not loss.per_row)

    def decision_function(self, X):
        """Decision values: shape (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
        decision = self._decision(X)
        if self.classes_.size == 2:  # one column, or one per class for a multiclass loss
            return decision[:, 0] if decision.shape[1] == 1 else decision[:, 1] - decision[:, 0]
        if self._ovo():
            return _ovo_to_ovr(decision, self.classes_.size)
        return decision

    def predict(self, X):
        """Class labels (one-vs-one: most votes, ties to the first class, as SVC)."""
        check_is_fitted(self)
        if self._ovo():
            votes, _ = _ovo_votes(self._decision(X), self.classes_.size)
            return self.classes_[np.argmax(votes, axis=1)]
        decision = self.decision_function(X)
        if decision.ndim == 1:
            return self.classes_[(decision > 0).astype(int)]
        return self.classes_[np.argmax(decision, axis=1)]

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities.

        Through the loss's inverse link for logit losses (one-vs-rest rows
        renormalised); otherwise, with ``probability=True``, from Platt
        scaling fitted on 5-fold cross-validated decision values.
        """
        check_is_fitted(self)
        if getattr(self, "calibrator_", None) is not None:
            return self.calibrator_.predict_proba(X)
        decision = self._decision(X)
        p = self.loss_.inverse_link(decision if self.loss_.per_row or decision.shape[1] > 1 else decision[:, 0])
        if p.ndim == 1:
            return np.column_stack([1 - p, p])
        return p / p.sum(axis=1, keepdims=True)


class SVMRegressor(RegressorMixin, _KernelSVM):
    __doc__ = r"""Kernel support vector regression with any regression loss.

    Fits ``f(x) = sum_j a_j k(x_j, x) + b`` minimising
    ``C * sum_i s_i * loss(y_i, f(x_i)) + ||f||^2 / 2``. Piecewise-linear
    and -quadratic losses (``"epsilon_insensitive"``: :class:`sklearn.svm.SVR`'s
    problem, ``"quantile"``, ``"absolute_error"``, ``"squared_error"``: kernel
    ridge with an intercept, ``"huber"``, ``"smooth_l1"``,
    ``"squared_epsilon_insensitive"``) and smooth convex ones
    (``"pseudo_huber"``, ``"log_cosh"``, ``"poisson"``, ...) are solved
    exactly by SMO in the dual; non-convex losses with a hessian (custom
    losses not declared convex) by Newton's method for up to 5,000 samples.
    Predictions are the loss's inverse link of ``f``.

    Parameters
    ----------
    loss : str or loss instance, default="epsilon_insensitive"
    epsilon : float, default=0.1
        Half-width of the insensitive tube, used when ``loss`` is the name
        ``"epsilon_insensitive"`` or ``"squared_epsilon_insensitive"`` (a loss
        instance keeps its own).
""" + _COMMON_DOC + """
    Attributes
    ----------
    support_, support_vectors_, dual_coef_, intercept_, coef_, loss_, n_iter_
        As for :class:`SVMClassifier`, with one problem.
    """

    _parameter_constraints = {
        **_KernelSVM._parameter_constraints,
        "epsilon": [Interval(Real, 0, None, closed="left")],
    }
    _tasks = ("regression",)
    _y_numeric = True

    def __init__(self, loss="epsilon_insensitive", *, epsilon=0.1, C=1.0, kernel="rbf", degree=3,
                 gamma="scale", coef0=0.0, tol=1e-3, max_iter=-1, cache_size=1024,
                 kernel_approximation=None, n_components=100, alpha=None, learning_rate_init=0.05, batch_size=32,
                 stochastic_params=None, partial_fit_epochs=3, random_state=None, verbose=0):
        self.loss = loss
        self.epsilon = epsilon
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.max_iter = max_iter
        self.cache_size = cache_size
        self.kernel_approximation = kernel_approximation
        self.n_components = n_components
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.stochastic_params = stochastic_params
        self.partial_fit_epochs = partial_fit_epochs
        self.random_state = random_state
        self.verbose = verbose

    def _resolve_loss(self):
        if self.loss in ("epsilon_insensitive", "squared_epsilon_insensitive"):
            return super()._resolve_loss(epsilon=self.epsilon)
        return super()._resolve_loss()

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Or the (n_samples, n_samples) kernel matrix for ``kernel="precomputed"``.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        X, y, weight, loss = self._start(X, y, sample_weight)
        y = y.astype(np.float64)
        loss.validate_target(y)
        if not np.any(weight > 0):
            raise ValueError(f"{type(self).__name__}: every sample weight is zero.")
        if self.kernel_approximation is not None:
            return self._fit_approximate(X, y, weight, loss, sample_weight=weight)
        return self._fit_problems(X, [(None, y)], self.C * weight, loss, sample_weight=weight)

    @available_if(_approximating)
    @keeps_model_on_failure
    def partial_fit(self, X, y, sample_weight=None):
        """One pass of Adam over a minibatch, on the approximate path (needs ``alpha``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        X, y, weight, loss = self._start(X, y, sample_weight, first=not hasattr(self, "linear_"))
        loss.validate_target(y)
        return self._fit_approximate(X, y.astype(np.float64), weight, loss, partial=True, sample_weight=weight)

    def predict(self, X):
        """Predictions: the loss's inverse link of the decision function."""
        raw = self._decision(X)[:, 0]
        return np.asarray(self.loss_.inverse_link(raw))
