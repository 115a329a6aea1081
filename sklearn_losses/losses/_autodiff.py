"""Forward-mode automatic differentiation by source transformation.

:func:`differentiate` turns the syntax tree of a scalar function
``f(y, r, *params)`` into the tree of a function of the same arguments that
returns ``(f, df/dr)``. Every assignment ``x = e`` is followed by its tangent
``_d_x = de`` (the chain rule applied to ``e``), so branches, loops and early
returns keep their meaning; the result is ordinary Python in the numba subset
and compiles like the original. Applied to its own output it gives the second
derivative, so hessians come for free.

Why this method: the derivative is exact up to the rounding of the generated
expressions (no step size to choose, unlike finite differences; no complex
arithmetic through comparisons, unlike the complex step), and the generated
code compiles to one fused pass.

Limits (documented in the user guide):

* At a kink written as a branch (``if e > 0: ... else: ...``) the derivative is
  that of the branch taken, i.e. a one-sided derivative; ``abs(u)`` has
  derivative 0 at ``u == 0``; ``max``/``min`` take the derivative of the
  argument selected. Piecewise-constant functions (``floor``, ``int``,
  comparisons) have derivative 0.
* Calls to functions other than the elementary functions listed in
  ``_RULES`` cannot be differentiated when their arguments depend on ``r``;
  pass ``gradient=`` explicitly for those.
"""

import ast
import builtins
import functools
import math
import re

import numpy as np

__all__ = ["AutodiffError", "differentiate", "SUPPORTED_FUNCTIONS"]


class AutodiffError(TypeError):
    """The function uses a construct that cannot be differentiated automatically."""


def _c(value):
    return ast.Constant(value)


def _bin(left, op, right):
    return ast.BinOp(left, op, right)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return _bin(a, ast.Add(), b)


def _sub(a, b):
    if b is None:
        return a
    if a is None:
        return ast.UnaryOp(ast.USub(), b)
    return _bin(a, ast.Sub(), b)


#: Name of the product that the derivatives use (defined beside the generated
#: code: ``0.0 if a == 0.0 or b == 0.0 else a * b``). A zero tangent then
#: contributes exactly nothing even where a primal factor overflowed to inf
#: (``inf * 0`` would be NaN: the hessian of ``3 * e * e`` at e = 1e308).
SAFE_PRODUCT = "_ad_mul"


def _mul(a, b):
    """Product where either factor may be None (zero); a zero times an overflowed factor is zero."""
    if a is None or b is None:
        return None
    for constant, other in ((a, b), (b, a)):
        if isinstance(constant, ast.Constant) and constant.value != 0:
            return _bin(constant, ast.Mult(), other)  # a non-zero constant cannot meet 0 * inf
    return ast.Call(ast.Name(SAFE_PRODUCT, ast.Load()), [a, b], [])


def _div(a, b):
    return None if a is None else _bin(a, ast.Div(), b)


def _math(name, *args):
    return ast.Call(ast.Attribute(ast.Name("_ad_math", ast.Load()), name, ast.Load()), list(args), [])


def _sign_times(u, du):
    # d|u| = sign(u) du, with 0 at u == 0
    return ast.IfExp(ast.Compare(u, [ast.Gt()], [_c(0.0)]), du,
                     ast.IfExp(ast.Compare(u, [ast.Lt()], [_c(0.0)]), ast.UnaryOp(ast.USub(), du), _c(0.0)))


# Derivative rules of one-argument functions: (u, du, result) -> tangent.
_UNARY = {
    "exp": lambda u, du, t: _mul(t, du),
    "expm1": lambda u, du, t: _mul(_add(t, _c(1.0)), du),
    "log": lambda u, du, t: _div(du, u),
    "log1p": lambda u, du, t: _div(du, _add(_c(1.0), u)),
    "log2": lambda u, du, t: _div(du, _mul(u, _c(math.log(2.0)))),
    "log10": lambda u, du, t: _div(du, _mul(u, _c(math.log(10.0)))),
    "sqrt": lambda u, du, t: _div(du, _mul(_c(2.0), t)),
    "cbrt": lambda u, du, t: _div(du, _mul(_c(3.0), _mul(t, t))),
    "sin": lambda u, du, t: _mul(_math("cos", u), du),
    "cos": lambda u, du, t: ast.UnaryOp(ast.USub(), _mul(_math("sin", u), du)),
    "tan": lambda u, du, t: _mul(_add(_c(1.0), _mul(t, t)), du),
    "sinh": lambda u, du, t: _mul(_math("cosh", u), du),
    "cosh": lambda u, du, t: _mul(_math("sinh", u), du),
    "tanh": lambda u, du, t: _mul(_sub(_c(1.0), _mul(t, t)), du),
    "arctan": lambda u, du, t: _div(du, _add(_c(1.0), _mul(u, u))),
    "arcsin": lambda u, du, t: _div(du, _math("sqrt", _sub(_c(1.0), _mul(u, u)))),
    "arccos": lambda u, du, t: ast.UnaryOp(ast.USub(), _div(du, _math("sqrt", _sub(_c(1.0), _mul(u, u))))),
    "arcsinh": lambda u, du, t: _div(du, _math("sqrt", _add(_mul(u, u), _c(1.0)))),
    "arctanh": lambda u, du, t: _div(du, _sub(_c(1.0), _mul(u, u))),
    "erf": lambda u, du, t: _mul(_mul(_c(2.0 / math.sqrt(math.pi)), _math("exp", ast.UnaryOp(ast.USub(), _mul(u, u)))), du),
    "erfc": lambda u, du, t: _mul(_mul(_c(-2.0 / math.sqrt(math.pi)), _math("exp", ast.UnaryOp(ast.USub(), _mul(u, u)))), du),
    "abs": lambda u, du, t: _sign_times(u, du),
    "float": lambda u, du, t: du,
}
_ALIASES = {"atan": "arctan", "asin": "arcsin", "acos": "arccos", "asinh": "arcsinh",
            "atanh": "arctanh", "fabs": "abs", "absolute": "abs"}
# Piecewise constant: derivative 0 everywhere it exists.
_CONSTANT = {"floor", "ceil", "trunc", "round", "int", "sign", "bool", "isnan", "isinf", "isfinite", "rint"}


# Rules of two-argument functions, applied in _Differentiator.call.
_BINARY = {"pow", "power", "max", "min", "maximum", "minimum", "hypot", "copysign"}
SUPPORTED_FUNCTIONS = tuple(sorted(set(_UNARY) | set(_ALIASES) | _CONSTANT | _BINARY))


@functools.cache
def _rule_table():
    """id of each math / numpy / builtin callable with a rule -> the rule's name (built once)."""
    table = {}
    for module in (builtins, np, math):
        for name in dir(module):
            rule = _ALIASES.get(name, name)
            if not name.startswith("_") and (rule in _UNARY or rule in _CONSTANT or rule in _BINARY):
                table[id(getattr(module, name))] = rule
    return table


def _known_function(obj):
    """Name of the rule for a resolved callable, or None."""
    return None if obj is None else _rule_table().get(id(obj))


_GENERATED = re.compile(r"^_[dt](\d+)_")


def _pass_number(fdef):
    """1 + the deepest pass whose names appear in ``fdef``: differentiating
    generated code again (for the hessian) never reuses a name of an earlier
    pass, and the same function always gives the same source (one kernel
    module, one compilation)."""
    found = [int(m.group(1)) for node in ast.walk(fdef) if isinstance(node, ast.Name)
             for m in [_GENERATED.match(node.id)] if m]
    return max(found, default=0) + 1


class _Differentiator:
    """Emit primal and tangent statements for one function body."""

    def __init__(self, resolve, wrt, local_names, number):
        self.resolve = resolve  # ast expression -> python object or None
        self.wrt = wrt
        self.locals = set(local_names)
        self.tangent_prefix = f"_d{number}_"
        self.temp_prefix = f"_t{number}_"
        self.counter = 0

    def d(self, name, ctx=None):
        """The tangent variable of ``name``."""
        return ast.Name(self.tangent_prefix + name, ctx or ast.Load())

    def pair(self, name):
        return ast.Tuple([ast.Name(name, ast.Store()), self.d(name, ast.Store())], ast.Store())

    def new_temp(self):
        self.counter += 1
        return f"{self.temp_prefix}{self.counter}"

    def temp(self, out, value, tangent):
        name = self.new_temp()
        out.append(ast.Assign([self.pair(name)],
                              ast.Tuple([value, tangent if tangent is not None else _c(0.0)], ast.Load())))
        return ast.Name(name, ast.Load()), self.d(name)

    # -------------------------------------------------------------- expressions
    def expr(self, node, out):
        """Return (primal, tangent-or-None) of ``node``; emit helper statements into ``out``."""
        if isinstance(node, ast.Constant):
            return node, None
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                return node, self.d(node.id)
            return node, None
        if isinstance(node, (ast.Compare, ast.BoolOp)) or (
                isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
            return node, None
        if isinstance(node, ast.Attribute):  # math.pi and the like
            return node, None
        if isinstance(node, ast.UnaryOp):
            u, du = self.expr(node.operand, out)
            if isinstance(node.op, ast.USub):
                return ast.UnaryOp(ast.USub(), u), None if du is None else ast.UnaryOp(ast.USub(), du)
            if isinstance(node.op, ast.UAdd):
                return u, du
            return ast.UnaryOp(node.op, u), None
        if isinstance(node, ast.BinOp):
            return self.binop(node, out)
        if isinstance(node, ast.IfExp):
            return self.ifexp(node, out)
        if isinstance(node, ast.Call):
            return self.call(node, out)
        if isinstance(node, ast.Tuple):
            parts = [self.expr(e, out) for e in node.elts]
            return (ast.Tuple([p for p, _ in parts], ast.Load()),
                    ast.Tuple([d if d is not None else _c(0.0) for _, d in parts], ast.Load()))
        raise AutodiffError(f"cannot differentiate the expression {ast.unparse(node)!r}")

    def binop(self, node, out):
        a, da = self.expr(node.left, out)
        b, db = self.expr(node.right, out)
        op = node.op
        if da is None and db is None:
            return _bin(a, op, b), None
        if isinstance(op, ast.Add):
            return _bin(a, op, b), _add(da, db)
        if isinstance(op, ast.Sub):
            return _bin(a, op, b), _sub(da, db)
        if isinstance(op, ast.Mult):
            return _bin(a, op, b), _add(_mul(a, db), _mul(da, b))
        if isinstance(op, ast.Div):
            q, dq = self.temp(out, _bin(a, op, b), None)
            tangent = _div(_sub(da, _mul(q, db)), b)
            out.append(ast.Assign([ast.Name(dq.id, ast.Store())], tangent or _c(0.0)))
            return q, dq
        if isinstance(op, ast.Pow):
            return self.power(a, da, b, db, out)
        if isinstance(op, ast.Mod):
            # a % b = a - b * floor(a / b)
            return _bin(a, op, b), _sub(da, _mul(db, _math("floor", _bin(a, ast.Div(), b))))
        if isinstance(op, ast.FloorDiv):
            return _bin(a, op, b), None
        raise AutodiffError(f"cannot differentiate the operator in {ast.unparse(node)!r}")

    def power(self, a, da, b, db, out):
        t, dt = self.temp(out, _bin(a, ast.Pow(), b), None)
        if db is None:
            if isinstance(b, ast.Constant) and b.value == 2:
                tangent = _mul(_mul(_c(2.0), a), da)
            else:
                tangent = _mul(_mul(b, _bin(a, ast.Pow(), _bin(b, ast.Sub(), _c(1.0)))), da)
        elif da is None:
            tangent = _mul(_mul(t, _math("log", a)), db)
        else:
            tangent = _mul(t, _add(_mul(db, _math("log", a)), _div(_mul(b, da), a)))
        out.append(ast.Assign([ast.Name(dt.id, ast.Store())], tangent or _c(0.0)))
        return t, dt

    def ifexp(self, node, out):
        name = self.new_temp()
        branches = []
        for branch in (node.body, node.orelse):
            block = []
            p, d = self.expr(branch, block)
            block.append(ast.Assign([self.pair(name)], ast.Tuple([p, d if d is not None else _c(0.0)], ast.Load())))
            branches.append(block)
        out.append(ast.If(node.test, branches[0], branches[1]))
        return ast.Name(name, ast.Load()), self.d(name)

    def call(self, node, out):
        if node.keywords:
            raise AutodiffError(f"keyword arguments are not supported in {ast.unparse(node)!r}")
        args = [self.expr(a, out) for a in node.args]
        primal = ast.Call(node.func, [p for p, _ in args], [])
        if all(d is None for _, d in args):
            return primal, None
        if isinstance(node.func, ast.Name) and node.func.id == SAFE_PRODUCT:  # a derivative's product
            (a, da), (b, db) = args
            return primal, _add(_mul(a, db), _mul(da, b))
        rule = _known_function(self.resolve(node.func))
        if rule is None:
            raise AutodiffError(
                f"cannot differentiate through the call {ast.unparse(node)!r}: its arguments depend on "
                f"{self.wrt!r} and it is not one of the supported functions "
                f"({', '.join(SUPPORTED_FUNCTIONS)}); pass gradient= (and hessian=) explicitly")
        if rule in _CONSTANT:
            return primal, None
        if rule in _UNARY:
            if len(args) != 1:
                raise AutodiffError(f"{ast.unparse(node)!r}: expected one argument")
            (u, du), = args
            t, dt = self.temp(out, primal, None)
            out.append(ast.Assign([ast.Name(dt.id, ast.Store())], _UNARY[rule](u, du, t) or _c(0.0)))
            return t, dt
        (a, da), (b, db) = args if len(args) == 2 else (None, None)
        if len(args) != 2:
            raise AutodiffError(f"{ast.unparse(node)!r}: expected two arguments")
        if rule in ("pow", "power"):
            return self.power(a, da, b, db, out)
        if rule in ("max", "maximum", "min", "minimum"):
            cmp = ast.GtE() if rule.startswith("max") else ast.LtE()
            test = ast.Compare(a, [cmp], [b])
            return self.temp(out, ast.IfExp(test, a, b),
                             ast.IfExp(test, da or _c(0.0), db or _c(0.0)))
        if rule == "hypot":
            t, dt = self.temp(out, primal, None)
            out.append(ast.Assign([ast.Name(dt.id, ast.Store())],
                                  _div(_add(_mul(a, da), _mul(b, db)), t) or _c(0.0)))
            return t, dt
        # copysign(a, b) = |a| sign(b): derivative in a only
        sign = _mul(_math("copysign", _c(1.0), a), _math("copysign", _c(1.0), b))
        return primal, _mul(sign, da)

    # -------------------------------------------------------------- statements
    def assign(self, name, value, out):
        p, d = self.expr(value, out)
        if name not in self.locals:  # inactive: no tangent
            out.append(ast.Assign([ast.Name(name, ast.Store())], p))
            return
        out.append(ast.Assign([self.pair(name)], ast.Tuple([p, d if d is not None else _c(0.0)], ast.Load())))

    def block(self, statements):
        out = []
        for node in statements:
            self.statement(node, out)
        return out or [ast.Pass()]

    def statement(self, node, out):
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1:
                raise AutodiffError(f"chained assignment is not supported: {ast.unparse(node)!r}")
            target = node.targets[0]
            if isinstance(target, ast.Name):
                self.assign(target.id, node.value, out)
            elif (isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                  and len(target.elts) == len(node.value.elts)
                  and all(isinstance(t, ast.Name) for t in target.elts)):
                values = []  # evaluate every right-hand side before assigning any name
                for value in node.value.elts:
                    p, d = self.expr(value, out)
                    values.append(self.temp(out, p, d))
                for t, (p, d) in zip(target.elts, values):
                    if t.id in self.locals:
                        out.append(ast.Assign([self.pair(t.id)], ast.Tuple([p, d], ast.Load())))
                    else:
                        out.append(ast.Assign([ast.Name(t.id, ast.Store())], p))
            else:
                raise AutodiffError(f"only assignments to names are supported: {ast.unparse(node)!r}")
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            self.assign(name, ast.BinOp(ast.Name(name, ast.Load()), node.op, node.value), out)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            self.assign(node.target.id, node.value, out)
        elif isinstance(node, ast.If):
            out.append(ast.If(node.test, self.block(node.body), self.block(node.orelse) if node.orelse else []))
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and not node.orelse:
            out.append(ast.For(node.target, node.iter, self.block(node.body), [], None))
        elif isinstance(node, ast.While) and not node.orelse:
            out.append(ast.While(node.test, self.block(node.body), []))
        elif isinstance(node, ast.Return):
            if node.value is None:
                raise AutodiffError("the function must return a value")
            p, d = self.expr(node.value, out)
            if isinstance(p, ast.Tuple):
                out.append(ast.Return(ast.Tuple([p, d], ast.Load())))
            else:
                out.append(ast.Return(ast.Tuple([_math_float(p), _math_float(d if d is not None else _c(0.0))],
                                                ast.Load())))
        elif isinstance(node, (ast.Pass, ast.Break, ast.Continue, ast.Raise)):
            out.append(node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            pass  # docstring
        else:
            raise AutodiffError(f"unsupported statement for automatic differentiation: {ast.unparse(node)!r}")


def _math_float(node):
    return ast.Call(ast.Name("float", ast.Load()), [node], [])


def _active_names(fdef, wrt):
    """Names whose value may depend on ``wrt`` (a fixed point over all assignments).

    Only these get tangents: a parameter or a target keeps no tangent, so an
    overflowing inactive term never meets a zero tangent (0 * inf = NaN).
    """
    assignments = []
    for node in ast.walk(fdef):
        if isinstance(node, ast.Assign):
            targets = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            assignments.append((targets, node.value))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            target = node.target.id if isinstance(node.target, ast.Name) else None
            if target:
                uses = [node.value] + ([node.target] if isinstance(node, ast.AugAssign) else [])
                assignments.append(([target], ast.Tuple(uses, ast.Load())))
    active = {wrt}
    changed = True
    while changed:
        changed = False
        for targets, value in assignments:
            if any(isinstance(n, ast.Name) and n.id in active for n in ast.walk(value)):
                for target in targets:
                    if target not in active:
                        active.add(target)
                        changed = True
    return active


def differentiate(fdef, wrt, new_name, resolve):
    """Return a new ``ast.FunctionDef`` computing ``(f, df/d wrt)``.

    Parameters
    ----------
    fdef : ast.FunctionDef
        The function; its arguments are positional names.
    wrt : str
        The argument to differentiate with respect to.
    new_name : str
        Name of the generated function.
    resolve : callable
        Maps an ``ast`` expression naming a callable (``math.exp``, ``exp``) to
        the Python object it denotes in the function's namespace (or None).
    """
    arg_names = [a.arg for a in fdef.args.args]
    if wrt not in arg_names:
        raise AutodiffError(f"{fdef.name} has no argument {wrt!r}")
    local_names = _active_names(fdef, wrt)

    def resolve_generated(node):  # calls the rules themselves emit
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "_ad_math":
            return getattr(math, node.attr, None)
        return resolve(node)

    diff = _Differentiator(resolve_generated, wrt, local_names, _pass_number(fdef))
    body = [ast.Assign([diff.d(name, ast.Store())], _c(1.0 if name == wrt else 0.0))
            for name in sorted(local_names)]
    body += diff.block(fdef.body)
    new = ast.parse(f"def {new_name}(): pass").body[0]
    new.args = fdef.args
    new.body = body
    return ast.fix_missing_locations(new)
