"""KernelSpec: a loss's per-sample functions as data, and the calling convention of each kind.

Private: losses declare one (``_kernel_spec``); the kernel factory and the
other code generators read it. Its functions' signatures are checked when a
loss class is defined (and before kernels are generated), with an error that
names the loss and the function.
"""

import ast
from dataclasses import dataclass

__all__ = ["KernelSpec"]

_checked = set()  # specs whose signatures were checked


@dataclass(frozen=True)
class KernelSpec:
    """The per-sample functions that define a loss, as data for the factory.

    Parameters
    ----------
    kind : {"elementwise", "row"}
        ``"elementwise"``: each function takes scalars ``(y, r, *params)``;
        ``value`` returns the loss, ``gradient`` its derivative in ``r``,
        ``loss_gradient`` (optional) both, ``gradient_hessian`` (optional)
        the first and second derivatives.
        ``"row"``: one sample is a row ``r`` of shape (K,) and ``y`` is a
        scalar or a row; ``value(y, r, *params)`` returns the loss,
        ``loss_gradient(y, r, g, *params)`` writes the gradient into ``g``
        and returns the loss, ``gradient_hessian(y, r, g, h, *params)``
        (optional) writes the gradient and the diagonal of the hessian.
        ``"softmax"``: a row loss of softmax(r); the kernel computes the
        probabilities ``p`` and ``lse = log(sum(exp(r)))`` for a whole block
        of rows at once (vectorised across rows) and passes them:
        ``value(y, r, p, lse, *params)``, ``loss_gradient(y, r, p, lse,
        *params)`` (turns ``p`` into the gradient in place, returns the loss),
        ``gradient_hessian(y, r, p, lse, h, *params)`` (every softmax function takes
        ``(y, r, p, lse)`` first, then its outputs).
        With ``scaled_gradient=True`` the kernel folds the gradient factor
        ``f`` of each row (the reduction scale times the sample weight) into
        the softmax pass: ``loss_gradient(y, r, p, lse, f, *params)`` then
        receives ``p = f * softmax(r)`` and must leave ``f`` times the
        gradient in ``p`` (one pass over the row instead of two).
    value, gradient, loss_gradient, gradient_hessian : numba dispatchers
        Module-level ``@njit`` functions.
    n_params : int
        Number of float hyperparameters passed after ``(y, r)``.
    prepare : numba dispatcher, optional
        Element-wise kind only: ``t = prepare(y, r)``, a per-sample quantity
        (for example ``exp(-|r|)``) that the other functions then
        receive after ``r``: ``value(y, r, t, *params)``, and so on. The loss
        kernels evaluate it over a whole chunk in a loop of its own before the
        main loop: two short chains of dependent operations keep more work in
        flight in the processor than one long chain (log loss about 15% faster
        on AVX2). Other templates call the functions through wrappers with the
        usual ``(y, r, *params)`` signature (see :func:`import_lines`).
    scaled_gradient : bool
        Softmax kind only: see above.
    source : str, optional
        Python source that defines the per-sample functions (custom losses:
        see :mod:`.custom`). The function fields then hold the names the
        source defines, and the source is written into the kernel module.
    """

    kind: str
    value: object
    gradient: object = None
    loss_gradient: object = None
    gradient_hessian: object = None
    n_params: int = 0
    scaled_gradient: bool = False
    source: str = None
    prepare: object = None

    def __post_init__(self):
        required = {"elementwise": "gradient", "row": "loss_gradient", "softmax": "loss_gradient"}
        if self.kind not in required:
            raise ValueError(
                f"KernelSpec kind must be 'elementwise', 'row' or 'softmax'; got {self.kind!r}.")
        if self.scaled_gradient and self.kind != "softmax":
            raise ValueError("scaled_gradient applies to 'softmax' KernelSpecs only.")
        if self.prepare is not None and (self.kind != "elementwise" or self.source is not None):
            raise ValueError("prepare applies to 'elementwise' KernelSpecs without source only.")
        if getattr(self, required[self.kind]) is None:
            raise ValueError(f"A {self.kind!r} KernelSpec needs a {required[self.kind]} function.")
        for role, func in self.functions().items():
            if self.source is not None:
                if not isinstance(func, str) or f"def {func}(" not in self.source:
                    raise ValueError(f"KernelSpec {role} must name a function defined in source; got {func!r}.")
                continue
            py_func = getattr(func, "py_func", func)  # a plain function with NUMBA_DISABLE_JIT
            if not callable(py_func) or "<" in py_func.__qualname__:
                raise TypeError(f"KernelSpec {role} must be a module-level @njit function; got {func!r}.")

    @property
    def per_row(self):
        """Whether one sample is a row of ``raw_prediction``."""
        return self.kind != "elementwise"

    def conventions(self):
        """The argument list each per-sample function must take (one convention per kind)."""
        params = ["*params"] if self.n_params else []
        if self.kind == "elementwise":
            args = ["y", "r", *(["t"] if self.prepare is not None else []), *params]
            return {"value": args, "gradient": args, "loss_gradient": args, "gradient_hessian": args,
                    "prepare": ["y", "r"]}
        if self.kind == "row":
            return {"value": ["y", "r", *params], "loss_gradient": ["y", "r", "g", *params],
                    "gradient_hessian": ["y", "r", "g", "h", *params]}
        return {"value": ["y", "r", "p", "lse", *params],
                "loss_gradient": ["y", "r", "p", "lse", *(["f"] if self.scaled_gradient else []), *params],
                "gradient_hessian": ["y", "r", "p", "lse", "h", *params]}

    def check_signatures(self, owner):
        """Raise ``TypeError`` naming ``owner`` (the loss) and the function whose arguments break the convention."""
        if self in _checked:
            return
        conventions = self.conventions()
        defined = {}
        if self.source is not None:
            defined = {node.name: len(node.args.args) for node in ast.parse(self.source).body
                       if isinstance(node, ast.FunctionDef) and not node.args.vararg}
        for role, func in self.functions().items():
            expected = conventions[role]
            count = len(expected) + (self.n_params - 1 if expected[-1] == "*params" else 0)
            if self.source is not None:
                name, actual = func, defined.get(func)
            else:
                code = getattr(getattr(func, "py_func", func), "__code__", None)
                name = getattr(getattr(func, "py_func", func), "__name__", repr(func))
                actual = None if code is None or code.co_flags & 0x04 else code.co_argcount
            if actual is not None and actual != count:
                raise TypeError(
                    f"{owner}: the {role} function {name} takes {actual} arguments; a {self.kind!r} loss's {role} "
                    f"takes {count}: ({', '.join(expected)}), params being its {self.n_params} hyperparameter(s).")
        _checked.add(self)

    @property
    def has_hessian(self):
        return self.gradient_hessian is not None

    def functions(self):
        names = ("value", "gradient", "loss_gradient", "gradient_hessian", "prepare")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}
