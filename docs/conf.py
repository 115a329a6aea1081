"""Sphinx configuration of the sklearn_losses documentation.

Build: ``python -m sphinx -W -b html docs docs/_build/html`` (add
``-D plot_gallery=0`` to skip running the examples). The loss reference table
(``generated/loss_table.rst``) is written from the registry at every build,
so it cannot drift from the code.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import loss_table  # noqa: E402

project = "sklearn_losses"
author = "the sklearn_losses developers"
copyright = "2026, the sklearn_losses developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
root_doc = "index"
templates_path = ["_templates"]
html_theme = "alabaster"
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
myst_heading_anchors = 3
intersphinx_mapping = {}  # offline builds: no inventories are fetched
# docstrings refer to scikit-learn, scipy and numpy objects that have no
# inventory offline; such references render as text
nitpicky = False
suppress_warnings = ["myst.xref_missing"]

sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/",  # run every example
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
}
os.environ.setdefault("MPLBACKEND", "Agg")


def setup(app):
    app.connect("builder-inited", lambda app: loss_table.write(HERE / "generated" / "loss_table.rst"))
