"""Numerically stable scalar building blocks shared by the loss kernels.

numba on this platform has no vector maths library, so ``math.exp`` and
``math.log1p`` inside a loop are scalar library calls that stop SIMD
vectorisation. :func:`exp`, :func:`log1p_unit` and :func:`log_positive` are
branch-free polynomial versions (exp within 1 ulp, the logarithms within 2 ulp,
see ``tests/test_math.py``) that LLVM vectorises with AVX2 as well as AVX-512:
they use no float/int64 conversion (AVX2 has none, and LLVM would convert one
lane at a time) and evaluate their polynomials in Estrin's scheme, because the
loss kernels are bound by the latency of these chains rather than by the number
of operations. The rest are the usual stable compositions (log1p-exp,
log-sum-exp, ...).
"""

import math
import struct

import numpy as np

from .._jit import DISABLE_JIT, njit, on_materialise
from .._config import SCALAR_OPTIONS

LOG2E = 1.4426950408889634
LN2 = 0.6931471805599453
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT2_M1 = 0.41421356237309503
_ROUND_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds |v| < 2**51 to an integer
_ROUND_SHIFT_BITS = 0x4338000000000000  # its bits; the integer sits in the low bits
_TWO52_BITS = 0x4330000000000000  # bits of 2**52
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # bits of sqrt(1/2)

if DISABLE_JIT:  # pragma: no cover - exercised with NUMBA_DISABLE_JIT=1

    def _int64_as_float64(bits):
        return struct.unpack("<d", struct.pack("<Q", int(bits) & 0xFFFFFFFFFFFFFFFF))[0]

    def _fma(a, b, c):
        return a * b + c

    def _float64_as_int64(value):
        return struct.unpack("<q", struct.pack("<d", float(value)))[0]

    def _mul_in_order(a, b):
        return a * b

else:

    @on_materialise  # intrinsics need numba: defined when it is loaded, before anything is compiled
    def _define_intrinsics():
        import llvmlite.ir as lir
        from numba.core import types
        from numba.extending import intrinsic

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

        @intrinsic
        def _mul_in_order(typingctx, a, b):
            """a * b as a product that fast-math reassociation leaves in place.

            numba adds its fast-math flags only to instructions that have none;
            this product carries ``contract`` alone, so ``(a * b) * c`` is never
            regrouped through it.
            """
            if not (a == types.float64 and b == types.float64):
                return None

            def codegen(context, builder, signature, args):
                return builder.fmul(args[0], args[1], flags=("contract",))

            return types.float64(types.float64, types.float64), codegen

        globals().update(_int64_as_float64=_int64_as_float64, _fma=_fma, _float64_as_int64=_float64_as_int64,
                         _mul_in_order=_mul_in_order)


# Polynomial coefficients, increasing order: Chebyshev fits (near-minimax) made with
# mpmath at 50 digits, ``mpmath.chebyfit(f, interval, degree + 1)``, rounded to double:
#   _EXP_Q:   f(r) = (exp(r) - 1 - r - r**2 / 2) / r**3 on |r| <= log(2) / 2, degree 8
#             (error of exp below 3e-17 relative; the Taylor series needs degree 10);
#   _ATANH_Q: f(s) = (atanh(u) / u - 1) / s with s = u**2 on |u| <= 0.17158, degree 6
#             (error below 5e-18 relative; the Taylor series needs degree 9).
_EXP_Q = (0.16666666666666666, 0.041666666666651364, 0.008333333333332157, 0.0013888888905871347,
          0.0001984126985433077, 2.4801536409064087e-05, 2.7557280082684685e-06,
          2.761379555451986e-07, 2.509554598170022e-08)
_ATANH_Q = (0.3333333333333335, 0.19999999999949727, 0.1428571431299928, 0.1111110556551426,
            0.0909144469983886, 0.07665856239690651, 0.07308281211052323)


@njit(**SCALAR_OPTIONS)
def _exp_reduced(r):
    """exp(r) for |r| <= log(2)/2, within 1 ulp.

    1 + r + r^2/2 are exact; the rest is r^3 times a degree-8 fit evaluated in
    Estrin's scheme (a tree of depth 4 instead of a chain of 8 dependent
    multiply-adds), added last.
    """
    c0, c1, c2, c3, c4, c5, c6, c7, c8 = _EXP_Q
    r2 = r * r
    r4 = r2 * r2
    low = (c0 + r * c1) + r2 * (c2 + r * c3)
    high = ((c4 + r * c5) + r2 * (c6 + r * c7)) + r4 * c8
    q = low + r4 * high
    return 1.0 + (r + r2 * (0.5 + r * q))


@njit(**SCALAR_OPTIONS)
def _exp_parts(x):
    """(p, k, k_int) with exp(x) = p 2**k, p in [0.7, 1.42], for |x| < 746 (k exact as float and int).

    k = round(x / log 2) is read from the low bits of ``x / log 2 + 1.5 * 2**52``:
    AVX2 has no float-to-int64 conversion, which LLVM would do one lane at a time.
    """
    shifted = _fma(x, LOG2E, _ROUND_SHIFT)  # 1.5 * 2**52 + round(x / log 2)
    k = shifted - _ROUND_SHIFT
    r = _fma(-k, _LN2_LO, _fma(-k, _LN2_HI, x))  # Cody-Waite: x - k log(2)
    return _exp_reduced(r), k, _float64_as_int64(shifted) - _ROUND_SHIFT_BITS


@njit(**SCALAR_OPTIONS)
def exp(x):
    """exp(x) for float64, vectorisable; inf, 0 and NaN as ``math.exp``.

    Every step is a SIMD operation on AVX2 as well as AVX-512 (see
    ``_exp_parts``); 2**k is applied as two normal powers of two, 2**(k // 2)
    and 2**(k - k // 2), so overflow, subnormal results and underflow come out
    of ordinary rounding instead of compares and selects.
    """
    xc = np.float64(x)
    xc = 709.9 if xc > 709.9 else xc  # clamps written so that NaN passes through
    xc = -745.5 if xc < -745.5 else xc
    p, k, k_int = _exp_parts(xc)
    half_int = _float64_as_int64(np.floor(0.5 * k) + _ROUND_SHIFT) - _ROUND_SHIFT_BITS
    first = _int64_as_float64((half_int + 1023) << 52)
    second = _int64_as_float64((k_int - half_int + 1023) << 52)
    # the order of the two products matters (2**k itself may not be a double)
    return _mul_in_order(p * first, second)


@njit(**SCALAR_OPTIONS)
def exp_normal(x):
    """exp(x) for |x| <= 708, where exp(x) is a normal number: no clamps, one scaling."""
    p, k, k_int = _exp_parts(np.float64(x))
    return p * _int64_as_float64((k_int + 1023) << 52)


@njit(**SCALAR_OPTIONS)
def _atanh_series(u):
    """2 atanh(u) for |u| <= 0.17158 (the reduced arguments of the logarithms).

    2u (1 + s q(s)) with s = u^2 and q a degree-6 fit evaluated in Estrin's scheme.
    """
    d0, d1, d2, d3, d4, d5, d6 = _ATANH_Q
    s = u * u
    s2 = s * s
    s4 = s2 * s2
    q = ((d0 + s * d1) + s2 * (d2 + s * d3)) + s4 * ((d4 + s * d5) + s2 * d6)
    two_u = 2.0 * u
    return two_u + two_u * (s * q)


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
    return softplus_sigmoid_from(x, exp(-abs(x)))


@njit(**SCALAR_OPTIONS)
def softplus_sigmoid_from(x, e):
    """:func:`softplus_sigmoid` given ``e = exp(-|x|)``."""
    lp, d = log1p_unit_reciprocal(e)
    sp = (x if x > 0.0 else 0.0) + lp  # max(x, 0) + log1p(exp(-|x|)): a max, no select
    sm = (-x if x < 0.0 else 0.0) + lp
    pos = x >= 0.0
    ed = e * d
    return sp, sm, (d if pos else ed), (ed if pos else d)


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


#: 1/k! for k = 15, 14, ..., 2: the series of exp(x) - 1 - x (Horner order).
_EXPM1_MINUS_X_SERIES = tuple(1.0 / math.factorial(k) for k in range(15, 1, -1))
_E15, _E14, _E13, _E12, _E11, _E10, _E9, _E8, _E7, _E6, _E5, _E4, _E3, _E2 = _EXPM1_MINUS_X_SERIES


@njit(**SCALAR_OPTIONS)
def expm1_minus_x(x):
    """exp(x) - 1 - x without cancellation, vectorisable; +inf at x = +inf (not inf - inf), NaN for NaN.

    For |x| < 1/2 the Taylor series to x**15 (truncation below 1e-17
    relative); elsewhere ``exp(x) - 1 - x``, whose value is at least 0.1:
    within 2e-15 relative (10 ulp, just beyond 1/2; ``math.expm1`` would
    give 2 ulp there). Both are computed and one is selected, with no call
    to ``math.expm1``, so that loops over it vectorise (it was a tenth of
    the speed of the loss's gradient in the Poisson deviance).
    """
    p = _E15
    p = p * x + _E14
    p = p * x + _E13
    p = p * x + _E12
    p = p * x + _E11
    p = p * x + _E10
    p = p * x + _E9
    p = p * x + _E8
    p = p * x + _E7
    p = p * x + _E6
    p = p * x + _E5
    p = p * x + _E4
    p = p * x + _E3
    p = p * x + _E2
    series = p * x * x
    e = exp(x)
    direct = e if x > 50.0 else e - 1.0 - x  # 1 + x is below half an ulp of exp(x) beyond 50 (and inf - inf)
    return series if abs(x) < 0.5 else direct


@njit(**SCALAR_OPTIONS)
def log_positive(x):
    """log(x) for normal positive x, vectorisable, within 2 ulp.

    x = 2**e m with m in [sqrt(1/2), sqrt(2)) (the mantissa is re-centred on 1
    in the bits, as in fdlibm), then log(x) = e log(2) + 2 atanh((m - 1) / (m + 1)):
    no cancellation near x = 1 and no select between ranges.
    """
    bits = _float64_as_int64(np.float64(x)) + (0x3FF0000000000000 - _SQRT_HALF_BITS)
    mantissa = _int64_as_float64((bits & 0xFFFFFFFFFFFFF) + _SQRT_HALF_BITS)
    t = mantissa - 1.0  # exact (Sterbenz)
    # the biased exponent e as the double 2**52 + e (no int-to-float conversion: see ``exp``)
    exponent = _int64_as_float64(((bits >> 52) & 0x7FF) | _TWO52_BITS) - (4503599627370496.0 + 1023.0)
    # a reassociated (2**52 + e - 2**52 - 1023) * log(2) would lose e to rounding
    return _mul_in_order(exponent, LN2) + _atanh_series(t / (2.0 + t))


#: Rows whose scores all lie in [-SOFTMAX_DIRECT, SOFTMAX_DIRECT] need no shift
#: by their maximum: exp stays within [1e-130, 2e130], far from overflow and
#: from subnormal numbers, and the row sums of any realistic K cannot overflow.
SOFTMAX_DIRECT = 300.0


@njit(**SCALAR_OPTIONS)
def softmax_rows(z, p, lse, factor):
    """Softmax of each row of the C-contiguous block ``z``, times ``factor``, into ``p``.

    Row ``i`` of ``p`` receives ``factor[i] * softmax(z[i])`` and ``lse[i]``
    receives ``log(sum(exp(z[i])))``. Vectorised across the whole block rather
    than row by row: the exponentials run over the flattened block (no short
    per-row loops), and the row logs over the vector of row sums. When every
    score of the block lies within +-``SOFTMAX_DIRECT`` the exponentials are
    taken unshifted (one vectorised range check replaces K-long maximum loops
    per row); otherwise each row is shifted by its maximum, so its sum lies in
    [1, K]. The factor lets a kernel fold its gradient scale (and sample
    weights) into the normalisation pass.

    Returns the block the per-row functions then receive as ``r``: ``z``
    itself, or the shifted rows ``z[i] - max(z[i])`` with ``lse[i]`` the
    log-sum-exp of the shifted row (in [0, log K]). Softmax losses are
    invariant to shifting a row, and in shifted coordinates ``lse - r[k]``
    keeps its precision at any magnitude (``m + log(s) - z[k]`` with ``|m|``
    at 1e16 loses ``log(s)`` entirely). The shifted rows have ``z``'s dtype
    (float32 scores: differences rounded to float32); the probabilities are
    computed from the float64 differences.
    """
    rows, n_classes = z.shape
    flat_p = p.reshape(-1)
    flat_z = z.reshape(-1)
    outside = 0
    for j in range(rows * n_classes):
        outside += 0 if abs(flat_z[j]) <= SOFTMAX_DIRECT else 1  # NaN counts as outside
    sums = np.empty(rows)
    if outside == 0:
        for j in range(rows * n_classes):
            flat_p[j] = exp_normal(flat_z[j])
        lse[:] = 0.0
    else:
        shift = np.empty(rows * n_classes)
        shifted = np.empty(rows * n_classes, dtype=z.dtype)  # z's dtype: one block type for both paths
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
            for k in range(n_classes):
                shift[i * n_classes + k] = m
                shifted[i * n_classes + k] = z[i, k] - m
        lse[:] = 0.0
        for j in range(rows * n_classes):
            flat_p[j] = exp(flat_z[j] - shift[j])  # in float64 also for float32 scores
    for i in range(rows):
        total = 0.0
        for k in range(n_classes):
            total += p[i, k]
        sums[i] = total
    for i in range(rows):
        lse[i] += log_positive(sums[i])
    for i in range(rows):
        inv = factor[i] / sums[i]
        for k in range(n_classes):
            p[i, k] *= inv
    if outside == 0:
        return z
    return shifted.reshape(rows, n_classes)
