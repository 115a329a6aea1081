"""The parts of the loss contract (:func:`sklearn_losses.testing.check_loss`) about what a loss declares.

``structure``, ``decomposable`` and ``hessian`` are data that solvers and
estimators choose from, so a wrong declaration is a wrong fit: each is held
to what the loss computes.
"""

import numpy as np

from .losses._base import HESSIANS, STRUCTURES

__all__ = ["check_baseline", "check_batch_loss", "check_declarations", "check_pairwise_loss"]


def check_declarations(loss, y, raw, fail):
    """``structure``, ``decomposable`` and ``hessian`` against the loss's own outputs; ``fail(message)`` raises."""
    if loss.structure not in STRUCTURES:
        fail(f"structure must be one of {STRUCTURES}; got {loss.structure!r}")
    if loss.hessian not in HESSIANS:
        fail(f"hessian must be one of {HESSIANS}; got {loss.hessian!r}")
    if not isinstance(loss.decomposable, bool) or (loss.decomposable and loss.structure != "batch"):
        fail(f"decomposable={loss.decomposable!r}: only batch losses are functions of additive statistics")
    spec = loss.kernel_spec
    if spec is not None and spec.per_row != (loss.structure == "row"):
        fail(f"structure={loss.structure!r} but its kernels take {'rows' if spec.per_row else 'elements'}")
    if loss.hessian == "none":
        try:
            loss.gradient_hessian(y, raw)
        except ValueError:
            return
        fail("declares hessian='none' but gradient_hessian returns a hessian")
    _, hess = loss.gradient_hessian(y, raw, reduction="none")
    hess = np.asarray(hess, dtype=np.float64)
    if loss.hessian == "zero" and np.any(hess != 0.0):
        i = int(np.flatnonzero(hess.ravel() != 0.0)[0])
        fail(f"declares hessian='zero' (piecewise linear) but the hessian is {float(hess.ravel()[i])!r} at element {i}")
    if loss.hessian == "exact" and loss.convex:
        floor = -1e-12 * (1.0 + float(np.max(np.abs(hess))))
        if np.any(hess < floor):
            i = int(np.argmin(hess.ravel()))
            fail(f"declares hessian='exact' and convex=True but the hessian is {float(hess.ravel()[i])!r} at element {i} "
                 "(a convex loss has a non-negative second derivative; declare hessian='indefinite' or "
                 "convex=False)")


def _constant(loss, y, b):
    n = np.shape(y)[0]
    if np.ndim(b) == 0:
        return np.full(n, float(b))
    if loss.per_row:
        return np.ascontiguousarray(np.broadcast_to(b, (n, np.size(b))))
    return np.ascontiguousarray(np.broadcast_to(b, np.shape(y)))


def _check_local_baseline(loss, y, w, b, best, value, kwargs, fail):
    """A baseline from a local search (``baseline_exact=False``): no worse than the link of the mean
    target, no small step does better by 1e-6, and integer weights give the loss of repetition within 1e-4."""
    start = loss.link.link(np.average(y, axis=0, weights=w)[None, :])[0] if loss.per_row else None
    if start is not None and best > value(start) + 1e-9 * (1.0 + abs(best)):
        fail(f"baseline_prediction {b!r} (mean loss {best!r}) is worse than the link of the mean target {start!r}")
    rng = np.random.default_rng(0)
    for step in (1e-6, 1e-4):
        for direction in rng.normal(size=(8, np.size(b))):
            moved = b + step * direction.reshape(np.shape(b))
            if value(moved) < best - 1e-6 * (1.0 + abs(best)):
                fail(f"baseline_prediction {b!r} has mean loss {best!r}, but the nearby constant {moved!r} has "
                     f"{value(moved)!r}")
    if w is not None:
        counts = np.arange(np.shape(y)[0]) % 3 + (np.arange(np.shape(y)[0]) == 0)
        repeated = loss.baseline_prediction(np.repeat(y, counts, axis=0), None, **kwargs)
        weighted = loss.baseline_prediction(y, counts.astype(float), **kwargs)

        def counted(candidate):  # the loss that both minimised
            with np.errstate(all="ignore"):
                return float(loss.loss(y, _constant(loss, y, candidate), counts.astype(float)))

        if abs(counted(repeated) - counted(weighted)) > 1e-4 * (1.0 + abs(best)):
            fail(f"baseline_prediction with integer weights {weighted!r} differs from repeated samples {repeated!r}")


def check_baseline(loss, y, w, n_classes, fail):
    """``baseline_prediction`` against a brute-force search: no constant does better, weights equal repetition."""
    kwargs = {"n_classes": n_classes} if loss.per_row else {}
    b = loss.baseline_prediction(y, w, **kwargs)
    expected_shape = (loss.raw_width(n_classes),) if loss.per_row else (() if np.ndim(y) == 1 else (np.shape(y)[1],))
    if np.shape(b) != expected_shape or not np.all(np.isfinite(b)):
        fail(f"baseline_prediction returned {b!r}; expected a finite value of shape {expected_shape}")

    def value(candidate):
        with np.errstate(all="ignore"):
            return float(loss.loss(y, _constant(loss, y, candidate), w))

    best = value(b)
    tol = 1e-9 * (1.0 + abs(best))
    if not loss.baseline_exact:
        _check_local_baseline(loss, y, w, b, best, value, kwargs, fail)
        return
    rng = np.random.default_rng(0)
    if loss.per_row:
        trials = [b + scale * rng.normal(size=b.shape) for scale in (1e-6, 1e-3, 1e-1, 1.0, 5.0) for _ in range(8)]
        trials += [b + scale * np.eye(b.size)[k] for scale in (-1e-4, 1e-4, -0.5, 0.5) for k in range(b.size)]
    else:
        steps = np.concatenate([-np.geomspace(1e-9, 1e3, 120), np.geomspace(1e-9, 1e3, 120)])
        base = np.atleast_1d(b)
        trials = []
        for j in range(base.size):  # one output at a time (the outputs are separate)
            for step in steps:
                moved = base.copy()
                moved[j] += step
                trials.append(moved if base.size > 1 else float(moved[0]))
    if loss.raw_domain is not None:  # constants the loss is defined for
        trials = [t for t in trials if loss.raw_domain.violation(np.atleast_2d(t)) is None]
    values = np.array([value(t) for t in trials])
    if np.any(values < best - tol):
        k = int(np.argmin(values))
        fail(f"baseline_prediction {b!r} has mean loss {best!r}, but the constant {trials[k]!r} has {values[k]!r}")
    if w is not None:  # integer weights equal repeated samples
        counts = np.arange(np.shape(y)[0]) % 3 + (np.arange(np.shape(y)[0]) == 0)
        repeated = loss.baseline_prediction(np.repeat(y, counts, axis=0), None, **kwargs)
        weighted = loss.baseline_prediction(y, counts.astype(float), **kwargs)
        if abs(value(repeated) - value(weighted)) > tol:
            fail(f"baseline_prediction with integer weights {weighted!r} differs from repeated samples {repeated!r}")


def _close(what, actual, expected, rtol, fail, atol=0.0):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape or not np.allclose(actual, expected, rtol=rtol, atol=atol):
        fail(f"{what}: {actual!r} differs from {expected!r}")


def check_batch_loss(loss, y, raw, w, extremes, rtol, fail):
    """The contract of a ``structure="batch"`` loss (:class:`~sklearn_losses.losses.BatchLoss`).

    Losses of labels (``task="overlap"``) are checked on one label (y, raw of
    shape (n,)) and on three at once (n, 3), whose loss must be the mean of
    the labels' losses.
    """
    _check_batch(loss, y, raw, w, extremes, rtol, fail)
    if loss.task == "overlap" and raw.ndim == 1:
        order = np.random.default_rng(2).permutation(raw.shape[0])
        Y, R = np.column_stack([y, y[order], 1.0 - y]), np.column_stack([raw, 0.5 * raw[order], -raw])
        value, grad = loss.loss_gradient(Y, R, w)
        parts = [loss.loss_gradient(Y[:, c], R[:, c], w) for c in range(3)]
        _close("labels: the loss of (n, C) targets is the mean of the labels' losses", value,
               np.mean([v for v, _ in parts]), 1e-12, fail)
        _close("labels: gradient column c is the label's gradient / C", grad,
               np.column_stack([g for _, g in parts]) / 3.0, 1e-12, fail, 1e-300)
        _check_batch(loss, Y, R, w, extremes, rtol, fail)


def _check_batch(loss, y, raw, w, extremes, rtol, fail):
    n = raw.shape[0]
    try:
        loss.loss(y, raw, reduction="none")
    except ValueError as exc:
        if type(loss).__name__ not in str(exc):
            fail(f"reduction='none' raises without naming the loss: {exc}")
    else:
        fail("a batch loss must refuse reduction='none'")
    for weights in (None, w):
        total = n if weights is None else weights.sum()
        mean, grad = loss.loss_gradient(y, raw, weights)
        _close("loss vs loss_gradient", loss.loss(y, raw, weights), mean, 1e-13, fail)
        _close("__call__ vs loss", loss(y, raw, sample_weight=weights), mean, 1e-13, fail)
        _close("gradient vs loss_gradient", loss.gradient(y, raw, weights), grad, 1e-13, fail, 1e-300)
        _close("sum = total weight * mean", loss.loss(y, raw, weights, "sum"), total * mean, 1e-12, fail)
        _close("sum gradient = total weight * mean gradient", loss.gradient(y, raw, weights, "sum"), total * grad,
               1e-12, fail, 1e-300)
    # the full-batch gradient against central differences, one coordinate at a time
    value, grad = loss.loss_gradient(y, raw, w)
    fd = np.empty(raw.shape)
    for i in np.ndindex(raw.shape):
        h = 1e-5 * (1.0 + abs(raw[i]))
        up, down = raw.copy(), raw.copy()
        up[i] += h
        down[i] -= h
        fd[i] = (loss.loss(y, up, w) - loss.loss(y, down, w)) / (2 * h)
    _close("gradient vs finite differences", grad, fd, max(rtol, 1e-5), fail, 1e-8 * (1 + np.max(np.abs(fd))))
    order = np.random.default_rng(1).permutation(n)
    v2, g2 = loss.loss_gradient(y[order], raw[order], w[order])
    _close("permutation invariance (value)", v2, value, 1e-12, fail)
    _close("permutation invariance (gradient)", g2, grad[order], 1e-10, fail, 1e-300)
    if loss.weight_scale_invariant:
        _close("mean invariant to scaling the weights", loss.loss(y, raw, 3.5 * w), value, 1e-12, fail)
    counts = np.arange(n) % 3
    idx = np.repeat(np.arange(n), counts)
    v_rep, g_rep = loss.loss_gradient(y[idx], raw[idx])
    v_w, g_w = loss.loss_gradient(y, raw, counts.astype(float))
    _close("integer weights equal repeated samples", v_w, v_rep, 1e-12, fail)
    summed = np.zeros(raw.shape)
    np.add.at(summed, idx, g_rep)
    _close("integer weights equal repeated samples (gradient, summed over copies)", g_w, summed, 1e-9, fail, 1e-300)
    if loss.decomposable:
        halves = np.array_split(np.arange(n), 3)
        S = sum(loss.statistics(y[h], raw[h], w[h]) for h in halves)
        _close("statistics add up over chunks", S, loss.statistics(y, raw, w), 1e-12, fail)
        _close("value_from_statistics", loss.value_from_statistics(S), value, 1e-12, fail)
        chunks = np.concatenate([loss.gradient_from_statistics(y[h], raw[h], S, w[h]) for h in halves])
        _close("gradient_from_statistics over chunks", chunks, grad, 1e-12, fail, 1e-300)
    with np.errstate(all="ignore"):
        for r in extremes:
            v, g = loss.loss_gradient(y, np.full(raw.shape, r), w)
            if np.isnan(v) or np.any(np.isnan(g)):
                fail(f"NaN at raw_prediction = {r!r}")
    v32, g32 = loss.loss_gradient(y.astype(np.float32), raw.astype(np.float32), w)
    if g32.dtype != np.float32:
        fail(f"float32 input gives a {g32.dtype} gradient")
    _close("float32 value", v32, value, 1e-5, fail)


def check_pairwise_loss(loss, y, raw, w, extremes, fail):
    """The contract of a ``structure="pairwise"`` loss (an embedding loss of labels ``y`` and embeddings ``raw``).

    The batch gradient against finite differences; invariance to permuting
    the samples and to renaming the labels; the weight semantics of
    :mod:`sklearn_losses.losses._pairwise` (unit weights are no weights,
    scaling every weight changes nothing, a zero weight removes the sample);
    ``sum = W * mean``; loss 0 and gradient 0 for a batch without pairs; no
    NaN at extreme or degenerate embeddings; float32 in, float32 out; no
    best constant (``baseline_prediction`` refuses, naming the loss).
    """
    n = raw.shape[0]
    name = type(loss).__name__
    for call in (lambda: loss.loss(y, raw, reduction="none"), lambda: loss.baseline_prediction(y)):
        try:
            call()
        except ValueError as exc:
            if name not in str(exc):
                fail(f"the error does not name the loss: {exc}")
        else:
            fail("reduction='none' and baseline_prediction must raise ValueError for a pairwise loss")
    for weights in (None, w):
        total = n if weights is None else weights.sum()
        mean, grad = loss.loss_gradient(y, raw, weights)
        _close("loss vs loss_gradient", loss.loss(y, raw, weights), mean, 1e-13, fail)
        _close("__call__ vs loss", loss(y, raw, sample_weight=weights), mean, 1e-13, fail)
        _close("gradient vs loss_gradient", loss.gradient(y, raw, weights), grad, 1e-13, fail, 1e-300)
        _close("sum = total weight * mean", loss.loss(y, raw, weights, "sum"), total * mean, 1e-12, fail)
        _close("sum gradient = total weight * mean gradient", loss.gradient(y, raw, weights, "sum"), total * grad,
               1e-12, fail, 1e-300)
        out = np.full(raw.shape, np.nan)
        loss.loss_gradient(y, raw, weights, gradient_out=out)
        _close("gradient_out", out, grad, 1e-13, fail, 1e-300)
    value, grad = loss.loss_gradient(y, raw, w)
    # central differences with a small step: margins and miners make the loss piecewise
    fd = np.empty(raw.shape)
    for i in np.ndindex(raw.shape):
        h = 1e-7 * (1.0 + abs(raw[i]))
        up, down = raw.copy(), raw.copy()
        up[i] += h
        down[i] -= h
        fd[i] = (loss.loss(y, up, w) - loss.loss(y, down, w)) / (up[i] - down[i])
    _close("gradient vs finite differences", grad, fd, 1e-5, fail, 1e-6 * (1 + np.max(np.abs(fd))))
    order = np.random.default_rng(1).permutation(n)
    v2, g2 = loss.loss_gradient(y[order], raw[order], w[order])
    _close("permutation invariance (value)", v2, value, 1e-12, fail)
    _close("permutation invariance (gradient)", g2, grad[order], 1e-9, fail, 1e-14 * (1 + np.max(np.abs(grad))))
    relabelled = 7.0 - 3.0 * np.asarray(y, dtype=float)
    v3, g3 = loss.loss_gradient(relabelled, raw, w)
    _close("invariance to renaming the labels (value)", v3, value, 1e-12, fail)
    _close("invariance to renaming the labels (gradient)", g3, grad, 1e-12, fail, 1e-300)
    _close("unit weights equal no weights", loss.loss(y, raw, np.ones(n)), loss.loss(y, raw), 1e-13, fail)
    _close("mean invariant to scaling the weights", loss.loss(y, raw, 3.5 * w), value, 1e-12, fail)
    dropped = np.arange(n) % 5 == 0
    zeroed = np.where(dropped, 0.0, w)
    vz, gz = loss.loss_gradient(y, raw, zeroed)
    vd, gd = loss.loss_gradient(y[~dropped], raw[~dropped], w[~dropped])
    _close("a zero weight removes the sample (value)", vz, vd, 1e-12, fail)
    _close("a zero weight removes the sample (gradient)", gz[~dropped], gd, 1e-12, fail, 1e-300)
    if np.any(gz[dropped] != 0.0):
        fail("a sample of weight 0 has a non-zero gradient")
    for what, (yy, rr) in {"one sample": (y[:1], raw[:1]),
                           "one class": (np.zeros(n), raw)}.items():
        v, g = loss.loss_gradient(yy, rr)
        if what == "one sample" and (v != 0.0 or np.any(g != 0.0)):
            fail(f"a batch of {what} (no pair) must have loss 0 and gradient 0; got {v!r}")
        if not (np.isfinite(v) and np.all(np.isfinite(g))):
            fail(f"a batch of {what} gives a non-finite loss or gradient")
    with np.errstate(all="ignore"):
        degenerate = [np.zeros(raw.shape), np.ones(raw.shape), 1e300 * raw, 1e-300 * raw]
        for rr in degenerate + [np.full(raw.shape, r) for r in extremes]:
            v, g = loss.loss_gradient(y, rr, w)
            if np.isnan(v) or np.any(np.isnan(g)) or (getattr(loss, "normalize", True) and not
                                                      (np.isfinite(v) and np.all(np.isfinite(g)))):
                fail(f"a non-finite loss or gradient at embeddings {rr[0]!r}, ...")
    v32, g32 = loss.loss_gradient(y, raw.astype(np.float32), w)
    if g32.dtype != np.float32:
        fail(f"float32 input gives a {g32.dtype} gradient")
    _close("float32 value", v32, value, 1e-5, fail)
