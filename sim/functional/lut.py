"""Bit-accurate model of LUT mixed-precision GEMM (LUT Tensor Core, Mo et al., ISCA 2025).

Weights: unsigned W-bit codes q (1 <= W <= 4) with per-output-channel scale s and zero z,
w = s (q - z). Offline reinterpretation (reference sheet): q' = 2q - (2^W - 1) = the sum over
bit-planes b of 2^b (2 q_b - 1), so every bit-plane is a +-1 pattern; s' = s / 2,
z' = 2z + 1 - 2^W, and w = s' (q' - z').

Tables: for every group of K = 4 activations a0..a3 the 16 signed sums +-a0 +-a1 +-a2 +-a3
are symmetric (entry(~i) = -entry(i)), so 8 are stored: T[j] = a0 + sum_{i=1..3} (j_{i-1} ? a_i : -a_i).
A bit-plane index {w3 w2 w1 w0}: bits [3:1] select the entry, bit 0 flips the sign
(w0 = 0: -T[j ^ 7]), exactly as rtl/lut_dot.v does.

    O = s' * (sum_{g, b} 2^b * lookup(T_g, bits of q at plane b) - z' * rowsum(A))

`lut_mpgemm` with integer activations is exact: it equals the dequantize-then-matmul
reference `dequant_matmul` bit for bit (tests). With FP tables (entries rounded to FP16
once from their exact sum, FP32 accumulation, the bit shift an exact exponent add) the
error of the lookup sum obeys `fp_error_bound`; with INT8-quantized tables (one scale per
table, max |T| / 127) it obeys `int8_table_error_bound`.
"""
from __future__ import annotations

import numpy as np

from .timing import UnitTiming

K_GROUP = 4
TABLE_ENTRIES = 8            # 2^(K-1) after symmetrization
MIN_WEIGHT_BITS, MAX_WEIGHT_BITS = 1, 4
U_FP16 = 2.0 ** -11          # unit roundoff of binary16 (RNE)
U_FP32 = 2.0 ** -24

# rtl/lut_dot.v: stage 1 looks up, flips the sign and shifts each column's entry, stage 2
# accumulates; a bit-plane sampled at rising edge t is in the accumulator after edge t+1.
LUT_TIMING = UnitTiming(
    2, 1, "lut_dot.v", "lut_dot", "lut.lut_dot_lmma",
    "LUT dot-product columns of an LMMA: per cycle one weight bit-plane, 8-entry symmetrized "
    "table per row, sign flip, shift by the bit position, integer accumulate; latency 2, II 1")


def check_weight_bits(weight_bits: int) -> None:
    if not MIN_WEIGHT_BITS <= weight_bits <= MAX_WEIGHT_BITS:
        raise ValueError(f"weight width {weight_bits} bits: the LUT unit takes 1-4 bit weights")


def reinterpret(q: np.ndarray, weight_bits: int) -> np.ndarray:
    """q' = 2q - (2^W - 1): each bit-plane as a +-1 digit."""
    return 2 * np.asarray(q, np.int64) - ((1 << weight_bits) - 1)


def precompute_tables(a: np.ndarray) -> np.ndarray:
    """Symmetrized tables of A[M, K] (K a multiple of 4): T[M, K/4, 8], exact in A's dtype
    (int64 for integers, float64 for floats: sums of four binary16 values are exact there)."""
    a = np.asarray(a)
    wide = a.astype(np.int64) if np.issubdtype(a.dtype, np.integer) else a.astype(np.float64)
    groups = wide.reshape(wide.shape[0], -1, K_GROUP)
    j = np.arange(TABLE_ENTRIES)
    signs = np.stack([np.ones(TABLE_ENTRIES, np.int64)] + [2 * ((j >> (i - 1)) & 1) - 1 for i in (1, 2, 3)], axis=1)
    return np.einsum("mgi,ei->mge", groups, signs.astype(wide.dtype))


def lookup(tables: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Entry of a 4-bit index {w3 w2 w1 w0} in 8-entry tables: bits [3:1] select, bit 0
    = 0 flips the sign (and inverts the select bits): -T[j ^ 7]."""
    w0 = index & 1
    j = index >> 1
    entry = np.take_along_axis(tables, np.where(w0 == 1, j, j ^ 7), axis=-1)
    return np.where(w0 == 1, entry, -entry)


def bitplane_indices(q: np.ndarray, weight_bits: int) -> np.ndarray:
    """idx[N, K/4, W]: bit b of the four weights of each group, w_i at bit i."""
    q = np.asarray(q, np.int64).reshape(q.shape[0], -1, K_GROUP)
    planes = [(((q >> b) & 1) << np.arange(K_GROUP)).sum(axis=-1) for b in range(weight_bits)]
    return np.stack(planes, axis=-1)


def lookup_sum(tables: np.ndarray, q: np.ndarray, weight_bits: int, mode: str = "exact"):
    """sum_{g,b} 2^b lookup(T[m,g], idx[n,g,b]) for every (m, n): equals A . q'^T.

    mode: "exact" (entries in A's exact type), "fp16" (entries rounded to binary16 once,
    accumulated in binary32 in order g, b), "int8" (entries quantized to int8 with one scale
    per table, max|T|/127; accumulated in float64)."""
    check_weight_bits(weight_bits)
    idx = bitplane_indices(q, weight_bits)                      # [N, G, W]
    m, groups = tables.shape[0], tables.shape[1]
    n = idx.shape[0]
    if mode == "fp16":
        table = tables.astype(np.float16).astype(np.float32)
        acc = np.zeros((m, n), np.float32)
    elif mode == "int8":
        scale = np.abs(tables).max(axis=-1, keepdims=True) / 127.0
        scale = np.where(scale == 0, 1.0, scale)
        table = np.rint(tables / scale) * scale                 # int8 codes times their scale
        acc = np.zeros((m, n), np.float64)
    elif mode == "exact":
        table = tables
        acc = np.zeros((m, n), tables.dtype)
    else:
        raise ValueError(f"unknown table mode {mode!r}")
    for g in range(groups):
        t = np.broadcast_to(table[:, g, None, :], (m, n, TABLE_ENTRIES))
        for b in range(weight_bits):
            entries = lookup(t, np.broadcast_to(idx[None, :, g, b, None], (m, n, 1)))[..., 0]
            acc = acc + entries * acc.dtype.type(2 ** b)        # shift = exact exponent add for FP
    return acc


def lut_mpgemm(a: np.ndarray, q: np.ndarray, weight_bits: int, scale, zero, mode: str = "exact"):
    """O[M, N] = A[M, K] . dequant(q)[N, K]^T through the LUT path (K a multiple of 4)."""
    tables = precompute_tables(a)
    dot = lookup_sum(tables, q, weight_bits, mode).astype(np.float64)
    s = np.asarray(scale, np.float64) / 2.0
    z = 2.0 * np.asarray(zero, np.float64) + 1.0 - (1 << weight_bits)
    rowsum = np.asarray(a, np.float64).sum(axis=1, keepdims=True)
    return s * (dot - z * rowsum)


def dequant_matmul(a: np.ndarray, q: np.ndarray, scale, zero) -> np.ndarray:
    """The reference: dequantize the weights, then an ordinary matmul (float64)."""
    w = np.asarray(scale, np.float64)[:, None] * (np.asarray(q, np.float64) - np.asarray(zero, np.float64)[:, None])
    return np.asarray(a, np.float64) @ w.T


def fp_error_bound(tables: np.ndarray, q: np.ndarray, weight_bits: int) -> np.ndarray:
    """Bound on |lookup_sum(mode=fp16) - exact| per output: each entry rounded once to
    binary16 (relative error <= u16), each of the L = G*W accumulations rounds in binary32
    (error <= gamma_L * sum of |terms|, Higham's bound):  (u16 + gamma_L (1 + u16)) * S,
    S = sum_{g,b} 2^b |T_gb|."""
    exact = np.abs(np.asarray(tables, np.float64))
    idx = bitplane_indices(q, weight_bits)
    m, groups = exact.shape[:2]
    n = idx.shape[0]
    total = np.zeros((m, n))
    for g in range(groups):
        t = np.broadcast_to(exact[:, g, None, :], (m, n, TABLE_ENTRIES))
        for b in range(weight_bits):
            total += (2 ** b) * lookup(t, np.broadcast_to(idx[None, :, g, b, None], (m, n, 1)))[..., 0].__abs__()
    adds = groups * weight_bits
    gamma = adds * U_FP32 / (1 - adds * U_FP32)
    return (U_FP16 + gamma * (1 + U_FP16)) * total


def int8_table_error_bound(tables: np.ndarray, weight_bits: int) -> np.ndarray:
    """Bound on |lookup_sum(mode=int8) - exact| per row: half a quantization step per lookup,
    sum_{g} (2^W - 1) * max|T_g| / 254 (the same for every column)."""
    step = np.abs(np.asarray(tables, np.float64)).max(axis=-1) / 127.0
    return (((1 << weight_bits) - 1) * step / 2).sum(axis=1)


def lut_dot_lmma(tables: list[list[int]], weights: list[list[int]], weight_bits: int, c: list[list[int]],
                 acc_bits: int = 32) -> list[list[int]]:
    """One LMMA of rtl/lut_dot.v on integers: tables[M][8] (signed entries), weights[N][4]
    (unsigned W-bit codes), c[M][N] seeds; returns the accumulators (two's complement,
    acc_bits wide, wrapping), processing one bit-plane per cycle from b = 0."""
    check_weight_bits(weight_bits)
    mask = (1 << acc_bits) - 1
    out = [[c[m][j] for j in range(len(weights))] for m in range(len(tables))]
    for b in range(weight_bits):
        for j, column in enumerate(weights):
            index = sum(((w >> b) & 1) << i for i, w in enumerate(column))
            sel, w0 = index >> 1, index & 1
            for m, table in enumerate(tables):
                entry = table[sel] if w0 else -table[sel ^ 7]
                value = (out[m][j] + (entry << b)) & mask
                out[m][j] = value - (1 << acc_bits) if value >> (acc_bits - 1) else value
    return out
