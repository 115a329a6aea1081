"""Print the declared floor versions of the dependencies as pins (``numpy>=1.24`` -> ``numpy==1.24.*``).

Read from pyproject.toml: the core dependencies and the ``plot`` extra, so the
CI step that installs them checks exactly the floors the package declares.
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text())["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["plot"]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9]+(?:\.[0-9]+)*)\s*", requirement)
    if not match:
        sys.exit(f"floor_requirements: cannot read a floor from {requirement!r}")
    name, version = match.groups()
    print(f"{name}=={version}.*")
