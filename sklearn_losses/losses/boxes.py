r"""Bounding-box losses: generalised, distance and complete IoU of one predicted box per sample (rows of 4).

``y_true`` holds target boxes as corners ``(x1, y1, x2, y2)`` with ``x2 > x1``
and ``y2 > y1`` (degenerate targets are refused). ``raw_prediction`` holds one
row of 4 per sample, read through the loss's ``box_format``:

* ``"cxcy_logwh"`` (default): ``(cx, cy, log w, log h)``, the box centred at
  ``(cx, cy)`` of width ``exp(log w)`` and height ``exp(log h)``. Every raw
  prediction is a valid box, so a fit cannot reach a degenerate one (the
  log-sizes are read within +-700, beyond which the loss is flat);
* ``"xyxy"``: the corners themselves; a row whose corners are out of order is
  read as the box between them (the corners sorted), possibly of zero width.

:meth:`~sklearn_losses.losses.BaseLoss.inverse_link` (and so an estimator's
``predict``) returns the predicted boxes as corners. With :math:`P` the
predicted box, :math:`T` the target, :math:`E` the smallest box enclosing
both, :math:`\rho` the distance between the centres of ``P`` and ``T`` and
:math:`d` the diagonal of ``E``:

* GIoU (Rezatofighi et al. 2019): :math:`1 - IoU + |E \setminus (P \cup T)| / |E|`
* DIoU (Zheng et al. 2020): :math:`1 - IoU + \rho^2 / d^2`
* CIoU (Zheng et al. 2020): :math:`1 - IoU + \rho^2 / d^2 + \alpha v` with
  :math:`v = \frac{4}{\pi^2} (\arctan(w_T / h_T) - \arctan(w_P / h_P))^2` and
  :math:`\alpha = v / (1 - IoU + v)`.

The values equal torchvision's ``generalized_box_iou_loss``,
``distance_box_iou_loss`` and ``complete_box_iou_loss`` (which add ``eps =
1e-7`` to denominators). The gradients here are the exact derivatives of the
values, CIoU's ``alpha`` included (torchvision holds ``alpha`` constant).
All three are invariant to translating and scaling both boxes together; the
kernels compute them in the coordinates of the enclosing box scaled to unit
size, so no area overflows at any magnitude.
"""

import math

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ..links import BaseLink
from ._base import BaseLoss
from ._baseline import minimise_row, weighted_quantile
from ._factory import KernelSpec
from ._math import jit_scalar
from ._registry import register_loss

__all__ = ["BoxLink", "BoxTargets", "CIoU", "DIoU", "GIoU"]

BOX_FORMATS = ("cxcy_logwh", "xyxy")
LOG_SIZE_LIMIT = 700.0
_FOUR_OVER_PI2 = 4.0 / (math.pi * math.pi)


class BoxLink(BaseLink):
    """Raw rows of a ``box_format`` to corner boxes ``(x1, y1, x2, y2)`` and back."""

    name = "box"

    def __init__(self, box_format="cxcy_logwh"):
        self.box_format = box_format

    def __repr__(self):
        return f"BoxLink(box_format={self.box_format!r})"

    def __eq__(self, other):
        return isinstance(other, BoxLink) and other.box_format == self.box_format

    def __hash__(self):
        return hash((BoxLink, self.box_format))

    def inverse(self, raw_prediction):
        raw = np.asarray(raw_prediction)
        raw = raw if raw.dtype in (np.float32, np.float64) else raw.astype(np.float64)
        if self.box_format == "xyxy":
            return np.column_stack([np.minimum(raw[:, 0], raw[:, 2]), np.minimum(raw[:, 1], raw[:, 3]),
                                    np.maximum(raw[:, 0], raw[:, 2]), np.maximum(raw[:, 1], raw[:, 3])])
        with np.errstate(over="ignore"):
            half = 0.5 * np.exp(np.clip(raw[:, 2:], -LOG_SIZE_LIMIT, LOG_SIZE_LIMIT))
        return np.column_stack([raw[:, :2] - half, raw[:, :2] + half])

    def link(self, prediction):
        boxes = np.asarray(prediction, dtype=np.float64)
        if self.box_format == "xyxy":
            return boxes.copy()
        size = boxes[:, 2:] - boxes[:, :2]
        with np.errstate(divide="ignore"):
            return np.column_stack([0.5 * (boxes[:, :2] + boxes[:, 2:]), np.log(size)])


class BoxTargets:
    """Rows of 4: boxes as corners ``(x1, y1, x2, y2)`` with ``x2 > x1`` and ``y2 > y1``, finite."""

    shape = "row"

    def __str__(self):
        return "boxes (x1, y1, x2, y2) with x2 > x1 and y2 > y1"

    def __eq__(self, other):
        return isinstance(other, BoxTargets)

    def violation(self, y_true, n_columns=None):
        y = np.asarray(y_true, dtype=np.float64)
        if y.ndim != 2 or y.shape[1] != 4:
            return f"y_true must hold one box (x1, y1, x2, y2) per row, shape (n_samples, 4); got shape {y.shape}"
        finite = np.isfinite(y).all(axis=1)
        if not finite.all():
            return f"y_true must be finite; row {int(np.flatnonzero(~finite)[0])} is not"
        degenerate = ~((y[:, 2] > y[:, 0]) & (y[:, 3] > y[:, 1]))
        if degenerate.any():
            i = int(np.flatnonzero(degenerate)[0])
            return (f"target boxes must have x2 > x1 and y2 > y1 (corner format); row {i} is "
                    f"{y[i].tolist()!r}, a degenerate box")
        return None

    def sample(self, rng, n_samples, n_columns=None):
        centre = rng.normal(size=(n_samples, 2))
        half = 0.5 * np.exp(0.5 * rng.normal(size=(n_samples, 2)))
        return np.column_stack([centre - half, centre + half])


@jit_scalar
def _above(u, v):
    """d max(u, v) / du: 1 above, 0 below, 1/2 at a tie (the mean of the one-sided derivatives)."""
    return 1.0 if u > v else (0.5 if u == v else 0.0)


@jit_scalar
def _box_loss_gradient(y, r, g, kind, fmt, gradient):
    """The loss (kind 0 GIoU, 1 DIoU, 2 CIoU) of row ``r`` against box ``y``; its gradient into ``g``."""
    # half coordinates: differences of any two finite values stay finite (the loss is scale invariant)
    tx1, ty1, tx2, ty2 = 0.5 * float(y[0]), 0.5 * float(y[1]), 0.5 * float(y[2]), 0.5 * float(y[3])
    r0, r1, r2, r3 = float(r[0]), float(r[1]), float(r[2]), float(r[3])
    w = 0.0
    h = 0.0
    if fmt == 0.0:
        w = 0.25 * math.exp(min(max(r2, -LOG_SIZE_LIMIT), LOG_SIZE_LIMIT))  # half of the half width
        h = 0.25 * math.exp(min(max(r3, -LOG_SIZE_LIMIT), LOG_SIZE_LIMIT))
        a, c = 0.5 * r0 - w, 0.5 * r0 + w
        b, d = 0.5 * r1 - h, 0.5 * r1 + h
    else:
        a, c = 0.5 * min(r0, r2), 0.5 * max(r0, r2)
        b, d = 0.5 * min(r1, r3), 0.5 * max(r1, r3)
    ex1, ex2, ey1, ey2 = min(a, tx1), max(c, tx2), min(b, ty1), max(d, ty2)
    inv = 1.0 / max(ex2 - ex1, ey2 - ey1)  # the target has a positive size: the enclosing box too
    # coordinates in the enclosing box scaled to unit size
    A, C, B, D = (a - ex1) * inv, (c - ex1) * inv, (b - ey1) * inv, (d - ey1) * inv
    X1, X2, Y1, Y2 = (tx1 - ex1) * inv, (tx2 - ex1) * inv, (ty1 - ey1) * inv, (ty2 - ey1) * inv
    cw, ch = (ex2 - ex1) * inv, (ey2 - ey1) * inv
    pw, ph, tw, th = C - A, D - B, X2 - X1, Y2 - Y1
    iw = max(0.0, min(C, X2) - max(A, X1))
    ih = max(0.0, min(D, Y2) - max(B, Y1))
    inter = iw * ih
    union = pw * ph + tw * th - inter
    iou = inter / union if union > 0.0 else 0.0
    value = 1.0 - iou
    # d/d(A, B, C, D) of each term; where two edges coincide (a kink), the mean of the one-sided
    # derivatives (_above: 1, 1/2 at a tie, 0), which is 0 for boxes equal to their targets
    dI_a = -ih * _above(A, X1) if iw > 0.0 else 0.0
    dI_c = ih * _above(X2, C) if iw > 0.0 else 0.0
    dI_b = -iw * _above(B, Y1) if ih > 0.0 else 0.0
    dI_d = iw * _above(Y2, D) if ih > 0.0 else 0.0
    dU_a, dU_c, dU_b, dU_d = -ph - dI_a, ph - dI_c, -pw - dI_b, pw - dI_d
    # derivatives of ratios as (dN - ratio dD) / D: no square of a small denominator underflows
    u = union if union > 0.0 else 1.0
    on = 1.0 if union > 0.0 else 0.0
    diou_a = on * (dI_a - iou * dU_a) / u
    diou_c = on * (dI_c - iou * dU_c) / u
    diou_b = on * (dI_b - iou * dU_b) / u
    diou_d = on * (dI_d - iou * dU_d) / u
    ga, gc, gb, gd = -diou_a, -diou_c, -diou_b, -diou_d
    dcw_a = -_above(X1, A)
    dcw_c = _above(C, X2)
    dch_b = -_above(Y1, B)
    dch_d = _above(D, Y2)
    if kind == 0:
        area = cw * ch
        if area > 0.0:
            ratio = union / area
            value += 1.0 - ratio
            ga -= (dU_a - ratio * ch * dcw_a) / area
            gc -= (dU_c - ratio * ch * dcw_c) / area
            gb -= (dU_b - ratio * cw * dch_b) / area
            gd -= (dU_d - ratio * cw * dch_d) / area
        else:
            value += 1.0
    else:
        dx = 0.5 * (A + C - X1 - X2)
        dy = 0.5 * (B + D - Y1 - Y2)
        rho2 = dx * dx + dy * dy
        diag2 = cw * cw + ch * ch  # >= 1: the larger side is 1
        value += rho2 / diag2
        q = diag2 * diag2
        ga += (dx * diag2 - rho2 * 2.0 * cw * dcw_a) / q
        gc += (dx * diag2 - rho2 * 2.0 * cw * dcw_c) / q
        gb += (dy * diag2 - rho2 * 2.0 * ch * dch_b) / q
        gd += (dy * diag2 - rho2 * 2.0 * ch * dch_d) / q
        if kind == 2:
            delta = math.atan2(tw, th) - math.atan2(pw, ph)
            v = _FOUR_OVER_PI2 * delta * delta
            norm2 = pw * pw + ph * ph
            dv_pw = -2.0 * _FOUR_OVER_PI2 * delta * ph / norm2 if norm2 > 0.0 else 0.0
            dv_ph = 2.0 * _FOUR_OVER_PI2 * delta * pw / norm2 if norm2 > 0.0 else 0.0
            den = 1.0 - iou + v
            if den > 0.0:
                value += v * v / den
                # d(v^2 / den) = (2 v den dv - v^2 (dv - diou)) / den^2
                share = v / den  # alpha, in [0, 1]
                k1 = share * (2.0 - share)
                k2 = share * share
                ga += -k1 * dv_pw + k2 * diou_a
                gc += k1 * dv_pw + k2 * diou_c
                gb += -k1 * dv_ph + k2 * diou_b
                gd += k1 * dv_ph + k2 * diou_d
    if gradient:
        # back to the half coordinates (scale inv), then to the raw row (half: another 0.5)
        f = 0.5 * inv
        ga, gb, gc, gd = f * ga, f * gb, f * gc, f * gd
        if fmt == 0.0:
            g[0] = ga + gc
            g[1] = gb + gd
            g[2] = (gc - ga) * 2.0 * w if abs(r2) < LOG_SIZE_LIMIT else 0.0
            g[3] = (gd - gb) * 2.0 * h if abs(r3) < LOG_SIZE_LIMIT else 0.0
        else:
            g[0], g[2] = (ga, gc) if r0 <= r2 else (gc, ga)
            g[1], g[3] = (gb, gd) if r1 <= r3 else (gd, gb)
        # where the two boxes' scales differ beyond the float range (sizes of exp(+-700) against
        # unit targets) a derivative overflows in its parts; the loss is flat there
        for k in range(4):
            if not math.isfinite(g[k]):
                g[k] = 0.0
    return value


# One pair of entry points per loss, the kind a constant: with the kind a kernel argument the three
# losses would share one compiled kernel, but its code differs in rounding (a GIoU of identical boxes
# came out 1e-16 instead of 0, tests/test_boxes.py).
@jit_scalar
def _giou_value(y, r, fmt):
    return _box_loss_gradient(y, r, r, 0, fmt, False)


@jit_scalar
def _giou_loss_gradient(y, r, g, fmt):
    return _box_loss_gradient(y, r, g, 0, fmt, True)


@jit_scalar
def _diou_value(y, r, fmt):
    return _box_loss_gradient(y, r, r, 1, fmt, False)


@jit_scalar
def _diou_loss_gradient(y, r, g, fmt):
    return _box_loss_gradient(y, r, g, 1, fmt, True)


@jit_scalar
def _ciou_value(y, r, fmt):
    return _box_loss_gradient(y, r, r, 2, fmt, False)


@jit_scalar
def _ciou_loss_gradient(y, r, g, fmt):
    return _box_loss_gradient(y, r, g, 2, fmt, True)


class _BoxLoss(BaseLoss):
    """A loss of one box per row (see the module)."""

    task = "regression"
    structure = "row"
    target_domain = BoxTargets()
    convex = False
    robust = True
    growth = "bounded"
    hessian = "none"
    twice_differentiable = False
    baseline_exact = False
    _parameter_constraints = {"box_format": [StrOptions(set(BOX_FORMATS))]}

    def __init__(self, box_format="cxcy_logwh"):
        self.box_format = box_format

    @property
    def link(self):
        return BoxLink(self.box_format if self.box_format in BOX_FORMATS else "cxcy_logwh")

    def raw_width(self, n_classes):
        """Always 4 columns: one box per row."""
        return 4

    def _as_floats(self):
        return (float(BOX_FORMATS.index(self.box_format)),)

    def _baseline_row(self, y, w, n_classes):
        """A constant box: the best of L-BFGS runs from the weighted mean target box and from quantile boxes.

        A local optimum: the mean loss of a constant box is non-convex and
        piecewise smooth (its pieces change where an edge crosses a
        target's), so the starts are several (``baseline_exact = False``).
        """
        starts = [np.average(y, axis=0, weights=w)]
        for q in (0.5, 0.3, 0.7):  # corners at the quantiles: the median box, a smaller and a larger one
            starts.append(np.array([weighted_quantile(y[:, 0], w, q), weighted_quantile(y[:, 1], w, q),
                                    weighted_quantile(y[:, 2], w, 1.0 - q), weighted_quantile(y[:, 3], w, 1.0 - q)]))
        n = y.shape[0]
        best, best_value = None, np.inf
        for box in starts:
            if not (box[2] > box[0] and box[3] > box[1]):
                continue
            b = minimise_row(self, y, w, 4, self.link.link(box[None, :])[0])
            value = self.loss(y, np.ascontiguousarray(np.broadcast_to(b, (n, 4))), w, check_input=False)
            if value < best_value:
                best, best_value = b, value
        return best


_DOC_PARAMETERS = """
    Parameters
    ----------
    box_format : {"cxcy_logwh", "xyxy"}, default="cxcy_logwh"
        How a row of ``raw_prediction`` is read as a box (see the module):
        centre and log-sizes (every row a valid box), or corners.
    """


@register_loss
class GIoU(_BoxLoss):
    __doc__ = r"""Generalised IoU loss of boxes (Rezatofighi et al. 2019), in [0, 2].

    .. math:: \ell = 1 - IoU + \frac{|E \setminus (P \cup T)|}{|E|}

    with :math:`E` the smallest box enclosing the prediction :math:`P` and
    the target :math:`T`. Unlike ``1 - IoU`` it has a gradient when the boxes do not overlap. Targets
    are corner boxes (n, 4); see :mod:`sklearn_losses.losses.boxes` for the
    formats and the numerics.
    """ + _DOC_PARAMETERS

    name = "giou"
    _kernel_spec = KernelSpec("row", _giou_value, loss_gradient=_giou_loss_gradient, n_params=1)


@register_loss
class DIoU(_BoxLoss):
    __doc__ = r"""Distance IoU loss of boxes (Zheng et al. 2020), in [0, 2).

    .. math:: \ell = 1 - IoU + \frac{\rho^2}{d^2}

    with :math:`\rho` the distance between the boxes' centres and :math:`d`
    the diagonal of the smallest box enclosing both. Pulls the centres together directly, which converges faster than GIoU
    when one box contains the other. Targets are corner boxes (n, 4).
    """ + _DOC_PARAMETERS

    name = "diou"
    _kernel_spec = KernelSpec("row", _diou_value, loss_gradient=_diou_loss_gradient, n_params=1)


@register_loss
class CIoU(_BoxLoss):
    __doc__ = r"""Complete IoU loss of boxes (Zheng et al. 2020): DIoU plus an aspect-ratio term, in [0, 3).

    .. math:: \ell = 1 - IoU + \frac{\rho^2}{d^2} + \alpha v, \quad
              v = \frac{4}{\pi^2}\left(\arctan\frac{w_T}{h_T} - \arctan\frac{w_P}{h_P}\right)^2, \quad
              \alpha = \frac{v}{1 - IoU + v}

    The gradient is the exact derivative
    (alpha included). Targets are corner boxes (n, 4).
    """ + _DOC_PARAMETERS

    name = "ciou"
    _kernel_spec = KernelSpec("row", _ciou_value, loss_gradient=_ciou_loss_gradient, n_params=1)
