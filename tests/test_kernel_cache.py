"""The compiled-kernel cache: damaged files, unusable directories and concurrent processes.

Each case runs a fresh interpreter on a kernel directory of its own (the
damage must be met when the cache is read, at the first call in a process).
"""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numba
import pytest

pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no kernel cache without the JIT")

SCRIPT = """
import warnings
import numpy as np
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    from sklearn_losses.losses import Huber
    value, grad = Huber().loss_gradient(np.array([0.0, 3.0]), np.array([1.0, 0.0]))
assert abs(value - (0.5 + 2.5) / 2) < 1e-12, value
for w in caught:
    print("WARNING", type(w.category).__name__, w.category.__name__, w.message)
print("OK")
"""


def _run(kernel_dir, env_dir=None):
    env = dict(os.environ, SKLEARN_LOSSES_KERNEL_DIR=str(env_dir or kernel_dir))
    env.pop("NUMBA_CACHE_DIR", None)  # numba's files beside the kernels, where these tests look for them
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK"), result.stdout
    return [line for line in result.stdout.splitlines() if line.startswith("WARNING")]


def _files(kernel_dir, pattern):
    return sorted(Path(kernel_dir).rglob(pattern))


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """A kernel directory after one run (sources and numba's index and data files written)."""
    path = tmp_path_factory.mktemp("kernels")
    assert _run(path) == []
    assert _files(path, "huber_*.py") and _files(path, "*.nbi") and _files(path, "*.nbc")
    return path


def _copy(source, tmp_path):
    import shutil

    target = tmp_path / "kernels"
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize("damage", ["source not UTF-8", "index garbage", "data truncated", "data garbage",
                                    "data a string", "data a wrong tuple"])
def test_a_damaged_cache_file_is_discarded_recompiled_and_warned_once(warm, tmp_path, damage):
    kernel_dir = _copy(warm, tmp_path)
    if damage == "source not UTF-8":
        targets = _files(kernel_dir, "huber_*.py")
        for path in targets:
            path.write_bytes(b"\xff\xfe not python \x80\x81" + path.read_bytes()[:100])
    elif damage == "index garbage":
        targets = _files(kernel_dir, "*.nbi")
        for path in targets:
            path.write_bytes(b"\x80\x04garbage" + os.urandom(64))
    elif damage.startswith("data a"):  # garbage that unpickles (random bytes sometimes do): not a compile result
        targets = _files(kernel_dir, "*.nbc")
        for path in targets:
            path.write_bytes(pickle.dumps("x" * 14 if damage == "data a string" else (1,) * 11))
    else:
        targets = _files(kernel_dir, "*.nbc")
        for path in targets:
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2] if damage == "data truncated" else os.urandom(len(data)))
    warnings = _run(kernel_dir)
    assert len(warnings) == 1, warnings
    assert "KernelCacheWarning" in warnings[0] and "damaged" in warnings[0]
    assert _run(kernel_dir) == []  # repaired: the next process reads the cache silently


def test_an_uncreatable_kernel_directory_warns_once_naming_it_and_the_variable(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    env_dir = blocker / "kernels"  # cannot be created, even by root
    home = tmp_path / "home"
    env = dict(os.environ, SKLEARN_LOSSES_KERNEL_DIR=str(env_dir), XDG_CACHE_HOME=str(home))
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in result.stdout.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1, warnings
    assert str(env_dir) in warnings[0] and "SKLEARN_LOSSES_KERNEL_DIR" in warnings[0]
    assert _files(home, "huber_*.py")  # the next candidate was used


def test_concurrent_processes_on_an_empty_cache_all_succeed(tmp_path):
    env = dict(os.environ, SKLEARN_LOSSES_KERNEL_DIR=str(tmp_path))
    processes = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        assert out.strip().endswith("OK") and "WARNING" not in out, out
    assert not _files(tmp_path, "*.tmp")  # no temporary file left behind
    assert _run(tmp_path) == []


def test_fingerprints_follow_every_package_module_a_kernel_reaches():
    """numba's cache does not follow calls into other modules: the kernel file's fingerprint must.

    The smooth-loss SVM solver calls svm/_smo.py, which calls solvers/dcd.py
    (``_optimal_set``) and losses/_math.py: an edit to any of them selects new kernels.
    """
    from sklearn_losses.losses import get_loss
    from sklearn_losses.losses import _fingerprint
    from sklearn_losses.losses._fingerprint import _PACKAGE_ROOT, dependency_files, dependency_fingerprint
    from sklearn_losses.svm._smooth import smooth_source

    spec = get_loss("log_loss").kernel_spec
    source = smooth_source(spec)
    files = {p.relative_to(_PACKAGE_ROOT).as_posix() for p in dependency_files(source)}
    assert {"svm/_smo.py", "solvers/dcd.py", "losses/_math.py", "losses/binary.py", "_jit.py"} <= files
    assert "linear_model/_base.py" not in files  # estimators are not dependencies of kernels
    # the fingerprint changes with the source of a module reached only indirectly
    before = dependency_fingerprint(smooth_source, source)
    dcd = next(p for p in dependency_files(source) if p.name == "dcd.py")
    _fingerprint._source_hashes[str(dcd)] = "edited"
    try:
        assert dependency_fingerprint(smooth_source, source) != before
    finally:
        del _fingerprint._source_hashes[str(dcd)]
