"""The loss contract, run over every registered loss and special parameter cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_losses import available_losses, get_loss
from sklearn_losses._reference import REFERENCE_BATCH_VALUES, REFERENCE_VALUES
from sklearn_losses.losses import BaseLoss, MulticlassHinge
from sklearn_losses.losses._factory import KernelSpec
from sklearn_losses.losses._math import jit_scalar
from sklearn_losses.testing import _sample, check_loss

from .conftest import ALL_CASES, DEFAULT_CASES, case_id


@pytest.mark.parametrize("loss", ALL_CASES, ids=case_id)
def test_check_loss(loss):
    check_loss(loss)


@pytest.mark.parametrize("name", [info.name for info in available_losses()])
def test_every_loss_has_a_reference(name):
    assert name in REFERENCE_VALUES or name in REFERENCE_BATCH_VALUES


@pytest.mark.parametrize("loss", ALL_CASES, ids=case_id)
def test_values_match_numpy_reference(loss, rng):
    y, raw = _sample(loss, rng, 60 if loss.structure == "pairwise" else 200, 5)
    if loss.structure in ("batch", "pairwise"):
        w = rng.uniform(0.2, 3.0, raw.shape[0])
        for weights in (None, w):
            expected = REFERENCE_BATCH_VALUES[loss.name](loss, y, raw, weights)
            np.testing.assert_allclose(loss.loss(y, raw, weights), expected, rtol=1e-12)
        return
    expected = REFERENCE_VALUES[loss.name](loss, y, raw)
    np.testing.assert_allclose(loss.loss(y, raw, reduction="none"), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", DEFAULT_CASES, ids=case_id)
@settings(max_examples=30, deadline=None)
@given(raw=st.floats(-1e300, 1e300), seed=st.integers(0, 100))
def test_no_nan_anywhere(loss, raw, seed):
    rng = np.random.default_rng(seed)
    y, sample = _sample(loss, rng, 8, 3)
    raw_array = np.full_like(sample, raw)
    with np.errstate(all="ignore"):
        value, grad = loss.loss_gradient(y, raw_array, reduction="mean" if loss.structure in ("batch", "pairwise") else "none")
    assert not np.any(np.isnan(value)) and not np.any(np.isnan(grad))


# -- the contract catches broken losses --------------------------------------------------
@jit_scalar
def _sq(y, r):
    return (y - r) ** 2


@jit_scalar
def _sq_wrong_gradient(y, r):
    return 2.0 * (r - y) * 1.001


@jit_scalar
def _sq_gradient(y, r):
    return 2.0 * (r - y)


@jit_scalar
def _sq_wrong_hessian(y, r):
    return 2.0 * (r - y), 2.1


@jit_scalar
def _nan_at_extremes(y, r):
    return (y - r) ** 2 if abs(r) < 1e200 else np.nan


class _WrongGradient(BaseLoss):
    _kernel_spec = KernelSpec("elementwise", _sq, _sq_wrong_gradient)


class _WrongHessian(BaseLoss):
    _kernel_spec = KernelSpec("elementwise", _sq, _sq_gradient, gradient_hessian=_sq_wrong_hessian)


@jit_scalar
def _scaled_sq(y, r, a):
    return a * (y - r) ** 2


@jit_scalar
def _squared_gh(y, r):
    return 2.0 * (r - y), 2.0


class _NanLoss(BaseLoss):
    _kernel_spec = KernelSpec("elementwise", _nan_at_extremes, _sq_gradient)


class _WrongCurvature(BaseLoss):
    """Squared error declaring the curvature of Huber (kappa = 1 instead of 1/2)."""

    piecewise_quadratic = True
    _kernel_spec = KernelSpec("elementwise", _sq, _sq_gradient)

    def quadratic_pieces(self, y_true):
        y = np.asarray(y_true, dtype=float).reshape(-1, 1)
        return np.tile([-np.inf, np.inf], (y.shape[0], 1)), y, np.ones(y.shape[0])


class _WrongPieces(BaseLoss):
    """Squared error declaring piecewise-linear pieces."""

    piecewise_linear = True
    _kernel_spec = KernelSpec("elementwise", _sq, _sq_gradient)

    def linear_pieces(self, y_true):
        y = np.asarray(y_true, dtype=float).reshape(-1, 1)
        return np.tile([-1.0, 1.0], (y.shape[0], 1)), y


class _WrongPolytope(MulticlassHinge):
    """Crammer-Singer hinge declaring the Weston-Watkins polytope."""

    def polyhedral_pieces(self, y_true, n_classes):
        return MulticlassHinge("weston_watkins").polyhedral_pieces(y_true, n_classes)


@jit_scalar
def _concave(y, r):
    return -((y - r) ** 2)


@jit_scalar
def _concave_gradient(y, r):
    return 2.0 * (y - r)


@jit_scalar
def _concave_gradient_hessian(y, r):
    return 2.0 * (y - r), -2.0


class _ConvexClaim(BaseLoss):
    """A concave loss declaring an exact hessian and convexity (the defaults)."""

    growth = "quadratic"
    _kernel_spec = KernelSpec("elementwise", _concave, _concave_gradient, gradient_hessian=_concave_gradient_hessian)


class _ZeroHessianClaim(BaseLoss):
    """Squared error declaring the zero hessian of a piecewise-linear loss."""

    hessian = "zero"
    _kernel_spec = KernelSpec("elementwise", _sq, _sq_gradient, gradient_hessian=_squared_gh)


class _NoHessianClaim(BaseLoss):
    hessian = "none"
    _kernel_spec = KernelSpec("elementwise", _sq, _sq_gradient, gradient_hessian=_squared_gh)


class _RowClaim(BaseLoss):
    structure = "row"
    _kernel_spec = KernelSpec("elementwise", _sq, _sq_gradient)


@pytest.mark.parametrize(
    "loss, message",
    [
        (_ConvexClaim(), "declares hessian='exact' and convex=True but the hessian is -2.0"),
        (_ZeroHessianClaim(), "declares hessian='zero'"),
        (_RowClaim(), "structure='row' but its kernels take elements"),
        (_WrongGradient(), "gradient disagrees with finite differences"),
        (_WrongHessian(), "hessian disagrees with finite differences"),
        (_NanLoss(), "loss is NaN at extreme input"),
        (_WrongCurvature(), "quadratic_pieces: gradient"),
        (_WrongPieces(), "linear_pieces"),
        (_WrongPolytope(), "polyhedral_pieces: the maximum"),
    ],
)
def test_check_loss_catches_broken_losses(loss, message):
    with pytest.raises(AssertionError, match=message):
        check_loss(loss)


def test_kernel_signatures_are_checked_when_a_loss_class_is_made():
    """The functions must follow their kind's convention; the error names the loss and the function."""
    with pytest.raises(TypeError, match=r"_BadArity: the gradient function _sq_gradient takes 2 arguments; "
                                        r"a 'elementwise' loss's gradient takes 3: \(y, r, \*params\)"):
        type("_BadArity", (BaseLoss,), {"_kernel_spec": KernelSpec("elementwise", _scaled_sq, _sq_gradient,
                                                                   n_params=1)})
    with pytest.raises(TypeError, match="loss_gradient function _sq takes 2 arguments; a 'row' loss"):
        type("_BadRow", (BaseLoss,), {"structure": "row", "_kernel_spec": KernelSpec("row", _sq, loss_gradient=_sq)})


def test_declarations_are_checked_when_a_loss_class_is_made():
    with pytest.raises(TypeError, match="structure must be one of"):
        type("Bad", (BaseLoss,), {"structure": "elementwsie"})
    with pytest.raises(TypeError, match="hessian must be one of"):
        type("Bad", (BaseLoss,), {"hessian": "psd"})


def test_default_hessian_follows_the_per_sample_functions():
    assert _WrongGradient().hessian == "none" and not _WrongGradient().has_hessian
    assert _WrongHessian().hessian == "exact"
    assert get_loss("hinge").hessian == "zero" and get_loss("hinge").has_hessian  # zero, but computed
    assert get_loss("focal").hessian == "indefinite" and get_loss("focal", gamma=0.0).hessian == "exact"
    assert get_loss("general_robust", alpha=0.5).hessian == "indefinite"
    assert get_loss("multiclass_focal").hessian == "none"
    with pytest.raises(ValueError, match=r"declares no hessian \(hessian='none'\)"):
        _NoHessianClaim().gradient_hessian(np.zeros(3), np.ones(3))
    assert {info.properties["structure"] for info in available_losses()} == {"elementwise", "row", "batch", "pairwise"}


def test_solvers_name_the_declaration_they_miss():
    from sklearn_losses.linear_model import LinearClassifier, LinearRegressor

    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 3
    with pytest.raises(ValueError, match="hessian='none'"):
        LinearClassifier("multiclass_focal", solver="newton-cg").fit(X, y)
    with pytest.raises(ValueError, match="structure='row'"):
        LinearClassifier("cross_entropy", solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="differentiable=False"):
        LinearRegressor("absolute_error", solver="lbfgs").fit(X, y.astype(float))


def test_check_loss_accepts_names():
    check_loss("huber")
    with pytest.raises(ValueError, match="Unknown loss"):
        check_loss("no_such_loss")


def test_get_loss_returns_independent_instances():
    a = get_loss("huber", delta=2.0)
    b = get_loss(a, delta=3.0)
    assert a.delta == 2.0 and b.delta == 3.0


# -- baseline_prediction -------------------------------------------------------------------
def test_baseline_closed_forms_match_numpy():
    rng = np.random.default_rng(3)
    y = rng.normal(size=101)
    w = rng.uniform(0.1, 2.0, 101)
    assert get_loss("squared_error").baseline_prediction(y, w) == pytest.approx(np.average(y, weights=w))
    # the weighted median / quantile: a minimiser of the weighted absolute / pinball loss
    for q, name in ((0.5, "absolute_error"), (0.9, "quantile")):
        b = get_loss(name, **({} if name == "absolute_error" else {"quantile": q})).baseline_prediction(y, w)
        below, at_or_below = w[y < b].sum(), w[y <= b].sum()
        assert below <= q * w.sum() <= at_or_below
    counts = rng.poisson(2.0, 101).astype(float)
    assert get_loss("poisson").baseline_prediction(counts, w) == pytest.approx(np.log(np.average(counts, weights=w)))
    labels = (rng.uniform(size=101) < 0.3).astype(float)
    s1, s0 = w @ labels, w @ (1 - labels)
    assert get_loss("log_loss", pos_weight=2.0).baseline_prediction(labels, w) == pytest.approx(np.log(2 * s1 / s0))
    assert get_loss("exponential").baseline_prediction(labels, w) == pytest.approx(0.5 * np.log(s1 / s0))
    classes = rng.integers(0, 3, 101)
    priors = np.bincount(classes, weights=w, minlength=4) / w.sum()
    smoothed = 0.9 * priors + 0.1 / 4
    b = get_loss("cross_entropy", label_smoothing=0.1).baseline_prediction(classes, w, n_classes=4)
    np.testing.assert_allclose(b, np.log(smoothed) - np.log(smoothed).mean())
    # all zeros: the infimum is at -inf; a finite raw prediction whose mean is about 0
    assert np.exp(get_loss("poisson").baseline_prediction(np.zeros(5))) < 1e-14


def test_baseline_of_custom_losses_composites_and_multi_output_targets():
    from sklearn_losses._contract import check_baseline
    from sklearn_losses.losses import Asymmetric, WeightedSum, make_loss

    def fail(message):
        raise AssertionError(message)

    rng = np.random.default_rng(4)
    y, w = rng.standard_t(2, size=80), rng.uniform(0.2, 3.0, 80)

    def cauchy(y, r, c=1.0):
        e = (y - r) / c
        return np.log(1.0 + e * e)

    for loss in (make_loss(cauchy), make_loss(cauchy, convex=True), Asymmetric("squared_error", under=3.0),
                 WeightedSum([(1.0, "squared_error"), (0.5, "absolute_error")])):
        check_baseline(loss, y, w, None, fail)
    Y = np.column_stack([y, 2 * y + 1])
    b = get_loss("squared_error").baseline_prediction(Y, w)
    np.testing.assert_allclose(b, np.average(Y, axis=0, weights=w))
    check_baseline(get_loss("huber"), Y, w, None, fail)


def test_baseline_rejects_bad_input():
    loss = get_loss("squared_error")
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        loss.baseline_prediction(np.ones(3), np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="positive sum"):
        loss.baseline_prediction(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="non-empty"):
        loss.baseline_prediction(np.ones(0))
    with pytest.raises(ValueError, match="Poisson"):
        get_loss("poisson").baseline_prediction(np.array([1.0, -2.0]))
    with pytest.raises(TypeError, match="numeric"):
        loss.baseline_prediction(np.array(["a", "b"]))
