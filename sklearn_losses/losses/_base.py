"""The Loss base class: parameters, validation, reductions and kernel dispatch.

A concrete loss declares its per-sample maths (a :class:`KernelSpec`), its
hyperparameters (``__init__`` arguments plus ``_parameter_constraints``) and its
properties as class attributes. Everything else -- input checks, weights, the
mean/sum/none reductions, multi-output targets, dtype handling and the choice
between serial and threaded kernels -- happens here, once, for every loss.
"""

import contextlib
import contextvars
import functools
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import validate_parameter_constraints

from .._config import parallel_threshold
from ..links import IdentityLink
from ._baseline import centred, minimise_row, minimise_scalar
from ._domain import RealInterval, count_outside_interval
from ._factory import KernelSpec, get_kernels

__all__ = ["HESSIANS", "LABEL_TASKS", "STRUCTURES", "BaseLoss", "NonFiniteLossError"]

REDUCTIONS = ("mean", "sum", "none")

#: Names of the declared properties reported by :meth:`BaseLoss.properties`.
PROPERTY_NAMES = (
    "task",
    "link",
    "convex",
    "differentiable",
    "twice_differentiable",
    "robust",
    "growth",
    "target_domain",
    "raw_domain",
    "structure",
    "decomposable",
    "hessian",
    "has_hessian",
    "piecewise_linear",
    "piecewise_quadratic",
    "polyhedral",
    "baseline_exact",
)


#: ``structure``: what one term of the loss is a function of.
STRUCTURES = ("elementwise", "row", "batch", "pairwise")

#: ``hessian``: what the second derivative in ``raw_prediction`` is.
HESSIANS = ("exact", "zero", "indefinite", "none")

#: Tasks whose targets are 0/1 labels with one score each (one column per label for multilabel
#: targets): their losses mix in a sum, train one-vs-rest and fit multilabel indicators.
LABEL_TASKS = ("binary", "overlap")


#: The ``hessian`` of a loss convex for some hyperparameters only: exact where
#: convex, else possibly negative.
EXACT_IF_CONVEX = property(lambda self: "exact" if self.convex else "indefinite",
                           doc="``\"exact\"`` where the loss is convex, else ``\"indefinite\"``.")


def check_weights(sample_weight, n_samples, check_values=True):
    """``sample_weight`` as a float64 array of shape ``(n_samples,)`` (None stays None).

    ``ValueError`` for another shape and, with ``check_values``, for a
    negative or non-finite weight.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n_samples,):
        raise ValueError(f"sample_weight must have shape ({n_samples},); got {w.shape}.")
    if check_values and count_outside_interval(w, 0.0, np.finfo(float).max, True, True):
        raise ValueError("sample_weight must be finite and non-negative.")
    return w


class NonFiniteLossError(ValueError):
    """A loss returned NaN or infinity for finite inputs (raised by custom losses)."""


_finite_checks = contextvars.ContextVar("sklearn_losses_finite_checks", default=True)


@contextlib.contextmanager
def allow_non_finite():
    """Within this block custom losses return NaN/inf instead of raising (for tests of extremes)."""
    token = _finite_checks.set(False)
    try:
        yield
    finally:
        _finite_checks.reset(token)


class _Batch:
    """Validated, flattened arrays of one call and the reduction factor."""

    __slots__ = ("y", "raw", "w", "uniform", "params", "factor", "n_samples", "n_outputs", "shape", "dtype")


@functools.cache
def _param_names(cls):
    return BaseEstimator._get_param_names.__func__(cls)


#: The fused kernel that serial calls of an entry use (see ``BaseLoss._run``).
_SERIAL_FUSED = {"value_sum": "loss_gradient_sum", "value_none": "loss_gradient_none", "gradient": "loss_gradient_sum"}


class BaseLoss(BaseEstimator):
    """Base class of every loss.

    Subclasses set the class attributes below and define ``__init__`` with
    their hyperparameters as keyword arguments stored unchanged (the
    scikit-learn parameter protocol: ``get_params``, ``set_params``,
    ``clone``, ``repr`` and pickling come from :class:`~sklearn.base.BaseEstimator`).

    Attributes
    ----------
    name : str
        Registry name (snake_case).
    task : {"regression", "binary", "multiclass", "distribution", ...}
        Kind of target the loss is defined for.
    link : BaseLink
        Maps ``raw_prediction`` to the prediction (:meth:`inverse_link`).
    convex, differentiable, twice_differentiable, robust : bool
        Declared properties of the loss as a function of ``raw_prediction``
        (``robust``: bounded influence of a single large residual).
    growth : {"bounded", "linear", "quadratic", "exponential"}
        How fast the loss grows when the residual or margin is large.
    target_domain : domain object
        Where ``y_true`` must lie; see :meth:`validate_target`.
    raw_domain : domain object or None
        Where ``raw_prediction`` must lie (None: anywhere), e.g. the
        non-increasing rows of a cumulative-link ordinal loss; checked with
        the targets (``check_input=True``).
    structure : {"elementwise", "row", "batch", "pairwise"}
        ``"elementwise"``: a sum over samples (and outputs) of a scalar
        function of ``(y_i, r_i)``; ``"row"``: a sum over samples of a function
        of the row ``r_i`` (softmax losses); ``"batch"``: a function of the
        whole batch that is not a sum over samples (soft Dice, soft F1);
        ``"pairwise"``: a function of pairs or tuples of samples.
    decomposable : bool
        Batch losses: a function of additive statistics of the samples
        (computable in chunks and across machines).
    hessian : {"exact", "zero", "indefinite", "none"}
        What :meth:`gradient_hessian` returns as second derivative:
        ``"exact"`` the second derivative (diagonal, or the diagonal of each
        sample's block), non-negative where the loss is convex; ``"zero"``
        zero almost everywhere (piecewise linear); ``"indefinite"`` exact but
        possibly negative (non-convex losses); ``"none"``: no hessian.
    baseline_exact : bool
        Whether :meth:`baseline_prediction` is the best constant (True), or a
        local search's best (False: losses whose mean over a batch of targets
        is non-convex in several dimensions, such as the box losses).
    """

    name = None
    task = "regression"
    link = IdentityLink()
    convex = True
    differentiable = True
    twice_differentiable = True
    robust = False
    growth = "quadratic"
    target_domain = RealInterval()
    raw_domain = None
    piecewise_linear = False
    piecewise_quadratic = False
    polyhedral = False
    structure = "elementwise"
    decomposable = False
    baseline_exact = True
    _kernel_spec = None
    _parameter_constraints = {}
    # Custom losses check their outputs (built-in ones are finite by construction).
    _check_finite_output = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, allowed in (("structure", STRUCTURES), ("hessian", HESSIANS)):
            value = cls.__dict__.get(name)
            if isinstance(value, str) and value not in allowed:
                raise TypeError(f"{cls.__name__}.{name} must be one of {allowed}; got {value!r}.")
        spec = cls.__dict__.get("_kernel_spec")
        if isinstance(spec, KernelSpec):  # signatures checked when the loss is defined, not at first use
            spec.check_signatures(cls.__name__)

    # ------------------------------------------------------------------ params
    @classmethod
    def _get_param_names(cls):
        """The constructor's parameter names, read once per class.

        scikit-learn inspects the signature on every call; losses are
        evaluated once per minibatch, where that inspection would cost more
        than the kernel.
        """
        return _param_names(cls)

    def _kernel_params(self):
        """Validated hyperparameters as the float arguments of the kernels."""
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        self._check_params()
        return self._as_floats()

    def _check_params(self):
        """Checks beyond ``_parameter_constraints``; raise ``ValueError``."""

    def _as_floats(self):
        """The hyperparameters as kernel arguments (override for non-floats)."""
        return tuple(float(getattr(self, name)) for name in self._get_param_names())

    @property
    def kernel_spec(self):
        """The per-sample maths as data (:class:`KernelSpec`) for kernel generators.

        ``None`` for losses evaluated through other losses (composites); those
        are used through their public methods only.
        """
        return self._kernel_spec

    def kernel_arguments(self):
        """The validated hyperparameters, as the trailing float arguments of the kernels."""
        return self._kernel_params()

    def linear_pieces(self, y_true):
        """Piecewise-linear structure of a piecewise-linear loss, per sample.

        Declared by losses with ``piecewise_linear = True`` (absolute error,
        pinball, epsilon-insensitive, hinge); exact solvers for non-smooth
        objectives use it. As a function of the raw prediction r, sample i's
        loss is convex and piecewise linear with slopes
        ``slopes[i, 0] < ... < slopes[i, K-1]`` changing at
        ``breakpoints[i, 0] < ... < breakpoints[i, K-2]``.

        Returns
        -------
        slopes : ndarray of shape (n_samples, K)
        breakpoints : ndarray of shape (n_samples, K - 1)
        """
        raise ValueError(f"{type(self).__name__} is not piecewise linear (piecewise_linear is False).")

    def quadratic_pieces(self, y_true):
        """Structure of a loss whose convex conjugate is piecewise linear plus a quadratic, per sample.

        Declared by losses with ``piecewise_quadratic = True``: every
        piecewise-linear loss (curvature 0) and squared error, Huber, smooth
        L1, squared hinge, modified Huber and squared epsilon-insensitive.
        Sample i's loss is the Moreau envelope (infimal convolution with
        ``r^2 / (2 kappa_i)``) of a piecewise-linear function with slopes
        ``slopes[i]`` (the outer ones may be infinite: a hard constraint) and
        breaks ``breakpoints[i]``; equivalently ``u`` is a subgradient at
        ``r`` exactly when it is a subgradient of that function at
        ``r - kappa_i u``, and the conjugate is
        ``max_k (u t_k - c_k) + kappa_i u^2 / 2`` for u between the outer
        slopes. Kernel SVM solvers use it to solve the dual exactly.

        Returns
        -------
        slopes : ndarray of shape (n_samples, K)
        breakpoints : ndarray of shape (n_samples, K - 1)
        curvature : ndarray of shape (n_samples,)
            ``kappa_i >= 0`` (1 / the second derivative on quadratic pieces).
        """
        if self.piecewise_linear:
            slopes, breaks = self.linear_pieces(y_true)
            return slopes, breaks, np.zeros(slopes.shape[0])
        raise ValueError(f"{type(self).__name__} declares no piecewise-quadratic structure "
                         "(piecewise_quadratic is False).")

    def polyhedral_pieces(self, y_true, n_classes):
        """Polyhedral structure of a multiclass loss, per sample.

        Declared by per-row losses with ``polyhedral = True`` (the multiclass
        hinges): sample i's loss is a maximum of linear functions of the
        scores ``z``,

        .. math:: \\ell(y_i, z) = \\max \\{\\langle u, z + o_i \\rangle :
                  \\textstyle\\sum_k u_k = 0,\\; l_i \\le u \\le h_i\\},

        so its subgradients are the maximising ``u``. Kernel SVM solvers use it
        to solve the multiclass dual exactly.

        Returns
        -------
        lower, upper, offset : ndarrays of shape (n_samples, n_classes)
            ``l_i``, ``h_i`` and ``o_i``.
        """
        raise ValueError(f"{type(self).__name__} declares no polyhedral structure (polyhedral is False).")

    @property
    def per_row(self):
        """Whether one sample is a row of ``raw_prediction`` (``structure == "row"``)."""
        return self.structure == "row"

    def raw_width(self, n_classes):
        """Columns of ``raw_prediction`` for ``n_classes`` classes (losses on rows): ``n_classes``; ordinal
        losses, one per threshold: ``n_classes - 1``."""
        return n_classes

    @property
    def hessian(self):
        """What the second derivative is (see the class's attributes); declared by losses whose hessian is not
        exact, and by default ``"exact"`` when the per-sample functions include one, ``"none"`` otherwise."""
        spec = self._kernel_spec
        return "exact" if spec is not None and spec.has_hessian else "none"

    @property
    def has_hessian(self):
        """Whether :meth:`gradient_hessian` is available (``hessian != "none"``)."""
        return self.hessian != "none"

    def properties(self):
        """The declared properties as a dict (drives solvers, docs and tests)."""
        return {name: getattr(self, name) for name in PROPERTY_NAMES}

    # ---------------------------------------------------------------- baseline
    def baseline_prediction(self, y_true, sample_weight=None, n_classes=None):
        """The constant raw prediction that minimises the (weighted) loss.

        What a model without features predicts: the starting intercept of
        linear models, the output biases of networks and the first
        prediction of boosting. Exact where a closed form exists (the mean
        for the squared error, the weighted median and quantiles, the log of
        the mean for log-link deviances, the log-odds and the class
        log-priors), otherwise found by a one-dimensional (or, for losses on
        rows, a small convex) minimisation of the loss itself.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (class indices, or rows, for losses on rows).
        sample_weight : array-like of shape (n_samples,), default=None
        n_classes : int, default=None
            Losses on class indices: the number of classes (default:
            ``max(y_true) + 1``).

        Returns
        -------
        float or ndarray
            A scalar; one value per output for 2-D targets of an element-wise
            loss; a row of ``n_classes`` for losses on rows (softmax logits
            are defined up to a constant: the one with mean zero).
        """
        name = type(self).__name__
        self._kernel_params()  # the hyperparameters are valid
        y = np.asarray(y_true)
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{name}: y_true must be numeric; got dtype {y.dtype}.")
        if y.ndim not in (1, 2) or y.shape[0] == 0:
            raise ValueError(f"{name}: y_true must be a non-empty 1-D or 2-D array; got shape {y.shape}.")
        y = y.astype(np.float64)
        w = check_weights(sample_weight, y.shape[0])
        if w is not None and not w.sum() > 0:
            raise ValueError("sample_weight must be finite and non-negative, with a positive sum.")
        if self.per_row:
            k = n_classes if n_classes is not None else (y.shape[1] if y.ndim == 2 else int(y.max()) + 1)
            self.validate_target(y, self.raw_width(int(k)))
            return np.asarray(self._baseline_row(y, w, int(k)), dtype=np.float64)
        self.validate_target(y)
        if y.ndim == 2:
            return np.array([self._baseline(np.ascontiguousarray(y[:, j]), w) for j in range(y.shape[1])])
        return float(self._baseline(y, w))

    def _baseline(self, y, w):
        """The constant for 1-D targets ``y`` and weights ``w`` (None or an array); override with a closed form."""
        return minimise_scalar(self, y, w)

    def _baseline_row(self, y, w, n_classes):
        """The constant row for a loss on rows; override with a closed form."""
        row = minimise_row(self, y, w, n_classes, np.zeros(n_classes))
        return centred(row) if self.link.name == "softmax" else row

    # ------------------------------------------------------------------ inputs
    def validate_target(self, y_true, n_classes=None):
        """Raise ``ValueError`` naming the loss if ``y_true`` is outside its domain.

        Parameters
        ----------
        y_true : array-like
            Targets.
        n_classes : int, default=None
            Number of classes (columns of ``raw_prediction``), for losses on
            class indices.
        """
        problem = self.target_domain.violation(y_true, n_classes)
        if problem is not None:
            raise ValueError(f"{type(self).__name__}: {problem}.")

    def validate_raw(self, raw_prediction):
        """Raise ``ValueError`` naming the loss if ``raw_prediction`` is outside its ``raw_domain``."""
        if self.raw_domain is not None:
            problem = self.raw_domain.violation(raw_prediction)
            if problem is not None:
                raise ValueError(f"{type(self).__name__}: {problem}.")

    def _prepare(self, y_true, raw_prediction, sample_weight, reduction, check_input):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}.")
        name = type(self).__name__
        params = self._kernel_params()
        raw = np.asarray(raw_prediction)
        if raw.dtype.kind not in "fiub":
            raise TypeError(f"{name}: raw_prediction must be numeric; got dtype {raw.dtype}.")
        dtype = np.float32 if raw.dtype == np.float32 else np.float64
        raw = np.ascontiguousarray(raw, dtype=dtype)
        row_kernel = self.per_row
        columns = self.raw_width(2) if row_kernel else None
        fixed = row_kernel and columns == self.raw_width(3)  # rows of a fixed width (boxes)
        if row_kernel and (raw.ndim != 2 or raw.shape[1] < columns or (fixed and raw.shape[1] != columns)):
            if fixed:
                raise ValueError(f"{name}: raw_prediction must have shape (n_samples, {columns}); got shape "
                                 f"{raw.shape}.")
            width = "n_classes" if columns == 2 else "n_classes - 1"
            raise ValueError(
                f"{name}: raw_prediction must have shape (n_samples, {width}) with at least {columns} "
                f"column{'s' if columns > 1 else ''}; got shape {raw.shape}."
            )
        if not row_kernel and raw.ndim not in (1, 2):
            raise ValueError(f"{name}: raw_prediction must be 1-D or 2-D; got shape {raw.shape}.")
        if raw.shape[0] == 0:
            raise ValueError(f"{name}: raw_prediction is empty.")
        y = np.asarray(y_true)
        if y.dtype.kind not in "fiub":
            raise TypeError(f"{name}: y_true must be numeric; got dtype {y.dtype}.")
        expected = raw.shape[:1] if row_kernel and self.target_domain.shape == "scalar" else raw.shape
        if y.shape != expected:
            raise ValueError(
                f"{name}: y_true has shape {y.shape} but raw_prediction has shape {raw.shape}; "
                f"expected y_true of shape {expected}."
            )
        if check_input:
            self.validate_target(y, raw.shape[1] if row_kernel else None)
            self.validate_raw(raw)
        batch = _Batch()
        batch.params, batch.dtype, batch.shape = params, dtype, raw.shape
        batch.n_samples = raw.shape[0]
        batch.n_outputs = 1 if row_kernel or raw.ndim == 1 else raw.shape[1]
        batch.y = np.ascontiguousarray(y, dtype=dtype)
        batch.raw = raw
        if not row_kernel:  # multi-output: one flat pass, each output weighted 1/k
            batch.y, batch.raw = batch.y.ravel(), raw.ravel()
        total_weight = batch.n_samples
        batch.w = None
        uniform = 1.0
        if sample_weight is not None:
            w = check_weights(sample_weight, batch.n_samples, check_input)
            total_weight = w.sum()
            if batch.n_samples < parallel_threshold() and w[0] > 0 and not np.any(w != w[0]):
                # equal weights (a kernel SVM's C times ones): the unweighted kernels, scaled by
                # the weight; the weighted ones are then not compiled for a first fit (0.4 s each)
                uniform = float(w[0])
            else:
                if batch.n_outputs > 1:
                    w = np.repeat(w, batch.n_outputs)
                batch.w = np.ascontiguousarray(w, dtype=dtype)
        batch.uniform = uniform
        batch.factor = uniform / batch.n_outputs
        if reduction == "mean":
            if not total_weight > 0:
                raise ValueError("sample_weight sums to zero: the weighted mean is undefined.")
            batch.factor /= total_weight
        return batch

    def _run(self, entry, batch, *outputs):
        kernels = get_kernels(self._kernel_spec, self.name or type(self).__name__)
        parallel = batch.raw.size >= parallel_threshold()
        if not parallel and not self._check_finite_output and entry in _SERIAL_FUSED:
            # Below the threading threshold, values and gradients alone come
            # from the fused loss-and-gradient kernels: a fit, its start and
            # its scorer then compile one kernel per reduction instead of three
            # (each costs 0.3-1.3 s with a cold cache), for the other output's
            # work on arrays below the threshold (a fraction of a millisecond
            # each: 200,000 elements at most). Not for losses that fold
            # a NaN gradient into their value (custom losses): there a value
            # must not fail for its gradient.
            if entry != "gradient":  # (scale, [lout,] scratch gradient)
                outputs = (1.0, *outputs, np.empty(batch.raw.shape, dtype=batch.dtype))
            entry = _SERIAL_FUSED[entry]
        kernel = kernels.get(entry, batch.w is not None, parallel)
        weights = () if batch.w is None else (batch.w,)
        if parallel and not getattr(kernel, "signatures", True):
            # first call: compiled now. A loss that can raise (a custom loss's
            # raise statement) makes numba run the threaded loop serially,
            # which is correct; its performance warning is not the user's concern
            from numba.core.errors import NumbaPerformanceWarning  # loaded: the kernel is a dispatcher

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NumbaPerformanceWarning)
                return kernel(batch.y, batch.raw, *weights, *outputs, *batch.params)
        return kernel(batch.y, batch.raw, *weights, *outputs, *batch.params)

    def _verify_finite(self, batch, *results):
        """Raise :class:`NonFiniteLossError` if a result is NaN for finite inputs.

        Infinity is not an error: a loss that grows without bound overflows to
        ``inf`` where its true value exceeds the float range (a squared error
        at ``|e| > 1e154``), as the built-in losses do.
        """
        if not self._check_finite_output or not _finite_checks.get():
            return
        if not any(np.any(np.isnan(result)) for result in results):
            return
        n = batch.raw.shape[0]
        values = np.empty(n, dtype=batch.dtype)
        self._run("value_none", batch, values)
        gradients = np.empty(batch.raw.shape, dtype=batch.dtype)
        self._run("gradient", batch, 1.0, gradients)
        raw, y = batch.raw.reshape(n, -1), batch.y.reshape(n, -1)
        finite_inputs = np.isfinite(raw).all(axis=1) & np.isfinite(y).all(axis=1)
        for what, arr in (("loss", values.reshape(n, 1)), ("gradient", gradients.reshape(n, -1))):
            bad = finite_inputs & np.isnan(arr).any(axis=1)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                bad_value = arr[j][~np.isfinite(arr[j])][0]
                raise NonFiniteLossError(
                    f"{type(self).__name__} (loss {self.name!r}) returned {bad_value} for the {what} at "
                    f"sample {j // batch.n_outputs} (y_true={float(y[j, 0])!r}, raw_prediction={float(raw[j, 0])!r}) "
                    "although the inputs are finite; check the loss function for an invalid operation (log or "
                    "sqrt of a negative number, 0/0, inf - inf, 0 * inf after an overflow)."
                )

    def _out(self, batch, out, name):
        if out is None:
            return np.empty(batch.raw.shape, dtype=batch.dtype)
        if out.shape != batch.shape or out.dtype != batch.dtype or not out.flags.c_contiguous:
            raise ValueError(
                f"{name} must be a C-contiguous {np.dtype(batch.dtype).name} array of shape "
                f"{batch.shape}."
            )
        return out.reshape(batch.raw.shape)

    def _per_sample(self, batch, values):
        if batch.n_outputs > 1:
            return values.reshape(batch.n_samples, batch.n_outputs).sum(axis=1) * batch.factor
        if batch.uniform != 1.0:  # equal weights folded into the scale (:meth:`_prepare`)
            values *= batch.uniform
        return values

    # ------------------------------------------------------------------ public
    def loss(self, y_true, raw_prediction, sample_weight=None, reduction="mean",
             check_input=True):
        """Loss value, reduced over samples.

        Parameters
        ----------
        y_true : array-like
            Targets (see the loss's ``target_domain``).
        raw_prediction : array-like of shape (n_samples,), (n_samples, n_outputs) or (n_samples, n_classes)
            Prediction before the inverse link.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.
        reduction : {"mean", "sum", "none"}, default="mean"
            ``"mean"``: sum(w_i l_i) / sum(w_i); ``"sum"``: sum(w_i l_i);
            ``"none"``: the array of w_i l_i. For multi-output targets the
            per-sample loss l_i is the mean over the outputs.
        check_input : bool, default=True
            Check that ``y_true`` lies in the target domain and the weights are
            valid. Shapes are always checked.

        Returns
        -------
        float or ndarray of shape (n_samples,)
        """
        batch = self._prepare(y_true, raw_prediction, sample_weight, reduction, check_input)
        if reduction == "none":
            out = np.empty(batch.raw.shape[0], dtype=batch.dtype)
            self._run("value_none", batch, out)
            self._verify_finite(batch, out)
            return self._per_sample(batch, out)
        total = self._run("value_sum", batch)
        self._verify_finite(batch, total)
        return float(total * batch.factor)

    def __call__(self, y_true, raw_prediction, sample_weight=None, reduction="mean",
                 check_input=True):
        """Same as :meth:`loss`."""
        return self.loss(y_true, raw_prediction, sample_weight, reduction, check_input)

    def gradient(self, y_true, raw_prediction, sample_weight=None, reduction="mean",
                 gradient_out=None, check_input=True):
        """Derivative of the reduced loss with respect to ``raw_prediction``.

        Same shape as ``raw_prediction``; for ``reduction="none"`` the (weighted)
        per-sample derivatives. ``gradient_out`` receives the result when given.
        Other parameters as in :meth:`loss`.
        """
        batch = self._prepare(y_true, raw_prediction, sample_weight, reduction, check_input)
        gout = self._out(batch, gradient_out, "gradient_out")
        self._run("gradient", batch, batch.factor, gout)
        self._verify_finite(batch, gout)
        return gout.reshape(batch.shape)

    def loss_gradient(self, y_true, raw_prediction, sample_weight=None, reduction="mean",
                      gradient_out=None, check_input=True):
        """``(loss, gradient)`` computed in one fused pass; see :meth:`loss` and :meth:`gradient`."""
        batch = self._prepare(y_true, raw_prediction, sample_weight, reduction, check_input)
        gout = self._out(batch, gradient_out, "gradient_out")
        if reduction == "none":
            lout = np.empty(batch.raw.shape[0], dtype=batch.dtype)
            self._run("loss_gradient_none", batch, batch.factor, lout, gout)
            self._verify_finite(batch, lout, gout)
            return self._per_sample(batch, lout), gout.reshape(batch.shape)
        total = self._run("loss_gradient_sum", batch, batch.factor, gout)
        # losses that check their output fold gradient NaN/inf into the value
        # (see custom.py): one number to test, no extra pass over the gradient
        self._verify_finite(batch, total)
        return float(total * batch.factor), gout.reshape(batch.shape)

    def gradient_hessian(self, y_true, raw_prediction, sample_weight=None, reduction="mean",
                         gradient_out=None, hessian_out=None, check_input=True):
        """``(gradient, hessian)`` of the reduced loss in one pass.

        The hessian is the second derivative for element-wise losses and the
        diagonal of each sample's hessian block for losses on rows (softmax
        losses). Only available when ``has_hessian`` is true; piecewise losses
        return their second derivative where it exists (0 on linear pieces).
        """
        if not self.has_hessian:
            raise ValueError(
                f"{type(self).__name__} declares no hessian (hessian={self.hessian!r}); "
                "use a gradient-only method."
            )
        batch = self._prepare(y_true, raw_prediction, sample_weight, reduction, check_input)
        gout = self._out(batch, gradient_out, "gradient_out")
        hout = self._out(batch, hessian_out, "hessian_out")
        self._run("gradient_hessian", batch, batch.factor, gout, hout)
        self._verify_finite(batch, gout, hout)
        return gout.reshape(batch.shape), hout.reshape(batch.shape)

    def inverse_link(self, raw_prediction):
        """Prediction in target space: the inverse link applied to ``raw_prediction``."""
        return self.link.inverse(raw_prediction)
