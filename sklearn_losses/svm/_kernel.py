"""Kernels of the SVM estimators, with scikit-learn's parameters and conventions.

``kernel`` is ``"linear"``, ``"rbf"``, ``"poly"``, ``"sigmoid"``,
``"precomputed"`` (X is the kernel matrix between samples and training
samples) or a callable ``kernel(X, Y) -> ndarray of shape (len(X), len(Y))``,
as for :class:`sklearn.svm.SVC`. ``gamma="scale"`` is
``1 / (n_features * X.var())`` (the variance weighted by the sample weights)
and ``"auto"`` is ``1 / n_features``.
"""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.metrics.pairwise import pairwise_kernels

__all__ = ["KERNELS", "Kernel", "named_kernel"]

KERNELS = ("linear", "rbf", "poly", "sigmoid", "precomputed")

#: Rows of the kernel matrix computed per block (bounds the float64 scratch).
_BLOCK_ROWS = 2048


def _scale_gamma(X, sample_weight=None):
    """``sqrt(gamma)`` of ``gamma="scale"``: ``1 / sqrt(n_features * Var(X))``, without overflow.

    The variance is over every entry of X, weighted by the samples' weights
    (so that an integer weight is the same as a repeated row); it is computed
    on X divided by its largest magnitude, so features of size 1e300 give a
    finite result (a gamma that itself underflows is then represented by its
    square root: see :class:`Kernel`).
    """
    w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total = float(w.sum()) * X.shape[1]
    peak = float(abs(X).max()) if X.shape[0] * X.shape[1] else 0.0
    if not (total > 0 and np.isfinite(peak) and peak > 0):
        return 1.0
    if sp.issparse(X):
        Z = X.multiply(1.0 / peak).tocsr()
        mean = float(np.asarray(Z.sum(axis=1)).ravel() @ w) / total
        square = float(np.asarray(Z.multiply(Z).sum(axis=1)).ravel() @ w) / total
        var = max(square - mean * mean, 0.0)
    else:
        Z = np.asarray(X, dtype=np.float64) / peak
        mean = float(Z.sum(axis=1) @ w) / total
        var = float(((Z - mean) ** 2).sum(axis=1) @ w) / total
    if not var > 0:
        return 1.0
    return 1.0 / (peak * np.sqrt(X.shape[1] * var))


def named_kernel(name, X, Y, gamma, coef0, degree):
    """The matrix of the named kernel (``"linear"``, ``"rbf"``, ``"poly"``, ``"sigmoid"``) between the rows
    of X and of Y (None: X), as the formulas take them (:meth:`Kernel.prepare`; ``gamma`` the formulas' gamma)."""
    params = {"linear": {}, "rbf": {"gamma": gamma}, "poly": {"gamma": gamma, "degree": degree, "coef0": coef0},
              "sigmoid": {"gamma": gamma, "coef0": coef0}}[name]
    return pairwise_kernels(X, Y, metric=name, **params)


#: A gamma outside this range is applied to the data (X * sqrt(gamma)) rather
#: than to the squared distances, which would overflow or underflow.
_GAMMA_RANGE = (1e-150, 1e150)


class Kernel:
    """A kernel with its parameters resolved on the training data.

    For the rbf, poly and sigmoid kernels, which depend on X only through
    ``gamma <x, y>`` and ``gamma ||x - y||^2``, a gamma far from 1 (from
    ``gamma="scale"`` on features of size 1e300, say) is applied to the data
    instead (``x * sqrt(gamma)``, then gamma 1): the kernel values are then
    finite wherever the true ones are. Kernel values that are not finite
    anyway (a linear kernel on such features, a callable returning NaN) are
    refused with a ``ValueError``.
    """

    def __init__(self, kernel, gamma, degree, coef0, X, sample_weight=None):
        if not (callable(kernel) or kernel in KERNELS):
            raise ValueError(f"kernel must be one of {KERNELS} or a callable; got {kernel!r}.")
        self.kernel, self.degree, self.coef0 = kernel, degree, coef0
        root = None
        if isinstance(gamma, str):
            if gamma == "scale":
                root = _scale_gamma(X, sample_weight)
                gamma = root * root
            elif gamma == "auto":
                gamma = 1.0 / X.shape[1]
            else:
                raise ValueError(f"gamma must be 'scale', 'auto' or a positive float; got {gamma!r}.")
        elif not (isinstance(gamma, Real) and gamma > 0):
            raise ValueError(f"gamma must be 'scale', 'auto' or a positive float; got {gamma!r}.")
        self.gamma = float(gamma)
        low, high = _GAMMA_RANGE
        scaled = kernel in ("rbf", "poly", "sigmoid") and not (low < self.gamma < high)
        #: data multiplier (None: none) and the gamma the kernel formulas then use
        self.data_scale = (root if root is not None else float(np.sqrt(gamma))) if scaled else None
        self.formula_gamma = 1.0 if scaled else self.gamma

    @property
    def positive_semidefinite(self):
        """Whether the kernel is known to be positive semi-definite (the primal objective is then convex).

        linear, rbf, and poly with ``coef0 >= 0`` are; sigmoid is not, and a
        callable or precomputed kernel is not known to be.
        """
        return self.kernel in ("linear", "rbf") or (self.kernel == "poly" and self.coef0 >= 0)

    def prepare(self, X):
        """X as the kernel formulas take it (multiplied by ``sqrt(gamma)`` when gamma is far from 1)."""
        if self.data_scale is None:
            return X
        return X.multiply(self.data_scale).tocsr() if sp.issparse(X) else X * self.data_scale

    def __call__(self, X, Y):
        """The kernel matrix between the rows of X and of Y (float64)."""
        if self.kernel == "precomputed":
            return _finite(np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64), "the precomputed kernel")
        if callable(self.kernel):
            K = np.asarray(self.kernel(X, Y), dtype=np.float64)
            if K.shape != (X.shape[0], Y.shape[0]):
                raise ValueError(f"The kernel callable returned shape {K.shape}; expected "
                                 f"{(X.shape[0], Y.shape[0])}.")
            return _finite(K, f"the kernel callable {getattr(self.kernel, '__name__', self.kernel)!r}")
        K = named_kernel(self.kernel, self.prepare(X), None if Y is None else self.prepare(Y), self.formula_gamma,
                         self.coef0, self.degree)
        return _finite(K, f"kernel={self.kernel!r}")

    def check_data(self, X):
        """Refuse training data whose kernel values would overflow (squared norms beyond the float range)."""
        if self.kernel == "precomputed" or callable(self.kernel):
            return
        Z = self.prepare(X)
        sq = np.asarray(Z.multiply(Z).sum(axis=1)).ravel() if sp.issparse(Z) else np.einsum("ij,ij->i", Z, Z)
        if not np.all(np.isfinite(sq)):
            raise ValueError(
                f"kernel={self.kernel!r}: the features are too large for float64 kernel values (squared norms "
                f"overflow; the largest magnitude is {float(abs(X).max()):.3g}). Scale the features, for "
                "instance with sklearn.preprocessing.StandardScaler.")

    def row_kind(self, X):
        """The code of the kernel for rows computed inside the solver, or None (whole matrix)."""
        from ._smo import KIND_NAMES

        if sp.issparse(X) or callable(self.kernel) or self.kernel == "precomputed":
            return None
        return {name: kind for kind, name in KIND_NAMES.items()}[self.kernel]

    def diagonal(self, X):
        """``k(x_i, x_i)`` for the rows of a dense X (already :meth:`prepare`-d)."""
        sq = np.einsum("ij,ij->i", X, X)
        gamma = self.formula_gamma
        return {"linear": lambda: sq, "rbf": lambda: np.ones(X.shape[0]),
                "poly": lambda: (gamma * sq + self.coef0) ** self.degree,
                "sigmoid": lambda: np.tanh(gamma * sq + self.coef0)}[self.kernel]()

    def gram(self, X, dtype=np.float32):
        """The training kernel matrix, computed in row blocks into ``dtype``."""
        n = X.shape[0]
        if self.kernel == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError(f"With kernel='precomputed' X must be a square kernel matrix; got {X.shape}.")
            return np.ascontiguousarray(self(X, None), dtype=dtype)
        out = np.empty((n, n), dtype=dtype)
        for start in range(0, n, _BLOCK_ROWS):
            out[start:start + _BLOCK_ROWS] = self(X[start:start + _BLOCK_ROWS], X)
        return out


def _finite(K, what):
    if not np.all(np.isfinite(K)):
        raise ValueError(f"{what} gave non-finite values (NaN or infinity) in the kernel matrix; check the kernel "
                         "and scale the features.")
    return K
