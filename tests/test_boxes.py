"""Box losses (GIoU, DIoU, CIoU): formats, numerics, targets, and the regressors that fit them."""

import numpy as np
import pytest

from sklearn_losses._reference import REFERENCE_VALUES
from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import CIoU, DIoU, GIoU, get_loss
from sklearn_losses.losses.boxes import BoxLink
from sklearn_losses.neural_network import MLPRegressor

BOX_LOSSES = ["giou", "diou", "ciou"]


def _boxes(rng, n):
    centre = rng.normal(size=(n, 2))
    half = 0.5 * np.exp(0.4 * rng.normal(size=(n, 2)))
    return np.column_stack([centre - half, centre + half])


def _problem(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    cx, cy = 2 * X[:, 0] + 0.3 * rng.normal(size=n), X[:, 1] - X[:, 2] + 0.3 * rng.normal(size=n)
    w, h = np.exp(0.5 * X[:, 3] + 0.1 * rng.normal(size=n)), np.exp(0.3 * X[:, 4] - 0.2 * X[:, 5])
    return X, np.column_stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _mean_iou(P, T):
    iw = np.clip(np.minimum(P[:, 2], T[:, 2]) - np.maximum(P[:, 0], T[:, 0]), 0, None)
    ih = np.clip(np.minimum(P[:, 3], T[:, 3]) - np.maximum(P[:, 1], T[:, 1]), 0, None)
    inter = iw * ih
    union = (P[:, 2] - P[:, 0]) * (P[:, 3] - P[:, 1]) + (T[:, 2] - T[:, 0]) * (T[:, 3] - T[:, 1]) - inter
    return float(np.mean(inter / union))


@pytest.mark.parametrize("name", BOX_LOSSES)
def test_identical_boxes_have_zero_loss_and_gradient(name, rng):
    """At a perfect match every edge is a kink: the gradient is the mean of the one-sided derivatives, 0."""
    T = _boxes(rng, 20)
    value, grad = get_loss(name, box_format="xyxy").loss_gradient(T, T.copy(), reduction="none")
    assert np.all(value == 0.0)
    np.testing.assert_allclose(grad, 0.0, atol=1e-15)  # GIoU: union / enclosing area equal to rounding
    loss = get_loss(name)  # decoded from centre and log-sizes: equal to rounding
    raw = loss.link.link(T)
    np.testing.assert_allclose(loss.inverse_link(raw), T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(loss.loss(T, raw, reduction="none"), 0.0, atol=1e-12)


@pytest.mark.parametrize("name", BOX_LOSSES)
def test_losses_are_translation_and_scale_invariant(name, rng):
    T, P = _boxes(rng, 30), _boxes(rng, 30)
    loss = get_loss(name, box_format="xyxy")
    value = loss.loss(T, P, reduction="none")
    for shift, scale in ((1e6, 1.0), (0.0, 1e-8), (-3e4, 250.0)):
        np.testing.assert_allclose(loss.loss(scale * T + shift, scale * P + shift, reduction="none"), value,
                                   rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(value, REFERENCE_VALUES[name](loss, T, P), rtol=1e-10, atol=1e-12)


def test_giou_of_disjoint_boxes_exceeds_one_and_keeps_a_gradient():
    T = np.array([[0.0, 0.0, 1.0, 1.0]])
    P = np.array([[2.0, 0.0, 3.0, 1.0]])  # one box to the right: enclosing 3 x 1, union 2
    value, grad = GIoU(box_format="xyxy").loss_gradient(T, P, reduction="none")
    np.testing.assert_allclose(value, [1.0 + 1.0 / 3.0], rtol=1e-13)
    assert grad[0, 0] > 0  # moving the left edge left (towards the target) lowers the loss
    assert grad[0, 2] < 0  # so does moving the right edge right: the box grows into the gap
    np.testing.assert_allclose(DIoU(box_format="xyxy").loss(T, P, reduction="none"), [1.0 + 4.0 / 10.0], rtol=1e-13)


def test_every_raw_row_decodes_to_a_valid_box(rng):
    raw = np.concatenate([3 * rng.normal(size=(50, 4)), [[0, 0, 800, -800], [1e300, -1e300, 0, 0]]])
    boxes = BoxLink("cxcy_logwh").inverse(raw)
    assert np.all(boxes[:, 2] >= boxes[:, 0]) and np.all(boxes[:, 3] >= boxes[:, 1])
    boxes = BoxLink("xyxy").inverse(rng.normal(size=(50, 4)))
    assert np.all(boxes[:, 2] >= boxes[:, 0]) and np.all(boxes[:, 3] >= boxes[:, 1])
    T = np.tile([[0.0, 0.0, 1.0, 1.0]], (raw.shape[0], 1))
    for name in BOX_LOSSES:
        with np.errstate(all="ignore"):
            value, grad = get_loss(name).loss_gradient(T, raw, reduction="none")
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
        bound = 3.0 if name == "ciou" else 2.0  # CIoU adds alpha v <= 1
        assert np.all((value >= 0) & (value <= bound + 1e-12))


def test_degenerate_and_misshapen_targets_are_refused():
    with pytest.raises(ValueError, match=r"GIoU: target boxes must have x2 > x1 and y2 > y1.*row 1"):
        GIoU().loss(np.array([[0, 0, 1, 1], [0, 0, 0, 1.0]]), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="shape \\(n_samples, 4\\)"):
        CIoU().loss(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="box_format"):
        GIoU(box_format="cxcywh").loss(np.array([[0, 0, 1, 1.0]]), np.zeros((1, 4)))
    X, Y = _problem(50)
    with pytest.raises(ValueError, match="DIoU: y_true must hold one box"):
        LinearRegressor("diou").fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="degenerate"):
        LinearRegressor("diou").fit(X, Y[:, [2, 1, 0, 3]])


@pytest.mark.parametrize("name", BOX_LOSSES)
def test_linear_regressor_fits_boxes_better_than_the_squared_error(name):
    X, Y = _problem()
    est = LinearRegressor(name, alpha=1e-4, max_iter=2000, tol=1e-6).fit(X, Y)
    predicted = est.predict(X)
    assert predicted.shape == Y.shape and est.coef_.shape == (4, X.shape[1])
    assert _mean_iou(predicted, Y) > _mean_iou(LinearRegressor().fit(X, Y).predict(X), Y) + 0.01
    # the fitted objective is the loss of the boxes plus the penalty
    loss = get_loss(name)
    raw = X @ est.coef_.T + est.intercept_
    np.testing.assert_allclose(est.objective_, loss.loss(Y, raw) + 0.5e-4 * np.sum(est.coef_**2), rtol=1e-9)


def test_mlp_regressor_fits_boxes():
    X, Y = _problem(800)
    est = MLPRegressor("giou", hidden_layer_sizes=(16,), max_iter=80, learning_rate_init=0.01,
                       random_state=0).fit(X, Y)
    assert _mean_iou(est.predict(X), Y) > 0.35
    assert est.n_outputs_ == 4
