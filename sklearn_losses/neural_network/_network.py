"""A fully connected network as one flat parameter vector, and its objective.

The parameters are packed as scikit-learn's L-BFGS packs them: every layer's
coefficients (C-ordered ``(fan_in, fan_out)``), then every layer's
intercepts. The coefficients are therefore one contiguous block, which makes
the L2 term a single dot product. The network reaches its loss only through
the loss's public ``loss_gradient`` (any registered, composite or custom
loss); the layers run in :mod:`._kernels` (BLAS products and in-place NumPy ufuncs).
"""

import numpy as np
import scipy.sparse as sp

from ._kernels import ACTIVATIONS, backward, forward, take_rows

__all__ = ["Network"]

#: Rows per forward pass when predicting (bounds the work arrays' memory).
PREDICT_ROWS = 4096


class Network:
    """Layout, work arrays and objective of a network with ``units`` per layer.

    ``units`` is ``[n_features, *hidden_layer_sizes, n_outputs]``; the output
    layer is linear (its output is the loss's ``raw_prediction``, the loss's
    link turns it into a prediction). The raw prediction of a single output
    is 1-D unless ``vector_output`` (targets of shape ``(n, 1)``).
    """

    def __init__(self, units, activation, dtype, vector_output=False):
        self.units = [int(u) for u in units]
        self.activation = ACTIVATIONS[activation]
        self.activation_name = activation
        self.dtype = np.dtype(dtype)
        pairs = list(zip(self.units[:-1], self.units[1:]))
        self.n_coef = sum(a * b for a, b in pairs)
        self.n_params = self.n_coef + sum(self.units[1:])
        layers = np.empty((len(pairs), 4), dtype=np.int64)
        coef_at, intercept_at = 0, self.n_coef
        for k, (fan_in, fan_out) in enumerate(pairs):
            layers[k] = coef_at, intercept_at, fan_in, fan_out
            coef_at += fan_in * fan_out
            intercept_at += fan_out
        self.layers = layers
        self.n_outputs = self.units[-1]
        self.flat_output = self.n_outputs == 1 and not vector_output
        self._rows = 0

    def __getstate__(self):
        # the work arrays are scratch: not pickled (nor shared by unpickled copies)
        state = {k: v for k, v in self.__dict__.items() if k not in ("Z", "A", "D1", "D2", "G", "Xb")}
        state["_rows"] = 0
        return state

    # ------------------------------------------------------------ parameters
    def initialize(self, rng):
        """Glorot-uniform initial parameters, drawn exactly as scikit-learn's MLP draws them.

        Layer by layer, coefficients then intercepts, uniform on
        ``+-sqrt(factor / (fan_in + fan_out))`` with factor 2 for the logistic
        activation and 6 otherwise; the same ``random_state`` therefore gives
        the same initial weights as ``sklearn.neural_network``.
        """
        factor = 2.0 if self.activation_name == "logistic" else 6.0
        params = np.empty(self.n_params, dtype=self.dtype)
        for c0, b0, fan_in, fan_out in self.layers:
            bound = np.sqrt(factor / (fan_in + fan_out))
            params[c0:c0 + fan_in * fan_out] = rng.uniform(-bound, bound, (fan_in, fan_out)).ravel()
            params[b0:b0 + fan_out] = rng.uniform(-bound, bound, fan_out)
        return params

    def unpack(self, params):
        """``(coefs, intercepts)``: lists of copies shaped as scikit-learn's ``coefs_``, ``intercepts_``."""
        coefs = [params[c0:c0 + a * b].reshape(a, b).copy() for c0, _, a, b in self.layers]
        intercepts = [params[b0:b0 + b].copy() for _, b0, _, b in self.layers]
        return coefs, intercepts

    def pack(self, coefs, intercepts):
        """The flat vector of ``coefs`` and ``intercepts`` (``None`` if their shapes do not fit)."""
        shapes = [(int(a), int(b)) for _, _, a, b in self.layers]
        if [np.shape(c) for c in coefs] != shapes or [np.shape(b) for b in intercepts] != [(b,) for _, b in shapes]:
            return None
        parts = [np.ravel(c) for c in coefs] + [np.ravel(b) for b in intercepts]
        return np.concatenate(parts).astype(self.dtype)

    def penalty_value(self, params):
        """``0.5 * ||coefficients||^2``."""
        coef = params[:self.n_coef]
        return 0.5 * float(np.dot(coef, coef))

    # ------------------------------------------------------------ work arrays
    def _forward_arrays(self, rows):
        """Work arrays ``(Z, A)`` of a forward pass over ``rows`` rows."""
        widths = self.units[1:]
        return (np.empty(rows * sum(widths), dtype=self.dtype),
                np.empty(rows * max(1, sum(widths[:-1])), dtype=self.dtype))

    def _reserve(self, rows):
        if rows > self._rows:
            self.Z, self.A = self._forward_arrays(rows)
            widest = max(self.units)
            self.D1 = np.empty(rows * widest, dtype=self.dtype)
            self.D2 = np.empty(rows * widest, dtype=self.dtype)
            self.G = np.empty(rows * self.n_outputs, dtype=self.dtype)
            self.Xb = np.empty((rows, self.units[0]), dtype=self.dtype)
            self._rows = rows

    def _shaped(self, flat, m):
        block = flat[:m * self.n_outputs]
        return block if self.flat_output else block.reshape(m, self.n_outputs)

    def batch(self, X, order, start, stop):
        """Rows ``order[start:stop]`` of ``X`` as a dense C-ordered block (a view of the work array)."""
        m = stop - start
        self._reserve(m)
        out = self.Xb[:m]
        take_rows(X, order[start:stop], out)
        return out

    def _forward(self, Xb, params):
        """Forward pass of a training batch, into the network's work arrays (kept for ``backward``)."""
        self._reserve(Xb.shape[0])
        offset = forward(Xb, params, self.layers, self.activation, self.Z, self.A)
        return self._shaped(self.Z[offset:], Xb.shape[0])

    def raw_prediction(self, params, X):
        """The output layer (the loss's ``raw_prediction``) for every row of ``X``.

        Thread-safe: the forward passes use work arrays of this call (BLAS
        and the ufuncs release the GIL, so the network's own work arrays,
        which training uses, cannot be shared between concurrent predictions).
        """
        n = X.shape[0]
        out = np.empty((n, self.n_outputs), dtype=self.dtype)
        Z, A = self._forward_arrays(min(n, PREDICT_ROWS))
        for start in range(0, n, PREDICT_ROWS):
            stop = min(start + PREDICT_ROWS, n)
            block = X[start:stop]
            block = block.toarray() if sp.issparse(block) else block
            block = np.ascontiguousarray(block, dtype=self.dtype)
            offset = forward(block, params, self.layers, self.activation, Z, A)
            out[start:stop] = Z[offset:offset + (stop - start) * self.n_outputs].reshape(stop - start,
                                                                                           self.n_outputs)
        return out[:, 0] if self.flat_output else out

    # -------------------------------------------------------------- objective
    def objective(self, params, Xb, yb, wb, loss, alpha, grad):
        """Value of ``mean loss + alpha / (2 * weight) * ||coef||^2`` on a batch; its gradient into ``grad``.

        The loss is the weighted mean over the batch (over outputs too, for
        element-wise losses on several outputs); ``weight`` is the batch's
        total sample weight (its size when unweighted), as scikit-learn's
        MLP, so that an integer weight is the same as a repeated sample.
        Returns ``(value, weight)``.
        """
        m = Xb.shape[0]
        raw = self._forward(Xb, params)
        gradient_out = self._shaped(self.G, m)
        value, _ = loss.loss_gradient(yb, raw, sample_weight=wb, gradient_out=gradient_out, check_input=False)
        weight = float(m if wb is None else np.sum(wb))
        penalty = alpha / weight
        backward(Xb, params, self.layers, self.activation, self.Z, self.A,
                 self.G[:m * self.n_outputs].reshape(m, self.n_outputs), grad, self.D1, self.D2, penalty)
        return value + penalty * self.penalty_value(params), weight
