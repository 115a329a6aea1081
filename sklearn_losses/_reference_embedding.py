"""Slow, obvious NumPy versions of the embedding losses (see :mod:`._reference`).

Written from the formulas in the losses' docstrings with plain loops: every
ordered pair, every triplet enumerated, each miner's selection rule as an
``if``; the weights as products of the samples' weights (zero-weight samples
dropped first). Small batches only (O(n^3)).
"""

import math

import numpy as np

__all__ = ["EMBEDDING_VALUES"]


def _prepare(loss, y, r, w):
    y, r = np.asarray(y), np.asarray(r, dtype=float)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    keep = w > 0
    y, r, w = y[keep], r[keep], w[keep]
    if loss.normalize:
        r = r / np.maximum(np.linalg.norm(r, axis=1), 1e-12)[:, None]
    n = len(y)
    delta = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            if loss.distance == "cosine":
                delta[i, j] = -float(np.dot(r[i], r[j]))
            else:
                delta[i, j] = math.sqrt(float(np.sum((r[i] - r[j]) ** 2)))
    return y, w, delta, n


def _mean(terms, nonzero):
    """Weighted mean of ``(weight, value)`` terms (over the positive values for ``nonzero``); 0 if none."""
    counted = [(a, v) for a, v in terms if v > 0 or not nonzero]
    mass = sum(a for a, _ in counted)
    return sum(a * v for a, v in counted) / mass if mass > 0 else 0.0


def _contrastive(loss, y, r, w=None):
    y, w, d, n = _prepare(loss, y, r, w)
    pos, neg = [], []
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            if y[i] == y[j]:
                pos.append((w[i] * w[j], max(0.0, d[i, j] - loss.pos_margin)))
            else:
                neg.append((w[i] * w[j], max(0.0, loss.neg_margin - d[i, j])))
    nonzero = loss.average == "nonzero"
    return _mean(pos, nonzero) + _mean(neg, nonzero)


def _triplet(loss, y, r, w=None):
    y, w, d, n = _prepare(loss, y, r, w)
    mm = loss.margin if loss.mining_margin is None else loss.mining_margin
    terms = []
    for a in range(n):
        positives = [p for p in range(n) if p != a and y[p] == y[a]]
        negatives = [k for k in range(n) if y[k] != y[a]]
        if loss.mining == "batch_hard":
            if positives and negatives:
                p = max(positives, key=lambda j: (d[a, j], -j))
                k = min(negatives, key=lambda j: (d[a, j], j))
                terms.append((w[a] * w[p] * w[k], max(0.0, d[a, p] - d[a, k] + loss.margin)))
            continue
        for p in positives:
            for k in negatives:
                m = d[a, k] - d[a, p]
                chosen = m <= mm
                if loss.mining == "hard":
                    chosen = chosen and m <= 0
                elif loss.mining == "semihard":
                    chosen = chosen and m > 0
                if chosen:
                    terms.append((w[a] * w[p] * w[k], max(0.0, d[a, p] - d[a, k] + loss.margin)))
    return _mean(terms, loss.average == "nonzero")


def _ntxent(loss, y, r, w=None):
    y, w, d, n = _prepare(loss, y, r, w)
    if len(set(y.tolist())) < 2:
        return 0.0
    s, wbar = -d / loss.temperature, w.mean()
    terms = []
    for a in range(n):
        for p in range(n):
            if p == a or y[p] != y[a]:
                continue
            den = math.exp(s[a, p]) + sum(w[k] / wbar * math.exp(s[a, k]) for k in range(n) if y[k] != y[a])
            terms.append((w[a] * w[p], -math.log(math.exp(s[a, p]) / den)))
    return _mean(terms, loss.average == "nonzero")


def _supcon(loss, y, r, w=None):
    y, w, d, n = _prepare(loss, y, r, w)
    if len(set(y.tolist())) < 2:
        return 0.0
    s, wbar = -d / loss.temperature, w.mean()
    terms = []
    for a in range(n):
        positives = [p for p in range(n) if p != a and y[p] == y[a]]
        if not positives:
            terms.append((w[a], 0.0))
            continue
        log_den = math.log(sum(w[j] / wbar * math.exp(s[a, j]) for j in range(n) if j != a))
        value = sum(w[p] * (log_den - s[a, p]) for p in positives) / sum(w[p] for p in positives)
        terms.append((w[a], value))
    if loss.average == "nonzero":
        terms = [(a, v) for (a, v), anchor in zip(terms, range(n))
                 if any(p != anchor and y[p] == y[anchor] for p in range(n))]
        mass = sum(a for a, _ in terms)
        return sum(a * v for a, v in terms) / mass if mass > 0 else 0.0
    return _mean(terms, False)


EMBEDDING_VALUES = {
    "contrastive": _contrastive,
    "triplet": _triplet,
    "ntxent": _ntxent,
    "supcon": _supcon,
}
