"""Minibatch samplers: uniform, stratified and class-balanced arrangements of the training rows."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses.linear_model import LinearClassifier
from sklearn_losses.solvers._samplers import arrange


def _labels(rng):
    return rng.choice(3, size=1000, p=[0.7, 0.25, 0.05])


def test_uniform_is_a_permutation(rng):
    order, batch = arrange(100, "uniform", np.random.RandomState(0), 16)
    assert batch == 16 and np.array_equal(np.sort(order), np.arange(100))


def test_stratified_batches_hold_every_class_in_proportion(rng):
    labels = _labels(rng)
    order, batch = arrange(labels.size, "stratified", np.random.RandomState(0), 100, labels)
    assert np.array_equal(np.sort(order), np.arange(labels.size))  # every row once
    overall = np.bincount(labels, minlength=3)
    for start in range(0, labels.size, batch):
        counts = np.bincount(labels[order[start:start + batch]], minlength=3)
        assert np.all(np.abs(counts - overall * batch / labels.size) < 2.0)


def test_balanced_batches_hold_samples_per_class_of_each_class(rng):
    labels = _labels(rng)
    order, batch = arrange(labels.size, "balanced", np.random.RandomState(0), 64, labels, samples_per_class=10)
    assert batch == 30 and order.size % batch == 0
    for start in range(0, order.size, batch):
        assert np.array_equal(np.bincount(labels[order[start:start + batch]], minlength=3), [10, 10, 10])
    assert set(order) == set(range(labels.size))  # every row at least once
    majority = np.flatnonzero(labels == 0)  # the largest class fills ceil(n_0 / 10) batches
    n_batches = -(-majority.size // 10)
    assert order.size == n_batches * batch
    assert np.sum(np.bincount(order, minlength=labels.size)[majority] > 1) == n_batches * 10 - majority.size


def test_samplers_need_labels_and_name_themselves():
    with pytest.raises(ValueError, match="batch_sampler='balanced'"):
        arrange(10, "balanced", np.random.RandomState(0), 4)


@pytest.mark.parametrize("sampler", ["uniform", "stratified", "balanced"])
def test_classifier_fits_with_every_sampler(sampler, rng):
    X = rng.normal(size=(600, 3))
    y = np.where(X[:, 0] > 1.2, 2, (X[:, 1] > 0).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LinearClassifier(solver="adam", batch_sampler=sampler, samples_per_class=8, max_iter=30,
                               random_state=0).fit(X, y)
    assert est.score(X, y) > 0.85
    if sampler == "balanced":  # the rare class weighs as much as the others: it is predicted more often
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            plain = LinearClassifier(solver="adam", max_iter=30, random_state=0).fit(X, y)
        assert np.sum(est.predict(X) == 2) > np.sum(plain.predict(X) == 2)


def test_balanced_sampler_with_early_stopping_and_partial_fit(rng):
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] > 1.0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LinearClassifier(solver="sgd", batch_sampler="balanced", early_stopping=True, max_iter=10,
                               random_state=0).fit(X, y)
    assert est.validation_loss_curve_ is not None
    est.partial_fit(X[:50], y[:50])
    assert np.all(np.isfinite(est.coef_))


def test_a_bad_sampler_is_refused_by_name(rng):
    X, y = rng.normal(size=(20, 2)), np.arange(20) % 2
    with pytest.raises(ValueError, match="batch_sampler"):
        LinearClassifier(solver="adam", batch_sampler="random").fit(X, y)
    with pytest.raises(ValueError, match="samples_per_class"):
        LinearClassifier(solver="adam", batch_sampler="balanced", samples_per_class=0).fit(X, y)
