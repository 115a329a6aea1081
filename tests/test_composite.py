"""Composite losses: fused kernels, named components tunable as scikit-learn parameters."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.model_selection import GridSearchCV

from sklearn_losses.linear_model import LinearRegressor
from sklearn_losses.losses import Asymmetric, CrossEntropy, Huber, MulticlassFocal, SquaredError, WeightedSum, \
    get_loss, make_loss

X, Y = make_regression(120, 3, noise=3.0, random_state=0)


def business_cost(y, r, under=3.0):
    e = y - r
    return under * e * e if e > 0 else e * e


def test_element_wise_composites_are_one_fused_kernel():
    for loss in (Asymmetric(SquaredError(), under=3.0), WeightedSum([(1.0, "squared_error"), (0.5, "huber")]),
                 Asymmetric(make_loss(business_cost), under=2.0),
                 WeightedSum([(1.0, Asymmetric("huber", over=2.0)), (0.3, make_loss(business_cost))])):
        assert loss.kernel_spec is not None and loss.kernel_spec.source is not None
    mixed = WeightedSum([(1.0, CrossEntropy()), (0.5, "multiclass_hinge")])
    assert mixed.kernel_spec is None  # a softmax and a plain row loss: composed through their public methods
    y, raw = np.arange(6) % 3, np.random.default_rng(0).normal(size=(6, 3))
    expected = CrossEntropy()(y, raw) + 0.5 * get_loss("multiclass_hinge")(y, raw)
    assert mixed(y, raw) == pytest.approx(expected)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_weighted_sum_of_softmax_losses_is_one_fused_kernel(smoothing):
    """Softmax components share the row's probabilities: one fused softmax kernel, equal to the components."""
    rng = np.random.default_rng(4)
    n, k = 300, 4
    y, raw, w = rng.integers(0, k, n), 3.0 * rng.normal(size=(n, k)), rng.uniform(0.2, 2.0, n)
    parts = [(1.0, CrossEntropy(label_smoothing=smoothing)), (0.5, MulticlassFocal(gamma=1.5)),
             (0.25, CrossEntropy())]
    loss = WeightedSum(parts)
    assert loss.kernel_spec is not None and loss.kernel_spec.kind == "softmax" and loss.structure == "row"
    per_sample = sum(c * part(y, raw, reduction="none") for c, part in parts)
    np.testing.assert_allclose(loss(y, raw, reduction="none"), per_sample, rtol=1e-12)
    np.testing.assert_allclose(loss(y, raw, w), np.average(per_sample, weights=w), rtol=1e-12)
    grad = sum(c * part.gradient(y, raw, w) for c, part in parts)
    value, fused_grad = loss.loss_gradient(y, raw, w)
    np.testing.assert_allclose(fused_grad, grad, rtol=1e-11, atol=1e-16)
    np.testing.assert_allclose(loss.gradient(y, raw, w, reduction="sum"),
                               sum(c * part.gradient(y, raw, w, reduction="sum") for c, part in parts),
                               rtol=1e-11, atol=1e-15)
    assert value == pytest.approx(np.average(per_sample, weights=w), rel=1e-12)
    hessian_parts = WeightedSum([(1.0, CrossEntropy(label_smoothing=smoothing)), (2.0, CrossEntropy())])
    _, hess = hessian_parts.gradient_hessian(y, raw, w)
    expected = sum(c * part.gradient_hessian(y, raw, w)[1] for c, part in hessian_parts.losses)
    np.testing.assert_allclose(hess, expected, rtol=1e-12, atol=1e-16)


def test_fused_composite_equals_its_components():
    rng = np.random.default_rng(1)
    y, raw, w = rng.normal(size=500), rng.normal(size=500), rng.uniform(0.1, 2.0, 500)
    custom = make_loss(business_cost)
    loss = WeightedSum([(1.0, Asymmetric(custom, under=2.0)), (0.25, Huber(delta=0.5))])
    factor = np.where(raw < y, 2.0, 1.0)
    per_sample = factor * custom(y, raw, reduction="none") + 0.25 * Huber(delta=0.5)(y, raw, reduction="none")
    np.testing.assert_allclose(loss(y, raw, reduction="none"), per_sample, rtol=1e-13)
    np.testing.assert_allclose(loss(y, raw, w), np.average(per_sample, weights=w), rtol=1e-13)
    grad = factor * custom.gradient(y, raw, reduction="none") + 0.25 * Huber(delta=0.5).gradient(
        y, raw, reduction="none")
    np.testing.assert_allclose(loss.gradient(y, raw, reduction="none"), grad, rtol=1e-13)
    # changing a weight or a parameter is a runtime argument: the same compiled kernels
    spec = loss.kernel_spec
    loss.set_params(huber__delta=2.0, huber__weight=3.0)
    assert loss.kernel_spec is spec


def test_weighted_sum_names_and_tunes_its_components():
    loss = WeightedSum([(1.0, "squared_error"), (0.1, Huber(delta=2.0)), (0.2, "huber")])
    params = loss.get_params()
    assert {"squared_error", "huber-1", "huber-2", "huber-1__delta", "huber-1__weight"} <= set(params)
    assert params["huber-1__delta"] == 2.0 and params["huber-2__weight"] == 0.2
    named = WeightedSum([("fit", 1.0, "squared_error"), ("robust", 0.5, Huber())])
    named.set_params(robust__delta=0.3, fit__weight=2.0)
    assert named.losses[0] == ("fit", 2.0, "squared_error") and named.losses[1][2].delta == 0.3
    assert clone(named).get_params()["robust__delta"] == 0.3
    assert pickle.loads(pickle.dumps(named)).get_params()["robust__delta"] == 0.3
    with pytest.raises(ValueError, match="Invalid parameter 'nope__delta'"):
        named.set_params(nope__delta=1.0)
    with pytest.raises(ValueError, match="names must be unique"):
        WeightedSum([("a", 1.0, "huber"), ("a", 1.0, "squared_error")]).get_params()
    with pytest.raises(ValueError, match="weights must be non-negative"):
        WeightedSum([(-1.0, "huber")])(np.zeros(2), np.ones(2))


def test_grid_search_tunes_nested_parameters_and_weights():
    est = LinearRegressor(WeightedSum([(1.0, "squared_error"), (0.5, Huber())]), solver="lbfgs")
    search = GridSearchCV(est, {"loss__huber__delta": [0.5, 2.0], "loss__huber__weight": [0.0, 1.0]}, cv=3)
    search.fit(X, Y)
    best = search.best_estimator_.loss_
    assert best.get_params()["huber__delta"] == search.best_params_["loss__huber__delta"]
    assert best.get_params()["huber__weight"] == search.best_params_["loss__huber__weight"]
    assert len(search.cv_results_["params"]) == 4


def test_per_output_is_one_fused_row_kernel():
    from sklearn_losses.losses import PerOutput, Poisson

    rng = np.random.default_rng(3)
    y = np.column_stack([rng.normal(size=200), rng.poisson(3.0, 200)])
    raw, w = rng.normal(size=(200, 2)), rng.uniform(0.2, 3.0, 200)
    loss = PerOutput([Huber(delta=0.5), "poisson", ])
    assert loss.kernel_spec is not None and loss.structure == "row"
    parts = [Huber(delta=0.5), Poisson()]
    per_sample = sum(p(y[:, j], raw[:, j], reduction="none") for j, p in enumerate(parts)) / 2
    np.testing.assert_allclose(loss(y, raw, reduction="none"), per_sample, rtol=1e-13)
    np.testing.assert_allclose(loss(y, raw, w), np.average(per_sample, weights=w), rtol=1e-13)
    grad = np.column_stack([p.gradient(y[:, j], raw[:, j], w) for j, p in enumerate(parts)]) / 2
    np.testing.assert_allclose(loss.gradient(y, raw, w), grad, rtol=1e-13)
    _, hess = loss.gradient_hessian(y, raw)
    expected = np.column_stack([p.gradient_hessian(y[:, j], raw[:, j])[1] for j, p in enumerate(parts)]) / 2
    np.testing.assert_allclose(hess, expected, rtol=1e-13)
    np.testing.assert_allclose(loss.baseline_prediction(y, w),
                               [p.baseline_prediction(y[:, j], w) for j, p in enumerate(parts)])
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\) for 2 losses"):
        loss(np.column_stack([y, y[:, 0]]), np.column_stack([raw, raw[:, 0]]))
    with pytest.raises(ValueError, match="Poisson"):
        loss(np.column_stack([y[:, 0], -1.0 - y[:, 1]]), raw)
    single = PerOutput(["huber"])  # one column: through the component's public methods
    assert single.kernel_spec is None
    assert single(y[:, :1], raw[:, :1]) == pytest.approx(Huber()(y[:, 0], raw[:, 0]))


def test_fused_softmax_sum_at_extreme_inputs_equals_its_components_and_refuses_bad_weights():
    parts = [(1.0, CrossEntropy(label_smoothing=0.05)), (0.5, MulticlassFocal(gamma=2.0))]
    loss = WeightedSum(parts)
    y = np.array([0, 1, 2, 1, 0])
    raw = np.array([[1e300, -1e300, 0.0], [-1e300, 1e300, 5.0], [0.0, 0.0, 1e308], [-1e16, 3.0, -1e16],
                    [-750.0, 750.0, 0.0]])
    value, grad = loss.loss_gradient(y, raw, reduction="none")
    assert np.all(np.isfinite(grad)) and not np.any(np.isnan(value))
    np.testing.assert_allclose(value, sum(c * part(y, raw, reduction="none") for c, part in parts), rtol=1e-12)
    np.testing.assert_allclose(grad, sum(c * part.gradient(y, raw, reduction="none") for c, part in parts),
                               rtol=1e-12, atol=1e-300)
    with pytest.raises(ValueError, match="finite and non-negative"):
        loss(y, raw, np.array([1.0, -1.0, 1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        loss(y, raw, np.ones(4))
