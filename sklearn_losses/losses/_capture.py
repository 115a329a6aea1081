"""Capture a user's scalar function as self-contained source code.

A custom loss is compiled from the *source* of the user's function, written
into the generated kernel module together with what the function refers to
(modules, numeric constants, helper functions). This is what lets numba cache
its machine code on disk, lets the loss pickle by value (a worker process
rebuilds the identical module and finds the cache warm), and gives the
automatic differentiation (:mod:`._autodiff`) a syntax tree to work on.
"""

import ast
import builtins
import importlib
import inspect
import math
import numbers
import re
import textwrap
import types

__all__ = ["CapturedFunction", "capture"]

# Builtins numba compiles in scalar code; any other builtin is an error.
_BUILTINS = {"abs", "min", "max", "float", "int", "bool", "range", "round", "len", "pow"}


class CapturedFunction:
    """A function as an ``ast.FunctionDef`` plus the source of its dependencies."""

    def __init__(self, fdef, preamble, helpers, namespace):
        self.fdef = fdef  # ast.FunctionDef, decorators removed
        self.preamble = preamble  # list of import / constant lines
        self.helpers = helpers  # list of helper FunctionDefs (source embedded)
        self.namespace = namespace  # name -> python object, for resolving calls

    @property
    def arg_names(self):
        return [a.arg for a in self.fdef.args.args]

    def resolve(self, node):
        """The Python object an ``ast`` expression such as ``math.exp`` denotes, or None."""
        if isinstance(node, ast.Name):
            if node.id in self.namespace:
                return self.namespace[node.id]
            return getattr(builtins, node.id, None)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return getattr(base, node.attr, None) if base is not None else None
        return None


def _unwrap(func):
    func = getattr(func, "__func__", func)  # staticmethod / classmethod
    func = getattr(func, "py_func", func)  # numba dispatcher
    if not isinstance(func, types.FunctionType):
        raise TypeError(f"expected a Python function; got {func!r}")
    return func


def _parse(func):
    """The ``ast.FunctionDef`` of ``func`` (lambdas become a ``def``)."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise TypeError(
            f"the source code of {func.__qualname__!r} is not available ({exc}); define the function "
            "with def in a file, a module or a notebook cell"
        ) from None
    if func.__name__ != "<lambda>":
        tree = ast.parse(source)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == func.__name__:
                node.decorator_list = []
                return node
        raise TypeError(f"could not find the definition of {func.__qualname__!r} in its source")
    return _parse_lambda(func, source)


def _lambda_nodes(text):
    """Every ``ast.Lambda`` in ``text``, a source line that may hold a fragment of a statement."""
    try:
        return [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Lambda)]
    except SyntaxError:
        pass
    nodes = []
    for start in [m.start() for m in re.finditer(r"\blambda\b", text)]:
        for end in range(len(text), start, -1):  # the longest expression starting there
            try:
                tree = ast.parse(text[start:end], mode="eval")
            except SyntaxError:
                continue
            nodes += [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
            break
    return nodes


def _parse_lambda(func, source):
    code = func.__code__
    matches = []
    for node in _lambda_nodes(source.strip()):
        if [a.arg for a in node.args.args] == list(code.co_varnames[:code.co_argcount]):
            compiled = compile(ast.Expression(node), "<lambda>", "eval")
            inner = next(c for c in compiled.co_consts if isinstance(c, types.CodeType))
            same = (inner.co_names, inner.co_varnames, inner.co_consts) == (
                code.co_names, code.co_varnames, code.co_consts)
            if same and ast.unparse(node) not in map(ast.unparse, matches):
                matches.append(node)
    if len(matches) != 1:
        raise TypeError("could not identify the lambda in its source line; define the function with def")
    lam = matches[0]
    fdef = ast.parse("def _lambda(): pass").body[0]
    fdef.args = lam.args
    fdef.body = [ast.Return(lam.body)]
    return ast.fix_missing_locations(fdef)


def _free_names(fdef):
    local = {a.arg for a in fdef.args.args}
    loads = []
    for node in ast.walk(fdef):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                local.add(node.id)
            elif node.id not in loads:
                loads.append(node.id)
    return [n for n in loads if n not in local]


def _importable(obj):
    """``(module, attribute)`` if ``obj`` can be imported by name from a real module."""
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", None))
    if module in (None, "__main__") or name is None or "<" in name:
        return None
    try:
        found = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return (module, name) if found is obj else None


def capture(func, _seen=None):
    """Capture ``func`` and, recursively, the helper functions it calls.

    Raises ``TypeError`` naming the first reference that cannot be compiled.
    """
    func = _unwrap(func)
    fdef = _parse(func)
    seen = {} if _seen is None else _seen
    closure = {}
    if func.__closure__:
        closure = dict(zip(func.__code__.co_freevars, (c.cell_contents for c in func.__closure__)))
    preamble, helpers, namespace = [], [], {}
    for name in _free_names(fdef):
        if name in closure:
            value = closure[name]
        elif name in func.__globals__:
            value = func.__globals__[name]
        elif name in _BUILTINS:
            continue
        elif isinstance(getattr(builtins, name, None), type) and issubclass(getattr(builtins, name), Exception):
            continue  # raise ValueError("...") compiles (constant arguments)
        elif hasattr(builtins, name):
            raise TypeError(f"{func.__qualname__} uses the builtin {name!r}, which numba does not compile")
        else:
            raise TypeError(f"{func.__qualname__} refers to {name!r}, which is not defined")
        namespace[name] = value
        if isinstance(value, types.ModuleType):
            preamble.append(f"import {value.__name__} as {name}")
        elif isinstance(value, bool) or (isinstance(value, numbers.Real) and not isinstance(value, complex)):
            number = float(value) if not isinstance(value, (bool, int)) else value
            text = repr(number) if not isinstance(number, float) or math.isfinite(number) else f'float("{number}")'
            preamble.append(f"{name} = {text}")
        elif not isinstance(value, types.FunctionType) and (location := _importable(value)) is not None:
            module, attr = location  # numba dispatchers, math/numpy functions
            preamble.append(f"from {module} import {attr} as {name}" if "." not in attr
                            else f"import {module} as _m_{name}\n{name} = _m_{name}.{attr}")
        elif isinstance(value, types.FunctionType) or hasattr(value, "py_func"):
            helper = _unwrap(value)
            key = (helper.__module__, helper.__qualname__)
            if key not in seen:
                seen[key] = name
                sub = capture(helper, seen)
                sub.fdef.name = name
                preamble += [line for line in sub.preamble if line not in preamble]
                helpers += sub.helpers + [sub.fdef]
            elif seen[key] != name:
                preamble.append(f"{name} = {seen[key]}")
        else:
            raise TypeError(
                f"{func.__qualname__} refers to {name!r} of type {type(value).__name__}, which cannot be "
                "compiled into a loss; use numbers, the math module, numpy functions or other functions "
                "in the numba subset (or pass the value as a loss parameter)"
            )
    return CapturedFunction(fdef, preamble, helpers, namespace)
