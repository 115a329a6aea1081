"""Feature binning for the histogram trees: quantile thresholds, missing values in a bin of their own.

Each feature's non-missing values are mapped to at most ``max_bins`` bins:
when the feature has at most ``max_bins`` distinct values, one bin per value
(the thresholds are the midpoints between consecutive values), otherwise the
bins are quantiles of a subsample of ``subsample`` rows. Where a few heavy
values make quantiles coincide (a count of zeros, a common round value),
the quantiles would leave bins unused: then each heavy value gets a bin of
its own and the other values are cut at their own quantiles into all the
bins left, as LightGBM's binning does (scikit-learn's bins stay fewer). A
value ``x`` falls in bin ``i`` exactly when ``thresholds[i - 1] < x <=
thresholds[i]``, so a split "bin <= b" is the split "x <= thresholds[b]" on
the raw values.
Missing values (NaN) go to bin ``max_bins``. A categorical feature's values
are category codes, non-negative integers below ``max_bins``: each category
seen in fit gets a bin of its own (in increasing order of the codes), and
negative codes, unseen codes and NaN are missing. These are the conventions
of scikit-learn's ``HistGradientBoosting*`` (its ``_BinMapper``), whose bins
these are whenever no heavy value makes its quantiles coincide.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._tree_kernels import bin_columns

__all__ = ["BinMapper"]


def _thresholds(column, max_bins):
    """The increasing bin thresholds of one feature (at most ``max_bins - 1``; NaN ignored)."""
    values = np.sort(column[~np.isnan(column)])  # sorted once: the distinct values and the quantiles read it
    if values.shape[0] == 0:
        return np.empty(0)
    new = np.empty(values.shape[0], dtype=np.bool_)
    new[0] = True
    np.not_equal(values[1:], values[:-1], out=new[1:])
    distinct = values[new]
    if distinct.shape[0] <= 1:
        return np.empty(0)
    if distinct.shape[0] <= max_bins:
        return _midpoints(distinct)
    percentiles = np.linspace(0, 100, num=max_bins + 1)[1:-1]
    thresholds = np.unique(np.percentile(values, percentiles, method="averaged_inverted_cdf"))
    if thresholds.shape[0] == max_bins - 1:
        return thresholds
    # heavy values made quantiles coincide: the bins they freed are spread over the other values
    counts = np.diff(np.flatnonzero(np.append(new, True)))
    spread = _heavy_value_thresholds(distinct, counts, max_bins)
    return thresholds if spread is None or spread.shape[0] <= thresholds.shape[0] else spread


def _midpoints(distinct):
    """The midpoints of consecutive values, halved before they are added: no overflow near the largest
    floats, and the same bits as ``(a + b) / 2`` elsewhere (halving is exact above the subnormals)."""
    return 0.5 * distinct[:-1] + 0.5 * distinct[1:]


def _heavy_value_thresholds(distinct, counts, max_bins):
    """Thresholds that give each heavy value a bin of its own and share the other bins out equally.

    A value is heavy when its count alone fills a bin, that is when it is at
    least the other values' total count over the bins left for them (found
    by repetition, as each heavy value found takes a bin and its count out).
    The other ("light") values are cut at quantiles of their own counts into
    the bins left, and a bin ends at every heavy value. The cuts next to
    heavy values may use more bins than planned: the light values' share is
    then lowered by the excess and the cut repeated, so at most ``max_bins``
    bins are used (None when the heavy values' bins alone would need more).
    Each threshold is the midpoint of two consecutive values.
    """
    heavy = np.zeros(distinct.shape[0], dtype=bool)
    while True:
        bins_left = max_bins - np.count_nonzero(heavy)
        target = counts[~heavy].sum() / max(bins_left, 1)
        found = ~heavy & (counts >= target)
        if bins_left <= 1 or not found.any():
            break
        heavy |= found
    light = np.where(heavy, 0, counts)
    light_total = light.sum()
    share = max_bins - np.count_nonzero(heavy)
    middle = np.cumsum(light) - 0.5 * light  # the middle of each light value's count among the light values'
    while share >= 1:
        # each light value's bin among `share`, by where the middle of its count falls
        bin_of = np.minimum((middle * share / max(light_total, 1)).astype(np.intp), share - 1)
        cut = heavy[:-1] | heavy[1:] | (bin_of[:-1] != bin_of[1:])
        excess = np.count_nonzero(cut) - (max_bins - 1)
        if excess <= 0:
            return _midpoints(distinct)[cut]
        share -= excess
    return None


def _categories(column, max_bins, feature):
    """The sorted category codes of one categorical feature (negative codes and NaN are missing)."""
    values = column[~np.isnan(column)]
    values = values[values >= 0]
    if np.any(values != np.floor(values)):
        raise ValueError(f"categorical_features: feature {feature} must hold integer category codes; got "
                         f"{values[values != np.floor(values)][0]!r}.")
    if values.size and values.max() >= max_bins:
        raise ValueError(f"categorical_features: feature {feature} has the code {values.max():g}; a categorical "
                         f"feature takes at most max_bins={max_bins} categories, coded 0 to {max_bins - 1} (encode "
                         "them so first, e.g. with OrdinalEncoder, or treat the feature as numeric).")
    return np.unique(values)


class BinMapper:
    """Quantile bins of each feature, fitted on (a subsample of) the training data.

    Parameters
    ----------
    max_bins : int
        Bins for non-missing values, at most 255 (bin ``max_bins`` holds the
        missing values, so the codes fit in ``uint8``).
    subsample : int or None
        Rows used to find the quantiles (all rows when None or fewer).
    random_state : numpy Generator
        Draws the subsample.
    categorical : ndarray of bool of shape (n_features,), default=None
        The categorical features (none when None).

    Attributes
    ----------
    thresholds_ : list of ndarray
        Each feature's thresholds.
    n_bins_non_missing_ : ndarray of shape (n_features,)
        Bins holding values of each feature (``len(thresholds) + 1``).
    missing_bin_ : int
        The bin of missing values (``max_bins``).
    is_categorical_ : ndarray of bool of shape (n_features,)
    categories_ : list of ndarray or None
        Each categorical feature's codes in bin order (None for the others).
    """

    def __init__(self, max_bins=255, subsample=200_000, random_state=None, categorical=None):
        self.max_bins = max_bins
        self.subsample = subsample
        self.random_state = random_state
        self.categorical = categorical

    def fit(self, X):
        rows = X
        if self.subsample is not None and X.shape[0] > self.subsample:
            rng = self.random_state if self.random_state is not None else np.random.default_rng(0)
            rows = X[np.sort(rng.choice(X.shape[0], self.subsample, replace=False))]
        columns = np.asfortranarray(rows)
        # NumPy's sorts release the GIL: the features are binned side by side
        categorical = np.zeros(X.shape[1], dtype=bool) if self.categorical is None else np.asarray(self.categorical)
        self.is_categorical_ = categorical
        self.categories_ = [_categories(X[:, j], self.max_bins, j) if categorical[j] else None
                            for j in range(X.shape[1])]  # every row: a code is either known or missing

        def thresholds(j):
            return np.empty(0) if categorical[j] else _thresholds(columns[:, j], self.max_bins)

        with ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, X.shape[1]))) as pool:
            self.thresholds_ = list(pool.map(thresholds, range(X.shape[1])))
        self.n_bins_non_missing_ = np.array([max(1, c.shape[0]) if c is not None else t.shape[0] + 1
                                             for t, c in zip(self.thresholds_, self.categories_)], dtype=np.intp)
        self.missing_bin_ = self.max_bins
        return self

    def transform(self, X):
        """``X`` as bin codes, ``uint8`` of shape (n_samples, n_features) in column-major order."""
        binned = np.empty(X.shape, dtype=np.uint8, order="F")
        offsets = np.concatenate([[0], np.cumsum([t.shape[0] for t in self.thresholds_])]).astype(np.intp)
        flat = np.concatenate(self.thresholds_ + [np.empty(0)]).astype(np.float64)
        bin_columns(X, flat, offsets, self.missing_bin_, binned)
        for j in np.flatnonzero(self.is_categorical_):
            binned[:, j] = self.category_bins(j)[self.codes(X[:, j])]
        return binned

    def codes(self, column):
        """Each value's index into :meth:`category_bins`: its code, or ``max_bins`` when it is missing."""
        with np.errstate(invalid="ignore"):
            valid = (column >= 0) & (column < self.max_bins) & (column == np.floor(column))
        return np.where(valid, np.nan_to_num(column, nan=0.0), self.max_bins).astype(np.intp)

    def category_bins(self, feature):
        """``table[code]``: the bin of each code below ``max_bins`` (the missing bin when unseen), then the
        missing bin."""
        table = np.full(self.max_bins + 1, self.missing_bin_, dtype=np.uint8)
        known = self.categories_[feature]
        table[known.astype(np.intp)] = np.arange(known.shape[0])
        return table

    def upper_edge(self, feature, bin_index):
        """The raw threshold of the split "bin <= bin_index" of ``feature`` (+inf for its last bin; NaN for a
        categorical feature)."""
        if self.is_categorical_[feature]:
            return np.nan
        thresholds = self.thresholds_[feature]
        return float(thresholds[bin_index]) if bin_index < thresholds.shape[0] else np.inf
