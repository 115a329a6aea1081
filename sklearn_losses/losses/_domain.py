"""Target domains: where ``y_true`` must lie, declared by each loss as data.

A domain checks targets (``check``), describes itself for errors and docs
(``str``) and draws valid targets for the loss contract (``sample``).
"""

import math

import numpy as np

from .._jit import njit
from .._config import KERNEL_OPTIONS

__all__ = ["BinaryLabels", "ClassIndices", "DecreasingRows", "OrdinalIndices", "ProbabilityRows", "RealInterval",
           "count_outside_interval"]


# One vectorised pass counts the bad targets (NaN fails every comparison: the
# kernel flags exclude ``nnan``); the first bad position is only looked up,
# with NumPy, when there is one. Arrays of fewer than ``_COMPILED_FROM``
# entries are counted with NumPy expressions instead: the same count, and no
# compilation in a first fit (about 0.15 s each with a cold cache); the
# compiled pass saves large arrays the temporaries.
_COMPILED_FROM = 1 << 16


@njit(**KERNEL_OPTIONS)
def _outside_interval(y, low, high, low_closed, high_closed):
    count = 0
    for i in range(y.shape[0]):
        v = y[i]
        above = (v >= low) if low_closed else (v > low)
        below = (v <= high) if high_closed else (v < high)
        count += 0 if (above & below) else 1
    return count


def _count_invalid(y, compiled, arguments, valid):
    """Entries of the 1-D ``y`` that fail a check: ``compiled(y, *arguments)`` for large arrays,
    else the entries where the NumPy expression ``valid(y)`` is false (NaN fails every comparison)."""
    if y.shape[0] >= _COMPILED_FROM:
        return compiled(y, *arguments)
    with np.errstate(invalid="ignore"):
        return y.shape[0] - int(np.count_nonzero(valid(y)))


def count_outside_interval(y, low, high, low_closed, high_closed):
    """Number of entries of the 1-D array ``y`` outside the interval (NaN counts)."""
    def inside(v):
        return ((v >= low) if low_closed else (v > low)) & ((v <= high) if high_closed else (v < high))

    return _count_invalid(y, _outside_interval, (low, high, low_closed, high_closed), inside)


@njit(**KERNEL_OPTIONS)
def _not_binary(y):
    count = 0
    for i in range(y.shape[0]):
        count += 1 if ((y[i] != 0.0) & (y[i] != 1.0)) else 0
    return count


def _count_not_binary(y):
    return _count_invalid(y, _not_binary, (), lambda v: (v == 0.0) | (v == 1.0))


@njit(**KERNEL_OPTIONS)
def _not_class_index(y, n_classes):
    count = 0
    for i in range(y.shape[0]):
        v = y[i]
        count += 0 if ((v >= 0.0) & (v < n_classes) & (v == np.floor(v))) else 1
    return count


def _count_not_class_index(y, n_classes):
    return _count_invalid(y, _not_class_index, (n_classes,),
                          lambda v: (v >= 0.0) & (v < n_classes) & (v == np.floor(v)))


def _flat(y_true):
    return np.ascontiguousarray(y_true, dtype=np.float64).ravel()


class RealInterval:
    """Real targets in an interval, e.g. ``RealInterval(0, inf, low_closed=True)``."""

    shape = "scalar"

    def __init__(self, low=-math.inf, high=math.inf, low_closed=False, high_closed=False):
        self.low, self.high = float(low), float(high)
        self.low_closed, self.high_closed = low_closed, high_closed

    def __str__(self):
        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        return f"{left}{self.low:g}, {self.high:g}{right}"

    def __eq__(self, other):
        return isinstance(other, RealInterval) and vars(self) == vars(other)

    def violation(self, y_true, n_columns=None):
        y = _flat(y_true)
        low = self.low if math.isfinite(self.low) else -np.finfo(float).max
        high = self.high if math.isfinite(self.high) else np.finfo(float).max
        if count_outside_interval(y, low, high, self.low_closed or low != self.low,
                                  self.high_closed or high != self.high) == 0:
            return None
        if not np.all(np.isfinite(y)):
            return "y_true contains NaN or infinity"
        low_ok = y >= self.low if self.low_closed else y > self.low
        high_ok = y <= self.high if self.high_closed else y < self.high
        bad = ~(low_ok & high_ok)
        if np.any(bad):
            first = np.flatnonzero(bad.ravel())[0]
            return f"y_true must lie in {self}; got {float(y.ravel()[first])!r} at position {first}"
        return None

    def sample(self, rng, n_samples, n_columns=None):
        low = self.low if math.isfinite(self.low) else -3.0
        high = self.high if math.isfinite(self.high) else low + 6.0
        if not math.isfinite(self.low) and math.isfinite(self.high):
            low = high - 6.0
        margin = 1e-3 * (high - low)
        return rng.uniform(low + margin, high - margin, size=n_samples)


class BinaryLabels:
    """Binary targets in {0, 1}."""

    shape = "scalar"

    def __str__(self):
        return "{0, 1}"

    def __eq__(self, other):
        return isinstance(other, BinaryLabels)

    def violation(self, y_true, n_columns=None):
        y = _flat(y_true)
        if _count_not_binary(y) == 0:
            return None
        bad = (y != 0) & (y != 1)
        if np.any(bad):
            first = np.flatnonzero(bad)[0]
            return f"y_true must be 0 or 1 (encode labels first); got {float(y[first])!r} at position {first}"
        return None

    def sample(self, rng, n_samples, n_columns=None):
        y = rng.integers(0, 2, size=n_samples).astype(float)
        y[:2] = (0.0, 1.0)
        return y


class ClassIndices:
    """Class indices 0, 1, ..., K - 1 (K = number of columns of raw_prediction)."""

    shape = "scalar"

    def __str__(self):
        return "{0, ..., K-1}"

    def __eq__(self, other):
        return isinstance(other, ClassIndices)

    def violation(self, y_true, n_columns=None):
        y = _flat(y_true)
        if _count_not_class_index(y, 2.0**53 if n_columns is None else float(n_columns)) == 0:
            return None
        bad = ~np.isfinite(y) | (y < 0) | (y != np.floor(y))
        if n_columns is not None:
            bad |= y >= n_columns
        if np.any(bad):
            first = np.flatnonzero(bad)[0]
            upper = "K-1" if n_columns is None else str(n_columns - 1)
            return (f"y_true must hold class indices in 0..{upper} (encode labels first); "
                    f"got {float(y[first])!r} at position {first}")
        return None

    def sample(self, rng, n_samples, n_columns):
        y = rng.integers(0, n_columns, size=n_samples).astype(float)
        y[: min(n_columns, n_samples)] = np.arange(min(n_columns, n_samples))
        return y


class ProbabilityRows:
    """Rows of K non-negative probabilities summing to 1."""

    shape = "row"
    atol = 1e-6

    def __str__(self):
        return "rows of probabilities summing to 1"

    def __eq__(self, other):
        return isinstance(other, ProbabilityRows)

    def violation(self, y_true, n_columns=None):
        y = np.asarray(y_true, dtype=float)
        if y.ndim != 2:
            return f"y_true must be 2-D (n_samples, n_classes); got shape {y.shape}"
        if not np.all(np.isfinite(y)) or np.any(y < 0):
            return "y_true must hold finite non-negative probabilities"
        sums = y.sum(axis=1)
        bad = np.abs(sums - 1.0) > self.atol
        if np.any(bad):
            first = np.flatnonzero(bad)[0]
            return f"each row of y_true must sum to 1; row {first} sums to {float(sums[first])!r}"
        return None

    def sample(self, rng, n_samples, n_columns):
        y = rng.dirichlet(np.ones(n_columns), size=n_samples)
        y[0] = 0.0
        y[0, 0] = 1.0  # a one-hot row: 0 * log 0 must be handled
        return y


class OrdinalIndices(ClassIndices):
    """Ranks 0, 1, ..., K - 1 of ordered classes, for raw predictions of K - 1 columns (one per threshold)."""

    def __eq__(self, other):
        return isinstance(other, OrdinalIndices)

    def violation(self, y_true, n_columns=None):
        return super().violation(y_true, None if n_columns is None else n_columns + 1)

    def sample(self, rng, n_samples, n_columns):
        return super().sample(rng, n_samples, n_columns + 1)


# -- raw-prediction domains: where raw_prediction must lie (declared as ``raw_domain``; None: anywhere) -----
class DecreasingRows:
    """Rows that do not increase: ``z[i, 0] >= z[i, 1] >= ...`` (``z_k = f - theta_k`` with ordered thresholds)."""

    def __str__(self):
        return "rows that do not increase (z_k = f - theta_k with theta_1 <= theta_2 <= ...)"

    def __eq__(self, other):
        return isinstance(other, DecreasingRows)

    def violation(self, raw_prediction):
        raw = np.asarray(raw_prediction)
        if raw.ndim != 2 or raw.shape[1] < 2:
            return None
        rising = raw[:, 1:] > raw[:, :-1]
        if not rising.any():
            return None
        i, k = np.argwhere(rising)[0]
        return (f"raw_prediction must hold {self}; row {i} has z[{k}] = {float(raw[i, k])!r} < "
                f"z[{k + 1}] = {float(raw[i, k + 1])!r}")

    def sample(self, rng, n_samples, n_columns):
        """Ordered rows around 0 whose gaps are at least 0.05 (finite differences stay inside)."""
        start = 2.0 * rng.normal(size=(n_samples, 1)) + 0.5 * n_columns
        gaps = 0.05 + rng.exponential(1.0, size=(n_samples, n_columns))
        gaps[:, 0] = 0.0
        return start - np.cumsum(gaps, axis=1)

    def extremes(self, values, n_columns):
        """Decreasing rows drawn from ``values``: windows of consecutive values, and one spread over all.

        Rows with a gap below 1e-300 are left out: a loss on them has
        gradients of the order of 1 / gap, beyond the float range.
        """
        values = np.unique(np.asarray(values, dtype=np.float64))[::-1]  # decreasing, distinct
        rows = [values[s:s + n_columns] for s in range(values.size - n_columns + 1)]
        spread = np.linspace(0, values.size - 1, n_columns).round().astype(int)
        rows.append(values[spread])
        rows = np.array(rows)
        with np.errstate(over="ignore"):
            gaps = -np.diff(rows, axis=1)
        return rows[(gaps >= 1e-300).all(axis=1)]
