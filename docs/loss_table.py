"""Write the loss reference table from the registry's declared properties.

Each row: the registered name and class, the formula (the first ``math``
block of the class docstring), a plot of the loss and its gradient drawn
with :class:`sklearn_losses.plotting.LossShapeDisplay`, the target domain,
link, and the declared convex / differentiable / robust properties, the
structure (element-wise, row, batch, pairwise) and what the hessian is.
"""

import re
import textwrap
from pathlib import Path

from sklearn_losses import available_losses


def formula(cls):
    """The first ``.. math::`` of ``cls``'s docstring (inline or as a block), as one line of LaTeX."""
    doc = textwrap.dedent("\n".join((cls.__doc__ or "").splitlines()[1:])) + "\n"
    match = re.search(r"\.\. math::[ \t]*(.*)\n((?:[ \t]+\S.*\n)*)", doc)
    if match and not match.group(1).strip():  # a block: skip the blank line after the directive
        match = re.search(r"\.\. math::[ \t]*\n\n((?:[ \t]+\S.*\n)+)", doc)
        return " ".join(line.strip() for line in match.group(1).splitlines()) if match else ""
    if not match:
        return ""
    return " ".join(line.strip() for line in (match.group(1) + "\n" + match.group(2)).splitlines() if line.strip())


def _shape_image(info, directory):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_losses.plotting import LossShapeDisplay

    fig, axes = plt.subplots(1, 2, figsize=(4.0, 1.6))
    LossShapeDisplay.from_losses([info.name], ax=axes)
    for ax in axes:
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize=6)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    axes[0].set_title("loss", fontsize=7)
    axes[1].set_title("gradient", fontsize=7)
    fig.tight_layout()
    path = directory / f"shape_{info.name}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path.name


def write(path, images=True):
    """Write the table (and, with ``images``, one shape image per loss) to ``path``'s directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 14 28 22 12 6 6 6 6 7 7",
        "",
        "   * - loss",
        "     - formula",
        "     - loss and gradient",
        "     - target domain",
        "     - link",
        "     - convex",
        "     - differentiable",
        "     - robust",
        "     - structure",
        "     - hessian",
    ]
    for info in available_losses():
        p = info.properties
        tex = formula(info.cls)
        image = _shape_image(info, path.parent) if images else f"shape_{info.name}.png"
        lines += [
            f"   * - ``{info.name}``",
            "",
            f"       :class:`~sklearn_losses.losses.{info.cls.__name__}`",
            f"     - :math:`{tex}`" if tex else "     - (see the class)",
            f"     - .. image:: /generated/{image}",
            f"     - {p['target_domain']}",
            f"     - {p['link'].name}",
            f"     - {'yes' if p['convex'] else 'no'}",
            f"     - {'yes' if p['differentiable'] else 'no'}",
            f"     - {'yes' if p['robust'] else 'no'}",
            f"     - {p['structure']}" + (" (decomposable)" if p["decomposable"] else ""),
            f"     - {p['hessian']}",
        ]
    path.write_text("\n".join(lines) + "\n")
