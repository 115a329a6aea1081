"""Custom losses: one scalar Python function in, a compiled, tunable loss out.

Three ways to write one, all giving the same kind of object:

* :func:`make_loss` (``make_loss(func, gradient=None, hessian=None, ...)``);
* the decorator :func:`custom_loss`;
* subclassing :class:`CustomLoss` and writing ``value`` (and optionally
  ``gradient`` and ``hessian``) as static methods.

The function's source is captured (:mod:`._capture`), differentiated where no
derivative is given (:mod:`._autodiff`, forward mode, exact up to rounding),
and compiled by the kernel factory into the same fused array kernels as a
built-in loss. Parameters are runtime arguments of the kernels: a new value
never recompiles. The loss pickles by value (its source), so it crosses into
joblib worker processes, which rebuild the identical kernel module and load
numba's cache from disk.
"""

import ast
import inspect
import re
from pathlib import Path
from dataclasses import dataclass
from numbers import Real

from .._codegen import njit_function
from ..links import get_link
from ._autodiff import AutodiffError, differentiate
from ._base import BaseLoss, NonFiniteLossError
from ._capture import capture
from ._domain import BinaryLabels
from ._factory import KernelSpec, get_kernels

__all__ = ["CustomLoss", "NonFiniteLossError", "custom_loss", "make_loss"]

_TASKS = ("regression", "binary")
_HEADER = """\
import math
import math as _ad_math
import numpy as np
from sklearn_losses._jit import njit as _njit
from sklearn_losses._config import SCALAR_OPTIONS as _SCALAR_OPTIONS


@_njit(**_SCALAR_OPTIONS)
def _ad_mul(a, b):
    return 0.0 if a == 0.0 or b == 0.0 else a * b
"""


@dataclass(frozen=True)
class LossDefinition:
    """Everything that defines a custom loss, as plain (picklable) data."""

    name: str
    source: str
    param_names: tuple
    has_hessian: bool
    task: str = "regression"
    link: str = "identity"
    properties: tuple = ()


def _jit(fdef):
    return njit_function(ast.unparse(fdef), decorator="_njit")


def _renamed(fdef, name):
    copy = ast.parse(ast.unparse(fdef)).body[0]
    copy.name = name
    return copy


def _derive(captured, fdef, name, role, owner):
    try:
        return differentiate(fdef, captured.arg_names[1], name, captured.resolve)
    except AutodiffError as exc:
        raise AutodiffError(f"{owner}: cannot derive the {role} automatically: {exc}") from None


def build_definition(func, gradient=None, hessian=None, *, name=None, task="regression",
                     link="identity", param_names=None, properties=()):
    """Capture, differentiate and assemble the kernel source of a custom loss."""
    if task not in _TASKS:
        raise ValueError(f"custom losses support task in {_TASKS}; got task={task!r}.")
    get_link(link)  # validates the name
    value = capture(func)
    owner = f"custom loss {name or value.fdef.name!r}"
    args = value.arg_names
    if len(args) < 2:
        raise TypeError(f"{owner}: func must take (y, r, *params); got arguments {args}.")
    params = tuple(args[2:]) if param_names is None else tuple(param_names)
    if tuple(args[2:]) != params:
        raise TypeError(f"{owner}: func's parameters {tuple(args[2:])} differ from {params}.")
    captured = [value]
    functions = [_renamed(value.fdef, "_user_value")]
    p = ", ".join(["y", "r"] + [f"p{j}" for j in range(len(params))])
    wrappers = [f"def _value({p}):\n    return float(_user_value({p}))"]

    def add_user(func_, role):
        c = capture(func_)
        if c.arg_names[2:] != list(params) or len(c.arg_names) != len(args):
            raise TypeError(f"{owner}: {role} must take the same arguments as func {tuple(args)}; "
                            f"got {tuple(c.arg_names)}.")
        captured.append(c)
        functions.append(_renamed(c.fdef, f"_user_{role}"))
        return c

    if gradient is not None:
        grad = add_user(gradient, "gradient")
        wrappers += [f"def _gradient({p}):\n    return float(_user_gradient({p}))",
                     f"def _loss_gradient({p}):\n    g = _gradient({p})\n    return (_value({p}) if g == g else g), g"]
        # the hessian, if derived, is the derivative of the user's gradient
        to_derive, resolve, derived = functions[-1], grad.resolve, "_user_gradient_d"
        derived_call = f"return _user_gradient_d({p})"
    else:
        first = _derive(value, functions[0], "_user_value_d", "gradient", owner)
        functions.append(first)
        wrappers += [f"def _loss_gradient({p}):\n    v, g = _user_value_d({p})\n    return (v if g == g else g), g",
                     f"def _gradient({p}):\n    return _user_value_d({p})[1]"]
        # ... or the derivative of the derived (value, gradient) pair
        to_derive, resolve, derived = first, value.resolve, "_user_value_dd"
        derived_call = f"t = _user_value_dd({p})\n    return t[0][1], t[1][1]"
    has_hessian = True
    if hessian is not None:
        add_user(hessian, "hessian")
        wrappers.append(f"def _gradient_hessian({p}):\n    return _gradient({p}), float(_user_hessian({p}))")
    else:
        try:
            functions.append(differentiate(to_derive, args[1], derived, resolve))
            wrappers.append(f"def _gradient_hessian({p}):\n    {derived_call}")
        except AutodiffError:
            has_hessian = False  # not differentiable twice: no hessian rather than an approximate one
    preamble, helpers = [], []
    for c in captured:
        preamble += [line for line in c.preamble if line not in preamble]
        helpers += [h for h in c.helpers if ast.unparse(h) not in map(ast.unparse, helpers)]
    # _loss_gradient returns the gradient in place of the value where the
    # gradient is NaN: it then shows in the (reduced) value, so checking one
    # number checks both (an infinite gradient, an overflow, is not an error).
    parts = [_HEADER, *preamble, ""]
    parts += [_jit(f) + "\n" for f in helpers + functions]
    parts += [njit_function(w, decorator="_njit") + "\n" for w in wrappers]
    return LossDefinition(
        name=name or _snake(value.fdef.name), source="\n".join(parts), param_names=params,
        has_hessian=has_hessian, task=task, link=link, properties=tuple(sorted(dict(properties).items())),
    )


def _snake(name):
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().strip("_")
    return "lambda_loss" if name in ("", "lambda", "<lambda>") else name


def _camel(name):
    return "".join(part.capitalize() for part in re.split(r"[^0-9a-zA-Z]+", name) if part) or "CustomLoss"


def kernel_spec(definition):
    functions = dict(value="_value", gradient="_gradient", loss_gradient="_loss_gradient")
    if definition.has_hessian:
        functions["gradient_hessian"] = "_gradient_hessian"
    return KernelSpec("elementwise", n_params=len(definition.param_names), source=definition.source,
                      **functions)


class CustomLoss(BaseLoss):
    """Base class of custom losses written as per-sample Python functions.

    Subclass it and write the loss of one sample as the static method
    ``sample_loss(y, r, *params)`` in the numba subset; the parameters are
    the ``__init__`` arguments, in the order of ``sample_loss``'s signature::

        class BusinessCost(CustomLoss):
            def __init__(self, under=3.0):
                self.under = under

            @staticmethod
            def sample_loss(y, r, under):
                e = y - r
                return under * e * e if e > 0 else e * e

    ``sample_gradient`` and ``sample_hessian`` (same arguments) are optional:
    missing derivatives are derived by forward-mode automatic differentiation
    of ``sample_loss``.
    Declared properties (``task``, ``link``, ``convex``, ``robust``, ...) are
    class attributes as for every loss. Outputs are checked: a NaN loss or
    gradient for finite inputs raises :class:`NonFiniteLossError` naming the
    loss and the first bad sample (``inf`` is an overflow, as for the
    built-in losses, and is returned).
    """

    _definition = None
    _check_finite_output = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "sample_loss" in cls.__dict__:  # a subclass written by a user (make_loss's classes bring a definition)
            cls._define_from_methods()
        definition = cls.__dict__.get("_definition")
        if definition is None:
            return
        # both front ends end here: targets and compilation checked once per definition
        if definition.task == "binary" and "target_domain" not in cls.__dict__:
            cls.target_domain = BinaryLabels()
        _type_check(definition, cls._kernel_spec, f"custom loss {definition.name!r}")

    @classmethod
    def _define_from_methods(cls):
        """The definition of a subclass from its ``sample_loss`` (and optional derivative) methods."""
        if cls.__dict__.get("name") is None:
            cls.name = _snake(cls.__name__)
        link = cls.__dict__.get("link", cls.link)
        definition = build_definition(
            cls.sample_loss, cls.__dict__.get("sample_gradient"), cls.__dict__.get("sample_hessian"),
            name=cls.name,
            task=cls.task, link=getattr(link, "name", link),
        )
        missing = set(definition.param_names) ^ set(cls._get_param_names())
        if missing:
            raise TypeError(f"{cls.__name__}: the parameters of sample_loss {definition.param_names} must be "
                            f"the __init__ parameters {tuple(cls._get_param_names())}.")
        cls._definition = definition
        cls._kernel_spec = kernel_spec(definition)
        if isinstance(link, str):
            cls.link = get_link(link)

    def _as_floats(self):
        return tuple(float(getattr(self, name)) for name in self._definition.param_names)

    @property
    def hessian(self):
        """``"none"`` when no hessian could be derived, else exact where declared convex, else indefinite."""
        if not self._kernel_spec.has_hessian:
            return "none"
        return "exact" if self.convex else "indefinite"

    def _check_params(self):
        for name in self._definition.param_names:
            value = getattr(self, name)
            if not isinstance(value, Real):
                raise TypeError(f"{type(self).__name__}: parameter {name!r} must be a real number; "
                                f"got {value!r}.")

    @property
    def source(self):
        """The generated source code of the per-sample functions (for inspection)."""
        return self._definition.source


_classes = {}


def _type_check(definition, spec, owner):
    """Compile the per-sample functions once, so that code numba cannot compile fails here, precisely.

    Without this the error would come from numba at the first use, inside a
    fit, as a raw ``TypingError`` about a generated file. The user's own
    functions are compiled first, so the error names the function the user
    wrote and its offending statement. Nothing is checked with numba's JIT
    disabled (the functions then run as Python).
    """
    module = get_kernels(spec, definition.name)._module
    import numba  # loaded by get_kernels

    signature = (numba.float64,) * (2 + len(definition.param_names))
    # the user's function first (its errors name it), then the wrappers that
    # call the user's gradient and hessian; a derived hessian is generated
    # from the operations already typed and is not compiled here (each
    # compile costs about 0.3 s with a cold cache)
    names = ["_user_value", "_loss_gradient"] + (["_gradient_hessian"] if hasattr(module, "_user_hessian") else [])
    for name in names:
        func = getattr(module, name, None)
        if func is None or not hasattr(func, "compile"):
            continue
        try:
            func.compile(signature)
        except numba.core.errors.NumbaError as exc:
            raise TypeError(f"{owner}: numba cannot compile {_describe_failure(str(exc), module.__file__)}") from None


_ROLES = {"_user_value": "func", "_user_gradient": "gradient", "_user_hessian": "hessian"}


def _describe_failure(message, path):
    """'<function> at line <statement>: <numba's reason>' from a numba error about the generated ``path``."""
    lines = [line.strip() for line in message.splitlines()]
    details = [line for line in lines[1:] if line and not line.startswith(("File ", "During"))]
    reason = details[0] if details else (lines[0] if lines else "unknown error")
    if reason.endswith(":") and len(details) > 1:  # "No implementation ... for signature:" and the signature
        reason = f"{reason} {details[1].lstrip('> ')}"
    reason = re.sub(r"Module\(<module '([\w.]+)'[^>]*>\)", r"module \1", reason)
    found = re.findall(r'File "[^"]*?([^"/\\]+\.py)", line (\d+)', message)
    statement, function = "", "the loss"
    source = Path(path).read_text().splitlines()
    for file_name, number in found:
        if file_name != Path(path).name:
            continue
        index = int(number) - 1
        statement = source[index].strip() if 0 <= index < len(source) else ""
        for line in reversed(source[:index + 1]):
            match = re.match(r"def (\w+)\(", line)
            if match:
                function = _ROLES.get(match.group(1), match.group(1))
                break
        break
    where = f"{function} at `{statement}`" if statement else function
    return f"{where}: {reason}"


def _class_for(definition):
    """The loss class of a definition (one per definition and process)."""
    cls = _classes.get(definition)
    if cls is not None:
        return cls
    params = definition.param_names
    defaults = dict(definition.properties).pop("_defaults", ())
    signature = ", ".join(["self"] + [f"{n}={d!r}" for n, d in zip(params, defaults)])
    body = "".join(f"\n    self.{n} = {n}" for n in params) or "\n    pass"
    namespace = {}
    exec(f"def __init__({signature}):{body}", namespace)  # noqa: S102 - a generated signature
    attrs = {k: v for k, v in dict(definition.properties).items() if k != "_defaults"}
    cls = type(_camel(definition.name), (CustomLoss,), {
        "__init__": namespace["__init__"],
        "__module__": __name__,
        "__doc__": f"Custom loss {definition.name!r} (made by make_loss).",
        "__reduce__": _reduce,
        "name": definition.name,
        "task": definition.task,
        "link": get_link(definition.link),
        "_definition": definition,
        "_kernel_spec": kernel_spec(definition),
        **attrs,
    })
    _classes[definition] = cls
    return cls


def _reduce(self):
    return _rebuild, (self._definition, self.get_params(deep=False))


def _rebuild(definition, params):
    return _class_for(definition)(**params)


def make_loss(func, gradient=None, hessian=None, *, name=None, task="regression", link="identity",
              convex=False, differentiable=True, robust=False, growth="quadratic", **params):
    """Turn a scalar Python function into a loss.

    Parameters
    ----------
    func : callable
        ``func(y, r, *params) -> float``: the loss of one sample with target
        ``y`` and raw prediction ``r``, in the numba subset (arithmetic,
        ``math`` and numpy scalar functions, comparisons, if/else, loops,
        ``raise ValueError("...")`` with constant arguments). It may use
        module constants and call helper functions of the same kind, which
        are compiled with it. Automatic differentiation goes through the
        elementary functions (``SUPPORTED_FUNCTIONS`` of
        ``sklearn_losses.losses._autodiff``) and through helpers whose
        arguments do not depend on ``r``; a helper called with an argument
        that depends on ``r`` needs ``gradient=`` (and ``hessian=``). Code
        that numba cannot compile is reported here, as a ``TypeError`` naming
        the function and the statement, not at the first fit.
    gradient, hessian : callable, default=None
        ``d func / d r`` and ``d^2 func / d r^2`` with the same arguments.
        When not given they are derived by forward-mode automatic
        differentiation of the source (exact up to rounding; at a kink
        written as a branch, the derivative of the branch taken).
    name : str, default=None
        Registry-style name; by default ``func``'s name in snake_case.
    task : {"regression", "binary"}, default="regression"
        Binary losses take y in {0, 1}.
    link : {"identity", "log", "logit"}, default="identity"
        Inverse link for :meth:`~BaseLoss.inverse_link` (prediction space).
    convex, differentiable, robust, growth
        Declared properties (used by solvers and by :func:`check_loss`).
    **params : float
        Values of ``func``'s parameters (its arguments after ``y, r``);
        defaults of ``func``'s signature are used for the others. They become
        sklearn parameters of the loss: ``GridSearchCV(est, {"loss__alpha":
        [...]})`` works and does not recompile.

    Returns
    -------
    CustomLoss
        An instance with every method of a built-in loss.

    Examples
    --------
    >>> from sklearn_losses.losses import make_loss
    >>> def business_cost(y, r, under=3.0):
    ...     e = y - r
    ...     return under * e * e if e > 0 else e * e
    >>> loss = make_loss(business_cost)   # doctest: +SKIP
    >>> loss([1.0, 2.0], [0.0, 3.0])      # doctest: +SKIP
    2.0
    """
    if not callable(func):
        raise TypeError(f"make_loss: func must be a function; got {func!r}.")
    signature = inspect.signature(getattr(func, "py_func", func))
    arg_names = list(signature.parameters)[2:]
    unknown = set(params) - set(arg_names)
    if unknown:
        raise TypeError(f"make_loss: {sorted(unknown)} are not parameters of func (its parameters are "
                        f"{arg_names}).")
    values, defaults = [], []
    for arg in arg_names:
        default = signature.parameters[arg].default
        if arg not in params and default is inspect.Parameter.empty:
            raise TypeError(f"make_loss: parameter {arg!r} of func has no value; pass {arg}=... .")
        values.append(params.get(arg, default))
        # the class default is the signature's, so instances differing only
        # in parameter values share one class (and one set of kernels)
        defaults.append(values[-1] if default is inspect.Parameter.empty else default)
    for arg, value in [*zip(arg_names, values), *zip(arg_names, defaults)]:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"make_loss: parameter {arg!r} must be a real number; got {value!r}.")
    properties = dict(convex=bool(convex), differentiable=bool(differentiable), robust=bool(robust),
                      growth=growth, twice_differentiable=bool(differentiable),
                      _defaults=tuple(float(v) for v in defaults))
    definition = build_definition(func, gradient, hessian, name=name, task=task, link=link,
                                  param_names=tuple(arg_names), properties=properties)
    return _class_for(definition)(**dict(zip(arg_names, (float(v) for v in values))))


def custom_loss(func=None, /, **options):
    """Decorator form of :func:`make_loss`: ``@custom_loss`` or ``@custom_loss(name=..., alpha=...)``.

    The decorated name becomes the loss instance.
    """
    if func is None:
        return lambda f: make_loss(f, **options)
    return make_loss(func, **options)
