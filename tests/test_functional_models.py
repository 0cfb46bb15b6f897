"""The bit-accurate unit models of accsim.functional against independent references:
NumPy float16 where NumPy is exact (one multiply, one add), exact rational arithmetic
(fractions.Fraction with Python's round-half-even) everywhere else."""
from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest

from accsim.functional import fp, int8, systolic_ws
from accsim.functional.timing import UNIT_TIMING

pytestmark = pytest.mark.unit


def _rational(bits: int, fmt=fp.FP16):
    """Exact value of finite `bits`, via NumPy (an independent decoder)."""
    dtype = np.float16 if fmt is fp.FP16 else np.float32
    view = np.uint16 if fmt is fp.FP16 else np.uint32
    return Fraction(float(np.array([bits], view).view(dtype)[0]))


def _round_rational(value: Fraction, fmt=fp.FP16) -> int:
    """RNE of an exact rational to `fmt` without the model's integer code: pick the
    binade, scale to an integer significand, let round() break ties to even."""
    dtype, view = (np.float16, np.uint16) if fmt is fp.FP16 else (np.float32, np.uint32)
    if value == 0:
        return 0
    sign = value < 0
    magnitude = abs(value)
    exponent = magnitude.numerator.bit_length() - magnitude.denominator.bit_length()
    if Fraction(2) ** exponent > magnitude:
        exponent -= 1                                     # now 2**exponent <= magnitude < 2**(exponent+1)
    exponent = max(exponent, fmt.lsb_exponent + fmt.fraction_bits)   # subnormals: fixed step
    step = Fraction(2) ** (exponent - fmt.fraction_bits)
    significand = round(magnitude / step)                 # ties to even
    rounded = significand * step
    max_finite = (2 - Fraction(2) ** -fmt.fraction_bits) * Fraction(2) ** fmt.bias
    if rounded > max_finite:
        bits = fmt.inf_bits
    else:
        bits = int(np.array([float(rounded)], dtype).view(view)[0])
    return bits | (fmt.sign_bit if sign else 0)


def _finite16(r: random.Random) -> int:
    while True:
        bits = r.getrandbits(16)
        if (bits >> 10) & 0x1F != 0x1F:
            return bits


def _numpy16(bits):
    return np.array(bits, np.uint16).view(np.float16)


def _same(model_bits, numpy_values):
    numpy_bits = numpy_values.view(np.uint16).astype(int)
    model_bits = np.array(model_bits)
    both_nan = np.isnan(numpy_values) & (model_bits & 0x7FFF > 0x7C00)
    return (model_bits == numpy_bits) | both_nan


def test_multiply_matches_numpy_on_random_bit_patterns():
    """NumPy multiplies float16 in float32 (exact for a product of two float16) and rounds
    once: an exact RNE reference, including NaN, inf and subnormals."""
    r = random.Random(1)
    a = [r.getrandbits(16) for _ in range(20000)]
    b = [r.getrandbits(16) for _ in range(20000)]
    model = [fp.fp16_mul(x, y) for x, y in zip(a, b)]
    with np.errstate(all="ignore"):
        reference = _numpy16(a) * _numpy16(b)
    assert _same(model, reference).all()


def test_add_matches_numpy_on_random_bit_patterns():
    """float16 + float16 through float32 is double rounding with 24 >= 2*11 + 2 bits,
    which is innocuous: NumPy's sum is the correctly rounded one."""
    r = random.Random(2)
    a = [r.getrandbits(16) for _ in range(20000)]
    c = [r.getrandbits(16) for _ in range(20000)]
    model = [fp.fp16_add(x, y) for x, y in zip(a, c)]
    with np.errstate(all="ignore"):
        reference = _numpy16(a) + _numpy16(c)
    assert _same(model, reference).all()


@pytest.mark.parametrize("accumulator", ["fp16", "fp32"])
def test_fused_multiply_add_matches_exact_rationals(accumulator):
    fmt = fp.FORMATS[accumulator]
    r = random.Random(3)
    for index in range(6000):
        a, b = _finite16(r), _finite16(r)
        if accumulator == "fp16":
            c = _finite16(r) if index % 3 else fp.fp16_mul(a, b) ^ 0x8000    # cancellation
            if c & 0x7FFF == 0x7C00:
                continue        # the product overflowed; special values have their own test
        else:
            c = int(np.array([r.uniform(-4, 4) * 2.0 ** r.randint(-30, 20)], np.float32).view(np.uint32)[0])
        exact = _rational(a) * _rational(b) + _rational(c, fmt)
        got = fp.fma(a, b, c, fp.FP16, fmt)
        if exact == 0:
            continue        # zero signs are checked in test_signed_zeros
        assert got == _round_rational(exact, fmt), (hex(a), hex(b), hex(c))


def test_dot_accumulate_matches_exact_rationals():
    r = random.Random(4)
    for _ in range(800):
        a = [_finite16(r) for _ in range(16)]
        b = [_finite16(r) for _ in range(16)]
        acc = _finite16(r)
        exact = sum(_rational(x) * _rational(y) for x, y in zip(a, b)) + _rational(acc)
        if exact != 0:
            assert fp.fp16_dot_accumulate(acc, a, b) == _round_rational(exact)


def test_rounding_ties_overflow_and_underflow():
    one, max_half = 0x3C00, 0x7BFF                       # 1.0, 65504
    assert fp.fp16_add(one, 0x1000) == one                # 1 + 2^-11: tie, stays even (1.0)
    assert fp.fp16_add(0x3C01, 0x1000) == 0x3C02          # 1+ulp + half ulp: tie, rounds up to even
    assert fp.fp16_add(max_half, 0x4C00) == 0x7C00        # 65504 + 16 = 65520: tie -> inf
    assert fp.fp16_add(max_half, 0x4BFF) == max_half      # just below the tie stays finite
    assert fp.fp16_mul(0x0001, 0x3800) == 0x0000          # 2^-24 * 0.5: tie to even zero
    assert fp.fp16_mul(0x0001, 0x3A00) == 0x0001          # 2^-24 * 0.75 rounds to 2^-24
    assert fp.fp16_mul(0x0400, 0x3800) == 0x0200          # smallest normal / 2: exact subnormal
    assert fp.fp16_mul(0x8001, 0x3400) == 0x8000          # tiny negative keeps its sign


def test_special_values():
    nan, inf, ninf = 0x7E00, 0x7C00, 0xFC00
    assert fp.fp16_fma(inf, 0x0000, one := 0x3C00) == nan          # inf * 0
    assert fp.fp16_fma(inf, one, ninf) == nan                      # inf - inf
    assert fp.fp16_fma(0x7C01, one, one) == nan                    # NaN payloads are not kept
    assert fp.fp16_fma(inf, one, 0x7BFF) == inf
    assert fp.fp16_fma(one, one, ninf) == ninf
    assert fp.fp16_dot_accumulate(0x8000, [inf] + [0] * 15, [0xBC00] + [0] * 15) == ninf


def test_signed_zeros():
    pz, nz, one = 0x0000, 0x8000, 0x3C00
    assert fp.fp16_fma(nz, one, nz) == nz          # -0 + -0 = -0
    assert fp.fp16_fma(nz, one, pz) == pz          # -0 + +0 = +0
    assert fp.fp16_fma(one, one, 0xBC00) == pz     # x - x = +0
    assert fp.fp16_mul(nz, one) == nz
    assert fp.fp16_dot_accumulate(nz, [nz] * 16, [one] * 16) == nz
    assert fp.fp16_dot_accumulate(nz, [nz] * 15 + [pz], [one] * 16) == pz


def test_int8_mac_wraps_modulo_2_32():
    assert int8.pe_mac(int8.INT32_MAX, 1, 1) == int8.INT32_MIN
    assert int8.pe_mac(int8.INT32_MIN, -128, 127) == int8.INT32_MAX - 16255
    assert int8.pe_mac(0, -128, -128) == 16384
    r = random.Random(5)
    for _ in range(1000):
        p, a, w = r.randint(int8.INT32_MIN, int8.INT32_MAX), r.randint(-128, 127), r.randint(-128, 127)
        assert int(np.array([p + a * w], np.int64).astype(np.int32)[0]) == int8.pe_mac(p, a, w)


@pytest.mark.parametrize("m,n,k", [(4, 4, 4), (5, 9, 13), (1, 3, 17), (17, 2, 3)])
def test_ws_array_model_equals_numpy(m, n, k):
    rng = np.random.default_rng(m * n * k)
    a, b = rng.integers(-128, 128, (m, k)), rng.integers(-128, 128, (k, n))
    assert (systolic_ws.ws_gemm_int8(a, b, 4, 4) == a @ b).all()


def test_timing_table_names_existing_rtl():
    from accsim.functional.rtl import rtl_file

    for name, timing in UNIT_TIMING.items():
        text = rtl_file(timing.rtl_file).read_text()
        assert f"module {timing.top}" in text, name
        assert timing.latency_cycles >= 1 and timing.initiation_interval >= 1


@pytest.mark.parametrize("rows,cols,stream", [(4, 4, 1), (8, 8, 19), (16, 4, 7), (3, 9, 30)])
def test_os_kernel_fold_is_built_from_the_pe_timing(rows, cols, stream):
    """os: no load; the first k enters, the last of `stream` k values enters stream - 1
    cycles later and reaches the far corner rows - 1 + cols - 1 hops later."""
    from accsim.kernels.systolic import DATAFLOW_CODE, gemm_cycles

    pe = UNIT_TIMING["systolic_pe_os_int8"]
    cycles, folds = gemm_cycles(DATAFLOW_CODE["os"], rows, cols, rows, cols, stream, False)
    derived = 1 + (stream - 1) * pe.initiation_interval + (rows + cols - 2) * pe.latency_cycles
    assert folds == 1 and cycles == derived


@pytest.mark.parametrize("m,n,k", [(4, 4, 4), (5, 9, 13), (1, 3, 17), (17, 2, 3)])
def test_os_array_model_equals_numpy(m, n, k):
    from accsim.functional import systolic_os

    rng = np.random.default_rng(m * n * k + 1)
    a, b = rng.integers(-128, 128, (m, k)), rng.integers(-128, 128, (k, n))
    assert (systolic_os.os_gemm_int8(a, b, 4, 4) == a @ b).all()


@pytest.mark.parametrize("rows,cols,stream", [(4, 4, 1), (8, 8, 19), (16, 4, 7), (3, 9, 30)])
def test_kernel_fold_is_built_from_the_pe_timing(rows, cols, stream):
    """The systolic kernel's one-fold ws time is `rows` load cycles, then the stream: the
    first row enters, the last of `stream` rows enters stream - 1 cycles later and crosses
    rows - 1 + cols - 1 more PEs, one PE hop = the PE's latency, one new row per II."""
    from accsim.kernels.systolic import DATAFLOW_CODE, gemm_cycles

    pe = UNIT_TIMING["systolic_pe_int8"]
    cycles, folds = gemm_cycles(DATAFLOW_CODE["ws"], rows, cols, stream, cols, rows, False)
    derived = rows + 1 + (stream - 1) * pe.initiation_interval + (rows + cols - 2) * pe.latency_cycles
    assert folds == 1 and cycles == derived
