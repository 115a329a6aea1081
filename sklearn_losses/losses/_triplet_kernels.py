"""The compiled part of the triplet losses: per anchor, every triplet counted from the sorted negatives.

For an anchor ``a`` with positives ``p`` and negatives ``k`` (dissimilarities
``t = delta_ap`` and ``delta_ak``), the triplet ``(a, p, k)`` costs
``max(0, t + margin - delta_ak)``. The miners of pytorch-metric-learning's
``TripletMarginMiner`` select triplets by ``m = delta_ak - t`` (``"all"``:
``m <= mining_margin``; ``"hard"``: also ``m <= 0``; ``"semihard"``: also
``m > 0``), so for each positive the negatives that count form one interval
of the anchor's negatives sorted by dissimilarity: prefix sums of their
weights and weighted dissimilarities give the sum, the count and the
derivative of every positive's triplets by two binary searches, and a
difference array gives each negative's derivative. ``O(n log n)`` per
anchor, ``O(n)`` memory: triplets are never enumerated.

``"batch_hard"`` (``BatchHardMiner``) keeps one triplet per anchor: its
farthest positive and its nearest negative (the first in row order on ties).
The kernels add in a fixed order without fast-math (the tree kernels'
flags), so the result does not depend on anything but the inputs.
"""

import numpy as np

from .._config import TREE_OPTIONS
from .._jit import njit

__all__ = ["MINING_CODES", "triplet_terms"]

#: ``mining`` of :class:`~sklearn_losses.losses.TripletMargin` -> the kernel's code.
MINING_CODES = {"all": 0, "hard": 1, "semihard": 2, "batch_hard": 3}


@njit(**TREE_OPTIONS)
def _count_below(values, x):
    """Number of ``values`` (sorted) strictly below ``x``."""
    lo, hi = 0, values.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**TREE_OPTIONS)
def _count_at_most(values, x):
    """Number of ``values`` (sorted) at most ``x``."""
    lo, hi = 0, values.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**TREE_OPTIONS)
def _batch_hard_row(delta, positive, negative, w_a, w, margin, average_all, gradient, coefficient, a):
    n = delta.shape[1]
    p_best, k_best = -1, -1
    for j in range(n):
        if positive[a, j] and (p_best < 0 or delta[a, j] > delta[a, p_best]):
            p_best = j
        if negative[a, j] and (k_best < 0 or delta[a, j] < delta[a, k_best]):
            k_best = j
    if p_best < 0 or k_best < 0:
        return 0.0, 0.0
    weight = w_a * w[p_best] * w[k_best]
    violation = delta[a, p_best] - delta[a, k_best] + margin
    if violation > 0.0:
        if gradient:
            coefficient[a, p_best] += weight
            coefficient[a, k_best] -= weight
        return weight * violation, weight
    return 0.0, weight if average_all else 0.0


@njit(**TREE_OPTIONS)
def triplet_terms(delta, positive, negative, w_anchor, w, margin, mining_margin, mining, average_all, gradient,
                  coefficient):
    """``(sum, normaliser)`` of the triplets of a block of anchors; their derivatives into ``coefficient``.

    ``delta`` (b, n): the anchors' dissimilarities; ``positive``/``negative``
    (b, n) masks; ``w_anchor`` (b,), ``w`` (n,) positive weights; ``mining``
    a code of :data:`MINING_CODES`; ``mining_margin`` may be ``inf`` (every
    triplet); ``average_all``: the normaliser counts every selected triplet
    (else only those with a positive cost). ``coefficient`` (b, n) receives
    ``d sum / d delta`` when ``gradient``.
    """
    b, n = delta.shape
    total, normaliser = 0.0, 0.0
    select = min(mining_margin, 0.0) if mining == 1 else mining_margin
    values = np.empty(n)
    weights = np.empty(n)
    columns = np.empty(n, dtype=np.int64)
    cum_w = np.empty(n + 1)
    cum_wd = np.empty(n + 1)
    diff = np.empty(n + 1)
    for a in range(b):
        if mining == 3:
            s, c = _batch_hard_row(delta, positive, negative, w_anchor[a], w, margin, average_all, gradient,
                                   coefficient, a)
            total += s
            normaliser += c
            continue
        count = 0
        for j in range(n):
            if negative[a, j]:
                values[count] = delta[a, j]
                columns[count] = j
                count += 1
        if count == 0:
            continue
        order = np.argsort(values[:count], kind="mergesort")
        sorted_values = values[:count][order]
        cum_w[0] = 0.0
        cum_wd[0] = 0.0
        for k in range(count):
            weights[k] = w[columns[order[k]]]
            cum_w[k + 1] = cum_w[k] + weights[k]
            cum_wd[k + 1] = cum_wd[k] + weights[k] * sorted_values[k]
            diff[k] = 0.0
        diff[count] = 0.0
        for j in range(n):
            if not positive[a, j]:
                continue
            t = delta[a, j]
            weight = w_anchor[a] * w[j]
            low = _count_at_most(sorted_values, t) if mining == 2 else 0
            selected = count if select == np.inf else _count_at_most(sorted_values, t + select)
            active = min(selected, _count_below(sorted_values, t + margin))
            if active > low:
                mass = cum_w[active] - cum_w[low]
                total += weight * ((t + margin) * mass - (cum_wd[active] - cum_wd[low]))
                if gradient:
                    coefficient[a, j] += weight * mass
                    diff[low] += weight
                    diff[active] -= weight
                if not average_all:
                    normaliser += weight * mass
            if average_all and selected > low:
                normaliser += weight * (cum_w[selected] - cum_w[low])
        if gradient:
            running = 0.0
            for k in range(count):
                running += diff[k]
                if running != 0.0:
                    coefficient[a, columns[order[k]]] -= running * weights[k]
    return total, normaliser
