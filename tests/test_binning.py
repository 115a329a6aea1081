"""Feature binning of the boosting: scikit-learn's quantile bins, and heavy values in bins of their own."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_losses.ensemble._binning import BinMapper, _thresholds

pytestmark = pytest.mark.xdist_group("boosting")  # BinMapper.transform compiles a tree kernel


def bin_counts(values, thresholds):
    """Rows per bin, with the rule ``thresholds[i - 1] < x <= thresholds[i]``."""
    return np.bincount(np.searchsorted(thresholds, values, side="left"), minlength=thresholds.shape[0] + 1)


def zero_inflated(n=20_000, seed=0):
    """A feature as in survey data: 40% zeros, 10% at one round value, the rest spread out."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.lognormal(1.0, 1.0, size=n), 2)
    x[rng.random(n) < 0.4] = 0.0
    x[rng.random(n) < 0.1] = 10.0
    return x


def test_continuous_features_keep_scikit_learns_thresholds():
    _BinMapper = pytest.importorskip("sklearn.ensemble._hist_gradient_boosting.binning")._BinMapper
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=5000), rng.exponential(size=5000), rng.integers(0, 40, 5000),
                         np.round(rng.normal(size=5000), 1)])
    theirs = _BinMapper(n_bins=256, subsample=None).fit(X).bin_thresholds_
    for j in range(X.shape[1]):
        np.testing.assert_allclose(_thresholds(X[:, j], 255), theirs[j], rtol=0, atol=1e-12)


def test_heavy_values_get_bins_of_their_own_and_every_bin_is_used():
    x = zero_inflated()
    quantiles = np.unique(np.percentile(x, np.linspace(0, 100, 256)[1:-1], method="averaged_inverted_cdf"))
    assert quantiles.shape[0] < 200  # scikit-learn's rule leaves bins unused here
    thresholds = _thresholds(x, 255)
    assert thresholds.shape[0] == 254 and np.all(np.diff(thresholds) > 0)
    counts = bin_counts(x, thresholds)
    assert np.all(counts > 0)
    for heavy in (0.0, 10.0):  # alone in their bins
        b = np.searchsorted(thresholds, heavy, side="left")
        assert counts[b] == np.count_nonzero(x == heavy)
    # the other bins share the other rows about equally (the cuts next to a heavy value end a bin early)
    light = np.delete(counts, [np.searchsorted(thresholds, v) for v in (0.0, 10.0)])
    target = light.sum() / light.shape[0]
    assert light.max() <= 2.5 * target and np.median(light) > 0.7 * target


def test_a_step_between_quantiles_is_found_with_the_freed_bins():
    """A target that steps at one of the new thresholds, inside one of scikit-learn's wider bins: its bins
    cannot find the step, ours can."""
    from sklearn_losses.ensemble import GradientBoostingRegressor

    x = zero_inflated(30_000, seed=1)
    theirs = np.unique(np.percentile(x, np.linspace(0, 100, 256)[1:-1], method="averaged_inverted_cdf"))
    ours = _thresholds(x, 255)
    inside = [t for t in ours if 0 < t < 10 and not np.any(np.abs(theirs - t) < 1e-9)]
    step = inside[len(inside) // 2]
    edges = np.searchsorted(theirs, step)
    below = np.count_nonzero((x > theirs[edges - 1]) & (x <= step))
    above = np.count_nonzero((x > step) & (x <= theirs[edges]))
    assert below > 20 and above > 20  # the step cuts one of their bins: rows on both sides
    y = (x > step).astype(float)
    model = GradientBoostingRegressor(max_iter=1, max_leaf_nodes=2, learning_rate=1.0, early_stopping=False)
    model.fit(x[:, None], y)
    assert model._bin_mapper.n_bins_non_missing_[0] == 255
    np.testing.assert_allclose(model.predict(x[:, None]), y, atol=1e-6)


@pytest.mark.parametrize("max_bins", [2, 3, 5, 17])
def test_few_bins_with_heavy_values_stay_within_max_bins(max_bins):
    x = zero_inflated(5000)
    thresholds = _thresholds(x, max_bins)
    assert 1 <= thresholds.shape[0] <= max_bins - 1 and np.all(np.diff(thresholds) > 0)
    assert np.all(bin_counts(x, thresholds) > 0)


def test_missing_values_and_transform_with_heavy_values():
    x = zero_inflated(5000)
    x[::7] = np.nan
    mapper = BinMapper(max_bins=63).fit(x[:, None])
    binned = mapper.transform(x[:, None])[:, 0]
    assert np.all(binned[np.isnan(x)] == 63)
    assert np.unique(binned[~np.isnan(x)]).shape[0] == mapper.n_bins_non_missing_[0] == 63
    assert np.all(binned[x == 0] == binned[np.flatnonzero(x == 0)[0]])


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(0, 400), min_size=2, max_size=3000), heavy=st.integers(0, 400),
       share=st.floats(0.0, 0.9), max_bins=st.integers(2, 255))
def test_thresholds_are_increasing_within_max_bins_and_never_fewer_than_the_quantiles(values, heavy, share,
                                                                                      max_bins):
    x = np.asarray(values, dtype=float)
    x[: int(share * x.shape[0])] = heavy
    thresholds = _thresholds(x, max_bins)
    assert thresholds.shape[0] <= max_bins - 1
    assert np.all(np.diff(thresholds) > 0)
    assert np.all(bin_counts(x, thresholds) > 0)
    distinct = np.unique(x)
    if distinct.shape[0] > max_bins:
        quantiles = np.unique(np.percentile(x, np.linspace(0, 100, max_bins + 1)[1:-1],
                                            method="averaged_inverted_cdf"))
        assert thresholds.shape[0] >= quantiles.shape[0]
    else:
        assert thresholds.shape[0] == distinct.shape[0] - 1


@pytest.mark.parametrize("heavy", [False, True])
def test_values_near_the_largest_floats_keep_distinct_finite_thresholds(heavy):
    top = np.finfo(np.float64).max
    values = top * np.linspace(-1.0, 1.0, 300 if heavy else 50)
    x = np.concatenate([values, np.full(400 if heavy else 0, values[10])])
    thresholds = _thresholds(x, 255)
    assert np.all(np.isfinite(thresholds)) and np.all(np.diff(thresholds) > 0)
    assert np.all(bin_counts(x, thresholds) > 0)
    assert thresholds.shape[0] == (254 if heavy else 49)
