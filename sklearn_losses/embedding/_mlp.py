"""MLPEmbedding: a fully connected network whose linear output layer is the embedding."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..neural_network._base import _BaseMLP
from ..neural_network._kernels import ACTIVATIONS
from ._base import _Embedding
from ._objective import NetworkMap

__all__ = ["MLPEmbedding"]


class MLPEmbedding(_Embedding):
    r"""Non-linear embedding ``r = f_\theta(x)`` by a small network, trained on any embedding loss.

    The network has the hidden layers ``hidden_layer_sizes`` (with
    ``activation``) and a linear output layer of ``n_components`` units: the
    embedding. It minimises

    .. math:: \mathcal{L}(y, f_\theta(X)) + \frac{\alpha}{2} \sum_l \lVert W_l \rVert_F^2

    (intercepts not penalised) on class-balanced minibatches (``"adam"``,
    ``"sgd"``) or on the whole training set (``"lbfgs"``). Weights start as
    scikit-learn's MLP draws them (Glorot uniform).

    Parameters
    ----------
    loss : str or embedding loss, default="triplet"
        See :class:`LinearEmbedding`.
    hidden_layer_sizes : array-like of int, default=(100,)
    n_components : int or None, default=None
        Units of the output layer (None: the number of features).
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
    alpha : float, default=0.0
        Strength of the L2 penalty on the coefficients.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        See :class:`LinearEmbedding`.
    batch_size : int or "auto", default="auto"
    samples_per_class : int or None, default=None
    learning_rate_init : float, default=0.001
        As scikit-learn's MLP.
    max_iter : int, default=200
    tol : float, default=1e-5
    n_iter_no_change : int, default=10
    early_stopping : bool, default=False
    validation_fraction : float, default=0.1
    normalize_output : bool or "auto", default="auto"
    shuffle : bool, default=True
    warm_start : bool, default=False
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        These as in :class:`LinearEmbedding`.

    Attributes
    ----------
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (fan_in, fan_out): the weights of layer ``i``.
    intercepts_ : list of ndarray
    loss_ : embedding loss
    solver_ : str
    n_iter_ : int
    loss_curve_ : list of float
    validation_loss_curve_ : list of float or None
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when X has feature names
        These as in :class:`LinearEmbedding`.
    """

    _parameter_constraints = {**_Embedding._parameter_constraints,
                              "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
                              "activation": [StrOptions(set(ACTIVATIONS))]}
    _maps_to_any_width = True

    def __init__(self, loss="triplet", hidden_layer_sizes=(100,), n_components=None, *, activation="relu",
                 alpha=0.0, solver="adam", batch_size="auto", samples_per_class=None, learning_rate_init=0.001,
                 max_iter=200, tol=1e-5, n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 normalize_output="auto", shuffle=True, warm_start=False, random_state=None, verbose=0):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.n_components = n_components
        self.activation = activation
        self.alpha = alpha
        self.solver = solver
        self.batch_size = batch_size
        self.samples_per_class = samples_per_class
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.normalize_output = normalize_output
        self.shuffle = shuffle
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def _make_model(self, n_features, n_components):
        sizes = _BaseMLP._hidden_layer_sizes(self)
        return NetworkMap([n_features, *sizes, n_components], self.activation)

    @property
    def _model_signature(self):
        return tuple(_BaseMLP._hidden_layer_sizes(self)), self.activation

    def _initial_theta(self, model, X, labels, rng):
        return model.network.initialize(rng).astype(np.float64)

    def _set_fitted(self, model, theta, dtype):
        coefs, intercepts = model.network.unpack(theta)
        self.coefs_ = [c.astype(dtype) for c in coefs]
        self.intercepts_ = [b.astype(dtype) for b in intercepts]
