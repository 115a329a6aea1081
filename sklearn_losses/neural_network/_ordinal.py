"""MLPOrdinalClassifier: a small network trained on any ordinal loss.

Threshold losses: the network has one output, the latent score ``f(x)``, and
K - 1 thresholds that are parameters of the model, ordered by construction:
``theta_0 = u_0``, ``theta_k = theta_{k-1} + softplus(u_k)`` (any ``u`` gives
ordered thresholds, so every solver, stochastic ones included, trains them
without constraints; the L2 penalty does not reach them). CORN: K - 1 free
outputs, an ordinary network.
"""

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions

from .._estimator import keeps_model_on_failure
from .._targets import categorical_order, ordinal_classes, resolve_loss
from ..linear_model._ordinal import OrdinalPredictionMixin, expand_thresholds, weighted_present_classes
from ._base import _BaseMLP, _StreamingClassifierMixin
from ._classes import _ATTRIBUTES_DOC, _SHARED_DOC
from ._kernels import backward
from ._network import Network

__all__ = ["MLPOrdinalClassifier"]


def _softplus(u):
    return np.logaddexp(0.0, u)


class ThresholdNetwork(Network):
    """A network with one output ``f`` and ``n_thresholds`` ordered thresholds after its layers' parameters.

    Its raw prediction is the rows ``z_k = f - theta_k``.
    """

    def __init__(self, units, activation, dtype, n_thresholds):
        super().__init__(units, activation, dtype)
        self.n_layer_params = self.n_params
        self.n_thresholds = int(n_thresholds)
        self.n_params += self.n_thresholds

    def initialize(self, rng):
        params = super().initialize(rng)  # the layers' parameters, drawn as scikit-learn draws them; then
        self.set_thresholds(params, np.arange(self.n_thresholds) - 0.5 * (self.n_thresholds - 1))
        return params

    def thresholds(self, params):
        u = np.asarray(params[self.n_layer_params:], dtype=np.float64)
        return u[0] + np.concatenate([[0.0], np.cumsum(_softplus(u[1:]))])

    def set_thresholds(self, params, theta):
        """Write ordered thresholds ``theta`` (gaps floored at 1e-6) into ``params``."""
        gaps = np.maximum(np.diff(np.asarray(theta, dtype=np.float64)), 1e-6)
        params[self.n_layer_params:] = np.concatenate([[theta[0]], np.log(np.expm1(gaps))])

    def pack(self, coefs, intercepts, thresholds=None):
        layers = super().pack(coefs, intercepts)
        if layers is None or thresholds is None or np.shape(thresholds) != (self.n_thresholds,):
            return None
        params = np.concatenate([layers, np.zeros(self.n_thresholds, dtype=self.dtype)])
        self.set_thresholds(params, thresholds)
        return params

    def raw_prediction(self, params, X):
        f = super().raw_prediction(params, X)
        return (f[:, None] - self.thresholds(params)[None, :]).astype(self.dtype, copy=False)

    def objective(self, params, Xb, yb, wb, loss, alpha, grad):
        m = Xb.shape[0]
        f = self._forward(Xb, params)
        theta = self.thresholds(params)
        z = np.ascontiguousarray(f[:, None] - theta[None, :].astype(self.dtype))
        value, G = loss.loss_gradient(yb, z, sample_weight=wb, check_input=False)
        weight = float(m if wb is None else np.sum(wb))
        penalty = alpha / weight
        self.G[:m] = G.sum(axis=1)
        backward(Xb, params, self.layers, self.activation, self.Z, self.A, self.G[:m].reshape(m, 1), grad,
                 self.D1, self.D2, penalty)
        g_theta = -G.sum(axis=0).astype(np.float64)
        after = np.cumsum(g_theta[::-1])[::-1]  # d/d theta_j of sum over k >= j
        u = np.asarray(params[self.n_layer_params:], dtype=np.float64)
        grad[self.n_layer_params] = after[0]
        grad[self.n_layer_params + 1:] = expit(u[1:]) * after[1:]
        return value + penalty * self.penalty_value(params), weight


class MLPOrdinalClassifier(OrdinalPredictionMixin, ClassifierMixin, _StreamingClassifierMixin, _BaseMLP):
    __doc__ = rf"""Multi-layer perceptron for ordered classes, trained on any ordinal loss.

    Threshold losses (cumulative link, all- and immediate-threshold, CORAL)
    give one output, the latent score ``f(x)``, compared with K - 1 ordered
    thresholds that are trained with the network (``theta_k = theta_{{k-1}}
    + softplus(u_k)``: ordered for any parameters, and not penalised); CORN
    gives K - 1 outputs, the conditional scores. Labels, class order, absent
    classes, ``prediction`` and the probabilities are those of
    :class:`~sklearn_losses.linear_model.OrdinalClassifier`.

    Parameters
    ----------
    loss : str or loss instance, default="cumulative_logit"
        An ordinal loss.
    classes : array-like or None, default=None
        The classes from lowest to highest (default: a pandas ordered
        categorical's categories, else the sorted labels). With ``fit``, a
        class without samples gets an empty interval (zero probability);
        ``partial_fit`` trains thresholds for every class from the first call.
    prediction : {{"median", "mode"}}, default="median"
    class_weight : dict, "balanced" or None, default=None
    {_SHARED_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    thresholds_ : ndarray of shape (n_classes - 1,)
        The ordered thresholds (threshold losses; CORN: ``None``).
    {_ATTRIBUTES_DOC}"""

    _tasks = ("ordinal",)
    _y_numeric = False
    _parameter_constraints = {
        **_BaseMLP._parameter_constraints,
        "classes": ["array-like", None],
        "prediction": [StrOptions({"median", "mode"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, loss="cumulative_logit", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, batch_size="auto", learning_rate="constant", learning_rate_init=1e-3,
                 power_t=0.5, max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 max_fun=15000, max_grad_norm=None, classes=None, prediction="median", class_weight=None,
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
        self.classes = classes
        self.prediction = prediction
        self.class_weight = class_weight
        self.output_bias_init = output_bias_init

    # ---------------------------------------------------------------- targets
    def _targets(self, y, sample_weight, partial, classes):
        name = type(self).__name__
        loss = resolve_loss(self, self.loss)
        self._check_prediction(loss)
        if partial:
            classes_ = self.classes_
            _, ranks = ordinal_classes(name, y, classes_)
        else:
            order = classes if classes is not None else self.classes
            classes_, ranks = ordinal_classes(name, y, order if order is not None else self._y_order)
        sample_weight, present = weighted_present_classes(name, classes_, ranks, sample_weight, self.class_weight,
                                                          streaming=partial or classes is not None)
        Y = np.searchsorted(present, ranks).astype(np.float64)
        return loss, Y, present.size - 1, sample_weight, {"classes": classes_, "present": present}

    def _set_targets(self, fitted):
        self.classes_, self._present = fitted["classes"], fitted["present"]

    def _stratify(self, Y):
        return Y

    # ---------------------------------------------------------------- network
    def _make_network(self, units, dtype, Y, loss):
        if getattr(loss, "shared_score", True):
            return ThresholdNetwork([*units[:-1], 1], self.activation, dtype, units[-1])
        return Network(units, self.activation, dtype, vector_output=True)

    def _packed(self, network):
        if isinstance(network, ThresholdNetwork):  # the thresholds of the classes the network was fitted on
            return network.pack(self.coefs_, self.intercepts_, self._fitted_thresholds)
        return network.pack(self.coefs_, self.intercepts_)

    def _unpack(self, network, params):
        self.coefs_, self.intercepts_ = network.unpack(params)
        if isinstance(network, ThresholdNetwork):
            self._fitted_thresholds = network.thresholds(params).astype(network.dtype)  # float32 stays float32
            self.thresholds_ = expand_thresholds(self._fitted_thresholds, self._present, self.classes_.shape[0],
                                                 True).astype(network.dtype)
        else:
            self._fitted_thresholds, self.thresholds_ = None, None

    def _start_output_bias(self, network, params, loss, Y, sample_weight, n_outputs):
        """Thresholds (and CORN's biases) at the loss's best constant; the latent score's bias at 0."""
        try:
            row = loss.baseline_prediction(Y, sample_weight, n_classes=n_outputs + 1)
        except ValueError:
            return
        if not np.all(np.isfinite(row)):
            return
        _, b0, _, fan_out = network.layers[-1]
        if isinstance(network, ThresholdNetwork):
            params[b0:b0 + fan_out] = 0.0
            network.set_thresholds(params, np.maximum.accumulate(-row))
        else:
            params[b0:b0 + fan_out] = row

    # ---------------------------------------------------------------- fit and predict
    _y_order = None  # a pandas ordered categorical's categories, read before the labels become an array

    @keeps_model_on_failure
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and ordered labels ``y`` (a pandas ordered categorical gives its order)."""
        self._y_order = categorical_order(y)
        try:
            return self._fit(X, y, sample_weight)
        finally:
            del self._y_order

    def raw_prediction(self, X):
        """The rows the loss scores, shape (n, n_classes - 1): ``f - theta_k``, or CORN's scores."""
        raw = self._raw_predict(X)
        if self._present.size == self.classes_.shape[0]:
            return raw
        if isinstance(self._network, ThresholdNetwork):
            f = raw[:, 0] + self._fitted_thresholds[0]
            return f[:, None] - self.thresholds_[None, :]
        return expand_thresholds(raw, self._present, self.classes_.shape[0], False)

    def decision_function(self, X):
        """The latent score ``f(x)`` (CORN: its K - 1 scores)."""
        raw = self._raw_predict(X)
        if isinstance(self._network, ThresholdNetwork):
            return raw[:, 0] + self._fitted_thresholds[0]
        return self.raw_prediction(X)
