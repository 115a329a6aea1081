"""The loss contract, run over every registered loss and special parameter cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_losses import available_losses, get_loss
from sklearn_losses._reference import REFERENCE_VALUES
from sklearn_losses.losses import BaseLoss, KernelSpec, MulticlassHinge
from sklearn_losses.losses._math import jit_scalar
from sklearn_losses.testing import _sample, check_loss

from .conftest import ALL_CASES, DEFAULT_CASES, case_id


@pytest.mark.parametrize("loss", ALL_CASES, ids=case_id)
def test_check_loss(loss):
    check_loss(loss)


@pytest.mark.parametrize("name", [info.name for info in available_losses()])
def test_every_loss_has_a_reference(name):
    assert name in REFERENCE_VALUES


@pytest.mark.parametrize("loss", ALL_CASES, ids=case_id)
def test_values_match_numpy_reference(loss, rng):
    y, raw = _sample(loss, rng, 200, 5)
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
        value, grad = loss.loss_gradient(y, raw_array, reduction="none")
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


@pytest.mark.parametrize(
    "loss, message",
    [
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


def test_check_loss_accepts_names():
    check_loss("huber")
    with pytest.raises(ValueError, match="Unknown loss"):
        check_loss("no_such_loss")


def test_get_loss_returns_independent_instances():
    a = get_loss("huber", delta=2.0)
    b = get_loss(a, delta=3.0)
    assert a.delta == 2.0 and b.delta == 3.0
