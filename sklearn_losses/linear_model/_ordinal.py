"""OrdinalClassifier: a linear ordinal model trained on any ordinal loss.

Threshold losses (cumulative link, all- and immediate-threshold, CORAL) score
a sample once, ``f = x @ coef``, and compare it with ordered thresholds:
``z_k = f - theta_k``. The thresholds are parametrised as ``theta_0`` plus
non-negative increments, which L-BFGS-B's bounds keep non-negative, so the
thresholds stay ordered through the whole fit (the cumulative likelihood is
undefined otherwise) and the problem stays convex. CORN's K - 1 scores are
free: one row of coefficients and one bias per threshold.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from .._estimator import NamedLossParamsMixin, check_sample_weight, class_sample_weight, keeps_model_on_failure
from .._targets import ordinal_classes, resolve_loss
from ..losses import BaseLoss, get_loss
from ..penalties import get_penalty
from ..solvers.lbfgs import lbfgs

__all__ = ["ORDINAL_PROBABILITY_LINKS", "OrdinalClassifier", "OrdinalPredictionMixin", "expand_thresholds",
           "weighted_present_classes"]


#: Links whose inverse gives ordinal class probabilities.
ORDINAL_PROBABILITY_LINKS = ("cumulative", "conditional")


def weighted_present_classes(name, classes_, ranks, sample_weight, class_weight, streaming=False):
    """``(sample_weight, present)``: the weights with ``class_weight`` multiplied in, and the ranks of the
    classes fitted: those with positive weight (``ValueError`` naming ``name`` if fewer than two), or every
    class when ``streaming`` (``partial_fit`` trains all of them from the first call)."""
    if class_weight is not None:
        sample_weight = sample_weight * class_sample_weight(class_weight, classes_[ranks])
    if streaming:
        return sample_weight, np.arange(classes_.shape[0])
    present = np.flatnonzero(np.bincount(ranks, weights=sample_weight, minlength=classes_.shape[0]) > 0)
    if present.size < 2:
        raise ValueError(f"{name} needs samples of at least 2 classes with positive weight; got one class "
                         f"({classes_[present].tolist()!r}).")
    return sample_weight, present


def _shared_score(loss):
    """Threshold losses (one score and ordered thresholds) unless the loss scores each threshold freely."""
    return getattr(loss, "shared_score", True)


def expand_thresholds(values, present, n_classes, shared):
    """Per-threshold values of a model fitted on the ``present`` classes, for all ``n_classes``.

    A class absent from the fit gets an empty interval, so zero probability:
    for ordered thresholds ``theta`` (``shared``) its threshold repeats its
    neighbour's (``-inf`` / ``+inf`` below the lowest and above the highest
    present class); for CORN's conditional scores (``shared`` false) the
    score of an absent class's threshold is ``+inf`` (never stop there) and
    after the highest present class ``-inf``. ``values`` has one entry (or
    column) per threshold of the present classes.
    """
    values = np.asarray(values, dtype=np.float64)
    present = np.asarray(present)
    out_shape = values.shape[:-1] + (n_classes - 1,)
    out = np.empty(out_shape)
    top = present[-1]
    for j in range(n_classes - 1):
        below = int(np.sum(present <= j))  # present classes at or under threshold j
        if shared:
            if below == 0:
                out[..., j] = -np.inf
            elif below == present.size:
                out[..., j] = np.inf
            else:
                out[..., j] = values[..., below - 1]
        elif j >= top:
            out[..., j] = -np.inf
        elif j not in present:
            out[..., j] = np.inf
        else:
            out[..., j] = values[..., below - 1]
    return out


class _OrdinalObjective:
    """Weighted mean loss of ``z = X @ w - theta`` (or ``X @ W + b``) in the solver's parametrisation.

    Shared score: ``theta = [w, theta_0, d_1, ..., d_{K-2}]`` with
    ``theta_k = theta_0 + d_1 + ... + d_k`` and ``d >= 0`` (``lower_bounds``).
    Free scores: ``[W.ravel() (K-1 rows), b]``.
    """

    def __init__(self, loss, X, ranks, sample_weight, n_classes, shared):
        self.loss, self.X, self.y, self.w = loss, X, ranks.astype(np.float64), sample_weight
        self.n_features, self.shared = X.shape[1], shared
        self.k = n_classes - 1
        self.n_outputs = 1 if shared else self.k
        self.lower_bounds = np.r_[-np.inf, np.zeros(self.k - 1)] if shared else None
        self.terms = None
        if hasattr(loss, "threshold_terms"):  # a binary base loss per threshold: its flat arrays, made once
            self.terms = loss.threshold_terms(self.y, self.k, sample_weight / float(np.sum(sample_weight)))

    def _loss_gradient(self, z):
        """Mean loss and its gradient in ``z`` (n, k)."""
        if self.terms is None:
            return self.loss.loss_gradient(self.y, z, self.w, check_input=False)
        value, grad, _ = self.terms.evaluate(z)
        return value, grad

    def split(self, theta):
        d = self.n_features
        if self.shared:
            return theta[:d], np.cumsum(theta[d:])
        return theta[:d * self.k].reshape(self.k, d), theta[d * self.k:]

    def raw(self, theta):
        coef, other = self.split(theta)
        if self.shared:
            return np.asarray(self.X @ coef).reshape(-1, 1) - other[None, :]
        return np.asarray(self.X @ coef.T) + other[None, :]

    def loss_gradient(self, theta):
        last = getattr(self, "_last", None)  # the start's and the end's are asked for twice (tolerance, check)
        if last is not None and np.array_equal(last[0], theta):
            return last[1], last[2].copy()
        value, grad = self._evaluate(theta)
        self._last = (np.array(theta, copy=True), value, grad.copy())
        return value, grad

    def _evaluate(self, theta):
        z = np.ascontiguousarray(self.raw(theta))
        with np.errstate(over="ignore"):
            value, G = self._loss_gradient(z)
        ones_k, ones_n = self._ones(G.shape)  # row and column sums as BLAS products (axis sums are slower)
        if self.shared:
            g_coef = np.asarray(self.X.T @ (G @ ones_k)).ravel()
            g_theta = -(ones_n @ G)
            g_other = np.cumsum(g_theta[::-1])[::-1]  # d theta_k / d (theta_0, d_j) = 1 for j <= k
        else:
            g_coef = np.asarray(self.X.T @ G).T.ravel()
            g_other = ones_n @ G
        return float(value), np.concatenate([g_coef, g_other])

    def _ones(self, shape):
        ones = getattr(self, "_ones_cache", None)
        if ones is None or ones[0].shape[0] != shape[1] or ones[1].shape[0] != shape[0]:
            ones = self._ones_cache = np.ones(shape[1]), np.ones(shape[0])
        return ones

    def gradient_scale(self):
        """Largest component of the gradient at the start (tolerances are relative to it)."""
        start = getattr(self, "start", None)
        if start is None:
            return 1.0
        scale = float(np.max(np.abs(self.loss_gradient(start)[1])))
        return scale if np.isfinite(scale) and scale > 0 else 1.0


class OrdinalPredictionMixin:
    """``predict``, ``predict_proba`` and the ordinal decision rules from ``raw_prediction(X)`` rows.

    For estimators with ``loss_``, ``classes_`` and ``prediction``.
    """

    def _probabilistic(self):
        loss = getattr(self, "loss_", None) or get_loss(self.loss)
        if loss.link.name not in ORDINAL_PROBABILITY_LINKS:
            raise AttributeError(
                f"predict_proba is not available for {type(loss).__name__} with base "
                f"{getattr(loss, 'base', None)!r}: its scores are not probabilities (its link is "
                f"{loss.link.name}). Use a cumulative-link loss, CORAL, CORN or a log-loss base.")
        return True

    @available_if(_probabilistic)
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``: non-negative, rows summing to 1."""
        raw = self.raw_prediction(X)  # checks that the model is fitted
        return self.loss_.inverse_link(raw)

    @available_if(_probabilistic)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The median class (``prediction="median"``) or the most probable one (``"mode"``)."""
        raw = self.raw_prediction(X)
        if self.loss_.link.name in ORDINAL_PROBABILITY_LINKS:
            p = self.loss_.inverse_link(raw)
            if self.prediction == "mode":
                rank = np.argmax(p, axis=1)
            else:  # the smallest class whose cumulative probability reaches 1/2
                rank = np.minimum((np.cumsum(p, axis=1) < 0.5).sum(axis=1), p.shape[1] - 1)
        else:  # scores without probabilities: the thresholds the score is above
            rank = (raw > 0).sum(axis=1)
        return self.classes_[rank]

    def _check_prediction(self, loss):
        if self.prediction == "mode" and loss.link.name not in ORDINAL_PROBABILITY_LINKS:
            raise ValueError(f"prediction='mode' needs class probabilities; {type(loss).__name__} "
                             f"(link {loss.link.name}) has none: use prediction='median'.")


class OrdinalClassifier(NamedLossParamsMixin, OrdinalPredictionMixin, ClassifierMixin, BaseEstimator):
    r"""Linear ordinal regression with any ordinal loss: ratings, grades and severities.

    Minimises

    .. math:: \frac{1}{\sum_i w_i} \sum_i w_i\, \ell(y_i, x_i^\top w - \theta)
              + \alpha\, \mathrm{penalty}(w)

    over the coefficients ``w`` and the ordered thresholds ``theta`` (not
    penalised), with L-BFGS-B; ``penalty="l1"`` is exact (a split of ``w``
    into non-negative parts). With ``loss="cumulative_logit"`` and
    ``penalty=None`` this is the maximum-likelihood proportional-odds model
    (statsmodels ``OrderedModel(distr="logit")``); ``"all_threshold"`` is
    mord's ``LogisticAT`` (mord's ``alpha`` is ``n_samples * alpha`` here).

    Parameters
    ----------
    loss : str or loss instance, default="cumulative_logit"
        An ordinal loss: ``"cumulative_logit"`` / ``"cumulative_probit"`` /
        ``"cumulative_cloglog"``, ``"all_threshold"``,
        ``"immediate_threshold"``, ``"coral"``, ``"corn"`` or an instance
        (``AllThreshold(base="hinge")``, ...).
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
    alpha : float, default=1e-4
        Penalty strength (independent of the number of samples).
    l1_ratio : float, default=0.15
    classes : array-like or None, default=None
        The classes from lowest to highest (any labels, e.g. ``["Fair",
        "Good", "Ideal"]``). Default: the categories of a pandas ordered
        categorical ``y``, else the sorted unique labels. A class with no
        sample (of positive weight) in ``fit`` gets an empty interval: its
        threshold coincides with its neighbour's (``-inf``/``+inf`` at the
        ends), so it has zero probability and is never predicted.
    prediction : {"median", "mode"}, default="median"
        ``predict``: the median of the predicted distribution, which
        minimises the expected absolute error of the ranks, or its mode (the
        most probable class). Losses without probabilities (hinge bases,
        immediate threshold) predict the number of thresholds the score
        exceeds.
    class_weight : dict, "balanced" or None, default=None
        Multiplied into ``sample_weight``.
    max_iter : int, default=1000
    tol : float, default=1e-6
        Tolerance on the largest component of the projected gradient.
    warm_start : bool, default=False
        Start from the previous fit's coefficients and thresholds (same classes).
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        In their order.
    coef_ : ndarray of shape (n_features,), or (n_classes - 1, n_features) for CORN
    thresholds_ : ndarray of shape (n_classes - 1,)
        Non-decreasing thresholds ``theta`` (CORN: minus its biases).
    loss_ : the fitted loss
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when X has feature names
    """

    _parameter_constraints = {
        "loss": [str, BaseLoss],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "classes": ["array-like", None],
        "prediction": [StrOptions({"median", "mode"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }
    _tasks = ("ordinal",)

    def __init__(self, loss="cumulative_logit", *, penalty="l2", alpha=1e-4, l1_ratio=0.15, classes=None,
                 prediction="median", class_weight=None, max_iter=1000, tol=1e-6, warm_start=False, verbose=0):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.classes = classes
        self.prediction = prediction
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the coefficients and thresholds.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Ordered labels (see ``classes``); a pandas ordered categorical gives its order.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequencies: fitting a table with counts as weights equals fitting the expanded rows.

        Returns
        -------
        self
        """
        self._validate_params()
        name = type(self).__name__
        loss = resolve_loss(self, self.loss)
        self._check_prediction(loss)
        penalty = get_penalty(self.penalty, self.alpha, self.l1_ratio)
        classes_, ranks = ordinal_classes(name, y, self.classes)
        X, _ = validate_data(self, X, ranks, accept_sparse="csr", dtype=np.float64, order="C", reset=True)
        if sp.issparse(X):
            X = X.tocsr()
        sw, present = weighted_present_classes(name, classes_, ranks, check_sample_weight(sample_weight, X),
                                               self.class_weight)
        compressed = np.searchsorted(present, ranks)
        keep = sw > 0
        if not keep.all():  # samples of zero weight do not enter the problem
            X, compressed, sw = X[keep], compressed[keep], sw[keep]
        shared = _shared_score(loss)
        objective = _OrdinalObjective(loss, X, compressed, sw, present.size, shared)
        theta0 = self._start(loss, objective, compressed, sw, present, classes_, shared)
        objective.start = theta0
        theta, n_iter, converged, _ = lbfgs(objective, penalty, theta0, max_iter=self.max_iter, tol=self.tol,
                                            verbose=self.verbose)
        if not np.all(np.isfinite(theta)):
            raise ValueError(f"{name} diverged with loss {type(loss).__name__}: non-finite coefficients. "
                             "Scale the features or increase alpha.")
        if not converged:
            warnings.warn(f"{name} did not converge with loss {type(loss).__name__} after {n_iter} iterations "
                          f"(max_iter={self.max_iter}); increase max_iter or tol, or scale the features.",
                          ConvergenceWarning)
        coef, other = objective.split(theta)
        self.classes_, self.loss_, self.n_iter_ = classes_, loss, n_iter
        self._present, self._solution = present, theta
        if shared:
            self.coef_ = coef
            self.thresholds_ = expand_thresholds(other, present, classes_.shape[0], True)
        else:
            full = np.zeros((classes_.shape[0] - 1, X.shape[1]))
            biases = expand_thresholds(other, present, classes_.shape[0], False)
            fitted = np.isfinite(biases)
            full[fitted] = coef
            self.coef_, self.thresholds_ = full, -biases
        return self

    def _start(self, loss, objective, ranks, sw, present, classes_, shared):
        """Warm start (the last solution, for the same classes present, loss kind and features), else zero
        coefficients and the loss's best constant thresholds."""
        d, k = objective.n_features, present.size - 1
        previous = getattr(self, "_solution", None)
        if self.warm_start and previous is not None and np.array_equal(self.classes_, classes_) \
                and np.array_equal(self._present, present) and _shared_score(self.loss_) == shared \
                and previous.shape == (objective.n_outputs * d + k,):
            return previous
        row = loss.baseline_prediction(ranks, sw, n_classes=present.size)  # z of the constant model
        if shared:
            theta = np.maximum.accumulate(-row)  # ordered thresholds (the best constant may not be, e.g. IT)
            return np.concatenate([np.zeros(d), theta[:1], np.diff(theta)])
        return np.concatenate([np.zeros(d * k), row])

    def raw_prediction(self, X):
        """The rows ``z_k = f - theta_k`` (CORN: its K - 1 scores) that the loss scores, shape (n, n_classes - 1)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, order="C", reset=False)
        if self.coef_.ndim == 1:
            with np.errstate(invalid="ignore"):
                return np.asarray(X @ self.coef_).reshape(-1, 1) - self.thresholds_[None, :]
        return np.asarray(X @ self.coef_.T) - self.thresholds_[None, :]

    def decision_function(self, X):
        """The latent score ``f = x @ coef_`` (CORN: its K - 1 scores, as :meth:`raw_prediction`)."""
        if getattr(self, "coef_", np.zeros(1)).ndim == 2:
            return self.raw_prediction(X)
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, order="C", reset=False)
        return np.asarray(X @ self.coef_).ravel()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # scikit-learn's check data are blobs whose classes lie in no order along any direction: one score
        # against ordered thresholds cannot separate them (its accuracy check expects 0.83)
        tags.classifier_tags.poor_score = True
        return tags
