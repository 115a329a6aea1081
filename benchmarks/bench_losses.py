"""Loss + gradient throughput: sklearn_losses vs plain NumPy vs scikit-learn's loss module.

Measures, in one run and on the same arrays:

* the memory-bandwidth floor: a threaded, fused read of ``y`` and ``raw`` and
  write of a gradient-sized array (nothing can do a loss+gradient pass faster);
* ``sklearn_losses``: ``loss.loss_gradient(y, raw, gradient_out=g, check_input=False)``
  (the call a solver makes: mean loss and its gradient, one fused pass) and the
  plain default call ``loss.loss_gradient(y, raw)`` (allocates, checks targets);
* plain NumPy: the same mean loss and gradient written as a NumPy user would;
* scikit-learn's private ``sklearn._loss`` module where it has the loss
  (``loss_gradient`` with preallocated outputs and the same thread count; it
  returns per-sample losses, i.e. it does not even reduce them);
* JIT cost: the first call in a fresh process with an empty cache, and with the
  cache warm;
* the effect of the numba settings (fast-math off, ``error_model="python"``).

Run:  python benchmarks/bench_losses.py            (about 2 minutes)
      python benchmarks/bench_losses.py --quick    (smaller arrays, fewer repeats)
"""

import os

# scikit-learn's kernels and numba's each start an OpenMP runtime; with the
# default wait policy the threads of one keep spinning after a parallel region
# and steal the two cores from the next contender. Set before any import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess
import sys
import tempfile
import time

import numba
import numpy as np
from numba import njit, prange

from sklearn_losses._reference import REFERENCE_LOSS_GRADIENTS
from sklearn_losses.losses import CrossEntropy, Focal, Huber, LogLoss


@njit(parallel=True, cache=True, fastmath=True)
def floor_elementwise(y, raw, out):
    for i in prange(raw.shape[0]):
        out[i] = y[i] - raw[i]


@njit(parallel=True, cache=True, fastmath=True)
def floor_rows(y, raw, out):
    for i in prange(raw.shape[0]):
        yi = y[i]
        for k in range(raw.shape[1]):
            out[i, k] = raw[i, k] - yi


def workloads(n, n_rows, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=n)
    y_reg = raw + rng.standard_t(3, size=n)
    y_bin = (rng.random(n) < 1 / (1 + np.exp(-raw))).astype(float)
    z = rng.normal(size=(n_rows, n_classes))
    y_cls = rng.integers(0, n_classes, size=n_rows).astype(float)
    return [
        ("huber", Huber(delta=1.0), y_reg, raw),
        ("log_loss", LogLoss(), y_bin, raw),
        ("focal", Focal(gamma=2.0), y_bin, raw),
        ("cross_entropy", CrossEntropy(), y_cls, z),
    ]


def sklearn_contender(name, y, raw, n_threads):
    try:
        from sklearn._loss import loss as sk
    except ImportError:  # pragma: no cover - private module
        return None
    if name == "huber":
        closs = sk.HuberLoss(delta=1.0)
    elif name == "log_loss":
        closs = sk.HalfBinomialLoss()
    elif name == "cross_entropy":
        closs = sk.HalfMultinomialLoss(n_classes=raw.shape[1])
    else:
        return None
    loss_out = np.empty(raw.shape[0])
    grad_out = np.empty_like(raw)
    return lambda: closs.loss_gradient(y, raw, loss_out=loss_out, gradient_out=grad_out, n_threads=n_threads)


_EVICT = np.empty(0)


def _evict_caches():
    """Write 320 MB (10x the last-level cache) so every call starts from memory."""
    global _EVICT
    if _EVICT.size == 0:
        _EVICT = np.empty(40_000_000)
    _EVICT[:] = 1.0


def time_interleaved(contenders, repeat):
    """Median and min seconds of each contender.

    Calls are interleaved (so that machine noise is shared) and each starts
    with the caches evicted (so that no contender profits from the last one).
    """
    for f in contenders.values():
        f()  # warm-up (and compilation)
    times = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, f in contenders.items():
            _evict_caches()
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    return {name: (float(np.median(t)), float(np.min(t))) for name, t in times.items()}


def run_throughput(n, n_rows, n_classes, repeat, include_references=True):
    threads = numba.get_num_threads()
    results = {}
    for name, loss, y, raw in workloads(n, n_rows, n_classes):
        g = np.empty_like(raw)
        floor = floor_rows if raw.ndim == 2 else floor_elementwise
        contenders = {
            "floor": lambda: floor(y, raw, g),
            "ours": lambda: loss.loss_gradient(y, raw, gradient_out=g, check_input=False),
        }
        if include_references:
            contenders["ours_default_call"] = lambda: loss.loss_gradient(y, raw)
            ref = REFERENCE_LOSS_GRADIENTS[name]
            contenders["numpy"] = lambda: ref(loss, y, raw)
            sk = sklearn_contender(name, y, raw, threads)
            if sk is not None:
                contenders["sklearn"] = sk
        results[name] = time_interleaved(contenders, repeat)
        if include_references:  # the fused pass agrees with the reference
            ours = loss.loss_gradient(y, raw)
            ref_value, ref_grad = REFERENCE_LOSS_GRADIENTS[name](loss, y, raw)
            assert np.isclose(ours[0], ref_value, rtol=1e-9), (name, ours[0], ref_value)
            assert np.allclose(ours[1], ref_grad, rtol=1e-9, atol=1e-18), name
    return results


_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from sklearn_losses.losses import CrossEntropy, Focal, Huber, LogLoss
t_import = time.perf_counter() - t0
n = int(sys.argv[1])
rng = np.random.default_rng(0)
raw = rng.normal(size=n); y = (raw > 0).astype(float)
z = rng.normal(size=(n // 10, 10)); yk = rng.integers(0, 10, size=n // 10).astype(float)
out = {"import_s": t_import}
for name, loss, yy, rr in (("huber", Huber(), raw + 0.5, raw), ("log_loss", LogLoss(), y, raw),
                           ("focal", Focal(), y, raw), ("cross_entropy", CrossEntropy(), yk, z)):
    t = time.perf_counter(); loss.loss_gradient(yy, rr); out[name] = time.perf_counter() - t
print(json.dumps(out))
"""


def run_compile_times(n):
    """First-call times in fresh processes: empty caches, then warm caches."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SKLEARN_LOSSES_KERNEL_DIR=cache, NUMBA_CACHE_DIR=cache)
        runs = {}
        for label in ("cold", "warm"):
            out = subprocess.run([sys.executable, "-c", _CHILD, str(n)], env=env, check=True,
                                 capture_output=True, text=True).stdout
            runs[label] = json.loads(out.strip().splitlines()[-1])
    return runs


def run_settings(n, n_rows, n_classes, repeat):
    """Our kernels under other numba settings, each in its own process and cache."""
    variants = {
        "default (fastmath subset, error_model=numpy)": {},
        "fastmath off": {"SKLEARN_LOSSES_FASTMATH": "off"},
        "error_model=python": {"SKLEARN_LOSSES_ERROR_MODEL": "python"},
    }
    out = {}
    for label, extra in variants.items():
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, SKLEARN_LOSSES_KERNEL_DIR=cache, NUMBA_CACHE_DIR=cache, **extra)
            code = (f"import json, bench_losses as b; print(json.dumps(b.run_throughput("
                    f"{n}, {n_rows}, {n_classes}, {repeat}, include_references=False)))")
            res = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                                 text=True, cwd=os.path.dirname(os.path.abspath(__file__)))
            out[label] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def _simd_level():
    """The host CPU as LLVM sees it, and its widest vector instructions (the ratios depend on it)."""
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features()
    widest = "AVX-512" if features.get("avx512f") else "AVX2" if features.get("avx2") else "SSE only"
    return f"{llvm.get_host_cpu_name()} ({widest})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="samples of the element-wise losses")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the cross-entropy workload")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="n=1e6, rows=1e5, repeat=5")
    parser.add_argument("--skip-compile", action="store_true")
    parser.add_argument("--skip-settings", action="store_true")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.rows, args.repeat = 1_000_000, 100_000, 5

    print(f"numba {numba.__version__}, CPU {_simd_level()}, {numba.get_num_threads()} threads, "
          f"threading layer {numba.config.THREADING_LAYER}; n={args.n:,}, "
          f"cross-entropy {args.rows:,} x {args.classes}; median of {args.repeat}\n")
    report = {"throughput": run_throughput(args.n, args.rows, args.classes, args.repeat)}
    header = (f"{'loss':14s} {'floor':>8s} {'ours':>8s} {'x floor':>8s} {'default':>8s} "
              f"{'numpy':>8s} {'x ours':>7s} {'sklearn':>8s} {'x ours':>7s}")
    for stat, index in (("median", 0), ("min", 1)):
        print(f"loss + gradient, milliseconds ({stat} of {args.repeat})\n" + header)
        for name, res in report["throughput"].items():
            ms = {k: v[index] * 1e3 for k, v in res.items()}
            sk = ms.get("sklearn")
            print(f"{name:14s} {ms['floor']:8.2f} {ms['ours']:8.2f} {ms['ours'] / ms['floor']:8.2f} "
                  f"{ms['ours_default_call']:8.2f} {ms['numpy']:8.1f} {ms['numpy'] / ms['ours']:7.1f} "
                  + (f"{sk:8.2f} {sk / ms['ours']:7.2f}" if sk else f"{'-':>8s} {'-':>7s}"))
        print()

    if not args.skip_compile:
        report["compile"] = run_compile_times(min(args.n, 1_000_000))
        print("\nfirst call in a fresh process (seconds; includes numba's one-off start-up on the first loss)")
        print(f"{'':6s} {'import':>7s} " + " ".join(f"{k:>13s}" for k in ("huber", "log_loss", "focal", "cross_entropy")))
        for label, r in report["compile"].items():
            print(f"{label:6s} {r['import_s']:7.2f} " + " ".join(f"{r[k]:13.3f}" for k in ("huber", "log_loss", "focal", "cross_entropy")))

    if not args.skip_settings:
        report["settings"] = run_settings(args.n, args.rows, args.classes, max(3, args.repeat // 3))
        print("\nnumba settings: ours / floor (median), each variant in its own process")
        print(f"{'variant':46s} " + " ".join(f"{k:>13s}" for k in report["throughput"]))
        for label, res in report["settings"].items():
            print(f"{label:46s} " + " ".join(
                f"{res[k]['ours'][0] / res[k]['floor'][0]:13.2f}" for k in report["throughput"]))

    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
