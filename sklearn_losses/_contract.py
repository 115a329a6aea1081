"""The parts of the loss contract (:func:`sklearn_losses.testing.check_loss`) about what a loss declares.

``structure``, ``decomposable`` and ``hessian`` are data that solvers and
estimators choose from, so a wrong declaration is a wrong fit: each is held
to what the loss computes.
"""

import numpy as np

from .losses._base import HESSIANS, STRUCTURES

__all__ = ["check_baseline", "check_declarations"]


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


def check_baseline(loss, y, w, n_classes, fail):
    """``baseline_prediction`` against a brute-force search: no constant does better, weights equal repetition."""
    kwargs = {"n_classes": n_classes} if loss.per_row else {}
    b = loss.baseline_prediction(y, w, **kwargs)
    expected_shape = (n_classes,) if loss.per_row else (() if np.ndim(y) == 1 else (np.shape(y)[1],))
    if np.shape(b) != expected_shape or not np.all(np.isfinite(b)):
        fail(f"baseline_prediction returned {b!r}; expected a finite value of shape {expected_shape}")

    def value(candidate):
        with np.errstate(all="ignore"):
            return float(loss.loss(y, _constant(loss, y, candidate), w))

    best = value(b)
    tol = 1e-9 * (1.0 + abs(best))
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
