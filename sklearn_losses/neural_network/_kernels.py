"""Compiled forward and backward passes of a fully connected network.

All parameters of a network live in one flat array ``params`` (the optimizers
and L-BFGS then work on one vector); ``layers`` is an ``(n_layers, 4)``
integer array of ``(coef offset, intercept offset, fan_in, fan_out)`` per
layer, each layer's coefficients a C-ordered ``(fan_in, fan_out)`` block, as
scikit-learn's ``coefs_``. A minibatch of ``m`` rows keeps its pre-activations
(``Z``) and activations (``A``) in flat work arrays, layer after layer, so one
allocation serves every batch. Matrix products are numba's ``np.dot`` (BLAS);
everything else is a loop compiled with the package's kernel options.

Activation codes: 0 identity, 1 relu, 2 tanh, 3 logistic, 4 gelu (the exact
form ``x * Phi(x)``). Derivatives follow scikit-learn: from the activation
for relu, tanh and logistic; from the pre-activation for gelu.
"""

import math

import numpy as np

from .._jit import njit
from .._config import KERNEL_OPTIONS

__all__ = ["ACTIVATIONS", "backward", "clip_norm", "forward",
           "take_csr_rows", "take_rows"]

ACTIVATIONS = {"identity": 0, "relu": 1, "tanh": 2, "logistic": 3, "gelu": 4}

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(**KERNEL_OPTIONS)
def _activate(code, z):
    if code == 1:
        return z if z > 0.0 else 0.0 * z
    if code == 2:
        return math.tanh(z)
    if code == 3:
        if z >= 0.0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if code == 4:
        return 0.5 * z * (1.0 + math.erf(z * _INV_SQRT2))
    return z


@njit(**KERNEL_OPTIONS)
def _derivative(code, z, a):
    if code == 1:
        return 1.0 if a > 0.0 else 0.0
    if code == 2:
        return 1.0 - a * a
    if code == 3:
        return a * (1.0 - a)
    if code == 4:
        return 0.5 * (1.0 + math.erf(z * _INV_SQRT2)) + z * _INV_SQRT2PI * math.exp(-0.5 * z * z)
    return 1.0


@njit(**KERNEL_OPTIONS)
def _offset(layers, layer, m):
    """Start of ``layer``'s block in the work arrays for a batch of ``m`` rows."""
    start = 0
    for k in range(layer):
        start += m * layers[k, 3]
    return start


@njit(**KERNEL_OPTIONS)
def take_rows(X, order, start, stop, out):
    """Copy rows ``order[start:stop]`` of a dense ``X`` into ``out`` (C-ordered)."""
    d = X.shape[1]
    for i in range(stop - start):
        row = order[start + i]
        for j in range(d):
            out[i, j] = X[row, j]


@njit(**KERNEL_OPTIONS)
def take_csr_rows(data, indices, indptr, order, start, stop, out):
    """Densify rows ``order[start:stop]`` of a CSR matrix into ``out``."""
    d = out.shape[1]
    for i in range(stop - start):
        for j in range(d):
            out[i, j] = 0.0
        row = order[start + i]
        for k in range(indptr[row], indptr[row + 1]):
            out[i, indices[k]] += data[k]


@njit(**KERNEL_OPTIONS)
def forward(Xb, params, layers, activation, Z, A):
    """Forward pass of a batch; returns the offset of the output block in ``Z``.

    The output layer is linear: its block of ``Z`` is the raw prediction the
    loss sees. ``A`` holds the hidden layers' activations.
    """
    m = Xb.shape[0]
    n_layers = layers.shape[0]
    for layer in range(n_layers):
        c0, b0, fan_in, fan_out = layers[layer, 0], layers[layer, 1], layers[layer, 2], layers[layer, 3]
        W = params[c0:c0 + fan_in * fan_out].reshape((fan_in, fan_out))
        o = _offset(layers, layer, m)
        out = Z[o:o + m * fan_out].reshape((m, fan_out))
        if layer == 0:
            np.dot(Xb, W, out)
        else:
            p = _offset(layers, layer - 1, m)
            np.dot(A[p:p + m * fan_in].reshape((m, fan_in)), W, out)
        for i in range(m):
            for j in range(fan_out):
                out[i, j] += params[b0 + j]
        if layer < n_layers - 1:
            act = A[o:o + m * fan_out]
            flat = Z[o:o + m * fan_out]
            for i in range(m * fan_out):
                act[i] = _activate(activation, flat[i])
    return _offset(layers, n_layers - 1, Xb.shape[0])


@njit(**KERNEL_OPTIONS)
def backward(Xb, params, layers, activation, Z, A, delta, grad, D1, D2, penalty):
    """Gradient of the batch objective with respect to ``params``, into ``grad``.

    ``delta`` is the gradient of the (already reduced) batch loss with respect
    to the raw prediction, shape ``(m, n_outputs)``; it is overwritten.
    ``penalty`` multiplies the coefficients in their gradient (the L2 term,
    ``alpha / batch weight``). ``D1`` and ``D2`` are scratch of at least ``m``
    times the widest layer.
    """
    m = Xb.shape[0]
    n_layers = layers.shape[0]
    current = delta
    for layer in range(n_layers - 1, -1, -1):
        c0, b0, fan_in, fan_out = layers[layer, 0], layers[layer, 1], layers[layer, 2], layers[layer, 3]
        W = params[c0:c0 + fan_in * fan_out].reshape((fan_in, fan_out))
        gW = grad[c0:c0 + fan_in * fan_out].reshape((fan_in, fan_out))
        if layer == 0:
            np.dot(Xb.T, current, gW)
        else:
            p = _offset(layers, layer - 1, m)
            inputs = A[p:p + m * fan_in].reshape((m, fan_in))
            np.dot(inputs.T, current, gW)
        for j in range(fan_out):
            grad[b0 + j] = 0.0
        for i in range(m):
            for j in range(fan_out):
                grad[b0 + j] += current[i, j]
        for k in range(fan_in * fan_out):
            grad[c0 + k] += penalty * params[c0 + k]
        if layer > 0:
            scratch = D1 if layer % 2 == 1 else D2
            below = scratch[:m * fan_in].reshape((m, fan_in))
            np.dot(current, W.T, below)
            p = _offset(layers, layer - 1, m)
            z = Z[p:p + m * fan_in]
            a = A[p:p + m * fan_in]
            flat = scratch[:m * fan_in]
            for i in range(m * fan_in):
                flat[i] *= _derivative(activation, z[i], a[i])
            current = below


@njit(**KERNEL_OPTIONS)
def clip_norm(grad, max_norm):
    """Scale ``grad`` in place to Euclidean norm at most ``max_norm``; returns the norm before."""
    total = 0.0
    for k in range(grad.shape[0]):
        total += grad[k] * grad[k]
    norm = math.sqrt(total)
    if norm > max_norm:
        scale = max_norm / norm
        for k in range(grad.shape[0]):
            grad[k] *= scale
    return norm
