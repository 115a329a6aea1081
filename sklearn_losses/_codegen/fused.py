"""Fused kernels for composite losses: the components' per-sample functions inlined into one.

A composite of element-wise components (:class:`~.composite.Asymmetric`,
:class:`~.composite.WeightedSum`) is itself element-wise: its loss of one
sample is a fixed combination of its components' losses of that sample. This
module writes that combination as per-sample functions in a generated source
(a :class:`~._factory.KernelSpec` with ``source``), so the kernel factory
compiles the composite into one pass over the data, as it compiles any other
loss, instead of one pass (and temporary arrays) per component.

Each component ``j`` brings its per-sample functions under the prefix
``_c{j}``: built-in ones by import (wrapped to pass their ``prepare``
quantity), generated ones (custom losses, nested composites) by including
their source with every top-level name renamed. Their hyperparameters follow
the composite's own in the argument list, so tuning any of them recompiles
nothing.
"""

import ast

from . import import_lines

__all__ = ["component_functions", "fused_spec"]

_HEADER = ("from sklearn_losses._jit import njit as _njit",
           "from sklearn_losses._config import SCALAR_OPTIONS as _SCALAR_OPTIONS")
_ROLES = ("value", "gradient", "loss_gradient", "gradient_hessian")


class _Prefix(ast.NodeTransformer):
    """Rename every name bound at the top level of a module (and its uses) with a prefix."""

    def __init__(self, names, prefix):
        self.names, self.prefix = names, prefix

    def visit_Name(self, node):
        if node.id in self.names:
            node.id = self.prefix + node.id
        return node

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        if node.name in self.names:
            node.name = self.prefix + node.name
        return node

    def visit_alias(self, node):
        bound = node.asname or node.name.split(".")[0]
        if bound in self.names and "." not in node.name:
            node.asname = self.prefix + bound
        return node


def _bound_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if "." not in alias.name or alias.asname:
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def component_functions(spec, prefix):
    """Source defining ``{prefix}_value``, ``{prefix}_gradient``, ... ``(y, r, *params)`` for ``spec``.

    Every name the component's code binds at the top level is prefixed, so
    that several components (two custom losses both defining ``_value``) live
    in one module.
    """
    source = "\n".join(["from sklearn_losses._jit import njit", *import_lines(spec)])
    tree = ast.parse(source)
    tree = _Prefix(_bound_names(tree), prefix).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


def _signature(counts):
    """``y, r, q0_0, q0_1, ..., q1_0, ...``: the composite's arguments, ``counts[j]`` for component ``j``."""
    return ", ".join(["y", "r", *[f"q{j}_{k}" for j, n in enumerate(counts) for k in range(n)]])


def _define(parts, bodies):
    """Append a jitted per-sample function for each ``role: (arguments, body lines)``; their names by role."""
    functions = {}
    for role, (args, body) in bodies.items():
        parts += ["", "", "@_njit(**_SCALAR_OPTIONS)", f"def _{role}({args}):", *body]
        functions[role] = f"_{role}"
    return functions


def _loss_gradient_lines(j, call, spec):
    if spec.loss_gradient is not None:
        return [f"    l{j}, g{j} = _c{j}_loss_gradient({call})"]
    return [f"    l{j} = _c{j}_value({call})", f"    g{j} = _c{j}_gradient({call})"]


def fused_spec(kind, specs, own_params):
    """The :class:`KernelSpec` of a composite of element-wise ``specs``.

    ``kind`` is ``"per_output"`` (a ``"row"`` spec: column ``j`` through
    component ``j``, no own parameters), ``"weighted_sum"`` (own parameters: one weight per component,
    ``q{j}_0`` in front of component ``j``'s) or ``"asymmetric"`` (one
    component; own parameters ``under, over`` after its own). ``own_params``
    is the number of the composite's own parameters per component
    (weighted sum: 1) or in total (asymmetric: 2).
    """
    if kind == "per_output":
        return _per_output_spec(specs)
    if kind == "weighted_sum" and all(spec.kind == "softmax" for spec in specs):
        return _softmax_sum_spec(specs, own_params)
    if kind == "weighted_sum":
        counts = [own_params + spec.n_params for spec in specs]
    else:
        counts = [specs[0].n_params + own_params]
    signature = _signature(counts)
    parts = list(_HEADER)
    for j, spec in enumerate(specs):
        parts.append(component_functions(spec, f"_c{j}"))
    has_hessian = all(spec.has_hessian for spec in specs)
    if kind == "weighted_sum":
        calls = [", ".join(["y", "r", *[f"q{j}_{k}" for k in range(1, counts[j])]]) for j in range(len(specs))]
        weight = [f"q{j}_0" for j in range(len(specs))]
        value = " + ".join(f"{weight[j]} * _c{j}_value({calls[j]})" for j in range(len(specs)))
        gradient = " + ".join(f"{weight[j]} * _c{j}_gradient({calls[j]})" for j in range(len(specs)))
        lg = [line for j, spec in enumerate(specs) for line in _loss_gradient_lines(j, calls[j], spec)]
        lg.append("    return " + " + ".join(f"{weight[j]} * l{j}" for j in range(len(specs))) + ", "
                  + " + ".join(f"{weight[j]} * g{j}" for j in range(len(specs))))
        gh = [f"    g{j}, h{j} = _c{j}_gradient_hessian({calls[j]})" for j in range(len(specs))]
        gh.append("    return " + " + ".join(f"{weight[j]} * g{j}" for j in range(len(specs))) + ", "
                  + " + ".join(f"{weight[j]} * h{j}" for j in range(len(specs))))
        bodies = {"value": [f"    return {value}"], "gradient": [f"    return {gradient}"],
                  "loss_gradient": lg, "gradient_hessian": gh}
    else:
        n = specs[0].n_params
        call = ", ".join(["y", "r", *[f"q0_{k}" for k in range(n)]])
        under, over = f"q0_{n}", f"q0_{n + 1}"
        factor = f"    f = {under} if r < y else {over}"
        bodies = {
            "value": [factor, f"    return f * _c0_value({call})"],
            "gradient": [factor, f"    return f * _c0_gradient({call})"],
            "loss_gradient": [factor, *_loss_gradient_lines(0, call, specs[0]), "    return f * l0, f * g0"],
            "gradient_hessian": [factor, f"    g0, h0 = _c0_gradient_hessian({call})", "    return f * g0, f * h0"],
        }
    functions = _define(parts, {role: (signature, bodies[role]) for role in _ROLES
                                if role != "gradient_hessian" or has_hessian})
    from ..losses._spec import KernelSpec  # (the losses import this module)

    return KernelSpec("elementwise", n_params=sum(counts), source="\n".join(parts) + "\n", **functions)


def _softmax_sum_spec(specs, own_params):
    """A ``"softmax"`` spec: a weighted sum of softmax losses of the same row, on its probabilities computed once.

    Each component turns the probabilities into its gradient in place, so
    every component but the last works on a copy (one small allocation per
    row); the last one works on the kernel's ``p`` itself, and the weighted
    gradients are summed into it. Components with a scaled gradient are
    given the factor 1 (the composite does not scale in the softmax pass).
    """
    from ..losses._spec import KernelSpec  # (the losses import this module)

    counts = [own_params + spec.n_params for spec in specs]
    extra = "".join(f", q{j}_{k}" for j, n in enumerate(counts) for k in range(n))  # every weight and parameter
    tail = ["".join(f", q{j}_{k}" for k in range(1, n)) for j, n in enumerate(counts)]  # component j's parameters
    weight = [f"q{j}_0" for j in range(len(specs))]
    last = len(specs) - 1
    parts = list(_HEADER) + ["import numpy as _np"]
    for j, spec in enumerate(specs):
        parts.append(component_functions(spec, f"_c{j}"))

    def combine(out, copies):  # out = sum_j w_j * (component j's result: ``out`` for the last, copies[j] before)
        return f"        {out}[k] = {weight[last]} * {out}[k]" + "".join(
            f" + {weight[j]} * {copies}{j}[k]" for j in range(last))

    value = " + ".join(f"{weight[j]} * _c{j}_value(y, r, p, lse{tail[j]})" for j in range(len(specs)))
    lg = []
    for j, spec in enumerate(specs):
        if j != last:
            lg.append(f"    t{j} = p.copy()")
        factor = ", 1.0" if spec.scaled_gradient else ""
        lg.append(f"    l{j} = _c{j}_loss_gradient(y, r, {'p' if j == last else f't{j}'}, lse{factor}{tail[j]})")
    lg += ["    for k in range(p.size):", combine("p", "t"),
           "    return " + " + ".join(f"{weight[j]} * l{j}" for j in range(len(specs)))]
    bodies = {"value": (f"y, r, p, lse{extra}", [f"    return {value}"]),
              "loss_gradient": (f"y, r, p, lse{extra}", lg)}
    if all(spec.has_hessian for spec in specs):
        gh = []
        for j in range(last):
            gh += [f"    t{j} = p.copy()", f"    s{j} = _np.empty(p.size)",
                   f"    _c{j}_gradient_hessian(y, r, t{j}, lse, s{j}{tail[j]})"]
        gh += [f"    _c{last}_gradient_hessian(y, r, p, lse, h{tail[last]})",
               "    for k in range(p.size):", combine("p", "t"), combine("h", "s")]
        bodies["gradient_hessian"] = (f"y, r, p, lse, h{extra}", gh)
    functions = _define(parts, bodies)
    return KernelSpec("softmax", n_params=sum(counts), source="\n".join(parts) + "\n", **functions)


def _per_output_spec(specs):
    """A ``"row"`` spec: column ``j`` of a sample's row through component ``j``, the mean over the columns."""
    from ..losses._spec import KernelSpec  # (the losses import this module)

    k = len(specs)
    groups = [", ".join([f"y[{j}]", f"r[{j}]", *[f"q{j}_{m}" for m in range(spec.n_params)]])
              for j, spec in enumerate(specs)]
    params = "".join(f", q{j}_{m}" for j, spec in enumerate(specs) for m in range(spec.n_params))
    parts = list(_HEADER)
    for j, spec in enumerate(specs):
        parts.append(component_functions(spec, f"_c{j}"))
    mean = f"(1.0 / {k})"
    lg = [line for j, spec in enumerate(specs) for line in _loss_gradient_lines(j, groups[j], spec)]
    lg += [f"    g[{j}] = {mean} * g{j}" for j in range(k)]
    lg.append(f"    return {mean} * (" + " + ".join(f"l{j}" for j in range(k)) + ")")
    bodies = {
        "value": (f"y, r{params}", [f"    return {mean} * (" + " + ".join(
            f"_c{j}_value({groups[j]})" for j in range(k)) + ")"]),
        "loss_gradient": (f"y, r, g{params}", lg),
    }
    if all(spec.has_hessian for spec in specs):
        gh = [f"    g{j}, h{j} = _c{j}_gradient_hessian({groups[j]})" for j in range(k)]
        gh += [f"    g[{j}] = {mean} * g{j}\n    h[{j}] = {mean} * h{j}" for j in range(k)]
        bodies["gradient_hessian"] = (f"y, r, g, h{params}", gh)
    functions = _define(parts, bodies)
    return KernelSpec("row", n_params=sum(spec.n_params for spec in specs), source="\n".join(parts) + "\n",
                      **functions)
