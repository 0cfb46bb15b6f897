"""Bit-accurate models of MixPE's functional units (rtl/mixpe_pe.v, rtl/mixpe_dequant.v)
and the group GEMM they compute together.

Weights are unsigned codes q in [0, 2**bits) with a zero point z per group (the
asymmetric weight-only format of GPTQ / AWQ checkpoints): w = s_g * (q - z_g).

Shift-and-add PE (INT8 activations): a * q = sum over the set bits i of q of (a << i),
exact; the PE accumulates raw products over a group in a wrapping int32:
    psum = psum + sum_i q_i * (a << i)
Bit-parallel: one cycle per weight (an adder tree over the shifted copies); bit-serial:
one shifted add per cycle, `bits` cycles per weight, the same sum.

FP16 activations (MixPE-W4A16): a * 2**i only adds i to a's exponent (exact, barring
overflow); the model accumulates the exact terms of a group and rounds the group sum
once to FP32 (`shift_add_group_fp16`): the datapath is assumed wide enough to be exact
within a group (no RTL for this path yet).

Dequantization unit: y_out = RNE16(s * RNE16(t) + y_in) with t = psum - z * sum(a_g)
(int32, wrapping): the integer correction is exact, t is rounded to binary16, then one
fused FP16 multiply-add (accsim.functional.fp.fp16_fma) applies the scale and adds the
running output. Rounding (documented bound): |t16 - t| <= 2**-11 |t|, and one RNE of
the fused result per group, so y differs from the exact sum of s_g * t_g by at most
G * 2**-11 * (max |s t| + |y|) over G groups (tests check it against NumPy).
"""
from __future__ import annotations

import numpy as np

from .fp import FP16, fp16_fma, round_to_format, to_float
from .int8 import wrap_int32
from .timing import UnitTiming


MIXPE_TIMING = {
    "mixpe_pe": UnitTiming(
        1, 1, "mixpe_pe.v", "mixpe_pe", "mixpe.shift_add_mac",
        "MixPE shift-and-add PE (bit-parallel): psum += sum_i q_i (a << i), int8 x unsigned W-bit weight, int32 "
        "wrapping; `first` starts a new group (psum = a*q); registered forwarding of a and q"),
    "mixpe_dequant": UnitTiming(
        5, 1, "mixpe_dequant.v", "mixpe_dequant", "mixpe.dequantize",
        "MixPE per-group dequantization: y = RNE16(s * RNE16(psum - z * asum) + y_in); 1 integer stage, 1 "
        "int-to-binary16 stage, the 3-stage FP16 FMA", ("fp16_round.v", "fp16_fma.v")),
}


def shift_add_mac(psum, a: int, q: int, bits: int = 4):
    """psum + a*q by shift-and-add over the set bits of q (a: int8, q: unsigned `bits`-bit)."""
    if not 0 <= q < (1 << bits):
        raise ValueError(f"weight code {q} does not fit {bits} unsigned bits")
    total = 0
    for i in range(bits):
        if (q >> i) & 1:
            total += a << i
    return wrap_int32(psum + total)


def shift_add_serial(psum, a: int, q: int, bits: int = 4) -> tuple[int, int]:
    """Bit-serial PE: one shifted add per cycle; (result, cycles)."""
    cycles = 0
    for i in range(bits):
        psum = wrap_int32(psum + (a << i if (q >> i) & 1 else 0))
        cycles += 1
    return psum, cycles


def int_to_fp16(t: int) -> int:
    """Binary16 bits of the integer t, rounded to nearest even (overflow to infinity)."""
    return round_to_format(1 if t < 0 else 0, abs(int(t)), 0, FP16)


def dequantize(y_in: int, scale: int, psum: int, asum: int, zero: int) -> int:
    """One dequantization: y_in, scale as binary16 bits; psum, asum int32; zero a code."""
    t = wrap_int32(int(psum) - int(zero) * int(asum))
    return fp16_fma(scale, int_to_fp16(t), y_in)


def fp16_bits(values) -> np.ndarray:
    return np.asarray(values, np.float16).view(np.uint16).astype(np.int64)


def group_gemm_int8(a: np.ndarray, q: np.ndarray, scales: np.ndarray, zeros: np.ndarray, group: int,
                    bits: int = 4) -> tuple[np.ndarray, int]:
    """C = A @ W with W[k, n] = s[g, n] * (q[k, n] - z[g, n]), the way MixPE-W4A8 computes it:
    raw shift-add sums per group, one dequantization per output per group. a: int8 [M, K];
    q: codes [K, N]; scales: binary16 bits [G, N]; zeros: codes [G, N]. Returns binary16
    bits [M, N] and the number of dequantizations."""
    m, k = a.shape
    n = q.shape[1]
    y = np.zeros((m, n), np.int64)          # +0.0 in binary16
    dequants = 0
    for g0 in range(0, k, group):
        for i in range(m):
            asum = wrap_int32(int(a[i, g0:g0 + group].astype(np.int64).sum()))
            for j in range(n):
                psum = 0
                for kk in range(g0, min(g0 + group, k)):
                    psum = shift_add_mac(psum, int(a[i, kk]), int(q[kk, j]), bits)
                y[i, j] = dequantize(int(y[i, j]), int(scales[g0 // group, j]), psum, asum,
                                     int(zeros[g0 // group, j]))
                dequants += 1
    return y, dequants


def reference_gemm(a: np.ndarray, q: np.ndarray, scales_bits: np.ndarray, zeros: np.ndarray,
                   group: int) -> np.ndarray:
    """NumPy dequantize-then-matmul in float64 (the reference the model is checked against)."""
    s = np.asarray(scales_bits, np.uint16).view(np.float16).astype(np.float64)
    w = (q.astype(np.float64) - np.repeat(zeros, group, axis=0)[:q.shape[0]]) \
        * np.repeat(s, group, axis=0)[:q.shape[0]]
    return a.astype(np.float64) @ w


def error_bound(a: np.ndarray, q: np.ndarray, scales_bits: np.ndarray, zeros: np.ndarray, group: int,
                reference: np.ndarray) -> np.ndarray:
    """Documented rounding bound per output: each group rounds t and the fused result
    (2 x 2**-11 relative), applied to the group's term and the running sum."""
    s = np.abs(np.asarray(scales_bits, np.uint16).view(np.float16).astype(np.float64))
    groups = -(-q.shape[0] // group)
    bound = np.zeros(reference.shape)
    running = np.zeros(reference.shape)
    unit = 2.0 ** -11
    for g in range(groups):
        sl = slice(g * group, (g + 1) * group)
        t = a[:, sl].astype(np.float64) @ (q[sl].astype(np.float64) - zeros[g])
        term = np.abs(s[g] * t)
        running = running + term
        bound = bound + unit * (term + running) + unit * term
    return bound + 2.0 ** -24 * groups       # subnormal spacing at tiny results


def as_float(bits: np.ndarray) -> np.ndarray:
    return np.vectorize(lambda b: to_float(int(b), FP16))(bits)


def shift_add_group_fp16(a_bits, q, bits: int = 4) -> float:
    """MixPE-W4A16 PE over one group: exact sum of a * 2**i over the set bits, one FP32
    rounding at the end of the group (returned as a Python float of that FP32 value)."""
    from fractions import Fraction

    total = Fraction(0)
    for a_b, code in zip(a_bits, q):
        value = Fraction(to_float(int(a_b), FP16))
        for i in range(bits):
            if (int(code) >> i) & 1:
                total += value * (1 << i)
    return float(np.float32(float(total)))
