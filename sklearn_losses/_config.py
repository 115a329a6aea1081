"""Numba compilation settings, kept in one place.

Every jitted function of the package takes its options from here, so a change of
flags (or a switch to debug mode) is one edit.

Notes on the choices (measured on the project's reference machine, see
``benchmarks/bench_losses.py``):

* ``error_model="numpy"``: with numba's default (``"python"``) every division
  carries a zero check, which blocks SIMD vectorisation of the loops.
* Scalar maths (``SCALAR_OPTIONS``) uses the fast-math flags ``contract`` (fused
  multiply-add), ``arcp`` and ``nsz`` only. It deliberately omits ``reassoc``,
  which would let LLVM undo the exact order of operations that range reductions
  (``exp``, ``log1p``) depend on, and ``nnan``/``ninf``, which would remove the
  NaN and infinity tests that keep the kernels stable at extreme inputs.
* Array kernels (``KERNEL_OPTIONS``) add ``reassoc`` so that the per-chunk
  reductions vectorise. Reductions are computed over fixed-size chunks whose
  partial sums are added in a fixed order, so a kernel's result is the same
  bits whatever the number of threads (tested for 1, 2 and 4 threads and
  every registered loss). Serial and threaded kernels (chosen by the array's
  size, :func:`parallel_threshold`) agree to rounding (a few ulp), not bit
  for bit: numba optimises threaded code loaded from its disk cache
  differently from freshly compiled code (numba#10617).
"""

import os

__all__ = [
    "CHUNK_SIZE",
    "SOFTMAX_CHUNK_ROWS",
    "KERNEL_OPTIONS",
    "LINEAR_BLOCK_BYTES",
    "PARALLEL_KERNEL_OPTIONS",
    "PARALLEL_TREE_OPTIONS",
    "SCALAR_OPTIONS",
    "TREE_OPTIONS",
    "parallel_threshold",
]

SCALAR_FASTMATH = frozenset({"contract", "arcp", "nsz"})
KERNEL_FASTMATH = frozenset({"reassoc", "contract", "arcp", "nsz"})

# Overrides for measuring the settings (benchmarks/bench_losses.py); read once
# at import: SKLEARN_LOSSES_FASTMATH=off, SKLEARN_LOSSES_ERROR_MODEL=python.
if os.environ.get("SKLEARN_LOSSES_FASTMATH", "on") == "off":
    SCALAR_FASTMATH = KERNEL_FASTMATH = frozenset()
ERROR_MODEL = os.environ.get("SKLEARN_LOSSES_ERROR_MODEL", "numpy")

# The per-sample maths is inlined at numba IR level into the array kernels
# (``inline="always"``): LLVM alone does not inline exp/log1p-sized helpers,
# and a call in the loop stops vectorisation (log loss: 92 ms -> 9 ms on 1e7).
# Inlined code is compiled with the kernel's flags, ``reassoc`` included.
SCALAR_OPTIONS = dict(
    nogil=True, cache=True, fastmath=set(SCALAR_FASTMATH), error_model=ERROR_MODEL, inline="always"
)
KERNEL_OPTIONS = dict(
    nogil=True, cache=True, fastmath=set(KERNEL_FASTMATH), error_model=ERROR_MODEL
)
PARALLEL_KERNEL_OPTIONS = dict(KERNEL_OPTIONS, parallel=True)

# The tree kernels of the gradient boosting (histograms, split search, row
# partitions, prediction) add numbers in a fixed order without fast-math, so a
# fitted ensemble is the same bits whatever the number of threads.
TREE_OPTIONS = dict(nogil=True, cache=True, error_model=ERROR_MODEL)
PARALLEL_TREE_OPTIONS = dict(TREE_OPTIONS, parallel=True)

#: Number of samples summed serially into one partial sum. The partial sums are
#: then added in order, which makes every reduction independent of threading.
CHUNK_SIZE = 4096

#: Rows per block of the softmax kernels (their scratch stays in the L2 cache).
SOFTMAX_CHUNK_ROWS = 1024

_DEFAULT_PARALLEL_THRESHOLD = 200_000


def parallel_threshold():
    """Number of array elements from which the threaded kernels are used.

    Set the environment variable ``SKLEARN_LOSSES_PARALLEL_THRESHOLD`` to change
    it (``0`` always uses the threaded kernels). The serial and threaded
    kernels agree to a few ulp; the number of threads changes no bit.
    """
    value = os.environ.get("SKLEARN_LOSSES_PARALLEL_THRESHOLD")
    if value is None:
        return _DEFAULT_PARALLEL_THRESHOLD
    return int(value)


#: Bytes of rows of X per cache block of the fused linear-model kernels: a
#: block's raw predictions and gradient contributions are computed while the
#: block is in the L2 cache, so X is read from memory once per evaluation.
LINEAR_BLOCK_BYTES = 64 * 1024
