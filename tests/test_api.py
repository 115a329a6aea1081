"""The Loss API: parameters, registry, validation, reductions, shapes, dtypes, threads."""

import pickle
import subprocess
import sys

import cloudpickle
import numba
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import mean_squared_error

from sklearn_losses import available_losses, get_loss
from sklearn_losses.embedding import LinearEmbedding
from sklearn_losses.ensemble import GradientBoostingRegressor
from sklearn_losses.linear_model import LinearClassifier, LinearRegressor, OrdinalClassifier
from sklearn_losses.neural_network import MLPRegressor
from sklearn_losses.svm import SVMRegressor
from sklearn_losses.losses import (
    LINEX, BaseLoss, CrossEntropy, Focal, Huber, KLDivergence, LogLoss, MulticlassFocal,
    MulticlassHinge, Poisson, Quantile, SquaredError, Tweedie,
)
from sklearn_losses.losses._base import PROPERTY_NAMES
from sklearn_losses.losses._factory import get_kernels
from sklearn_losses.testing import _sample

from .conftest import DEFAULT_CASES, case_id


# -- registry --------------------------------------------------------------------------
def test_registry_lists_the_catalogue():
    names = {info.name for info in available_losses()}
    assert len(names) == 45
    assert {info.name for info in available_losses(task="embedding")} == {"contrastive", "triplet", "ntxent", "supcon"}
    assert {info.name for info in available_losses(task="ordinal")} == {
        "cumulative_link", "all_threshold", "immediate_threshold", "coral", "corn"}
    assert {"huber", "quantile", "focal", "cross_entropy", "kl_divergence", "tweedie"} <= names
    assert {info.name for info in available_losses(task="binary")} == {
        "log_loss", "hinge", "squared_hinge", "modified_huber", "exponential", "focal"}
    assert {info.name for info in available_losses(task="overlap")} == {
        "soft_fbeta", "soft_dice", "soft_jaccard", "tversky", "focal_tversky", "lovasz_hinge"}
    assert {"giou", "diou", "ciou", "lovasz_softmax"} <= names
    for info in available_losses():
        assert set(info.properties) == set(PROPERTY_NAMES)
        assert info.task == info.properties["task"]


def test_get_loss_errors():
    with pytest.raises(ValueError, match="Unknown loss 'hubr'.*huber"):
        get_loss("hubr")
    with pytest.raises(ValueError, match="Invalid parameter 'width'"):
        get_loss("huber", width=2)
    with pytest.raises(TypeError, match="loss must be a loss name"):
        get_loss(3)


@pytest.mark.parametrize("loss", DEFAULT_CASES, ids=case_id)
def test_every_loss_documents_its_formula(loss):
    doc = type(loss).__doc__
    assert ".. math::" in doc, "each loss states its formula in its docstring"
    for name in loss.get_params(deep=False):  # a nested loss documents its own
        assert f"{name} :" in doc, f"parameter {name} is documented"


# -- parameters -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, match",
    [
        (Huber(delta=-1.0), "'delta' parameter of Huber"),
        (Huber(delta="a"), "'delta' parameter of Huber"),
        (Quantile(quantile=1.0), "'quantile' parameter of Quantile"),
        (Focal(alpha=2.0), "'alpha' parameter of Focal"),
        (MulticlassHinge(kind="ovr"), "'kind' parameter of MulticlassHinge"),
        (LINEX(a=0.0), "'a' parameter of LINEX must be non-zero"),
        (Tweedie(power=0.5), "'power' parameter of Tweedie"),
    ],
)
def test_invalid_parameters_name_the_parameter(loss, match):
    y = np.zeros((3, 3)) if loss.task == "multiclass" else np.ones(3)
    raw = np.zeros((3, 3)) if loss.task == "multiclass" else np.zeros(3)
    y = np.zeros(3) if loss.task == "multiclass" else y
    with pytest.raises(ValueError, match=match):
        loss.loss(y, raw)


def test_sklearn_parameter_protocol():
    loss = Huber(delta=2.0)
    assert loss.get_params() == {"delta": 2.0}
    assert repr(loss) == "Huber(delta=2.0)"
    twin = clone(loss).set_params(delta=3.0)
    assert twin.delta == 3.0 and loss.delta == 2.0
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)):
        restored = loads(dumps(loss))
        assert restored.get_params() == loss.get_params()
        assert restored(np.ones(4), np.zeros(4)) == loss(np.ones(4), np.zeros(4))


requires_jit = pytest.mark.skipif(numba.config.DISABLE_JIT, reason="inspects compiled code")


@requires_jit
def test_parameter_change_does_not_recompile(rng):
    y, raw = rng.normal(size=50), rng.normal(size=50)
    Huber(delta=1.0).loss_gradient(y, raw)
    kernel = get_kernels(Huber._kernel_spec, "huber").get("loss_gradient_sum", False, False)
    n_signatures = len(kernel.signatures)
    for delta in (0.1, 0.5, 2.0, 10.0):
        Huber(delta=delta).loss_gradient(y, raw)
    assert len(kernel.signatures) == n_signatures


@requires_jit
def test_import_compiles_nothing():
    code = (
        "import sys, sklearn_losses, sklearn_losses.metrics, sklearn_losses.testing\n"
        "from sklearn_losses.losses import _math\n"
        "assert not any(m.startswith('sklearn_losses._generated') for m in sys.modules)\n"
        "assert not _math.exp.signatures\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- targets, shapes and weights ----------------------------------------------------------
@pytest.mark.parametrize(
    "loss, y, raw, match",
    [
        (Poisson(), [1.0, -1.0], [0.0, 0.0], r"Poisson: y_true must lie in \[0, inf\); got -1.0 at position 1"),
        (LogLoss(), [0.0, 2.0], [0.0, 0.0], "LogLoss: y_true must be 0 or 1"),
        (CrossEntropy(), [0, 3], np.zeros((2, 3)), "CrossEntropy: y_true must hold class indices in 0..2"),
        (KLDivergence(), [[0.5, 0.6], [1.0, 0.0]], np.zeros((2, 2)), "row 0 sums to"),
        (SquaredError(), [1.0, np.nan], [0.0, 0.0], "NaN or infinity"),
    ],
)
def test_targets_outside_the_domain(loss, y, raw, match):
    with pytest.raises(ValueError, match=match):
        loss.loss(np.asarray(y), np.asarray(raw))
    with pytest.raises(ValueError, match=match):
        loss.validate_target(np.asarray(y), np.shape(raw)[1] if np.ndim(raw) == 2 else None)


def test_check_input_false_skips_the_domain_scan():
    assert np.isfinite(Huber().loss(np.array([1.0, 2.0]), np.zeros(2), check_input=False))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: Huber().loss(np.ones(3), np.ones(4)), ValueError, "y_true has shape"),
        (lambda: CrossEntropy().loss(np.ones(3), np.ones(3)), ValueError, "shape \\(n_samples, n_classes\\)"),
        (lambda: Huber().loss(np.ones(3), np.ones(3), sample_weight=np.ones(2)), ValueError, "sample_weight must have shape"),
        (lambda: Huber().loss(np.ones(3), np.ones(3), sample_weight=[1, -1, 1]), ValueError, "non-negative"),
        (lambda: Huber().loss(np.ones(3), np.ones(3), sample_weight=np.zeros(3)), ValueError, "sums to zero"),
        (lambda: Huber().loss(np.ones(3), np.ones(3), reduction="avg"), ValueError, "reduction must be one of"),
        (lambda: Huber().loss(np.ones(3), np.array(["a", "b", "c"])), TypeError, "raw_prediction must be numeric"),
        (lambda: Huber().loss(np.ones(0), np.ones(0)), ValueError, "empty"),
        (lambda: MulticlassFocal().gradient_hessian(np.zeros(2), np.zeros((2, 3))), ValueError, "no hessian"),
        (lambda: Huber().gradient(np.ones(3), np.ones(3), gradient_out=np.empty(4)), ValueError, "gradient_out"),
    ],
)
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_multi_output_regression(rng):
    y, raw = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    w = rng.uniform(0.5, 2, size=40)
    loss = SquaredError()
    assert loss(y, raw) == pytest.approx(mean_squared_error(y, raw))
    assert loss(y, raw, w) == pytest.approx(mean_squared_error(y, raw, sample_weight=w))
    per_sample = loss.loss(y, raw, w, reduction="none")
    np.testing.assert_allclose(per_sample, w * ((y - raw) ** 2).mean(axis=1))
    value, grad = loss.loss_gradient(y, raw, w, reduction="none")
    np.testing.assert_allclose(value, per_sample)
    np.testing.assert_allclose(grad, w[:, None] * 2 * (raw - y) / 3)
    grad_mean = loss.gradient(y, raw, w)
    np.testing.assert_allclose(grad_mean, w[:, None] * 2 * (raw - y) / 3 / w.sum())
    # the mean gradient is the derivative of the mean value
    h = 1e-6
    bumped = raw.copy()
    bumped[5, 1] += h
    assert (loss(y, bumped, w) - loss(y, raw, w)) / h == pytest.approx(grad_mean[5, 1], rel=1e-4)


def test_gradient_out_is_filled_in_place(rng):
    y, raw = rng.normal(size=30), rng.normal(size=30)
    out = np.empty(30)
    value, grad = Huber().loss_gradient(y, raw, gradient_out=out)
    assert grad is out or np.shares_memory(grad, out)
    np.testing.assert_allclose(out, Huber().gradient(y, raw))


def test_integer_and_list_inputs_are_accepted():
    assert Huber()([1, 2, 3], [1, 2, 4]) == pytest.approx(0.5 / 3)
    assert CrossEntropy().loss([0, 1], [[2.0, 0.0], [0.0, 2.0]]) > 0


def test_inverse_link():
    np.testing.assert_allclose(LogLoss().inverse_link(np.array([0.0])), [0.5])
    np.testing.assert_allclose(Poisson().inverse_link(np.array([0.0, 1.0])), [1.0, np.e])
    p = CrossEntropy().inverse_link(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(Huber().inverse_link(np.array([2.5])), [2.5])


# -- threading and determinism ---------------------------------------------------------
@pytest.mark.parametrize("loss", [loss for loss in DEFAULT_CASES if loss.kernel_spec is not None], ids=case_id)
def test_parallel_kernels_equal_serial_kernels(loss, rng, monkeypatch):
    y, raw = _sample(loss, rng, 9000, 4)
    w = rng.uniform(0.5, 2.0, size=9000)
    # the per-sample outputs (another generated entry, the same loops) for one
    # loss of each kernel kind: each threaded kernel costs seconds to compile
    every_entry = loss.name in ("huber", "log_loss", "cross_entropy", "multiclass_hinge")

    def outputs():
        return loss.loss_gradient(y, raw, w), loss.loss(y, raw, reduction="none") if every_entry else None

    serial = outputs()
    monkeypatch.setenv("SKLEARN_LOSSES_PARALLEL_THRESHOLD", "0")
    parallel = outputs()
    assert parallel[0][0] == pytest.approx(serial[0][0], rel=1e-14)
    if loss._kernel_spec.kind == "elementwise":
        # Same chunking and maths, but numba optimises threaded code loaded from
        # its disk cache differently from freshly compiled code (numba#10617),
        # so the two paths agree to rounding (at most 3 ulp measured), not bit for bit. Bit-for-bit
        # independence of the thread count is tested in test_threads.py.
        np.testing.assert_array_max_ulp(parallel[0][1], serial[0][1], maxulp=4)
        if every_entry:
            np.testing.assert_array_max_ulp(parallel[1], serial[1], maxulp=4)
    else:  # the row maths (sums over classes) may be vectorised differently
        np.testing.assert_allclose(parallel[0][1], serial[0][1], rtol=1e-10, atol=1e-18)
        if every_entry:
            np.testing.assert_allclose(parallel[1], serial[1], rtol=1e-12)


def test_a_subclass_needs_only_maths_and_properties():
    """A new loss is a KernelSpec plus declared properties (and, optionally, its declared
    piecewise structure for the exact solvers); everything else is inherited."""
    assert issubclass(Huber, BaseLoss)
    assert set(vars(Huber)) - {"__module__", "__doc__", "__init__", "__qualname__", "__static_attributes__", "__slotnames__"} <= {
        "name", "twice_differentiable", "robust", "growth", "_parameter_constraints", "_kernel_spec",
        "piecewise_quadratic", "quadratic_pieces"}


def test_kernel_spec_validates_its_functions():
    from sklearn_losses.losses._factory import KernelSpec
    from sklearn_losses.losses.regression import _squared_gradient, _squared_value

    with pytest.raises(ValueError, match="kind must be"):
        KernelSpec("vector", _squared_value, _squared_gradient)
    with pytest.raises(ValueError, match="needs a gradient"):
        KernelSpec("elementwise", _squared_value)
    with pytest.raises(ValueError, match="needs a loss_gradient"):
        KernelSpec("row", _squared_value)
    with pytest.raises(TypeError, match="module-level @njit"):
        KernelSpec("elementwise", lambda y, r: 0.0, _squared_gradient)
    with pytest.raises(ValueError, match="prepare applies to 'elementwise'"):
        KernelSpec("row", _squared_value, loss_gradient=_squared_gradient, prepare=_squared_value)


@pytest.mark.parametrize("make, key, value", [
    (lambda: LinearRegressor("huber"), "loss__delta", 2.0),
    (lambda: LinearClassifier("focal"), "loss__gamma", 1.0),
    (lambda: OrdinalClassifier("all_threshold"), "loss__threshold_weights", "ordinal"),
    (lambda: SVMRegressor(), "loss__epsilon", 0.3),
    (lambda: MLPRegressor(loss="huber"), "loss__delta", 2.0),
    (lambda: GradientBoostingRegressor("quantile"), "loss__quantile", 0.9),
    (lambda: LinearEmbedding("triplet"), "loss__margin", 0.5),
], ids=["linear", "classifier", "ordinal", "svm", "mlp", "boosting", "embedding"])
def test_a_loss_given_by_name_takes_its_parameters_through_set_params(make, key, value):
    """``loss__<parameter>`` (a grid search over a loss's parameters) works with ``loss="huber"`` as with
    ``loss=Huber()``: the name becomes the loss's instance."""
    estimator = make().set_params(**{key: value})
    assert not isinstance(estimator.loss, str)
    assert clone(estimator).get_params()[key] == value
    both = clone(make()).set_params(loss=make().loss, **{key: value})  # a name and its parameter in one call
    assert both.get_params()[key] == value
