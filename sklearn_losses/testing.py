"""The loss contract: :func:`check_loss` verifies any loss, built-in or custom.

The test suite runs it over every registered loss, so a loss is tested the
moment it is registered; users run it on their own losses.
"""

import pickle

import numpy as np
from sklearn.base import clone

from ._contract import check_baseline, check_batch_loss, check_declarations, check_pairwise_loss
from .losses import get_loss
from .losses._base import allow_non_finite

__all__ = ["check_loss"]

_UNBOUNDED_VALUE = ("quadratic", "polynomial", "exponential")
_UNBOUNDED_GRADIENT = ("polynomial", "exponential")
_MAX = np.finfo(np.float64).max
_TINY = np.finfo(np.float64).tiny
#: Raw predictions and targets at the float limits: the largest finite values,
#: 1e300, the smallest normal numbers and subnormals, and ordinary values.
_EXTREMES = np.array([-_MAX, -1e300, -1e10, -700.0, -50.0, -1.0, -_TINY, -5e-324, 0.0, 5e-324, _TINY, 1e-300,
                      1.0, 50.0, 700.0, 1e10, 1e300, _MAX])


def _extreme_targets(loss, rng):
    """Targets for the extreme grid: a sample of the loss's domain and every extreme value inside it."""
    inside = [v for v in _EXTREMES if loss.target_domain.violation(np.array([v])) is None]
    return np.concatenate([loss.target_domain.sample(rng, 6), np.array(inside, dtype=np.float64)])


def _is_row_loss(loss):
    return loss.per_row


def _sample(loss, rng, n_samples, n_classes):
    """Targets in the loss's domain and raw predictions around them."""
    if _is_row_loss(loss):
        columns = loss.raw_width(n_classes)
        y = loss.target_domain.sample(rng, n_samples, columns)
        if loss.raw_domain is not None:
            return y, loss.raw_domain.sample(rng, n_samples, columns)
        return y, 2.0 * rng.normal(size=(n_samples, columns))
    y = loss.target_domain.sample(rng, n_samples)
    if loss.structure == "pairwise":  # labels and embeddings of 3 components
        return y, rng.normal(size=(n_samples, 3))
    if loss.task != "regression":
        return y, 2.0 * rng.normal(size=n_samples)
    if loss.link.name == "log":
        return y, np.log(np.clip(np.abs(y), 0.1, None)) + 0.7 * rng.normal(size=n_samples)
    return y, y + 1.5 * rng.normal(size=n_samples)


def _fail(loss, message):
    raise AssertionError(f"check_loss({loss!r}): {message}")


def _close(loss, what, actual, expected, rtol, atol=0.0):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if actual.shape != expected.shape:
        _fail(loss, f"{what}: shape {actual.shape} != expected {expected.shape}")
    bad = ~np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=False)
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        _fail(loss, f"{what}: {float(actual.ravel()[i])!r} != {float(expected.ravel()[i])!r} at flat index {i}")


def _derivative_check(loss, what, func, raw, analytic, rtol):
    """Compare ``analytic`` with 4th-order central differences of ``func``.

    ``func(raw)`` returns per-sample values (or per-element gradients); the
    derivative is taken element by element (column by column for rows). Points
    where the estimates with steps h and h/2 disagree lie near a kink and are
    skipped; at least half of the points must be checkable.
    """

    def fd(step):
        out = np.empty_like(raw)
        columns = range(raw.shape[1]) if raw.ndim == 2 else [None]
        for k in columns:
            h = step * np.maximum(1.0, np.abs(raw if k is None else raw[:, k]))

            def at(shift):
                shifted = raw.copy()
                if k is None:
                    shifted += shift * h
                    return func(shifted)
                shifted[:, k] += shift * h
                values = func(shifted)
                return values if values.ndim == 1 else values[:, k]

            estimate = (-at(2) + 8 * at(1) - 8 * at(-1) + at(-2)) / (12 * h)
            if k is None:
                out[:] = estimate
            else:
                out[:, k] = estimate
        return out

    coarse, fine = fd(1e-3), fd(5e-4)
    scale = 1.0 + np.abs(fine)
    smooth = np.abs(coarse - fine) <= rtol * scale
    if smooth.mean() < 0.5:
        _fail(loss, f"{what}: finite differences were inconclusive at most points")
    analytic = np.asarray(analytic, dtype=float)
    err = np.abs(analytic - fine) / scale
    bad = smooth & (err > rtol)
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        _fail(loss, f"{what} disagrees with finite differences at flat index {i}: "
                    f"analytic {float(analytic.ravel()[i])!r}, numeric {float(fine.ravel()[i])!r}")


def _same(x, y):
    """Equal parameter values; nested losses compared by type and parameters."""
    if hasattr(x, "get_params") and hasattr(y, "get_params"):
        return type(x) is type(y) and _same_params(x.get_params(deep=False), y.get_params(deep=False))
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return type(x) is type(y) and len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    return x == y


def _same_params(a, b):
    return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)


def _check_params_protocol(loss):
    params = loss.get_params(deep=False)
    twin = clone(loss)
    if not _same_params(twin.get_params(deep=False), params) or repr(twin) != repr(loss):
        _fail(loss, "clone does not reproduce the parameters")
    if params:
        twin.set_params(**params)
    for obj in (pickle.loads(pickle.dumps(loss)),):
        if not _same_params(obj.get_params(deep=False), params):
            _fail(loss, "pickling does not preserve the parameters")


def _check_entry_points(loss, y, raw, w, rtol):
    for weights in (None, w):
        for reduction in ("mean", "sum", "none"):
            value = loss.loss(y, raw, weights, reduction)
            called = loss(y, raw, sample_weight=weights, reduction=reduction)
            fused_value, fused_grad = loss.loss_gradient(y, raw, weights, reduction)
            grad = loss.gradient(y, raw, weights, reduction)
            what = f"reduction={reduction!r}, weighted={weights is not None}"
            _close(loss, f"__call__ vs loss ({what})", called, value, 1e-13)
            _close(loss, f"loss_gradient value vs loss ({what})", fused_value, value, 1e-12, 1e-300)
            _close(loss, f"loss_gradient gradient vs gradient ({what})", fused_grad, grad, 1e-12, 1e-300)
            if grad.shape != np.shape(raw):
                _fail(loss, f"gradient shape {grad.shape} != raw_prediction shape {np.shape(raw)}")
            if loss.has_hessian:
                g2, hess = loss.gradient_hessian(y, raw, weights, reduction)
                _close(loss, f"gradient_hessian gradient vs gradient ({what})", g2, grad, 1e-12, 1e-300)
                if hess.shape != np.shape(raw):
                    _fail(loss, f"hessian shape {hess.shape} != raw_prediction shape")


def _check_reductions_and_weights(loss, y, raw, w, rtol):
    per_sample = loss.loss(y, raw, reduction="none")
    n = per_sample.shape[0]
    if per_sample.shape != (n,) or n != np.shape(raw)[0]:
        _fail(loss, f"reduction='none' must return shape ({np.shape(raw)[0]},); got {per_sample.shape}")
    _close(loss, "mean vs mean of 'none'", loss.loss(y, raw), per_sample.mean(), rtol)
    _close(loss, "sum vs sum of 'none'", loss.loss(y, raw, reduction="sum"), per_sample.sum(), rtol)
    _close(loss, "weighted 'none'", loss.loss(y, raw, w, "none"), w * per_sample, rtol)
    _close(loss, "weighted sum", loss.loss(y, raw, w, "sum"), np.sum(w * per_sample), rtol)
    _close(loss, "weighted mean", loss.loss(y, raw, w), np.sum(w * per_sample) / w.sum(), rtol)
    _close(loss, "mean invariant to scaling the weights", loss.loss(y, raw, 3.5 * w), loss.loss(y, raw, w), rtol)
    grad_none = loss.gradient(y, raw, reduction="none")
    w_col = w if np.ndim(raw) == 1 else w[:, None]
    _close(loss, "weighted gradient 'none'", loss.gradient(y, raw, w, "none"), w_col * grad_none, rtol, 1e-300)
    _close(loss, "weighted gradient 'mean'", loss.gradient(y, raw, w), w_col * grad_none / w.sum(), rtol, 1e-300)
    # integer weights are repetitions
    counts = np.arange(n) % 3
    idx = np.repeat(np.arange(n), counts)
    _close(loss, "integer weights equal repeated samples",
           loss.loss(y, raw, counts.astype(float)), loss.loss(y[idx], np.asarray(raw)[idx]), rtol)


def _check_derivatives(loss, y, raw, rtol):
    _derivative_check(loss, "gradient", lambda r: loss.loss(y, r, reduction="none"), raw,
                      loss.gradient(y, raw, reduction="none"), rtol)
    if loss.has_hessian:
        _, hess = loss.gradient_hessian(y, raw, reduction="none")
        _derivative_check(loss, "hessian", lambda r: loss.gradient(y, r, reduction="none"), raw,
                          hess, rtol)


def _check_extremes(loss, rng, n_classes):
    if _is_row_loss(loss):
        columns = loss.raw_width(n_classes)
        if loss.raw_domain is not None:
            raw = loss.raw_domain.extremes(_EXTREMES, columns)
            raw = np.concatenate([raw] * (n_classes + 1))  # every class against every row
        else:
            pattern = np.array([1.0, -1.0, 0.5, 0.0, -0.25])[np.arange(columns) % 5]
            raw = np.concatenate([v * np.roll(pattern, j)[None, :] for v in _EXTREMES for j in range(2)])
        y = loss.target_domain.sample(rng, raw.shape[0], columns)
    else:
        targets = _extreme_targets(loss, rng)  # jointly with every raw prediction: y - raw overflows too
        y = np.repeat(targets, len(_EXTREMES))
        raw = np.tile(_EXTREMES, len(targets))
    # Overflow to inf is judged below against the declared growth: let custom
    # losses (which raise on non-finite output) return it here.
    with np.errstate(all="ignore"), allow_non_finite():
        value = loss.loss(y, raw, reduction="none")
        grad = loss.gradient(y, raw, reduction="none")
        hess = loss.gradient_hessian(y, raw, reduction="none")[1] if loss.has_hessian else None
    for what, arr in (("loss", value), ("gradient", grad), ("hessian", hess)):
        if arr is not None and np.any(np.isnan(arr)):
            i = np.flatnonzero(np.isnan(arr).ravel())[0]
            where = "" if _is_row_loss(loss) else f": y_true={y[i]!r}, raw_prediction={raw[i]!r}"
            _fail(loss, f"{what} is NaN at extreme input (flat index {i}{where})")
    if np.any(value == -np.inf):
        _fail(loss, "loss is -inf at an extreme input")
    # Where the inputs themselves are near the float limit (|y| + |raw| beyond
    # max / 16), a loss of linear growth and the gradient of a quadratic one
    # exceed the float range in truth: overflow to inf is then correct.
    with np.errstate(over="ignore"):
        magnitude = np.abs(np.asarray(raw, dtype=np.float64))
        if magnitude.ndim == 2:
            magnitude = 2.0 * magnitude.max(axis=1)
        else:
            magnitude = magnitude + np.abs(np.asarray(y, dtype=np.float64))
    near_limit = ~(magnitude <= _MAX / 16)
    if loss.growth not in _UNBOUNDED_VALUE and not np.all(np.isfinite(value) | near_limit):
        _fail(loss, f"loss overflows at extreme inputs although growth={loss.growth!r}")
    if loss.growth not in _UNBOUNDED_GRADIENT:
        allowed = near_limit if loss.growth in _UNBOUNDED_VALUE else np.zeros_like(near_limit)
        for what, arr in (("gradient", grad), ("hessian", hess)):
            if arr is None:
                continue
            finite = np.isfinite(arr) if arr.ndim == 1 else np.isfinite(arr).all(axis=1)
            if not np.all(finite | allowed):
                i = np.flatnonzero(~(finite | allowed))[0]
                _fail(loss, f"{what} overflows at extreme inputs although growth={loss.growth!r} (flat index {i})")


def _check_dtypes(loss, y, raw, w):
    raw32, y32, w32 = np.asarray(raw, np.float32), np.asarray(y, np.float32), w.astype(np.float32)
    g64 = loss.gradient(y32.astype(float), raw32.astype(float), w32.astype(float), "none")
    g32 = loss.gradient(y32, raw32, w32, "none")
    if g32.dtype != np.float32:
        _fail(loss, f"float32 input must give a float32 gradient; got {g32.dtype}")
    scale = np.max(np.abs(g64)) + 1e-30
    if np.max(np.abs(g32 - g64)) > 1e-4 * scale:
        _fail(loss, "float32 gradient differs from the float64 gradient by more than 1e-4")
    v32 = loss.loss(y32, raw32, w32)
    v64 = loss.loss(y32.astype(float), raw32.astype(float), w32.astype(float))
    if not np.isclose(v32, v64, rtol=1e-4, atol=1e-6):
        _fail(loss, f"float32 loss {v32!r} differs from float64 loss {v64!r}")


def _check_linear_pieces(loss, y, raw):
    """A declared piecewise-linear structure must describe the loss: equal up to a constant."""
    if not loss.piecewise_linear:
        return
    slopes, breaks = loss.linear_pieces(y)
    n = raw.shape[0]
    if slopes.shape[0] != n or breaks.shape != (n, slopes.shape[1] - 1):
        _fail(loss, f"linear_pieces returned slopes {slopes.shape} and breakpoints {breaks.shape}")
    if np.any(np.diff(slopes, axis=1) <= 0) or np.any(np.diff(breaks, axis=1) < 0):
        _fail(loss, "linear_pieces must give increasing slopes and non-decreasing breakpoints")

    def pieces(r):
        return slopes[:, 0] * r + np.sum(np.diff(slopes, axis=1) * np.maximum(0.0, r[:, None] - breaks), axis=1)

    other = raw + np.linspace(-3.0, 3.0, n)
    actual = loss.loss(y, other, reduction="none") - loss.loss(y, raw, reduction="none")
    _close(loss, "linear_pieces (loss differences)", actual, pieces(other) - pieces(raw), 1e-9, 1e-9)


def _check_quadratic_pieces(loss, y, raw):
    """A declared piecewise-quadratic structure must describe the loss's subgradients.

    ``u = loss'(r)`` must be a subgradient of the piecewise-linear part at
    ``r - kappa u``: the slope of the piece there, or between the two slopes
    at a break.
    """
    if not loss.piecewise_quadratic:
        return
    slopes, breaks, kappa = loss.quadratic_pieces(y)
    n = raw.shape[0]
    if slopes.shape[0] != n or breaks.shape != (n, slopes.shape[1] - 1) or kappa.shape != (n,):
        _fail(loss, f"quadratic_pieces returned shapes {slopes.shape}, {breaks.shape}, {kappa.shape}")
    if np.any(np.diff(slopes, axis=1) <= 0) or np.any(kappa < 0):
        _fail(loss, "quadratic_pieces must give increasing slopes and non-negative curvature")
    other = raw + np.linspace(-3.0, 3.0, n)
    g = loss.gradient(y, other, reduction="none")
    v = other - kappa * g
    distance = np.abs(v[:, None] - breaks)
    at_break = (distance <= 1e-9 * (1.0 + np.abs(breaks))).any(axis=1)
    nearest = np.argmin(distance, axis=1)
    rows = np.arange(n)
    expected = slopes[rows, (v[:, None] > breaks).sum(axis=1)]
    # at break j the subgradients are [slopes[j], slopes[j + 1]]
    inside = (g >= slopes[rows, nearest] - 1e-9) & (g <= slopes[rows, nearest + 1] + 1e-9)
    ok = np.where(at_break, inside, np.isclose(g, expected, rtol=1e-9, atol=1e-9))
    # points at a kink of the loss itself have a one-sided gradient: skip them
    kink = np.abs(other[:, None] - breaks) <= 1e-6 * (1.0 + np.abs(breaks))
    bad = ~ok & ~kink.any(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        _fail(loss, f"quadratic_pieces: gradient {g[i]!r} at r={other[i]!r} is not a subgradient of the "
                    f"piecewise-linear part at r - kappa * gradient = {v[i]!r}")


def _check_polyhedral_pieces(loss, y, raw):
    """A declared polyhedral structure must give the loss: the maximum of ``<u, z + o>`` over its polytope.

    The maximum of a linear function over a box cut by ``sum(u) = 0`` is
    found greedily: from ``u = lower``, the missing mass goes to the largest
    coefficients first (a fractional knapsack).
    """
    if not loss.polyhedral:
        return
    n, k = raw.shape
    lower, upper, offset = loss.polyhedral_pieces(y, k)
    if not lower.shape == upper.shape == offset.shape == (n, k):
        _fail(loss, f"polyhedral_pieces returned shapes {lower.shape}, {upper.shape}, {offset.shape}")
    if np.any(lower > upper) or np.any(lower.sum(axis=1) > 0) or np.any(upper.sum(axis=1) < 0):
        _fail(loss, "polyhedral_pieces: the polytope lower <= u <= upper, sum(u) = 0 is empty")
    coefficient = raw + offset
    u = lower.copy()
    for i in range(n):
        missing = -u[i].sum()
        for m in np.argsort(-coefficient[i], kind="stable"):
            step = min(upper[i, m] - lower[i, m], missing)
            u[i, m] += step
            missing -= step
    expected = np.einsum("ij,ij->i", u, coefficient)
    value = loss.loss(y, raw, reduction="none")
    if not np.allclose(value, expected, rtol=1e-10, atol=1e-12):
        i = int(np.argmax(np.abs(value - expected)))
        _fail(loss, f"polyhedral_pieces: the maximum over the polytope is {expected[i]!r}, the loss {value[i]!r}")


def check_loss(loss, *, n_samples=60, n_classes=4, random_state=0, rtol=5e-6):
    """Check that a loss keeps the loss contract; raise ``AssertionError`` if not.

    Checks, on targets drawn from the loss's ``target_domain``:

    * the declared ``structure`` and ``hessian`` against what the loss
      computes (``hessian="zero"``: zero; ``"exact"`` with ``convex``:
      non-negative; ``"none"``: ``gradient_hessian`` refuses);
    * the parameter protocol (``clone``, ``get_params``/``set_params``) and pickling;
    * agreement of all entry points (``loss``, ``__call__``, ``gradient``,
      ``loss_gradient``, ``gradient_hessian``) for every reduction, with and
      without sample weights;
    * mean/sum/none consistency and sample-weight semantics (scaling,
      integer weights equal repeated samples);
    * the gradient and hessian against 4th-order central finite differences
      (relative tolerance ``rtol``; points next to a kink are skipped);
    * no NaN, and overflow only where the declared ``growth`` allows it, at
      raw predictions from -1e300 to 1e300 (inside the declared
      ``raw_domain``, e.g. non-increasing rows, where there is one);
    * float32 input gives float32 output close to the float64 result;
    * batch losses (``structure="batch"``): the full-batch gradient against
      finite differences, permutation invariance, ``sum = W * mean``,
      integer weights equal repeated samples, statistics that add up over
      chunks (decomposable losses), no NaN at extreme inputs, float32;
    * pairwise losses (``structure="pairwise"``, embeddings): the batch
      gradient against finite differences, invariance to permutations and
      to renaming the labels, the weight semantics (a zero weight removes a
      sample, scaling the weights changes nothing), loss 0 without pairs, no
      NaN at extreme or degenerate embeddings, float32;
    * ``baseline_prediction`` is the best constant: no constant nearby or
      far does better, and integer weights equal repeated samples;
    * a declared piecewise-linear structure (``linear_pieces``) equals the
      loss up to a constant per sample, and a declared piecewise-quadratic
      one (``quadratic_pieces``) gives the loss's subgradients, and a
      declared polyhedral one (``polyhedral_pieces``) gives the loss.

    Parameters
    ----------
    loss : BaseLoss or str
        A loss instance or a registered name.
    n_samples : int, default=60
    n_classes : int, default=4
        Classes of losses on rows (``raw_prediction`` has ``loss.raw_width(n_classes)``
        columns: ``n_classes``, or ``n_classes - 1`` for ordinal losses).
    random_state : int, default=0
    rtol : float, default=5e-6
        Tolerance of the derivative checks.
    """
    loss = get_loss(loss)
    rng = np.random.default_rng(random_state)
    y, raw = _sample(loss, rng, n_samples, n_classes)
    w = rng.uniform(0.2, 3.0, size=n_samples)
    _check_params_protocol(loss)
    check_declarations(loss, y, raw, lambda message: _fail(loss, message))
    if loss.structure == "pairwise":
        check_pairwise_loss(loss, y, raw, w, _EXTREMES, lambda message: _fail(loss, message))
        return
    if loss.structure == "batch":
        check_batch_loss(loss, y, raw, w, _EXTREMES, rtol, lambda message: _fail(loss, message))
        check_baseline(loss, y, w, n_classes, lambda message: _fail(loss, message))
        return
    _check_entry_points(loss, y, raw, w, rtol)
    _check_reductions_and_weights(loss, y, raw, w, 1e-10)
    _check_derivatives(loss, y, raw, rtol)
    _check_extremes(loss, rng, n_classes)
    _check_dtypes(loss, y, raw, w)
    _check_linear_pieces(loss, y, raw)
    _check_quadratic_pieces(loss, y, raw)
    _check_polyhedral_pieces(loss, y, raw)
    check_baseline(loss, y, w, n_classes, lambda message: _fail(loss, message))
