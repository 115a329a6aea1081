"""Ordinal losses: the cumulative-link likelihood's numerics, the threshold losses, links and baselines.

The registry's contract (``test_contract.py``) runs on every ordinal loss; these
are the checks particular to the family, against NumPy (and ``np.longdouble``)
references of the formulas.
"""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import expit, log_ndtr, ndtr

from sklearn_losses.links import ConditionalLink, CumulativeLink as CumulativeCDF
from sklearn_losses.losses import (
    CORAL, CORN, AllThreshold, CumulativeLink, ImmediateThreshold, LogLoss, get_loss, make_loss,
)

DISTRIBUTIONS = ("logit", "probit", "cloglog")
_PDF = {"logit": lambda x: expit(x) * expit(-x), "probit": lambda x: np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi),
        "cloglog": lambda x: np.exp(x - np.exp(x))}


def _middle_loss(distribution, a, b):
    """The loss of class 1 of three between the scores a > b."""
    return float(CumulativeLink(distribution).loss(np.array([1.0]), np.array([[a, b]])))


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
@pytest.mark.parametrize("centre", [-3.0, -0.4, 0.0, 0.7, 4.0])
@pytest.mark.parametrize("width", [1e-300, 1e-12, 1e-6, 3e-5, 0.2, 0.9, 1.5, 4.0])
def test_narrow_and_wide_intervals_are_accurate(distribution, centre, width):
    """-log(F(a) - F(b)) against the integral of the density, across the narrow and tail branches."""
    a, b = centre + width / 2, centre - width / 2
    if not a > b:
        pytest.skip("the width is below the resolution at this centre")
    if width < 1e-9:  # the midpoint rule is exact to rounding there
        exact = (a - b) * _PDF[distribution]((a + b) / 2)
    else:
        exact, _ = quad(_PDF[distribution], b, a, epsabs=0, epsrel=2e-14)
    np.testing.assert_allclose(_middle_loss(distribution, a, b), -np.log(exact), rtol=1e-12, atol=1e-12)


def test_logit_against_long_double():
    rng = np.random.default_rng(3)
    a = rng.normal(scale=6, size=200)
    b = a - np.exp(rng.uniform(-30, 3, size=200))
    a_l, b_l = a.astype(np.longdouble), b.astype(np.longdouble)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    # sigma(a) - sigma(b) = sigma(a) sigma(-b) (1 - exp(-(a - b))): no cancellation, in 64-bit mantissas
    exact = -(np.log(sig(a_l)) + np.log(sig(-b_l)) + np.log(-np.expm1(-(a_l - b_l))))
    y = np.ones(200)
    ours = CumulativeLink().loss(y, np.column_stack([a, b]), reduction="none")
    np.testing.assert_allclose(ours, exact.astype(float), rtol=2e-10)


@pytest.mark.parametrize("x", [-1e200, -1e10, -1e3, -40.0, -27.0, -25.0, -5.0, 0.0, 3.0, 8.0, 38.0])
def test_probit_tails_match_log_ndtr(x):
    loss = CumulativeLink("probit")
    top = loss.loss(np.array([2.0]), np.array([[x + abs(x) + 1.0, x]]))  # -log Phi(x)
    bottom = loss.loss(np.array([0.0]), np.array([[-x, -x - 1.0]]))  # -log Sf(-x) = -log Phi(x)
    expected = -log_ndtr(x)
    np.testing.assert_allclose([top, bottom], [expected, expected], rtol=1e-13, atol=1e-300)
    g_top = loss.gradient(np.array([2.0]), np.array([[x + abs(x) + 1.0, x]]), reduction="none")[0, 1]
    # pdf / cdf: directly, or in the far tail from the asymptotic series of the Mills ratio
    if x > -30:
        ratio = np.exp(-0.5 * x * x - 0.5 * np.log(2 * np.pi) - log_ndtr(x))
    else:
        ratio = -x / (1 - 1 / x**2 + 3 / x**4 - 15 / x**6 + 105 / x**8) if x > -1e10 else -x
    np.testing.assert_allclose(-g_top, ratio, rtol=1e-12)


def test_two_classes_is_the_binary_model():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3, size=(50, 1))
    y = rng.integers(0, 2, 50).astype(float)
    np.testing.assert_allclose(CumulativeLink().loss(y, z, reduction="none"),
                               LogLoss().loss(y, z[:, 0], reduction="none"), rtol=1e-13)
    np.testing.assert_allclose(AllThreshold().loss(y, z), LogLoss().loss(y, z[:, 0]), rtol=1e-13)
    for distribution in DISTRIBUTIONS:
        F, S = {"logit": (expit, lambda t: expit(-t)), "probit": (ndtr, lambda t: ndtr(-t)),
                "cloglog": (lambda t: -np.expm1(-np.exp(t)), lambda t: np.exp(-np.exp(t)))}[distribution]
        log_f = np.where(F(z[:, 0]) > 0.5, np.log1p(-S(z[:, 0])), np.log(F(z[:, 0])))
        expected = -(y * log_f + (1 - y) * np.log(S(z[:, 0])))
        np.testing.assert_allclose(CumulativeLink(distribution).loss(y, z, reduction="none"), expected, rtol=1e-10)


def test_unordered_rows_are_refused_by_name():
    with pytest.raises(ValueError, match=r"CumulativeLink: raw_prediction must hold rows that do not increase.*row 1"):
        CumulativeLink().loss(np.array([0, 1]), np.array([[1.0, 0.0], [0.0, 0.5]]))
    # an empty interval is allowed and infinitely unlikely
    with np.errstate(all="ignore"):
        value, grad = CumulativeLink().loss_gradient(np.array([1.0]), np.array([[0.5, 0.5]]), reduction="none")
    assert value[0] == np.inf and not np.isnan(grad).any()


def test_targets_are_ranks_below_the_number_of_classes():
    with pytest.raises(ValueError, match=r"CumulativeLink: y_true must hold class indices in 0..2"):
        CumulativeLink().loss(np.array([0, 3]), np.array([[1.0, 0.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"AllThreshold: y_true must hold class indices in 0..2"):
        AllThreshold().loss(np.array([0.5, 1]), np.array([[1.0, 0.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes - 1\)"):
        CumulativeLink().loss(np.array([0, 1]), np.array([1.0, 0.0]))


def test_threshold_losses_by_formula():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    z = np.array([[2.0, 0.5, -1.0]] * 4)
    log_loss = lambda t, s: np.logaddexp(0, s) - t * s  # noqa: E731
    above = (np.arange(3)[None, :] < y[:, None]).astype(float)
    per_threshold = log_loss(above, z)
    np.testing.assert_allclose(AllThreshold().loss(y, z, reduction="none"), per_threshold.sum(axis=1))
    weights = np.abs(2 * (np.arange(3)[None, :] - y[:, None]) + 1)
    np.testing.assert_allclose(AllThreshold(threshold_weights="squared").loss(y, z, reduction="none"),
                               (weights * per_threshold).sum(axis=1))
    np.testing.assert_allclose(AllThreshold(threshold_weights="absolute").loss(y, z, reduction="none"),
                               AllThreshold().loss(y, z, reduction="none"))
    immediate = [per_threshold[0, 0], per_threshold[1, 0] + per_threshold[1, 1],
                 per_threshold[2, 1] + per_threshold[2, 2], per_threshold[3, 2]]
    np.testing.assert_allclose(ImmediateThreshold().loss(y, z, reduction="none"), immediate)
    corn = [per_threshold[0, 0], per_threshold[1, :2].sum(), per_threshold[2].sum(), per_threshold[3].sum()]
    np.testing.assert_allclose(CORN().loss(y, z, reduction="none"), corn)
    lam = np.array([1.0, 0.5, 2.0])
    np.testing.assert_allclose(CORAL(importance_weights=lam).loss(y, z, reduction="none"),
                               (lam * per_threshold).sum(axis=1))
    np.testing.assert_allclose(CORAL().loss(y, z, reduction="none"), AllThreshold().loss(y, z, reduction="none"))


def test_threshold_losses_take_any_binary_base_including_custom():
    import math

    def smooth_hinge(y, z):
        m = (2.0 * y - 1.0) * z
        return math.log1p(math.exp(-abs(1.0 - m))) + max(1.0 - m, 0.0)

    custom = make_loss(smooth_hinge, task="binary", name="smooth_hinge_test")
    y = np.array([0.0, 2.0, 1.0])
    z = np.array([[1.0, -0.5], [0.3, 0.1], [2.0, -2.0]])
    above = (np.arange(2)[None, :] < y[:, None]).astype(float)
    expected = custom.loss(above.ravel(), z.ravel(), reduction="none").reshape(3, 2).sum(axis=1)
    np.testing.assert_allclose(AllThreshold(base=custom).loss(y, z, reduction="none"), expected, rtol=1e-12)
    assert AllThreshold(base=custom).link.name == "identity"  # the custom base's link
    with pytest.raises(ValueError, match="AllThreshold: base must be a binary loss.*Huber"):
        AllThreshold(base="huber").loss(y, z)
    assert get_loss("all_threshold", base__pos_weight=2.0).base.pos_weight == 2.0


def test_coral_importance_weights_are_checked():
    y, z = np.array([0.0, 1.0]), np.zeros((2, 2))
    with pytest.raises(ValueError, match="CORAL: importance_weights has 3 entries; raw_prediction has 2"):
        CORAL(importance_weights=[1, 1, 1]).loss(y, z)
    with pytest.raises(ValueError, match="CORAL: importance_weights must be a 1-D array of finite non-negative"):
        CORAL(importance_weights=[1, -1]).loss(y, z)


def test_aliases_fix_the_distribution():
    for distribution in DISTRIBUTIONS:
        loss = get_loss(f"cumulative_{distribution}")
        assert isinstance(loss, CumulativeLink) and loss.distribution == distribution
        assert loss.link == CumulativeCDF(distribution)


def test_baselines_are_the_cumulative_frequencies():
    y = np.array([0, 0, 1, 2, 2, 2, 3, 1, 0, 2], dtype=float)
    w = np.linspace(0.5, 2.0, 10)
    counts = np.bincount(y.astype(int), weights=w, minlength=4)
    above = 1 - np.cumsum(counts)[:-1] / counts.sum()
    logit = np.log(above / (1 - above))
    np.testing.assert_allclose(CumulativeLink().baseline_prediction(y, w), logit, rtol=1e-12)
    np.testing.assert_allclose(AllThreshold().baseline_prediction(y, w), logit, rtol=1e-7)
    probit = CumulativeLink("probit").baseline_prediction(y, w)
    np.testing.assert_allclose(ndtr(probit), above, rtol=1e-12)
    # an absent class (here the top one of 5): its threshold at the edge of the representable odds, in order
    b = CumulativeLink().baseline_prediction(y, w, n_classes=5)
    assert b.shape == (4,) and np.all(np.diff(b) <= 0) and np.all(np.isfinite(b))


@pytest.mark.parametrize("link", [CumulativeCDF("logit"), CumulativeCDF("probit"), CumulativeCDF("cloglog"),
                                  ConditionalLink()])
def test_links_give_probabilities_and_invert(link):
    rng = np.random.default_rng(1)
    z = np.sort(rng.normal(scale=3, size=(40, 4)), axis=1)[:, ::-1].copy()
    z[0] = [40.0, 39.0, -39.0, -40.0]  # tails
    p = link.inverse(z)
    assert p.shape == (40, 5) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    back = link.link(p)[1:]
    invertible = np.isfinite(back)  # where a probability underflows (the cloglog's upper tail) it does not invert
    assert invertible.mean() > 0.9
    np.testing.assert_allclose(back[invertible], z[1:][invertible], rtol=1e-6, atol=1e-6)
    if isinstance(link, CumulativeCDF):  # the loss is -log of the probability of the true class
        loss = CumulativeLink(link.distribution)
        y = rng.integers(0, 5, 40).astype(float)
        np.testing.assert_allclose(loss.loss(y, z, reduction="none")[1:],
                                   -np.log(p[np.arange(40), y.astype(int)])[1:], rtol=1e-9)
    else:
        y = rng.integers(0, 5, 40).astype(float)
        np.testing.assert_allclose(CORN().loss(y, z, reduction="none")[1:],
                                   -np.log(p[np.arange(40), y.astype(int)])[1:], rtol=1e-9)


def test_float32_and_zero_weights():
    rng = np.random.default_rng(2)
    z = np.sort(rng.normal(size=(30, 3)), axis=1)[:, ::-1].astype(np.float32)
    y = rng.integers(0, 4, 30).astype(np.float32)
    w = rng.uniform(0, 2, 30)
    w[:5] = 0.0
    for loss in (CumulativeLink(), AllThreshold(), ImmediateThreshold("exponential"), CORN()):
        grad = loss.gradient(y, z, w)
        assert grad.dtype == np.float32 and np.all(grad[:5] == 0)
        assert np.isfinite(loss.loss(y, z, w))
