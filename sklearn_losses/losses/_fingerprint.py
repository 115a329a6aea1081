"""Fingerprints of generated kernels: everything their compiled code depends on.

numba's disk cache is keyed by the generated file and does not follow calls
into other modules, so the generated file's name carries a hash of its source,
of the template's module, of every package module the
generated code imports (followed transitively through the package's own
imports), of the numba version and of the compilation flags. An edit to any
jitted function a kernel reaches, in whichever module of the package, selects
fresh kernels.
"""

import hashlib
import re
import sys
from pathlib import Path

from .._config import KERNEL_OPTIONS

__all__ = ["dependency_files", "dependency_fingerprint"]

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_source_hashes = {}
_imports = {}


def _file_hash(path):
    path = str(path)
    if path not in _source_hashes:
        _source_hashes[path] = hashlib.sha1(Path(path).read_bytes()).hexdigest()
    return _source_hashes[path]


# ``from X import a, b`` or ``from X import (a,\n b)``, at any indentation. A
# regular expression rather than ``ast``: parsing the package's modules took
# 0.15 s of every process's first fit; a match inside a string only adds a
# dependency (a fingerprint that changes more often, never a stale kernel).
_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.M)


def _imported(text):
    """``(level, module, names)`` of every ``from`` import in ``text``."""
    for match in _FROM_IMPORT.finditer(text):
        names = [part.split(" as ")[0].strip() for part in match.group(3).strip("()").replace("\\", " ").split(",")]
        yield len(match.group(1)), match.group(2), [name for name in names if name.isidentifier()]


def _package_imports(path):
    """The files of the package's modules that the module at ``path`` imports (``from`` imports, at any depth
    of its code), read from its source."""
    path = Path(path).resolve()
    if path in _imports:
        return _imports[path]
    found = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    package = ".".join(path.relative_to(_PACKAGE_ROOT.parent).with_suffix("").parts[:-1]) \
        if path.is_relative_to(_PACKAGE_ROOT) else ""
    for level, module, names in _imported(text):
        if level:  # relative: from the module's package
            base = package.split(".")[: len(package.split(".")) - level + 1]
            module = ".".join([*base, module] if module else base)
        found += [f for f in _module_files(module, names) if f not in found]
    _imports[path] = found
    return found


def _module_files(module, names):
    """Files of ``module`` (and of its submodules named in ``names``) when they are part of the package."""
    if not module.startswith("sklearn_losses"):
        return []
    files = []
    for name in [module] + [f"{module}.{name}" for name in names]:
        candidate = _PACKAGE_ROOT.parent.joinpath(*name.split("."))
        for file in (candidate.with_suffix(".py"), candidate / "__init__.py"):
            if file.is_file():
                files.append(file.resolve())
    return files


def dependency_files(source):
    """Every package module the generated ``source`` depends on: the closure of its imports.

    numba's cache does not follow calls into other modules, so a kernel must be
    regenerated when any jitted function it reaches changes, in whichever
    module of the package it lives.
    """
    pending = []
    for level, module, names in _imported(source):
        if level == 0:
            pending += _module_files(module, names)
    seen = []
    while pending:
        file = pending.pop()
        if file in seen:
            continue
        seen.append(file)
        pending += _package_imports(file)
    return seen


def _numba_version():
    import numba  # loaded by now: the kernels are about to be compiled

    return numba.__version__


def dependency_fingerprint(template, source):
    # The generated kernels depend on the template's module, every package
    # module their code imports (transitively: a jitted function reaches only
    # its module's globals, bound by those imports), the compilation flags and
    # numba. Not on the other loss modules: an edit to one loss recompiles the
    # kernels that reach it, not every kernel.
    files = [(_PACKAGE_ROOT / "_config.py").resolve()]
    template_file = getattr(sys.modules.get(getattr(template, "__module__", "")), "__file__", None)
    for path in ([Path(template_file).resolve()] if template_file else []) + dependency_files(source):
        if path not in files:
            files.append(path)
    flags = repr(sorted((key, sorted(value) if isinstance(value, set) else value)
                        for key, value in KERNEL_OPTIONS.items()))
    digest = hashlib.sha1(f"{_numba_version()}|{sys.version}|{flags}".encode())
    for path in files:
        digest.update(_file_hash(path).encode())
    return digest.hexdigest()
