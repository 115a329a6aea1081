"""Numerically stable scalar building blocks shared by the loss kernels.

numba on this platform has no vector maths library, so ``math.exp`` and
``math.log1p`` inside a loop are scalar library calls that stop SIMD
vectorisation. :func:`exp` and :func:`log1p_unit` are branch-free polynomial
versions (within 2 ulp for exp and 3 ulp for log1p, see
``tests/test_math.py``) that LLVM vectorises; the
rest are the usual stable compositions (log1p-exp, log-sum-exp, ...).
"""

import math
import struct

import llvmlite.ir as lir
import numba
import numpy as np
from numba import njit
from numba.core import types
from numba.extending import intrinsic

from .._config import SCALAR_OPTIONS

LOG2E = 1.4426950408889634
LN2 = 0.6931471805599453
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT2_M1 = 0.41421356237309503

if numba.config.DISABLE_JIT:  # pragma: no cover - exercised with NUMBA_DISABLE_JIT=1

    def _int64_as_float64(bits):
        return struct.unpack("<d", struct.pack("<Q", int(bits) & 0xFFFFFFFFFFFFFFFF))[0]

    def _fma(a, b, c):
        return a * b + c

    def _float64_as_int64(value):
        return struct.unpack("<q", struct.pack("<d", float(value)))[0]

else:

    @intrinsic
    def _int64_as_float64(typingctx, bits):
        """Reinterpret the bits of an int64 as a float64 (no conversion)."""
        if bits != types.int64:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], lir.DoubleType())

        return types.float64(types.int64), codegen

    # The scalar maths is inlined into kernels compiled with the ``reassoc``
    # fast-math flag, which lets LLVM regroup sums and products. An ``llvm.fma``
    # call is never regrouped, so the exact steps of the range reduction below
    # are written with it (it vectorises like any multiply-add).
    @intrinsic
    def _fma(typingctx, a, b, c):
        """a * b + c with a single rounding."""
        if not all(t == types.float64 for t in (a, b, c)):
            return None

        def codegen(context, builder, signature, args):
            return builder.fma(*args)

        return types.float64(types.float64, types.float64, types.float64), codegen

    @intrinsic
    def _float64_as_int64(typingctx, value):
        """Reinterpret the bits of a float64 as an int64 (no conversion)."""
        if value != types.float64:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], lir.IntType(64))

        return types.int64(types.float64), codegen


@njit(**SCALAR_OPTIONS)
def exp(x):
    """exp(x) for float64, vectorisable; inf, 0 and NaN as ``math.exp``."""
    xc = np.float64(x)
    xc = xc if xc < 709.9 else 709.9
    xc = xc if xc > -745.5 else -745.5
    k = np.floor(xc * LOG2E + 0.5)
    r = _fma(-k, _LN2_LO, _fma(-k, _LN2_HI, xc))  # Cody-Waite: x - k log(2)
    # Taylor polynomial of degree 13 on |r| <= ln(2)/2: truncation < 4e-18.
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    # Scale by 2**k in the exponent bits of p (no product that reassociation
    # could regroup into an overflowing 2**k); subnormal results are made
    # normal by 2**54 first and rounded once by the product with 2**-54.
    ki = np.int64(k)
    bits = _float64_as_int64(p)
    biased = ((bits >> 52) & 0x7FF) + ki
    normal = _int64_as_float64(bits + (ki << 52))
    subnormal = _int64_as_float64(bits + ((ki + 54) << 52)) * 5.551115123125783e-17
    result = normal if biased >= 1 else (subnormal if biased >= -53 else 0.0)
    result = result if biased <= 2046 else math.inf
    return result if x == x else x


@njit(**SCALAR_OPTIONS)
def _atanh_series(u):
    """2 atanh(u) for |u| < 0.172 (eleven terms reach double precision)."""
    s = u * u
    p = 1.0 / 21.0
    p = p * s + 1.0 / 19.0
    p = p * s + 1.0 / 17.0
    p = p * s + 1.0 / 15.0
    p = p * s + 1.0 / 13.0
    p = p * s + 1.0 / 11.0
    p = p * s + 1.0 / 9.0
    p = p * s + 1.0 / 7.0
    p = p * s + 1.0 / 5.0
    p = p * s + 1.0 / 3.0
    p = p * s + 1.0
    return 2.0 * u * p


@njit(**SCALAR_OPTIONS)
def _log1p_unit_parts(t):
    """(c, numerator, denominator) with log(1 + t) = c + 2 atanh(numerator / denominator).

    c = 0 and u = t / (2 + t) for t <= sqrt(2) - 1, else c = log(2) and
    u = (t - 1) / (t + 3); then |u| < 0.172 for t in [0, 1].
    """
    small = t <= _SQRT2_M1
    return (0.0 if small else LN2), (t if small else t - 1.0), (2.0 + t if small else t + 3.0)


@njit(**SCALAR_OPTIONS)
def log1p_unit(t):
    """log(1 + t) for t in [0, 1], vectorisable, with full relative accuracy."""
    offset, numerator, denominator = _log1p_unit_parts(t)
    return offset + _atanh_series(numerator / denominator)


@njit(**SCALAR_OPTIONS)
def log1p_unit_reciprocal(t):
    """(log(1 + t), 1 / (1 + t)) for t in [0, 1] from a single division.

    Divisions dominate the cost of vectorised loss kernels; both quotients are
    taken from one reciprocal of the product of their denominators.
    """
    offset, numerator, denominator = _log1p_unit_parts(t)
    one_plus = 1.0 + t
    inv = 1.0 / (one_plus * denominator)
    return offset + _atanh_series(numerator * one_plus * inv), denominator * inv


@njit(**SCALAR_OPTIONS)
def softplus(x):
    """log(1 + exp(x)), finite for every finite x."""
    return (x if x > 0.0 else 0.0) + log1p_unit(exp(-abs(x)))


@njit(**SCALAR_OPTIONS)
def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow."""
    e = exp(-abs(x))
    d = 1.0 / (1.0 + e)
    return d if x >= 0.0 else e * d


@njit(**SCALAR_OPTIONS)
def softplus_sigmoid(x):
    """(softplus(x), softplus(-x), sigmoid(x), sigmoid(-x)) from one exponential."""
    e = exp(-abs(x))
    lp, d = log1p_unit_reciprocal(e)
    pos = x >= 0.0
    sp = (x + lp) if pos else lp
    sm = lp if pos else (lp - x)
    sig = d if pos else e * d
    sig_m = e * d if pos else d
    return sp, sm, sig, sig_m


@njit(**SCALAR_OPTIONS)
def signed_exp_sum(s1, l1, s2, l2):
    """s1 * exp(l1) + s2 * exp(l2) for signs s1, s2 in {-1, 1}.

    Computed from the larger exponent, so that the result is +-inf (never NaN)
    when it overflows and cancellation is handled by ``expm1``.
    """
    if l1 < l2:
        s1, l1, s2, l2 = s2, l2, s1, l1
    if l1 == -math.inf:
        return 0.0
    d = l2 - l1
    if s1 == s2:
        factor = math.log1p(math.exp(d))
    else:
        f = -math.expm1(d)
        if f == 0.0:
            return 0.0
        factor = math.log(f)
    return s1 * exp(l1 + factor)


#: Decorator for the per-sample loss functions (module-level, disk-cached).
jit_scalar = njit(**SCALAR_OPTIONS)


@njit(**SCALAR_OPTIONS)
def expm1(x):
    """exp(x) - 1, accurate near 0, +inf (never an error) on overflow."""
    return math.expm1(x) if x < 700.0 else exp(x)


@njit(**SCALAR_OPTIONS)
def expm1_minus_x(x):
    """exp(x) - 1 - x without cancellation (a series for |x| < 0.1)."""
    if abs(x) < 0.1:
        p = 1.0 / 39916800.0
        p = p * x + 1.0 / 3628800.0
        p = p * x + 1.0 / 362880.0
        p = p * x + 1.0 / 40320.0
        p = p * x + 1.0 / 5040.0
        p = p * x + 1.0 / 720.0
        p = p * x + 1.0 / 120.0
        p = p * x + 1.0 / 24.0
        p = p * x + 1.0 / 6.0
        p = p * x + 0.5
        return p * x * x
    return expm1(x) - x


@njit(**SCALAR_OPTIONS)
def log_positive(x):
    """log(x) for normal positive x, vectorisable (within 2 ulp for x >= 1)."""
    bits = _float64_as_int64(np.float64(x))
    exponent = ((bits >> 52) & 0x7FF) - 1023
    mantissa = _int64_as_float64((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)  # in [1, 2)
    return exponent * LN2 + log1p_unit(mantissa - 1.0)


@njit(**SCALAR_OPTIONS)
def softmax_rows(z, p, lse, factor):
    """Softmax of each row of the C-contiguous block ``z``, times ``factor``, into ``p``.

    Row ``i`` of ``p`` receives ``factor[i] * softmax(z[i])`` and ``lse[i]``
    receives ``log(sum(exp(z[i])))``. Vectorised across the whole block rather
    than row by row: the exponentials run over the flattened block (no short
    per-row loops), and the row logs over the vector of row sums (which lie in
    [1, K], where ``log_positive`` is exact). The factor lets a kernel fold
    its gradient scale (and sample weights) into the normalisation pass.
    """
    rows, n_classes = z.shape
    shift = np.empty(rows * n_classes)
    half = n_classes // 2
    for i in range(rows):
        # row maximum with two independent chains (from both ends): half the latency
        m, m2 = z[i, 0], z[i, n_classes - 1]
        for k in range(1, half):
            a, b = z[i, k], z[i, n_classes - 1 - k]
            m = a if a > m else m
            m2 = b if b > m2 else m2
        m = m2 if m2 > m else m
        if n_classes % 2 == 1:
            m = z[i, half] if z[i, half] > m else m
        lse[i] = m
        for k in range(n_classes):
            shift[i * n_classes + k] = m
    flat_p = p.reshape(-1)
    flat_z = z.reshape(-1)
    for j in range(rows * n_classes):
        flat_p[j] = exp(flat_z[j] - shift[j])
    for i in range(rows):
        total = 0.0
        for k in range(n_classes):
            total += p[i, k]
        shift[i] = total
    for i in range(rows):
        lse[i] += log_positive(shift[i])
    for i in range(rows):
        inv = factor[i] / shift[i]
        for k in range(n_classes):
            p[i, k] *= inv
