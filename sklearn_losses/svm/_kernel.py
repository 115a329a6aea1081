"""Kernels of the SVM estimators, with scikit-learn's parameters and conventions.

``kernel`` is ``"linear"``, ``"rbf"``, ``"poly"``, ``"sigmoid"``,
``"precomputed"`` (X is the kernel matrix between samples and training
samples) or a callable ``kernel(X, Y) -> ndarray of shape (len(X), len(Y))``,
as for :class:`sklearn.svm.SVC`. ``gamma="scale"`` is
``1 / (n_features * X.var())`` and ``"auto"`` is ``1 / n_features``.
"""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.metrics.pairwise import pairwise_kernels

__all__ = ["KERNELS", "Kernel"]

KERNELS = ("linear", "rbf", "poly", "sigmoid", "precomputed")

#: Rows of the kernel matrix computed per block (bounds the float64 scratch).
_BLOCK_ROWS = 2048


class Kernel:
    """A kernel with its parameters resolved on the training data."""

    def __init__(self, kernel, gamma, degree, coef0, X):
        if not (callable(kernel) or kernel in KERNELS):
            raise ValueError(f"kernel must be one of {KERNELS} or a callable; got {kernel!r}.")
        self.kernel, self.degree, self.coef0 = kernel, degree, coef0
        if isinstance(gamma, str):
            if gamma == "scale":
                var = (X.multiply(X).mean() - X.mean() ** 2) if sp.issparse(X) else X.var()
                gamma = 1.0 / (X.shape[1] * var) if var != 0 else 1.0
            elif gamma == "auto":
                gamma = 1.0 / X.shape[1]
            else:
                raise ValueError(f"gamma must be 'scale', 'auto' or a positive float; got {gamma!r}.")
        elif not (isinstance(gamma, Real) and gamma > 0):
            raise ValueError(f"gamma must be 'scale', 'auto' or a positive float; got {gamma!r}.")
        self.gamma = float(gamma)

    def __call__(self, X, Y):
        """The kernel matrix between the rows of X and of Y (float64)."""
        if self.kernel == "precomputed":
            return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
        if callable(self.kernel):
            K = np.asarray(self.kernel(X, Y), dtype=np.float64)
            if K.shape != (X.shape[0], Y.shape[0]):
                raise ValueError(f"The kernel callable returned shape {K.shape}; expected "
                                 f"{(X.shape[0], Y.shape[0])}.")
            return K
        params = {"linear": {}, "rbf": {"gamma": self.gamma},
                  "poly": {"gamma": self.gamma, "degree": self.degree, "coef0": self.coef0},
                  "sigmoid": {"gamma": self.gamma, "coef0": self.coef0}}[self.kernel]
        return pairwise_kernels(X, Y, metric=self.kernel, **params)

    def row_kind(self, X):
        """The code of the kernel for rows computed inside the solver, or None (whole matrix)."""
        from ._smo import LINEAR, POLY, RBF, SIGMOID

        if sp.issparse(X) or callable(self.kernel) or self.kernel == "precomputed":
            return None
        return {"linear": LINEAR, "rbf": RBF, "poly": POLY, "sigmoid": SIGMOID}[self.kernel]

    def diagonal(self, X):
        """``k(x_i, x_i)`` for the rows of a dense X."""
        sq = np.einsum("ij,ij->i", X, X)
        return {"linear": lambda: sq, "rbf": lambda: np.ones(X.shape[0]),
                "poly": lambda: (self.gamma * sq + self.coef0) ** self.degree,
                "sigmoid": lambda: np.tanh(self.gamma * sq + self.coef0)}[self.kernel]()

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
