"""Minibatch samplers of the stochastic solvers: the order of the rows that the epochs cut into batches.

The epochs visit consecutive rows (a zero-copy slice per batch, or one
compiled kernel per epoch), so a sampler arranges the training rows once per
call of ``fit`` or ``partial_fit``; the epochs then visit the batches in a new
random order each time (``shuffle=True``).

* ``"uniform"``: a random permutation of the rows.
* ``"stratified"``: every batch holds the classes in their overall
  proportions (within one row per class): each class's rows, in random
  order, are spread evenly over the arrangement.
* ``"balanced"``: every batch holds ``samples_per_class`` rows of each
  class; the rows of the smaller classes are repeated (cycling through a
  random permutation of them) so that every class fills as many batches as
  the largest one needs. The epoch is then longer than the data, and every
  class weighs the same in it, as pairwise losses need.
"""

import math

import numpy as np

__all__ = ["SAMPLERS", "arrange"]

SAMPLERS = ("uniform", "stratified", "balanced")


def _shuffled(rows, rng, shuffle):
    return rows[rng.permutation(rows.size)] if shuffle else rows


def arrange(n_samples, sampler, rng, batch_size, labels=None, samples_per_class=None, shuffle=True):
    """Return ``(rows, batch_size)``: the row indices in visiting order and the minibatch size.

    ``labels`` (class indices) are required by ``"stratified"`` and
    ``"balanced"``; ``samples_per_class`` (default ``max(1, batch_size //
    n_classes)``) sets the batches of ``"balanced"``, whose size is then
    ``samples_per_class * n_classes``.
    """
    rows = np.arange(n_samples)
    if sampler == "uniform":
        return _shuffled(rows, rng, shuffle), batch_size
    if labels is None:
        raise ValueError(f"batch_sampler={sampler!r} needs class labels; it applies to classifiers only.")
    labels = np.asarray(labels)
    classes = np.unique(labels)
    members = [_shuffled(np.flatnonzero(labels == c), rng, shuffle) for c in classes]
    if sampler == "stratified":
        # class c's i-th row at (i + 0.5) / n_c: every stretch of the order holds each class in proportion
        keys = np.concatenate([(np.arange(m.size) + 0.5) / m.size for m in members])
        order = np.concatenate(members)[np.argsort(keys, kind="stable")]
        return order, batch_size
    k = classes.size
    per_class = int(samples_per_class) if samples_per_class is not None else max(1, batch_size // k)
    n_batches = math.ceil(max(m.size for m in members) / per_class)
    filled = [np.resize(m, n_batches * per_class).reshape(n_batches, per_class) for m in members]
    return np.concatenate(filled, axis=1).reshape(-1), per_class * k
