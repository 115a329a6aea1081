"""LinearRegressor: a linear model trained on any regression (or distribution) loss."""

import numpy as np
from sklearn.base import RegressorMixin

from .._estimator import keeps_model_on_failure
from .._targets import regression_target_tags, regression_targets
from ._base import _LinearModel, _Problem

__all__ = ["LinearRegressor"]


class LinearRegressor(RegressorMixin, _LinearModel):
    r"""Linear regression with any regression loss.

    Minimises the weighted mean loss of ``raw_prediction = X @ coef_.T + intercept_``
    plus ``alpha`` times the penalty (see :mod:`sklearn_losses.penalties`):

    .. math::

        \frac{\sum_i w_i \ell(y_i, x_i^\top W + b)}{\sum_i w_i}
        + \alpha \Big(\rho \lVert W \rVert_1 + \frac{1-\rho}{2}\lVert W \rVert_2^2\Big)

    Predictions are the loss's inverse link of the raw prediction (``exp``
    for Poisson, Gamma and Tweedie). Multi-output targets ``y`` of shape
    (n_samples, n_outputs) fit one row of ``coef_`` per output (the loss is
    averaged over outputs). Distribution losses (``kl_divergence``,
    ``soft_cross_entropy``) take rows of probabilities as ``y``, fit one row
    of coefficients per column, and ``predict`` returns probability rows.

    Parameters
    ----------
    loss : str or loss instance, default="squared_error"
        A registered name (:func:`~sklearn_losses.losses.available_losses`),
        a loss instance (its parameters are tunable as ``loss__<name>``) or a
        custom loss (:func:`~sklearn_losses.losses.make_loss`).
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
    alpha : float, default=1e-4
        Penalty strength, independent of the number of samples.
    l1_ratio : float, default=0.15
        L1 share of the ``"elasticnet"`` penalty.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept.
    solver : {"auto", "lbfgs", "newton", "newton-cg", "ipm", "dcd", "sgd", "adam"}, default="auto"
        ``"auto"`` picks an exact method from the loss's declared properties:
        for piecewise-linear losses (absolute, pinball, epsilon-insensitive,
        hinge) the interior-point method on dense X and dual coordinate
        descent (``"dcd"``, L2 penalty) on sparse X; L-BFGS for differentiable
        ones (any penalty; L1 exactly). ``"newton"`` (diagonal hessians) and
        ``"newton-cg"`` (any smooth, twice differentiable loss, softmax
        included) are second-order alternatives for L2 or no penalty.
        ``"sgd"``/``"adam"`` are minibatch methods for large data, early
        stopping and ``partial_fit``.
    max_iter : int, default=1000
        Iterations (full-batch solvers; passes over the data for ``"dcd"``)
        or epochs (stochastic solvers).
    tol : float, default=1e-4
        L-BFGS/Newton/Newton-CG: largest gradient component, relative to the
        largest component of the loss gradient at zero coefficients; interior
        point: relative duality gap times 1e-7 (at most 1e-9: the method
        converges fast, and exact solutions need a small gap); dual coordinate
        descent: duality gap relative to the objective times 1e-2; stochastic
        solvers: the improvement below which an epoch counts towards
        ``n_iter_no_change``.
    warm_start : bool, default=False
        Start from the previous solution.
    early_stopping : bool, default=False
        Stochastic solvers: hold out ``validation_fraction`` of the data, stop
        when the validation objective stops improving and keep the best
        coefficients. With ``solver="auto"`` this selects ``"adam"``.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
        Stochastic solvers: stop once more than ``n_iter_no_change``
        consecutive epochs did not improve the best monitored objective by
        ``tol`` (scikit-learn's MLP rule, the same in every estimator of the
        package).
    batch_size : int or "auto", default="auto"
        Minibatch size of the stochastic solvers (``"auto"``:
        ``min(200, n_samples)``, as scikit-learn's MLP).
    learning_rate_init : float, default=0.01
        Step size of the stochastic solvers (``eta0`` of SGD's schedules).
    learning_rate : {"constant", "invscaling", "optimal", "adaptive"}, default="constant"
        ``solver="sgd"``: the step-size schedule, as scikit-learn's SGD
        estimators define it, with ``t`` the number of samples seen before a
        step plus one: ``"constant"``: ``eta0``; ``"invscaling"``: ``eta0 /
        t^power_t``; ``"optimal"``: ``1 / (alpha (t0 + t - 1))`` with ``t0``
        by Bottou's heuristic (needs ``alpha > 0``); ``"adaptive"``: ``eta0``
        until more than ``n_iter_no_change`` epochs fail to improve by
        ``tol``, then divided by 5 each time (training stops once it falls
        below 1e-6). Adam always uses ``learning_rate_init``.
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    average : bool or int, default=False
        Averaged SGD (or Adam): the model is the running mean of the
        iterates, from the first step (``True``) or once ``average`` samples
        were seen, as scikit-learn's SGD estimators; training continues from
        the last iterate.
    shuffle : bool, default=True
        Stochastic solvers: shuffle the rows once per fit and visit the
        minibatches in a new random order every epoch; ``False`` visits them
        in the order of the data.
    momentum : float, default=0.9
        ``solver="sgd"``: momentum of the updates, in [0, 1].
    nesterovs_momentum : bool, default=True
        ``solver="sgd"``: Nesterov's momentum (with ``momentum > 0``).
    beta_1, beta_2 : float, default=0.9, 0.999
        ``solver="adam"``: decay rates of the first and second moment
        estimates, in [0, 1).
    epsilon : float, default=1e-8
        ``solver="adam"``: added to the square root of the second moment.
        The updates are those of scikit-learn's MLP optimisers.
    n_jobs : int or None, default=None
        Number of processes that solve independent problems (the targets of
        a multi-output fit with a loss of one output, the classes of a
        one-vs-rest fit) at once, as in joblib; ``None`` means 1. The results
        are the same for every ``n_jobs``.
    random_state : int, RandomState or None, default=None
        Shuffling and validation split of the stochastic solvers.
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
    intercept_ : float or ndarray of shape (n_outputs,)
    loss_ : BaseLoss
        The loss instance used.
    solver_ : str
        The solver used.
    n_iter_ : int
    loss_curve_ : list of float
        The penalised objective after each iteration or epoch.
    validation_loss_curve_ : list of float or None
        The same objective on the validation set (early stopping).
    objective_ : float
        Final value of the penalised objective on the training data.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.
    """

    _tasks = ("regression", "distribution")
    _y_numeric = True

    def __init__(self, loss="squared_error", *, penalty="l2", alpha=1e-4, l1_ratio=0.15, fit_intercept=True,
                 solver="auto", max_iter=1000, tol=1e-4, warm_start=False, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, batch_size="auto", learning_rate_init=0.01,
                 learning_rate="constant", power_t=0.5, average=False, shuffle=True, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_jobs=None, random_state=None, verbose=0):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
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
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _problems(self, y, loss, sample_weight, partial, classes):
        y, multi = regression_targets(type(self).__name__, loss, y)
        if loss.task == "distribution":
            return [_Problem(loss, y, y.shape[1])], sample_weight, {"multi": True}
        if not multi:
            return [_Problem(loss, y)], sample_weight, {"multi": False}
        k = y.shape[1]
        # outputs are separable for an element-wise loss: one problem per output
        # (alpha scaled so the objectives add up to the estimator's objective)
        separable = loss.structure == "elementwise"
        if k == 1 or separable:
            return [_Problem(loss, np.ascontiguousarray(y[:, j]), 1, k) for j in range(k)], sample_weight, \
                {"multi": True}
        return [_Problem(loss, y, k)], sample_weight, {"multi": True}

    def _set_coefficients(self, coefs, intercepts, fitted):
        coef = np.vstack(coefs)
        intercept = np.concatenate([np.atleast_1d(b) for b in intercepts])
        if not fitted["multi"]:
            coef, intercept = coef[0], intercept[0]
        self.coef_, self.intercept_ = coef, intercept
        self._multi = fitted["multi"]

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight)

    @keeps_model_on_failure
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of the stochastic solver (Adam unless ``solver="sgd"``) on the given data."""
        return self._fit(X, y, sample_weight, partial=True)

    def predict_raw(self, X):
        """The raw prediction ``X @ coef_.T + intercept_`` (before the inverse link).

        Regressors have no ``decision_function`` (scikit-learn's convention);
        this is the quantity the loss sees as ``raw_prediction``.
        """
        return self._raw_predict(X)

    def predict(self, X):
        """Predictions in target space: the loss's inverse link of the raw prediction."""
        raw = self._raw_predict(X)
        return self.loss_.inverse_link(raw)

    def __sklearn_tags__(self):
        return regression_target_tags(super().__sklearn_tags__(), self)
