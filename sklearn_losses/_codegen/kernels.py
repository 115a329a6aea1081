"""The loss kernels: every array variant generated from one loss's per-sample functions.

All kernels walk fixed-size chunks of samples, slicing each chunk so the inner
loop vectorises, and add per-chunk partial sums in order: a result does not
depend on the number of threads. Softmax kernels compute the probabilities of
a whole chunk at once (``softmax_rows``), so the exponentials vectorise across
rows instead of running K at a time. Loss hyperparameters are runtime scalar
arguments, never compile-time constants.
"""

import re

from . import HEADER, import_lines, loss_gradient_lines, param_list

__all__ = ["ENTRIES", "generate_source"]

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
        lines = [f"_gradient_hessian(y[i], r[i], gout[i]{lse_arg}, hout[i]{params})"]
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
    params = param_list(spec.n_params)
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
            "        rs_c = _softmax_rows(r_c, p_c, lse, f_c)  # the rows, shifted where a shift was needed",
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
    if spec.kind == "softmax":
        body = [line.replace("r_c[i", "rs_c[i") for line in body]
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


