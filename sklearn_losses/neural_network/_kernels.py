"""Forward and backward passes of a fully connected network, on NumPy.

All parameters of a network live in one flat array ``params`` (the optimizers
and L-BFGS then work on one vector); ``layers`` is an ``(n_layers, 4)``
integer array of ``(coef offset, intercept offset, fan_in, fan_out)`` per
layer, each layer's coefficients a C-ordered ``(fan_in, fan_out)`` block, as
scikit-learn's ``coefs_``. A minibatch of ``m`` rows keeps its pre-activations
(``Z``) and activations (``A``) in flat work arrays, layer after layer, so one
allocation serves every batch.

Every step is a BLAS product or a NumPy ufunc writing into the work arrays
(``out=``), with no compiled function of the package's own: written as
compiled loops they ran no faster (``benchmarks/bench_mlp.py``; the products
dominate, and NumPy's ``tanh``, ``exp`` and ``erf`` are vectorised), and they
cost a first fit with a cold cache 2.2 s of compilation (issue 18,
``benchmarks/bench_startup.py``). The ufuncs and BLAS release the GIL, so
concurrent predictions run in parallel.

Activation codes: 0 identity, 1 relu, 2 tanh, 3 logistic, 4 gelu (the exact
form ``x * Phi(x)``). Derivatives follow scikit-learn: from the activation
for relu, tanh and logistic; from the pre-activation for gelu.
"""

import math

import numpy as np
import scipy.sparse as sp
from scipy.special import erf, expit

__all__ = ["ACTIVATIONS", "backward", "clip_norm", "forward", "take_rows"]

ACTIVATIONS = {"identity": 0, "relu": 1, "tanh": 2, "logistic": 3, "gelu": 4}

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _activate(code, z, out):
    """``out = activation(z)`` (arrays of the same shape)."""
    if code == 1:
        np.maximum(z, 0.0, out=out)  # NaN stays NaN
    elif code == 2:
        np.tanh(z, out=out)
    elif code == 3:
        expit(z, out=out)
    elif code == 4:  # 0.5 z (1 + erf(z / sqrt 2))
        np.multiply(z, _INV_SQRT2, out=out)
        erf(out, out=out)
        out += 1.0
        out *= z
        out *= 0.5
    else:
        out[...] = z


def _times_derivative(code, delta, z, a):
    """``delta *= activation'(z)`` in place, from the activation ``a`` (relu, tanh, logistic) or ``z`` (gelu)."""
    if code == 1:
        delta *= a > 0.0
    elif code == 2:
        delta *= 1.0 - a * a
    elif code == 3:
        delta *= a * (1.0 - a)
    elif code == 4:  # Phi(z) + z phi(z)
        delta *= 0.5 * (1.0 + erf(z * _INV_SQRT2)) + (z * _INV_SQRT2PI) * np.exp(-0.5 * z * z)


def _blocks(layers, m):
    """Per layer, ``(W slice, b slice, fan_in, fan_out, start of its block in the work arrays)``."""
    start = 0
    for c0, b0, fan_in, fan_out in layers:
        yield (slice(c0, c0 + fan_in * fan_out), slice(b0, b0 + fan_out), int(fan_in), int(fan_out), start)
        start += m * int(fan_out)


def take_rows(X, rows, out):
    """Copy the rows ``rows`` of ``X`` (dense, or CSR: densified) into ``out`` (C-ordered)."""
    if sp.issparse(X):
        out[...] = X[rows].toarray()
    elif X.dtype == out.dtype:
        np.take(X, rows, axis=0, out=out)
    else:
        out[...] = X[rows]


@np.errstate(all="ignore")  # overflow is the training loop's to report (a diverging fit), not NumPy's
def forward(Xb, params, layers, activation, Z, A):
    """Forward pass of a batch; returns the offset of the output block in ``Z``.

    The output layer is linear: its block of ``Z`` is the raw prediction the
    loss sees. ``A`` holds the hidden layers' activations.
    """
    m = Xb.shape[0]
    inputs = Xb
    blocks = list(_blocks(layers, m))
    for layer, (w, b, fan_in, fan_out, o) in enumerate(blocks):
        out = Z[o:o + m * fan_out].reshape((m, fan_out))
        np.dot(inputs, params[w].reshape((fan_in, fan_out)), out=out)
        out += params[b]
        if layer < len(blocks) - 1:
            inputs = A[o:o + m * fan_out].reshape((m, fan_out))
            _activate(activation, out, inputs)
    return blocks[-1][4]


@np.errstate(all="ignore")
def backward(Xb, params, layers, activation, Z, A, delta, grad, D1, D2, penalty):
    """Gradient of the batch objective with respect to ``params``, into ``grad``.

    ``delta`` is the gradient of the (already reduced) batch loss with respect
    to the raw prediction, shape ``(m, n_outputs)``; it is overwritten.
    ``penalty`` multiplies the coefficients in their gradient (the L2 term,
    ``alpha / batch weight``). ``D1`` and ``D2`` are scratch of at least ``m``
    times the widest layer.
    """
    m = Xb.shape[0]
    blocks = list(_blocks(layers, m))
    current = delta
    for layer in range(len(blocks) - 1, -1, -1):
        w, b, fan_in, fan_out, _ = blocks[layer]
        if layer == 0:
            inputs = Xb
        else:
            p = blocks[layer - 1][4]
            inputs = A[p:p + m * fan_in].reshape((m, fan_in))
        np.dot(inputs.T, current, out=grad[w].reshape((fan_in, fan_out)))
        np.sum(current, axis=0, out=grad[b])
        grad[w] += penalty * params[w]
        if layer > 0:
            scratch = D1 if layer % 2 == 1 else D2
            below = scratch[:m * fan_in].reshape((m, fan_in))
            np.dot(current, params[w].reshape((fan_in, fan_out)).T, out=below)
            _times_derivative(activation, below, Z[p:p + m * fan_in].reshape((m, fan_in)), inputs)
            current = below


def clip_norm(grad, max_norm):
    """Scale ``grad`` in place to Euclidean norm at most ``max_norm``; returns the norm before."""
    norm = math.sqrt(float(np.dot(grad, grad)))
    if norm > max_norm:
        grad *= max_norm / norm
    return norm
