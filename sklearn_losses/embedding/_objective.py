"""The objective of an embedding: an embedding loss of ``f_theta(X)`` with the labels, for the shared solvers.

:class:`EmbeddingObjective` gives the full-batch L-BFGS of
:mod:`sklearn_losses.solvers.lbfgs` and the minibatch epochs of
:mod:`sklearn_losses.solvers.sgd` what they ask of a linear model's
objective: the loss and its gradient in a flat parameter vector, on all rows
or on a slice of consecutive rows (a minibatch). The penalised parameters
lead the vector (the solvers' ``n_outputs * n_features`` block): the whole
matrix of a linear map, the coefficients of a network before its intercepts.

A model (:class:`LinearMap`, :class:`NetworkMap`) maps parameters and rows to
embeddings and back-propagates the loss's gradient in the embeddings; it
never looks at the loss, and the loss never at the model.
"""

import numpy as np

from ..neural_network._network import Network

__all__ = ["EmbeddingObjective", "LinearMap", "NetworkMap"]


class LinearMap:
    """``r = X L^T`` with ``L`` of shape (n_components, n_features), flattened C-ordered."""

    def __init__(self, n_components, n_features):
        self.shape = (int(n_components), int(n_features))
        self.n_outputs = self.shape[0]
        self.n_params = self.n_penalised = self.shape[0] * self.shape[1]

    def embed(self, theta, X):
        return X @ theta.reshape(self.shape).T

    def loss_gradient(self, theta, X, y, w, loss):
        raw = self.embed(theta, X)
        if not np.all(np.isfinite(raw)):  # a trial step too far: the solvers back off from an infinite value
            return np.inf, np.zeros(self.n_params)
        value, g = loss.loss_gradient(y, raw, w, check_input=False)
        return value, (g.T @ X).ravel()


class NetworkMap:
    """A fully connected network (:class:`~sklearn_losses.neural_network._network.Network`) whose linear
    output layer is the embedding; its coefficients lead its parameters, so they are the penalised block."""

    def __init__(self, units, activation):
        self.network = Network(units, activation, np.float64, vector_output=True)
        self.n_outputs = self.network.n_outputs
        self.n_params = self.network.n_params
        self.n_penalised = self.network.n_coef

    def embed(self, theta, X):
        return self.network.raw_prediction(theta, X)

    def loss_gradient(self, theta, X, y, w, loss):
        if not np.all(np.isfinite(theta)):
            return np.inf, np.zeros(self.n_params)
        grad = np.empty(self.n_params)
        with np.errstate(over="ignore", invalid="ignore"):
            value, _ = self.network.objective(theta, np.ascontiguousarray(X), y, w, loss, 0.0, grad)
        return value, grad


class EmbeddingObjective:
    """Embedding loss of ``model`` on rows ``X`` with labels ``y`` (weights ``sample_weight``).

    The value of a minibatch (``rows=(start, stop)``) is the loss of that
    batch: an embedding loss is a function of the batch's pairs, so a
    minibatch objective is the loss of its pairs, not a slice of a sum.
    """

    n_outputs = 1
    has_epoch_kernel = False
    lower_bounds = None

    def __init__(self, model, loss, X, y, sample_weight):
        self.model, self.loss, self.X, self.y = model, loss, X, y
        self.sample_weight = sample_weight
        self.n_samples = X.shape[0]
        self.n_features = model.n_penalised
        self.n_params = model.n_params
        self._start = None

    def loss_gradient(self, theta, rows=None):
        X, y, w = self.X, self.y, self.sample_weight
        if rows is not None:
            start, stop = rows
            X, y = X[start:stop], y[start:stop]
            w = None if w is None else w[start:stop]
        if w is not None and not np.sum(w) > 0:
            return 0.0, np.zeros(self.n_params)
        return self.model.loss_gradient(theta, X, y, w, self.loss)

    def set_start(self, theta, rows=None):
        """Evaluate the start ``theta`` once (on ``rows`` only: a minibatch fit's divergence check needs a scale,
        not the full-batch loss, which costs ``O(n^2)``)."""
        value, grad = self.loss_gradient(theta, rows)
        self._start = (np.array(theta, dtype=np.float64), grad, value)

    def known_value(self, theta):
        start = self._start
        return start[2] if start is not None and np.array_equal(theta, start[0]) else None

    def gradient_scale(self):
        """Largest component of the gradient at the start (1 if that is 0 or unknown): the solvers'
        tolerances are relative to it."""
        if self._start is None:
            return 1.0
        grad = self._start[1]
        scale = float(np.max(np.abs(grad))) if grad.size else 0.0
        return scale if np.isfinite(scale) and scale > 0 else 1.0
