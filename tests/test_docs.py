"""The documentation: the loss table follows the registry, and Sphinx builds with warnings as errors."""

import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_losses import available_losses

DOCS = Path(__file__).parent.parent / "docs"


def test_loss_table_lists_every_registered_loss(tmp_path):
    sys.path.insert(0, str(DOCS))
    try:
        import loss_table
    finally:
        sys.path.remove(str(DOCS))
    loss_table.write(tmp_path / "table.rst", images=False)  # the images are drawn by the docs build below
    text = (tmp_path / "table.rst").read_text()
    for info in available_losses():
        assert f"``{info.name}``" in text and f"shape_{info.name}.png" in text
    assert r"\ell(y, r) = \max(0, |y - r| - \epsilon)" in text  # formulas come from the docstrings


def test_docs_build_without_warnings(tmp_path):
    """The whole site, warnings as errors (the examples are run by test_examples.py, not again here)."""
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "myst_parser"):
        pytest.importorskip(module)
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-D", "plot_gallery=0",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    for page in ("index", "losses", "api", "user_guide", "choosing", "cli", "auto_examples/index"):
        assert (tmp_path / "html" / f"{page}.html").exists()
