"""Penalties on the coefficients of a linear model.

Every estimator minimises

.. math::

    \\frac{\\sum_i w_i \\, \\ell(y_i, x_i^\\top W + b)}{\\sum_i w_i}
    + \\alpha \\left( \\rho \\, \\lVert W \\rVert_1
    + \\frac{1 - \\rho}{2} \\lVert W \\rVert_2^2 \\right)

with ``alpha`` the penalty strength (independent of the number of samples)
and ``rho`` the ``l1_ratio``; the intercept is never penalised. The
conventions are those of :class:`sklearn.linear_model.SGDRegressor` and
:class:`~sklearn.linear_model.ElasticNet`: ``"l2"`` is ``alpha / 2 * ||W||^2``,
``"l1"`` is ``alpha * ||W||_1``, ``"elasticnet"`` mixes them with ``l1_ratio``.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["PENALTIES", "Penalty", "get_penalty"]

PENALTIES = ("l2", "l1", "elasticnet", None)


@dataclass(frozen=True)
class Penalty:
    """``l1 * ||W||_1 + l2 / 2 * ||W||^2`` (strengths already multiplied by alpha)."""

    l1: float = 0.0
    l2: float = 0.0

    @property
    def smooth(self):
        """Whether the penalty is differentiable (no L1 part)."""
        return self.l1 == 0.0

    def value(self, coef):
        coef = np.asarray(coef)
        return self.l1 * np.abs(coef).sum() + 0.5 * self.l2 * np.dot(coef.ravel(), coef.ravel())

    def gradient(self, coef):
        """Gradient of the smooth (L2) part."""
        return self.l2 * np.asarray(coef)

    def soft_threshold(self, coef, step):
        """Proximal map of ``step * l1 * ||W||_1`` (``step`` a scalar or per coefficient)."""
        return np.sign(coef) * np.maximum(np.abs(coef) - step * self.l1, 0.0)


def get_penalty(penalty, alpha, l1_ratio=0.15):
    """Resolve the ``penalty``, ``alpha`` and ``l1_ratio`` parameters of an estimator.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"} or None
    alpha : float
        Non-negative strength.
    l1_ratio : float
        Mix of L1 for ``"elasticnet"``, in [0, 1].

    Returns
    -------
    Penalty
    """
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of 'l2', 'l1', 'elasticnet' or None; got {penalty!r}.")
    alpha = float(alpha)
    if not alpha >= 0 or not np.isfinite(alpha):
        raise ValueError(f"alpha must be a finite non-negative number; got {alpha!r}.")
    if penalty is None:
        return Penalty()
    if penalty == "l2":
        return Penalty(l2=alpha)
    if penalty == "l1":
        return Penalty(l1=alpha)
    l1_ratio = float(l1_ratio)
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1]; got {l1_ratio!r}.")
    return Penalty(l1=alpha * l1_ratio, l2=alpha * (1.0 - l1_ratio))
