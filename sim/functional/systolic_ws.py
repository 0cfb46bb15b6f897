"""Weight-stationary systolic array, value by value, through the unit models.

Mirrors rtl/systolic_array_ws.v: the GEMM is cut into folds of `rows` K values by `cols`
N values; within a fold, the partial sum of C[m][n] starts at zero in the top row and
passes down the rows, one MAC per row in the order k = k0, k0 + 1, ...; the bottom row's
result is added into the output accumulator (the first fold along K writes it). Padding
of partial folds contributes exact zeros and is skipped here.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import fp, int8


def ws_gemm_int8(a: np.ndarray, b: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """int8 A[M x K] @ B[K x N] -> int32 C, as the array computes it (vectorised over M and
    the fold's columns; the same pe_mac per PE)."""
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), np.int64)
    for k0 in range(0, k, rows):
        for n0 in range(0, n, cols):
            n1 = min(n0 + cols, n)
            psum = np.zeros((m, n1 - n0), np.int64)
            for kk in range(k0, min(k0 + rows, k)):
                psum = int8.pe_mac(psum, a[:, kk:kk + 1], b[kk:kk + 1, n0:n1])
            c[:, n0:n1] = psum if k0 == 0 else int8.add_int32(c[:, n0:n1], psum)
    return c.astype(np.int32)


def ws_gemm_bits(a: np.ndarray, b: np.ndarray, rows: int, cols: int,
                 mac: Callable[[int, int, int], int], add: Callable[[int, int], int],
                 zero: int) -> np.ndarray:
    """Floating-point A @ B on bit patterns (uint16 inputs), one scalar unit call per MAC.
    mac(psum, a, w) and add(c, psum) return bit patterns of the accumulator format."""
    m, k = a.shape
    n = b.shape[1]
    out = np.zeros((m, n), np.uint64)
    a_list, b_list = a.tolist(), b.tolist()
    for k0 in range(0, k, rows):
        k1 = min(k0 + rows, k)
        for i in range(m):
            row = a_list[i]
            for j in range(n):
                psum = zero
                for kk in range(k0, k1):
                    psum = mac(psum, row[kk], b_list[kk][j])
                out[i, j] = psum if k0 == 0 else add(int(out[i, j]), psum)
    return out


def fp_units(accumulator: str) -> tuple[Callable, Callable, int]:
    """(mac, add, zero) of an FP16-operand array with an fp16 or fp32 accumulator.
    Each PE is a fused multiply-add rounding once into the accumulator format; the output
    accumulator adds a fold's partial sum with one rounding; partial sums start at -0."""
    target = fp.FORMATS[accumulator]

    def mac(psum, a, w):
        return fp.fma(a, w, psum, fp.FP16, target)

    def add(c, psum):
        return fp.add(c, psum, target)

    return mac, add, target.sign_bit
