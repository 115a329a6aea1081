"""LinearEmbedding: a linear map ``x -> L x`` trained on any embedding loss (a metric learner, as NCA)."""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ._base import _Embedding
from ._objective import LinearMap

__all__ = ["LinearEmbedding", "pca_directions"]


def pca_directions(X, n_components):
    """The ``n_components`` leading principal directions of ``X`` (rows, unit norm), completed to any number up
    to the number of features by the remaining eigenvectors of the covariance (so one sample or constant
    features still give a full-rank start)."""
    top = float(np.max(np.abs(X))) if X.size else 0.0
    centred = X / (top if np.isfinite(top) and top > 0 else 1.0)  # the directions do not depend on the scale
    centred = centred - centred.mean(axis=0)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    directions = vectors[:, ::-1].T[:n_components]
    # a deterministic sign, as scikit-learn's PCA (svd_flip): each direction's largest entry positive
    signs = np.sign(directions[np.arange(directions.shape[0]), np.argmax(np.abs(directions), axis=1)])
    return directions * np.where(signs == 0, 1.0, signs)[:, None]


class LinearEmbedding(_Embedding):
    r"""Linear embedding ``r = L x`` learned by minimising an embedding loss (contrastive, triplet, NT-Xent,
    SupCon, or any loss with ``task="embedding"``).

    Minimises

    .. math:: \mathcal{L}(y, X L^\top) + \frac{\alpha}{2} \lVert L \rVert_F^2

    with ``L`` of shape (n_components, n_features): the loss of the whole
    training set (``solver="lbfgs"``) or of class-balanced minibatches
    (``"adam"``, ``"sgd"``). As :class:`~sklearn.neighbors.NeighborhoodComponentsAnalysis`,
    a supervised transformer whose ``components_`` is ``L``; unlike it, the
    loss is a parameter and the minibatch solvers need memory linear in the
    number of samples.

    Parameters
    ----------
    loss : str or embedding loss, default="triplet"
        A registered embedding loss (``"contrastive"``, ``"triplet"``,
        ``"ntxent"``, ``"supcon"``) or an instance, whose parameters are then
        this estimator's (``loss__margin`` in a grid search).
    n_components : int or None, default=None
        Dimension of the embedding (None: the number of features).
    init : {"pca", "lda", "identity", "random"} or ndarray of shape (n_components, n_features), default="pca"
        The start: the leading principal directions; the discriminant
        directions of :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`
        (at most ``n_classes - 1``, the rest principal directions); the first
        rows of the identity; standard normal entries; or a given matrix.
    alpha : float, default=0.0
        Strength of the L2 penalty ``alpha / 2 * ||L||^2``. With a
        normalising loss the loss does not depend on the scale of ``L``, so a
        penalty only shrinks it.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        Minibatch Adam or SGD on class-balanced batches, or full-batch
        L-BFGS (``O(n^2)`` pairs per evaluation: small sets only).
    batch_size : int or "auto", default="auto"
        Rows per minibatch of the stochastic solvers (``"auto"``: 256);
        the batch holds ``samples_per_class`` rows of every class.
    samples_per_class : int or None, default=None
        Rows of each class per minibatch (None: ``max(2, batch_size // n_classes)``).
    learning_rate_init : float, default=0.01
        Step size of Adam and SGD.
    max_iter : int, default=200
        Iterations of L-BFGS, or epochs of the stochastic solvers.
    tol : float, default=1e-5
        L-BFGS: tolerance on the gradient relative to that at the start;
        stochastic: the improvement of the monitored loss that counts.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before a stochastic fit stops.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` (stratified) and stop on its loss,
        keeping the best parameters (stochastic solvers).
    validation_fraction : float, default=0.1
    normalize_output : bool or "auto", default="auto"
        Divide each embedding of :meth:`transform` by its norm; ``"auto"``:
        when the loss normalises (``loss.normalize``).
    shuffle : bool, default=True
        Visit the minibatches in a new random order every epoch.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The linear map ``L``.
    loss_ : embedding loss
        The loss that was minimised.
    solver_ : str
    n_iter_ : int
    loss_curve_ : list of float
        Objective after each iteration (L-BFGS) or epoch (its mean over the
        minibatches).
    validation_loss_curve_ : list of float or None
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when X has feature names

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_losses.embedding import LinearEmbedding
    >>> X, y = load_digits(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), LinearEmbedding("triplet", n_components=16, random_state=0),
    ...                       KNeighborsClassifier(3)).fit(X[:1000], y[:1000])
    >>> round(model.score(X[1000:], y[1000:]), 2) > 0.9
    True
    """

    _parameter_constraints = {**_Embedding._parameter_constraints,
                              "init": [StrOptions({"pca", "lda", "identity", "random"}), np.ndarray]}

    def __init__(self, loss="triplet", n_components=None, *, init="pca", alpha=0.0, solver="adam",
                 batch_size="auto", samples_per_class=None, learning_rate_init=0.01, max_iter=200, tol=1e-5,
                 n_iter_no_change=10, early_stopping=False, validation_fraction=0.1, normalize_output="auto",
                 shuffle=True, warm_start=False, random_state=None, verbose=0):
        self.loss = loss
        self.n_components = n_components
        self.init = init
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
        return LinearMap(n_components, n_features)

    def _initial_theta(self, model, X, labels, rng):
        k, p = model.shape
        init = self.init
        if isinstance(init, np.ndarray):
            if init.shape != (k, p):
                raise ValueError(f"init: a given matrix must have shape (n_components, n_features) = {(k, p)}; "
                                 f"got {init.shape}.")
            if not np.all(np.isfinite(init)):
                raise ValueError("init: the given matrix contains NaN or infinity.")
            L = np.asarray(init, dtype=np.float64)
        elif init == "identity":
            L = np.eye(k, p)
        elif init == "random":
            L = rng.standard_normal((k, p))
        elif init == "pca":
            L = pca_directions(X, k)
        else:
            L = self._lda_directions(X, labels, k)
        return np.ascontiguousarray(L, dtype=np.float64).ravel()

    @staticmethod
    def _lda_directions(X, labels, k):
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        n_classes = np.unique(labels).size
        if n_classes < 2:
            raise ValueError("init='lda' needs at least 2 classes in y; use init='pca'.")
        lda = LinearDiscriminantAnalysis().fit(X, labels)
        directions = lda.scalings_.T[:k]
        if directions.shape[0] == k:
            return directions
        # fewer discriminant directions than components: the rest are principal directions, scaled as the LDA
        # ones and orthogonalised against them
        scale = float(np.mean(np.linalg.norm(directions, axis=1))) if directions.size else 1.0
        basis = np.linalg.qr(directions.T)[0] if directions.size else np.zeros((X.shape[1], 0))
        rest = pca_directions(X, X.shape[1])
        rest = rest - (rest @ basis) @ basis.T
        keep = np.argsort(-np.linalg.norm(rest, axis=1), kind="stable")[:k - directions.shape[0]]
        rest = rest[np.sort(keep)]
        rest /= np.maximum(np.linalg.norm(rest, axis=1, keepdims=True), 1e-300)
        return np.vstack([directions, scale * rest])

    def _set_fitted(self, model, theta, dtype):
        self.components_ = theta.reshape(model.shape).astype(dtype)
