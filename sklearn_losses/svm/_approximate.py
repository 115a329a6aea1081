"""The approximate kernel path: explicit features and a linear model, for data too large for the kernel matrix.

With ``kernel_approximation="nystroem"`` (any named kernel) or
``"random_fourier"`` (rbf), X is mapped to ``n_components`` features
(:class:`sklearn.kernel_approximation.Nystroem`,
:class:`~sklearn.kernel_approximation.RBFSampler`) whose inner products
approximate the kernel, and a :class:`~sklearn_losses.linear_model.LinearClassifier`
or :class:`~sklearn_losses.linear_model.LinearRegressor` with the same loss
is fitted on them: the cost is linear in n, and ``partial_fit`` streams
batches (the map is fitted on the first one; ``partial_fit_epochs`` passes
of the linear model's stochastic solver, Adam unless ``stochastic_params``
says otherwise, with ``learning_rate_init`` and ``batch_size`` over each). The L2 penalty is
``alpha = 1 / (C * sum(sample_weight))``, the exact path's objective; for
``partial_fit`` the total weight is unknown, so ``alpha`` must be given.
"""

import copy

import numpy as np
from sklearn.kernel_approximation import Nystroem, RBFSampler

from ..linear_model import LinearClassifier, LinearRegressor

__all__ = ["APPROXIMATIONS", "approximate_decision", "approximate_fit", "approximate_partial_fit"]

APPROXIMATIONS = ("nystroem", "random_fourier")


def _feature_map(estimator, gamma):
    if callable(estimator.kernel) or estimator.kernel == "precomputed":
        raise ValueError("kernel_approximation needs a named kernel ('linear', 'rbf', 'poly' or 'sigmoid'); "
                         f"got kernel={estimator.kernel!r}.")
    if estimator.kernel_approximation == "random_fourier":
        if estimator.kernel != "rbf":
            raise ValueError(f"kernel_approximation='random_fourier' approximates the rbf kernel; got "
                             f"kernel={estimator.kernel!r} (use 'nystroem').")
        return RBFSampler(gamma=gamma, n_components=estimator.n_components, random_state=estimator.random_state)
    return Nystroem(kernel=estimator.kernel, gamma=gamma, degree=estimator.degree, coef0=estimator.coef0,
                    n_components=estimator.n_components, random_state=estimator.random_state)


def _linear(estimator, loss, alpha, solver):
    cls = LinearRegressor if estimator._y_numeric else LinearClassifier
    return cls(loss, alpha=alpha, solver=solver, tol=estimator.tol,
               max_iter=1000 if estimator.max_iter == -1 else estimator.max_iter,
               n_jobs=getattr(estimator, "n_jobs", None), random_state=estimator.random_state,
               verbose=estimator.verbose)


#: The linear models' stochastic settings that ``stochastic_params`` may set, beyond ``solver``.
STOCHASTIC_PARAMS = ("learning_rate", "power_t", "momentum", "nesterovs_momentum", "beta_1", "beta_2", "epsilon",
                     "average", "shuffle", "batch_sampler", "samples_per_class")


def _stochastic_params(estimator, linear):
    """``stochastic_params`` checked against what the linear model streams with (errors name the key)."""
    params = dict(estimator.stochastic_params or {})
    allowed = ["solver", *(name for name in STOCHASTIC_PARAMS if name in linear.get_params())]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"stochastic_params: unknown key(s) {unknown} for {type(estimator).__name__}; "
                         f"expected some of {allowed}.")
    solver = params.setdefault("solver", "adam")
    if solver not in ("sgd", "adam"):
        raise ValueError(f"stochastic_params['solver'] must be 'sgd' or 'adam'; got {solver!r}.")
    return params


def approximate_fit(estimator, X, y, weight, loss, gamma):
    """Fit ``feature_map_`` and ``linear_`` on all of X (``weight``: sample times class weights)."""
    alpha = estimator.alpha if estimator.alpha is not None else 1.0 / (estimator.C * float(weight.sum()))
    estimator.feature_map_ = _feature_map(estimator, gamma).fit(X)
    estimator.linear_ = _linear(estimator, loss, alpha, "auto").fit(
        estimator.feature_map_.transform(X), y, sample_weight=weight)
    return estimator


def approximate_partial_fit(estimator, X, y, weight, loss, gamma, classes=None):
    """One minibatch step; the first call fits the feature map on its batch."""
    if estimator.alpha is None:
        raise ValueError(f"{type(estimator).__name__}.partial_fit needs alpha (the L2 strength of the mean "
                         "loss): C scales with the total sample weight, which streaming does not know. For "
                         "the objective of fit on n samples use alpha = 1 / (C * n).")
    first = not hasattr(estimator, "linear_")
    if first:
        feature_map = _feature_map(estimator, gamma).fit(X)
        linear = _linear(estimator, loss, estimator.alpha, "adam")
    else:  # a copy: a call that fails keeps the model as it was
        feature_map, linear = estimator.feature_map_, copy.deepcopy(estimator.linear_)
    # the streaming settings are read at every call (set_params between calls applies)
    linear.set_params(learning_rate_init=estimator.learning_rate_init, batch_size=estimator.batch_size,
                      **_stochastic_params(estimator, linear))
    try:
        linear._validate_params()
    except ValueError as error:  # name the estimator's parameter the bad value came through
        raise ValueError(f"stochastic_params of {type(estimator).__name__}: {error}") from None
    if not estimator._y_numeric:  # "balanced" streams as the linear classifier's: by the running class counts
        linear.set_params(class_weight="balanced" if estimator.class_weight == "balanced" else None)
    features = feature_map.transform(X)
    for _ in range(estimator.partial_fit_epochs):  # passes over this batch (one pass over the stream)
        if estimator._y_numeric:
            linear.partial_fit(features, y, sample_weight=weight)
        else:
            linear.partial_fit(features, y, classes=classes, sample_weight=weight)
    estimator.feature_map_, estimator.linear_ = feature_map, linear
    return estimator


def approximate_decision(estimator, X):
    """The linear model's raw decision values on the mapped features."""
    linear = estimator.linear_
    raw = linear.decision_function if hasattr(linear, "decision_function") else linear.predict_raw
    return np.asarray(raw(estimator.feature_map_.transform(X)))
