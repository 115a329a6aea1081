"""Slow, obvious NumPy versions of the overlap, Lovász and box losses (see :mod:`._reference`).

Written from the formulas in the losses' docstrings with plain loops and
sums: soft counts per label, the Lovász extension from the set function of
each prefix of the sorted errors, boxes from their areas in the original
coordinates (moderate inputs only).
"""

import math

import numpy as np
from scipy.special import expit, softmax

__all__ = ["BOX_VALUES", "OVERLAP_VALUES"]


def _labels(y, z, w):
    y, z = np.asarray(y, dtype=float), np.asarray(z, dtype=float)
    y, z = (y[:, None], z[:, None]) if y.ndim == 1 else (y, z)
    return y, z, np.ones(y.shape[0]) if w is None else np.asarray(w, dtype=float)


def _index_loss(index, transform=lambda loss, s: 1.0 - s):
    """``(loss, y, z, w) -> mean over labels of transform(index(TP, FP, FN))``."""

    def value(loss, y, z, w=None):
        y, z, w = _labels(y, z, w)
        losses = []
        for c in range(y.shape[1]):
            p = expit(z[:, c])
            tp = sum(w[i] * y[i, c] * p[i] for i in range(len(p)))
            fp = sum(w[i] * (1 - y[i, c]) * p[i] for i in range(len(p)))
            fn = sum(w[i] * y[i, c] * (1 - p[i]) for i in range(len(p)))
            numerator, denominator = index(loss, tp, fp, fn)
            s = 1.0 if denominator == 0 else numerator / max(denominator, loss.eps)
            losses.append(transform(loss, s))
        return float(np.mean(losses))

    return value


def _maybe_log(loss, s):
    return -math.log(max(s, loss.eps, 1e-308)) if loss.log_loss else 1.0 - s


def _jaccard_loss(errors_set, positive, w):
    """The weighted Jaccard loss of the set of samples ``errors_set`` (a boolean mask)."""
    positives = np.sum(w * positive)
    union = positives + np.sum(w * (1 - positive) * errors_set)
    intersection = positives - np.sum(w * positive * errors_set)
    return 0.0 if union == 0 else 1.0 - intersection / union


def _lovasz_extension(errors, positive, w):
    order = sorted(range(len(errors)), key=lambda i: -errors[i])
    total, previous, chosen = 0.0, 0.0, np.zeros(len(errors), dtype=bool)
    for i in order:
        chosen[i] = True
        current = _jaccard_loss(chosen, positive, w)
        total += max(errors[i], 0.0) * (current - previous)
        previous = current
    return total


def _lovasz_hinge(loss, y, z, w=None):
    y, z, w = _labels(y, z, w)
    return float(np.mean([_lovasz_extension(1.0 - (2 * y[:, c] - 1) * z[:, c], y[:, c], w)
                          for c in range(y.shape[1])]))


def _lovasz_softmax(loss, y, z, w=None):
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    p = softmax(np.asarray(z, dtype=float), axis=1)
    classes = range(z.shape[1]) if loss.classes == "all" else \
        [c for c in range(z.shape[1]) if np.sum(w[np.asarray(y) == c]) > 0]
    parts = []
    for c in classes:
        positive = (np.asarray(y) == c).astype(float)
        parts.append(_lovasz_extension(np.abs(positive - p[:, c]), positive, w))
    return float(np.mean(parts)) if parts else 0.0


OVERLAP_VALUES = {
    "soft_fbeta": _index_loss(lambda loss, tp, fp, fn: (
        (1 + loss.beta**2) * tp + loss.smooth, (1 + loss.beta**2) * tp + fp + loss.beta**2 * fn + loss.smooth)),
    "soft_dice": _index_loss(lambda loss, tp, fp, fn: (2 * tp + loss.smooth, 2 * tp + fp + fn + loss.smooth),
                             _maybe_log),
    "soft_jaccard": _index_loss(lambda loss, tp, fp, fn: (tp + loss.smooth, tp + fp + fn + loss.smooth), _maybe_log),
    "tversky": _index_loss(lambda loss, tp, fp, fn: (tp + loss.smooth,
                                                      tp + loss.alpha * fp + loss.beta * fn + loss.smooth)),
    "focal_tversky": _index_loss(lambda loss, tp, fp, fn: (tp + loss.smooth,
                                                            tp + loss.alpha * fp + loss.beta * fn + loss.smooth),
                                 lambda loss, s: (1.0 - s) ** loss.gamma),
    "lovasz_hinge": _lovasz_hinge,
    "lovasz_softmax": _lovasz_softmax,
}


def _corners(loss, r):
    if loss.box_format == "xyxy":
        return min(r[0], r[2]), min(r[1], r[3]), max(r[0], r[2]), max(r[1], r[3])
    w, h = math.exp(r[2]), math.exp(r[3])
    return r[0] - w / 2, r[1] - h / 2, r[0] + w / 2, r[1] + h / 2


def _box_loss(kind):
    def values(loss, y, raw):
        out = []
        for t, r in zip(np.asarray(y, dtype=float), np.asarray(raw, dtype=float)):
            px1, py1, px2, py2 = _corners(loss, r)
            tx1, ty1, tx2, ty2 = t
            inter = max(0.0, min(px2, tx2) - max(px1, tx1)) * max(0.0, min(py2, ty2) - max(py1, ty1))
            union = (px2 - px1) * (py2 - py1) + (tx2 - tx1) * (ty2 - ty1) - inter
            iou = inter / union
            ew, eh = max(px2, tx2) - min(px1, tx1), max(py2, ty2) - min(py1, ty1)
            if kind == "giou":
                out.append(1 - iou + (ew * eh - union) / (ew * eh))
                continue
            rho2 = ((px1 + px2) / 2 - (tx1 + tx2) / 2) ** 2 + ((py1 + py2) / 2 - (ty1 + ty2) / 2) ** 2
            value = 1 - iou + rho2 / (ew**2 + eh**2)
            if kind == "ciou":
                v = 4 / math.pi**2 * (math.atan((tx2 - tx1) / (ty2 - ty1)) - math.atan((px2 - px1) / (py2 - py1))) ** 2
                value += v * v / (1 - iou + v) if 1 - iou + v > 0 else 0.0
            out.append(value)
        return np.array(out)

    return values


BOX_VALUES = {"giou": _box_loss("giou"), "diou": _box_loss("diou"), "ciou": _box_loss("ciou")}
