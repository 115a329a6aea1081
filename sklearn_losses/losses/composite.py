"""Losses built from other losses: :class:`Asymmetric`, :class:`WeightedSum`, :class:`PerOutput`.

Any loss composes, built-in or custom. A composite of element-wise
components with compiled per-sample functions is compiled into one fused
kernel (:mod:`sklearn_losses._codegen.fused`: the components' functions
inlined; :class:`PerOutput` as a loss on rows), so it runs as fast as the
equivalent hand-written loss; so is a :class:`WeightedSum` of softmax losses
(cross-entropy, multiclass focal, ...: one softmax per row, shared). The
others (other losses on rows) reach their components through their public
methods, which is exact for every reduction and for sample weights:

* :class:`WeightedSum` and :class:`PerOutput` are linear in their components,
  so they call each component with the caller's reduction and weights;
* :class:`Asymmetric` multiplies each residual's loss by a constant on each
  side of ``r = y``; it passes that factor to the base loss as part of the
  sample weight of a flattened, element-wise call.
"""

import functools
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import LABEL_TASKS, REDUCTIONS, BaseLoss, check_weights
from .._codegen.fused import fused_spec
from ._registry import get_loss

__all__ = ["Asymmetric", "PerOutput", "WeightedSum"]


@functools.lru_cache(maxsize=256)
def _cached_spec(kind, specs, own):
    return fused_spec(kind, list(specs), own)


class _Composite(BaseLoss):
    """The fused kernels of :mod:`._fuse` where they exist, else public methods on top of
    ``_evaluate(y, raw, w, reduction, need)``."""

    #: ``(kind, own parameters, fewest components)`` of the fused kernel (:func:`.._codegen.fused.fused_spec`);
    #: None: not fusable
    _fusion = None

    def _components(self):
        raise NotImplementedError  # pragma: no cover - abstract

    @property
    def _kernel_spec(self):
        """The fused per-sample functions: every component element-wise, or (weighted sums) every one a softmax loss."""
        if self._fusion is None:
            return None
        components = self._components()
        specs = [loss.kernel_spec for loss in components]
        if any(spec is None for spec in specs) or len(specs) < self._fusion[2]:
            return None
        softmax_sum = self._fusion[0] == "weighted_sum" and all(spec.kind == "softmax" for spec in specs)
        if any(spec.per_row for spec in specs) and not softmax_sum:
            return None
        return _cached_spec(self._fusion[0], tuple(specs), self._fusion[1])  # (kind, own parameters)

    @property
    def _check_finite_output(self):
        """Custom components check their outputs; the fused kernel does it for them."""
        return any(loss._check_finite_output for loss in self._components())

    def _kernel_params(self):
        """Validates the composite and its components; the fused kernel's arguments."""
        arguments = [loss.kernel_arguments() for loss in self._components()]
        own = super()._kernel_params()
        return self._fused_arguments(arguments, own)

    def _fused_arguments(self, arguments, own):
        return ()

    def _as_floats(self):
        return ()

    def _fused(self, y=None, raw=None):
        """Whether the fused kernel evaluates this call (``y``, ``raw``: the call's arrays, checked first)."""
        return self._kernel_spec is not None

    @property
    def hessian(self):
        """Combined from the components': none if one has none, indefinite if one is, zero if all are."""
        kinds = {loss.hessian for loss in self._components()}
        for kind in ("none", "indefinite"):
            if kind in kinds:
                return kind
        return "zero" if kinds == {"zero"} else "exact"

    @property
    def structure(self):
        return "row" if any(loss.structure == "row" for loss in self._components()) else "elementwise"

    def _check_reduction(self, reduction):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}.")

    @staticmethod
    def _into(result, out, name):
        if out is None:
            return result
        if out.shape != result.shape or out.dtype != result.dtype:
            raise ValueError(f"{name} must be a {result.dtype} array of shape {result.shape}.")
        out[...] = result
        return out

    def loss(self, y_true, raw_prediction, sample_weight=None, reduction="mean", check_input=True):
        if self._fused(y_true, raw_prediction):
            return super().loss(y_true, raw_prediction, sample_weight, reduction, check_input)
        return self._evaluate(y_true, raw_prediction, sample_weight, reduction, check_input, "loss")[0]

    def __call__(self, y_true, raw_prediction, sample_weight=None, reduction="mean", check_input=True):
        return self.loss(y_true, raw_prediction, sample_weight, reduction, check_input)

    def gradient(self, y_true, raw_prediction, sample_weight=None, reduction="mean",
                 gradient_out=None, check_input=True):
        if self._fused(y_true, raw_prediction):
            return super().gradient(y_true, raw_prediction, sample_weight, reduction, gradient_out, check_input)
        grad = self._evaluate(y_true, raw_prediction, sample_weight, reduction, check_input, "gradient")[1]
        return self._into(grad, gradient_out, "gradient_out")

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None, reduction="mean",
                      gradient_out=None, check_input=True):
        if self._fused(y_true, raw_prediction):
            return super().loss_gradient(y_true, raw_prediction, sample_weight, reduction, gradient_out,
                                         check_input)
        value, grad, _ = self._evaluate(y_true, raw_prediction, sample_weight, reduction, check_input,
                                        "loss_gradient")
        return value, self._into(grad, gradient_out, "gradient_out")

    def gradient_hessian(self, y_true, raw_prediction, sample_weight=None, reduction="mean",
                         gradient_out=None, hessian_out=None, check_input=True):
        if not self.has_hessian:
            raise ValueError(f"{type(self).__name__}: a component declares no hessian (hessian='none').")
        if self._fused(y_true, raw_prediction):
            return super().gradient_hessian(y_true, raw_prediction, sample_weight, reduction, gradient_out,
                                            hessian_out, check_input)
        _, grad, hess = self._evaluate(y_true, raw_prediction, sample_weight, reduction, check_input,
                                       "gradient_hessian")
        return self._into(grad, gradient_out, "gradient_out"), self._into(hess, hessian_out, "hessian_out")

    def validate_target(self, y_true, n_classes=None):
        for loss in self._components():
            loss.validate_target(y_true, n_classes)

    # declared properties: those every component has
    convex = property(lambda self: _declared(self._components(), "convex"))
    differentiable = property(lambda self: _declared(self._components(), "differentiable"))
    twice_differentiable = property(lambda self: _declared(self._components(), "twice_differentiable"))
    robust = property(lambda self: _declared(self._components(), "robust"))

    @staticmethod
    def _call(loss, what, y, raw, sample_weight, reduction, check_input):
        """(value, gradient, hessian) of one component; entries not asked for are None."""
        kw = dict(sample_weight=sample_weight, reduction=reduction, check_input=check_input)
        if what == "loss":
            return loss.loss(y, raw, **kw), None, None
        if what == "gradient":
            return None, loss.gradient(y, raw, **kw), None
        if what == "loss_gradient":
            return (*loss.loss_gradient(y, raw, **kw), None)
        return (None, *loss.gradient_hessian(y, raw, **kw))


def _declared(components, name):
    return all(getattr(loss, name) for loss in components)


class WeightedSum(_Composite):
    r"""A weighted sum of losses: :math:`\ell = \sum_j w_j \ell_j`.

    The components are named, as the steps of a scikit-learn
    :class:`~sklearn.pipeline.Pipeline`, so that their hyperparameters and
    weights are tunable: with ``loss=WeightedSum([(1.0, "squared_error"),
    (0.1, Huber())])``, ``loss__huber__delta`` and ``loss__huber__weight``
    are parameters of the estimator (``GridSearchCV`` can search them).

    A sum with a loss of the whole batch (``soft_dice``, ...) is one too
    (``structure="batch"``: reductions ``"mean"`` and ``"sum"``). On binary
    labels, ``WeightedSum([(1, "log_loss"), (1, "soft_dice")])`` is the robust
    way to train for overlap: the log loss keeps a gradient where the Dice
    term saturates (confident predictions, a first step that overshoots) and
    makes the objective's minimum unique, while the Dice term pulls the
    decision towards the overlap score.

    Parameters
    ----------
    losses : list of (float, loss) or (str, float, loss)
        Non-negative weights and losses (instances or registered names) of
        one task (binary and overlap losses mix: both are on 0/1 labels); e.g. ``[(1.0, "squared_error"), (0.1, Huber(delta=2.0))]``.
        A component is named by its first element when three are given,
        otherwise by its loss's registry name (repeated names get ``-1``,
        ``-2``, ... as :func:`~sklearn.pipeline.make_pipeline` does).
    """

    name = "weighted_sum"
    _fusion = ("weighted_sum", 1, 1)

    def __init__(self, losses):
        self.losses = losses

    def _entries(self):
        """``[(name, weight, loss, named)]``: ``named`` if the user gave the name."""
        if not isinstance(self.losses, (list, tuple)) or not self.losses:
            raise ValueError(f"WeightedSum: losses must be a non-empty list of (weight, loss); got {self.losses!r}.")
        entries = []
        for item in self.losses:
            named = isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], str)
            pair = item[1:] if named else item
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], Real)
                    and not isinstance(pair[0], bool)):
                raise ValueError(f"WeightedSum: each entry of losses must be (weight, loss) or (name, weight, "
                                 f"loss); got {item!r}.")
            name = item[0] if named else _loss_name(pair[1])
            entries.append([name, pair[0], pair[1], named])
        _number_repeats([e for e in entries if not e[3]])
        names = [e[0] for e in entries]
        if len(set(names)) != len(names):
            raise ValueError(f"WeightedSum: component names must be unique; got {names}.")
        for name in names:
            if "__" in name or not name:
                raise ValueError(f"WeightedSum: a component name must be non-empty without '__'; got {name!r}.")
        return entries

    def _pairs(self):
        pairs = []
        for name, weight, loss, _ in self._entries():
            if not weight >= 0:
                raise ValueError(f"WeightedSum: weights must be non-negative; got {weight!r} for {name!r}.")
            pairs.append((float(weight), get_loss(loss)))
        tasks = {loss.task for _, loss in pairs}
        if len(tasks) > 1 and not tasks <= set(LABEL_TASKS):
            raise ValueError(f"WeightedSum: all losses must have the same task (binary and overlap losses, both "
                             f"on 0/1 labels, mix); got {sorted(tasks)}.")
        return pairs

    def get_params(self, deep=True):
        params = {"losses": self.losses}
        if not deep:
            return params
        for name, weight, loss, _ in self._entries():
            instance = loss if isinstance(loss, BaseLoss) else get_loss(loss)
            params[name] = instance
            params[f"{name}__weight"] = weight
            params.update({f"{name}__{key}": value for key, value in instance.get_params(deep=True).items()})
        return params

    def set_params(self, **params):
        if "losses" in params:
            self.losses = params.pop("losses")
        if not params:
            return self
        entries = self._entries()
        index = {e[0]: e for e in entries}
        for key, value in params.items():
            name, nested, sub = key.partition("__")
            if name not in index:
                raise ValueError(f"Invalid parameter {key!r} for WeightedSum: its components are "
                                 f"{list(index)} (parameters <name>, <name>__weight, <name>__<loss parameter>).")
            entry = index[name]
            if not nested:
                entry[2] = value
            elif sub == "weight":
                entry[1] = value
            else:
                entry[2] = get_loss(entry[2]).set_params(**{sub: value})
        self.losses = [(name, weight, loss) if named else (weight, loss) for name, weight, loss, named in entries]
        return self

    def _components(self):
        return [loss for _, loss in self._pairs()]

    def _fused_arguments(self, arguments, own):
        weights = [w for w, _ in self._pairs()]
        return tuple(x for w, args in zip(weights, arguments) for x in (w, *args))

    @property
    def task(self):
        """The components' task; ``"overlap"`` for a mix of binary and overlap losses."""
        tasks = {loss.task for loss in self._components()}
        return "overlap" if len(tasks) > 1 else tasks.pop()

    @property
    def structure(self):
        """``"batch"`` if a component is a loss of the whole batch (the sum is one too), else as the base's."""
        if any(loss.structure == "batch" for loss in self._components()):
            return "batch"
        return super().structure

    @property
    def weight_scale_invariant(self):
        """Batch sums: whether every component's mean is unchanged by scaling the weights."""
        return all(getattr(loss, "weight_scale_invariant", True) for loss in self._components())

    @property
    def link(self):
        return self._components()[0].link

    @property
    def target_domain(self):
        return self._components()[0].target_domain

    growth = property(lambda self: max((loss.growth for loss in self._components()),
                                       key=["bounded", "linear", "quadratic", "polynomial",
                                            "exponential"].index))

    def _evaluate(self, y, raw, w, reduction, check_input, what):
        self._check_reduction(reduction)
        if reduction == "none" and self.structure == "batch":
            raise ValueError("WeightedSum has a component that is a loss of the whole batch (structure='batch'): "
                             "it has no per-sample values; use reduction='mean' or 'sum'.")
        total = [None, None, None]
        for weight, loss in self._pairs():
            parts = self._call(loss, what, y, raw, w, reduction, check_input)
            for j, part in enumerate(parts):
                if part is not None:
                    total[j] = weight * part if total[j] is None else total[j] + weight * part
        return tuple(total)


def _loss_name(loss):
    """A component's default name: its registry name, else its class name in snake case."""
    instance = loss if isinstance(loss, BaseLoss) else get_loss(loss)
    if instance.name:
        return instance.name
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in type(instance).__name__).lstrip("_")


def _number_repeats(entries):
    """Repeated default names become ``name-1``, ``name-2``, ... (scikit-learn's make_pipeline)."""
    counts = {}
    for entry in entries:
        counts[entry[0]] = counts.get(entry[0], 0) + 1
    seen = {}
    for entry in entries:
        if counts[entry[0]] > 1:
            seen[entry[0]] = seen.get(entry[0], 0) + 1
            entry[0] = f"{entry[0]}-{seen[entry[0]]}"


class PerOutput(_Composite):
    """One loss per output column of a multi-output regression target.

    The loss of a sample is the mean over its outputs, as for a single loss
    on a multi-output target.

    Parameters
    ----------
    losses : list of loss
        One regression loss (instance or registered name) per column.
    """

    name = "per_output"
    task = "regression"
    structure = "row"  # each column its own function: a function of the row, not one of each element
    _fusion = ("per_output", 0, 2)  # one column: the row kernels need two

    def __init__(self, losses):
        self.losses = losses

    @property
    def target_domain(self):
        return _Columns(self._components())

    def _fused(self, y=None, raw=None):
        if self._kernel_spec is None:
            return False
        if raw is not None:
            self._check_shapes(np.asarray(y), np.asarray(raw))
        return True

    def _check_shapes(self, y, raw):
        k = len(self.losses)
        if raw.ndim != 2 or raw.shape[1] != k or y.shape != raw.shape:
            raise ValueError(f"PerOutput: y_true and raw_prediction must have shape (n_samples, {k}) for "
                             f"{k} losses; got {y.shape} and {raw.shape}.")

    def _fused_arguments(self, arguments, own):
        return tuple(x for args in arguments for x in args)

    def _baseline_row(self, y, w, n_classes):
        """Each column's own best constant."""
        return np.array([loss.baseline_prediction(y[:, j], w) for j, loss in enumerate(self._components())])

    def _components(self):
        if not isinstance(self.losses, (list, tuple)) or not self.losses:
            raise ValueError(f"PerOutput: losses must be a non-empty list of losses; got {self.losses!r}.")
        losses = [get_loss(loss) for loss in self.losses]
        for loss in losses:
            if loss.task != "regression":
                raise ValueError(f"PerOutput: {type(loss).__name__} is not a regression loss.")
        return losses


    def validate_target(self, y_true, n_classes=None):
        y = np.asarray(y_true)
        for j, loss in enumerate(self._components()):
            loss.validate_target(y[:, j] if y.ndim == 2 and y.shape[1] > j else y)

    def _evaluate(self, y, raw, w, reduction, check_input, what):
        self._check_reduction(reduction)
        losses = self._components()
        y, raw = np.asarray(y), np.asarray(raw)
        k = len(losses)
        self._check_shapes(y, raw)
        values, grads, hessians = None, [], []
        for j, loss in enumerate(losses):
            value, grad, hess = self._call(loss, what, y[:, j], raw[:, j], w, reduction, check_input)
            if value is not None:
                values = value / k if values is None else values + value / k
            grads.append(grad)
            hessians.append(hess)
        stack = (lambda parts: None if parts[0] is None else np.stack(parts, axis=1) / k)
        return values, stack(grads), stack(hessians)


class _Columns:
    """The target domain of :class:`PerOutput`: rows whose column ``j`` is in component ``j``'s domain."""

    shape = "row"

    def __init__(self, losses):
        self.losses = losses

    def violation(self, y_true, n_columns=None):
        y = np.asarray(y_true)
        if y.ndim != 2 or y.shape[1] != len(self.losses):
            return f"y_true must have shape (n_samples, {len(self.losses)}); got {y.shape}"
        for j, loss in enumerate(self.losses):
            problem = loss.target_domain.violation(y[:, j])
            if problem is not None:
                return f"column {j}: {problem}"
        return None

    def sample(self, rng, n_samples, n_columns=None):
        return np.column_stack([loss.target_domain.sample(rng, n_samples) for loss in self.losses])

    def __repr__(self):
        return f"per-output ({', '.join(repr(loss.target_domain) for loss in self.losses)})"


class Asymmetric(_Composite):
    r"""A regression loss weighted differently for under- and over-prediction.

    .. math::

        \ell(y, r) = \begin{cases} u\,\ell_b(y, r) & r < y \text{ (under-prediction)} \\
                                   o\,\ell_b(y, r) & r \ge y \end{cases}

    With a base loss that is zero at ``r = y`` the result is continuous, and
    convex when the base is.

    Parameters
    ----------
    base : loss, default="squared_error"
        A regression loss with identity link (instance or registered name).
    under : float, default=1.0
        Factor u applied when the prediction is below the target.
    over : float, default=1.0
        Factor o applied when the prediction is at or above the target.
    """

    name = "asymmetric"
    task = "regression"
    _parameter_constraints = {"under": [Interval(Real, 0, None, closed="left")],
                              "over": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, base="squared_error", under=1.0, over=1.0):
        self.base = base
        self.under = under
        self.over = over

    _fusion = ("asymmetric", 2, 1)

    def _as_floats(self):
        return float(self.under), float(self.over)

    def _fused_arguments(self, arguments, own):
        return (*arguments[0], *own)

    def _components(self):
        base = get_loss(self.base)
        if base.task != "regression" or base.link.name != "identity" or base.per_row:
            raise ValueError(f"Asymmetric: base must be an element-wise regression loss with identity link; "
                             f"got {type(base).__name__}.")
        return [base]

    twice_differentiable = property(lambda self: self._components()[0].twice_differentiable
                                    and self.under == self.over)
    growth = property(lambda self: self._components()[0].growth)

    def _evaluate(self, y, raw, w, reduction, check_input, what):
        self._check_reduction(reduction)
        self._kernel_params()  # validates under and over
        base, = self._components()
        raw = np.asarray(raw)
        dtype = np.float32 if raw.dtype == np.float32 else np.float64
        raw = raw.astype(dtype, copy=False)
        y = np.asarray(y)
        if y.shape != raw.shape:
            raise ValueError(f"Asymmetric: y_true has shape {y.shape} but raw_prediction has shape {raw.shape}.")
        n = raw.shape[0]
        k = 1 if raw.ndim == 1 else raw.shape[1]
        factor = np.where(raw < y, float(self.under), float(self.over))
        total = float(n)
        if w is not None:
            w = check_weights(w, n, check_input)
            total = float(w.sum())
            factor = factor * (w if k == 1 else w[:, None])
        if reduction == "mean" and not total > 0:
            raise ValueError("sample_weight sums to zero: the weighted mean is undefined.")
        flat_factor = factor.ravel()
        inner = "none" if reduction == "none" else "sum"
        value, grad, hess = self._call(base, what, y.ravel(), raw.ravel(), flat_factor, inner, check_input)
        scale = 1.0 / k / (total if reduction == "mean" else 1.0)
        if value is not None:
            value = value.reshape(n, k).sum(axis=1) * scale if reduction == "none" else float(value * scale)
        grad = None if grad is None else (grad * scale).reshape(raw.shape).astype(dtype, copy=False)
        hess = None if hess is None else (hess * scale).reshape(raw.shape).astype(dtype, copy=False)
        return value, grad, hess
