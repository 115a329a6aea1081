"""Embedding losses beyond the registry contract: miners, empty batches, blocks, memory, parameters."""

import tracemalloc

import numpy as np
import pytest
from sklearn.base import clone

from sklearn_losses import get_loss
from sklearn_losses._reference_embedding import EMBEDDING_VALUES
from sklearn_losses.losses import Contrastive, NTXent, SupCon, TripletMargin
from sklearn_losses.losses import _pairwise
from sklearn_losses.testing import check_loss

ALL_KINDS = [Contrastive(), TripletMargin(), NTXent(), SupCon()]


def _batch(rng, n=40, d=4, classes=4):
    return rng.integers(0, classes, n), rng.normal(size=(n, d))


@pytest.mark.parametrize("mining", ["all", "hard", "semihard", "batch_hard"])
@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
@pytest.mark.parametrize("normalize", [True, False])
def test_triplet_miners_match_the_enumeration(mining, distance, normalize, rng):
    y, raw = _batch(rng)
    w = rng.uniform(0.1, 2.0, len(y))
    for margin, mining_margin in ((0.2, None), (0.1, 0.4), (0.3, np.inf)):
        loss = TripletMargin(margin, mining=mining, mining_margin=mining_margin, distance=distance,
                             normalize=normalize)
        for weights in (None, w):
            np.testing.assert_allclose(loss.loss(y, raw, weights), EMBEDDING_VALUES["triplet"](loss, y, raw, weights),
                                       rtol=1e-12, atol=1e-15)


def test_one_margin_for_loss_and_miner_unless_both_are_set(rng):
    y, raw = _batch(rng)
    default = TripletMargin(0.35, mining="semihard")
    both = TripletMargin(0.35, mining="semihard", mining_margin=0.35)
    assert default.loss(y, raw) == both.loss(y, raw)
    other = TripletMargin(0.35, mining="semihard", mining_margin=0.05)
    assert default.loss(y, raw) != other.loss(y, raw)


@pytest.mark.parametrize("loss", ALL_KINDS, ids=lambda l: type(l).__name__)
@pytest.mark.parametrize("labels", ["one class", "all distinct", "two samples"])
def test_a_batch_without_valid_terms_gives_zero_not_nan(loss, labels, rng):
    raw = rng.normal(size=(6, 3))
    y = {"one class": np.zeros(6), "all distinct": np.arange(6), "two samples": np.array([0, 1])}[labels]
    raw = raw[: len(y)]
    value, grad = loss.loss_gradient(y, raw)
    expected = EMBEDDING_VALUES[loss.name](loss, y, raw)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value, expected, atol=1e-15)
    if expected == 0.0:
        assert not np.any(grad)


@pytest.mark.parametrize("loss", ALL_KINDS, ids=lambda l: type(l).__name__)
def test_all_zero_weights_and_coincident_embeddings(loss, rng):
    y, raw = _batch(rng, n=10)
    value, grad = loss.loss_gradient(y, raw, np.zeros(10))
    assert value == 0.0 and not np.any(grad)
    same = np.ones((10, 3))  # every distance 0: no direction for normalised or euclidean gradients
    value, grad = loss.loss_gradient(y, same)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    zero = np.zeros((10, 3))  # zero vectors cannot be normalised: they stay at the origin
    value, grad = loss.loss_gradient(y, zero)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("loss", [*ALL_KINDS, TripletMargin(mining="semihard"), TripletMargin(mining="batch_hard")],
                         ids=lambda l: repr(l))
def test_blocks_of_anchors_give_the_same_result(loss, rng, monkeypatch):
    y, raw = _batch(rng, n=90, classes=5)
    w = rng.uniform(0.5, 1.5, 90)
    whole = loss.loss_gradient(y, raw, w)
    monkeypatch.setattr(_pairwise, "BLOCK_ENTRIES", 200)  # two anchors per block, 45 blocks
    blocked = loss.loss_gradient(y, raw, w)
    np.testing.assert_allclose(blocked[0], whole[0], rtol=1e-12)
    np.testing.assert_allclose(blocked[1], whole[1], rtol=1e-10, atol=1e-16)


# n=4000 in pure Python (NUMBA_DISABLE_JIT=1) took the triplet case 19 minutes;
# the memory bound is a property of the compiled kernels' blocking.
@pytest.mark.slow_in_python
@pytest.mark.parametrize("loss", [Contrastive(), TripletMargin(), SupCon()], ids=lambda l: type(l).__name__)
def test_memory_is_bounded_for_a_large_batch(loss, rng):
    n, d = 4000, 8  # all triplets would be 4000^3 / 4 doubles; a full distance matrix 128 MB
    y, raw = rng.integers(0, 10, n), rng.normal(size=(n, d))
    loss.loss_gradient(y[:50], raw[:50])  # compile outside the measurement
    tracemalloc.start()
    value, grad = loss.loss_gradient(y, raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.isfinite(value) and grad.shape == (n, d)
    assert peak < 60e6, f"{peak / 1e6:.0f} MB for a batch of {n}"


@pytest.mark.parametrize("loss", ALL_KINDS, ids=lambda l: type(l).__name__)
def test_string_and_integer_labels_agree(loss, rng):
    y, raw = _batch(rng)
    names = np.array(["ant", "bee", "cat", "dog"])[y]
    np.testing.assert_array_equal(loss.loss_gradient(names, raw)[1], loss.loss_gradient(y, raw)[1])


class _OffContrastive(Contrastive):
    """A contrastive loss whose gradient is 1% too large (module level, so it pickles)."""

    def _terms(self, delta, positive, negative, w_anchor, w, anchors, gradient):
        parts = super()._terms(delta, positive, negative, w_anchor, w, anchors, gradient)
        if not gradient:
            return parts
        sums, normalisers, coefficients = parts
        return sums, normalisers, [c * 1.01 for c in coefficients]


def test_contract_catches_a_wrong_gradient():
    with pytest.raises(AssertionError, match="finite differences"):
        check_loss(_OffContrastive())


@pytest.mark.parametrize("bad, message", [
    (lambda: TripletMargin(margin=np.inf), "margin"),
    (lambda: TripletMargin(mining="easy"), "mining"),
    (lambda: TripletMargin(mining_margin=float("nan")), "mining_margin"),
    (lambda: Contrastive(neg_margin=float("inf")), "neg_margin"),
    (lambda: NTXent(temperature=0.0), "temperature"),
    (lambda: SupCon(temperature=-1.0), "temperature"),
    (lambda: SupCon(distance="manhattan"), "distance"),
    (lambda: Contrastive(average="some"), "average"),
    (lambda: NTXent(normalize="yes"), "normalize"),
])
def test_bad_parameters_are_named(bad, message, rng):
    y, raw = _batch(rng, n=8)
    with pytest.raises((ValueError, TypeError), match=message):
        bad().loss(y, raw)


@pytest.mark.parametrize("y, raw, message", [
    (np.zeros(5), np.zeros(5), "raw_prediction"),
    (np.zeros(4), np.zeros((5, 2)), "y_true"),
    (np.zeros((5, 2)), np.zeros((5, 2)), "y_true"),
    (np.zeros(5), np.full((5, 2), np.nan), "raw_prediction"),
    (np.array([0, 1, np.nan, 1, 0]), np.zeros((5, 2)), "y_true"),
])
def test_bad_inputs_are_named(y, raw, message):
    with pytest.raises(ValueError, match=message):
        TripletMargin().loss(y, raw)
    with pytest.raises(ValueError, match="sample_weight"):
        TripletMargin().loss(np.zeros(5), np.zeros((5, 2)), -np.ones(5))


def test_registry_names_and_sklearn_parameters():
    loss = get_loss("triplet", margin=0.4, mining="hard")
    assert isinstance(loss, TripletMargin) and loss.get_params()["margin"] == 0.4
    copy = clone(loss).set_params(mining="semihard")
    assert copy.mining == "semihard" and loss.mining == "hard"
    for name, cls in (("contrastive", Contrastive), ("ntxent", NTXent), ("supcon", SupCon)):
        assert type(get_loss(name)) is cls
    assert TripletMargin().task == "embedding" and TripletMargin().structure == "pairwise"
