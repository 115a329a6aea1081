"""The kernel factory: one set of array kernels generated from per-sample maths.

A loss is written once as per-sample ``@njit`` functions (see :class:`KernelSpec`:
element-wise, per row, or per row of a softmax). This module generates, for
every loss, the fused and reduced array kernels (value, gradient,
value+gradient, gradient+hessian; weighted or not; serial or threaded) from
one template, so no array loop is ever written by hand twice.

All kernels walk fixed-size chunks of samples, slicing each chunk so the inner
loop vectorises, and add per-chunk partial sums in order: a result does not
depend on the number of threads. Softmax kernels compute the probabilities of
a whole chunk at once (``softmax_rows``), so the exponentials vectorise across
rows instead of running K at a time.

Numba can only cache functions to disk when they live in a real source file
(closures made by a factory are recompiled in every process). The generated
kernels are therefore written to a small Python file in a cache directory and
imported from there; numba then caches their machine code beside that file.
The file name carries a hash of the template, of the loss modules' sources and
of the numba version, so a change to any of them selects fresh kernels and the
numba cache can never serve stale code.

Loss hyperparameters are runtime scalar arguments of the kernels, never
compile-time constants: changing ``delta`` does not recompile anything.
"""

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

from .._jit import warn_once
from ._fingerprint import dependency_fingerprint
from ._spec import KernelSpec

__all__ = ["HEADER", "KernelSpec", "get_kernels", "import_lines", "kernel_dir", "loss_gradient_lines"]

ENTRIES = (
    "value_sum",
    "value_none",
    "gradient",
    "loss_gradient_sum",
    "loss_gradient_none",
    "gradient_hessian",
)

# Extra arguments of each entry after (y, r[, w]); the hyperparameters follow.
_OUTPUTS = {
    "value_sum": "",
    "value_none": ", out",
    "gradient": ", scale, gout",
    "loss_gradient_sum": ", scale, gout",
    "loss_gradient_none": ", scale, lout, gout",
    "gradient_hessian": ", scale, gout, hout",
}
_REDUCING = {"value_sum", "loss_gradient_sum"}
_ARRAY_OUTPUTS = {entry: [a.strip() for a in outs.split(",") if a.strip() in ("out", "gout", "lout", "hout")]
                  for entry, outs in _OUTPUTS.items()}
_ARRAY_INDEX = re.compile(r"\b(y|r|w|out|gout|lout|hout)\[i")


def _indent(lines, depth):
    return "\n".join("    " * depth + line for line in lines)


def loss_gradient_lines(spec, call):
    """Lines binding ``l`` and ``g`` to an element-wise loss and its derivative at ``call``.

    Uses the fused ``loss_gradient`` when the spec has one. Shared by every
    template that evaluates both (this module's and the linear-model kernels).
    """
    if spec.loss_gradient is not None:
        return [f"l, g = _loss_gradient{call}"]
    return [f"l = _value{call}", f"g = _gradient{call}"]


def _elementwise_body(entry, spec, wi, params):
    call = f"(y[i], r[i]{', t_c[i]' if spec.prepare is not None else ''}{params})"
    if entry == "value_sum":
        return [f"acc += {wi}_value{call}"]
    if entry == "value_none":
        return [f"out[i] = {wi}_value{call}"]
    if entry == "gradient":
        return [f"gout[i] = scale * {wi}_gradient{call}"]
    if entry == "gradient_hessian":
        return [f"g, h = _gradient_hessian{call}", f"f = scale{wi and ' * w[i]'}",
                "gout[i] = f * g", "hout[i] = f * h"]
    lines = loss_gradient_lines(spec, call)
    if entry == "loss_gradient_sum":
        return lines + [f"acc += {wi}l", f"gout[i] = scale * {wi}g"]
    return lines + [f"lout[i] = {wi}l", f"gout[i] = scale * {wi}g"]


def _row_body(entry, spec, wi, params, scale_rows=True, prescaled=False):
    """Per-row calls; ``scale_rows=False`` leaves the scaling to a pass over the block,
    ``prescaled`` passes the row factor ``f_c[i]`` already folded into ``p``."""
    scale = [f"f = scale{wi and ' * w[i]'}", "for k in range(gout.shape[1]):"]
    softmax = spec.kind == "softmax"
    value_args = ", p_c[i], lse[i]" if softmax else ""
    lse_arg = ", lse[i]" if softmax else ""
    if entry == "value_sum":
        return [f"acc += {wi}_value(y[i], r[i]{value_args}{params})"]
    if entry == "value_none":
        return [f"out[i] = {wi}_value(y[i], r[i]{value_args}{params})"]
    if entry == "gradient_hessian":
        lines = [f"_gradient_hessian(y[i], r[i], gout[i], hout[i]{lse_arg}{params})"]
        return lines + (scale + ["    gout[i, k] *= f", "    hout[i, k] *= f"] if scale_rows else [])
    factor_arg = ", f_c[i]" if prescaled else ""
    lines = [f"l = _loss_gradient(y[i], r[i], gout[i]{lse_arg}{factor_arg}{params})"]
    if entry == "loss_gradient_sum":
        lines.append(f"acc += {wi}l")
    elif entry == "loss_gradient_none":
        lines.append(f"lout[i] = {wi}l")
    return lines + (scale + ["    gout[i, k] *= f"] if scale_rows else [])


def _block_scale_lines(entry):
    """Scale the gradient (and hessian) of a whole chunk by the constant ``scale``."""
    lines = []
    for out in ("gout", "hout"):
        if out in _ARRAY_OUTPUTS[entry]:
            lines += [f"        flat_{out} = {out}_c.reshape(-1)",
                      f"        for j in range(flat_{out}.shape[0]):",
                      f"            flat_{out}[j] *= scale"]
    return lines


def _entry_source(entry, spec, weighted, parallel):
    params = "".join(f", p{j}" for j in range(spec.n_params))
    wi = "w[i] * " if weighted else ""
    # Softmax rows without weights share one constant scale: one vectorised
    # pass over the block instead of K-long loops per row.
    writes_gradient = "gout" in _ARRAY_OUTPUTS[entry]
    prescaled = spec.scaled_gradient and writes_gradient and entry != "gradient_hessian"
    block_scale = spec.kind == "softmax" and not weighted and writes_gradient and not prescaled
    if spec.kind == "elementwise":
        body = _elementwise_body(entry, spec, wi, params)
    else:
        body = _row_body(entry, spec, wi, params, scale_rows=not (block_scale or prescaled),
                         prescaled=prescaled)
    loop = "prange" if parallel else "range"
    name = f"{entry}__w{int(weighted)}__p{int(parallel)}"
    options = "_PARALLEL_OPTIONS" if parallel else "_OPTIONS"
    args = "y, r" + (", w" if weighted else "") + _OUTPUTS[entry] + params
    reducing = entry in _REDUCING
    arrays = ["y", "r"] + (["w"] if weighted else []) + _ARRAY_OUTPUTS[entry]
    chunk = "_CHUNK"
    chunk_setup = []
    if spec.kind == "softmax":
        # probabilities for the block: in the gradient output when there is one
        chunk = "_SOFTMAX_ROWS"
        if not prescaled:
            factor = "np.ones(stop - start)"
        elif weighted:
            factor = "scale * w_c.astype(np.float64)"
        else:
            factor = "np.full(stop - start, scale)"
        chunk_setup = [
            "        p_c = gout_c" if writes_gradient else "        p_c = np.empty((stop - start, r.shape[1]))",
            "        lse = np.empty(stop - start)",
            f"        f_c = {factor}",
            "        _softmax_rows(r_c, p_c, lse, f_c)",
        ]
    if spec.prepare is not None:
        chunk_setup = [
            "        t_c = np.empty(stop - start)",
            "        for i in range(stop - start):",
            "            t_c[i] = _prepare(y_c[i], r_c[i])",
        ]
    # Each chunk is sliced and indexed from 0: numba then knows the index is
    # non-negative and the loop vectorises (indexing y[start + i] does not).
    body = [_ARRAY_INDEX.sub(r"\1_c[i", line) for line in body]
    # Every entry walks fixed-size chunks, serial and threaded alike, so that
    # both variants vectorise identically: results do not depend on threading.
    lines = [
        f"@njit(**{options})",
        f"def {name}({args}):",
        "    n = r.shape[0]",
        f"    nchunks = (n + {chunk} - 1) // {chunk}",
        *(["    partial = np.empty(nchunks)"] if reducing else []),
        f"    for c in {loop}(nchunks):",
        f"        start = c * {chunk}",
        f"        stop = min(start + {chunk}, n)",
        *[f"        {a}_c = {a}[start:stop]" for a in arrays],
        *chunk_setup,
        *(["        acc = 0.0"] if reducing else []),
        "        for i in range(stop - start):",
        _indent(body, 3),
        *(_block_scale_lines(entry) if block_scale else []),
    ]
    if reducing:
        lines += [
            "        partial[c] = acc",
            "    total = 0.0",
            "    for c in range(nchunks):",
            "        total += partial[c]",
            "    return total",
        ]
    return "\n".join(lines) + "\n"


def import_lines(spec, prepared=False):
    """Lines that make the per-sample functions of ``spec`` available as ``_value``, ``_gradient``, ...

    Shared by every template that generates kernels from a :class:`KernelSpec`.
    They take ``(y, r, *params)``: for a spec with ``prepare``, they are
    inlined wrappers that pass ``prepare(y, r)`` on, unless
    ``prepared=True`` (the loss kernels, which evaluate ``prepare`` in a loop
    of its own and call the functions with ``(y, r, t, *params)``).
    """
    lines = []
    wrap = spec.prepare is not None and not prepared
    for role, func in spec.functions().items():
        if spec.source is not None:
            if func != f"_{role}":
                lines.append(f"_{role} = {func}")
            continue
        py_func = getattr(func, "py_func", func)
        name = f"_{role}_prepared" if wrap and role != "prepare" else f"_{role}"
        lines.append(f"from {py_func.__module__} import {py_func.__qualname__} as {name}")
    if wrap:
        params = "".join(f", p{j}" for j in range(spec.n_params))
        lines.append("from sklearn_losses._config import SCALAR_OPTIONS as _SCALAR_OPTIONS")
        for role in spec.functions():
            if role != "prepare":
                lines += ["", "", "@njit(**_SCALAR_OPTIONS)", f"def _{role}(y, r{params}):",
                          f"    return _{role}_prepared(y, r, _prepare(y, r){params})"]
        lines.append("")
    if spec.source is not None:
        lines.insert(0, spec.source)
    return lines


HEADER = (
    "# Generated by sklearn_losses. Do not edit.",
    "import numpy as np",
    "from numba import prange",
    "from sklearn_losses._jit import njit",
    "from sklearn_losses._config import CHUNK_SIZE as _CHUNK",
    "from sklearn_losses._config import KERNEL_OPTIONS as _OPTIONS",
    "from sklearn_losses._config import PARALLEL_KERNEL_OPTIONS as _PARALLEL_OPTIONS",
)


def generate_source(spec):
    """Return the Python source of the kernel module for ``spec``."""
    entries = [e for e in ENTRIES if e != "gradient_hessian" or spec.has_hessian]
    parts = [
        *HEADER,
        "from sklearn_losses._config import SOFTMAX_CHUNK_ROWS as _SOFTMAX_ROWS",
        "from sklearn_losses.losses._math import softmax_rows as _softmax_rows",
        *import_lines(spec, prepared=True),
        "",
    ]
    for entry in entries:
        for weighted in (False, True):
            for parallel in (False, True):
                parts.append("\n" + _entry_source(entry, spec, weighted, parallel))
    return "\n".join(parts)


_lock = threading.RLock()
_memo = {}


def kernel_dir():
    """Directory of the generated kernel modules (and of numba's cache for them).

    ``SKLEARN_LOSSES_KERNEL_DIR`` if set, else ``$XDG_CACHE_HOME/sklearn_losses``
    (``~/.cache/sklearn_losses``), else a directory in the system's temporary
    directory. When a preferred directory cannot be created or written, the
    next one is used and a :class:`~sklearn_losses._jit.KernelCacheWarning`
    names the directory, once per process (kernels compiled into a temporary
    directory may not survive a reboot).
    """
    env = os.environ.get("SKLEARN_LOSSES_KERNEL_DIR")
    candidates = [Path(env)] if env else []
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(Path(cache_home) / "sklearn_losses" / "kernels")
    candidates.append(Path(tempfile.gettempdir()) / f"sklearn_losses-{os.getuid() if hasattr(os, 'getuid') else 'user'}")
    refused = []
    for path in candidates:
        if _writable_dir(path):
            if refused:
                warn_once(("kernel_dir", tuple(refused)),
                          f"sklearn_losses: the kernel cache directory {refused[0]} cannot be created or written; "
                          f"compiled kernels are kept in {path} instead. Set SKLEARN_LOSSES_KERNEL_DIR to a "
                          "writable directory to keep them where you want.")
            return path
        refused.append(str(path))
    raise OSError(f"sklearn_losses: no writable directory for compiled kernels (tried {', '.join(refused)}); "
                  "set SKLEARN_LOSSES_KERNEL_DIR to a writable directory.")


def _writable_dir(path):
    """Whether files can be created in ``path`` (tried, not read from the mode bits: root ignores those)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError:
        return False
    return True


def _read_bytes(path):
    try:
        return path.read_bytes()
    except OSError:
        return None


def _load_module(path, module_name):
    try:
        return _exec_module(path, module_name)
    except (ValueError, EOFError, ImportError) as error:  # a damaged bytecode file ("bad marshal data")
        for cached in path.parent.joinpath("__pycache__").glob(f"{path.stem}.*.pyc"):
            cached.unlink(missing_ok=True)
        warn_once(("damaged", str(path.parent)),
                  f"sklearn_losses: the bytecode of the generated kernel module {path} was damaged "
                  f"({type(error).__name__}: {error}); it is compiled again.")
        return _exec_module(path, module_name)


def _exec_module(path, module_name):
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    return module


class Kernels:
    """The generated kernels of one loss; ``get(entry, weighted, parallel)``."""

    def __init__(self, module):
        self._module = module

    def get(self, entry, weighted, parallel):
        return getattr(self._module, f"{entry}__w{int(weighted)}__p{int(parallel)}")

    def function(self, name):
        """A function of the generated module by name (kernels of other templates)."""
        return getattr(self._module, name)


def get_kernels(spec, name, template=generate_source):
    """Return the (memoised) :class:`Kernels` of ``spec``; compile nothing yet.

    ``template(spec)`` returns the source of the kernel module; the default
    generates the loss kernels. Other templates (the fused linear-model
    kernels of :mod:`sklearn_losses.solvers`, the smooth-loss SVM solver)
    reuse the same cache. The file name's fingerprint covers every package
    module the generated code imports, followed transitively, so that a
    change to any jitted function it reaches selects fresh kernels (numba's
    own cache would keep the old code).
    """
    key = (spec, template)
    with _lock:
        kernels = _memo.get(key)
        if kernels is not None:
            return kernels
        spec.check_signatures(f"loss {name!r}")
        source = template(spec)
        digest = hashlib.sha1((source + dependency_fingerprint(template, source)).encode()).hexdigest()[:20]
        stem = f"{name}_{digest}"
        path = kernel_dir() / f"{stem}.py"
        encoded = source.encode("utf-8")
        if _read_bytes(path) != encoded:  # missing, or damaged (garbage, truncated, not UTF-8)
            if path.exists():
                warn_once(("damaged", str(path.parent)),
                          f"sklearn_losses: the generated kernel file {path} was damaged; it is written again and "
                          "its kernels are compiled again.")
            # Write atomically: concurrent processes may generate the same file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(encoded)
            os.replace(tmp, path)
        kernels = Kernels(_load_module(path, f"sklearn_losses._generated.{stem}"))
        _memo[key] = kernels
        return kernels
