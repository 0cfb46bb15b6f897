"""Output-stationary systolic array, value by value, through the unit models.

Mirrors rtl/systolic_array_os.v: folds of `rows` M rows by `cols` N columns; every PE
keeps one output and accumulates its K products in the order k = 0, 1, ..., starting
from zero (no partial sums cross folds).
"""
from __future__ import annotations

import numpy as np

from . import int8


def os_gemm_int8(a: np.ndarray, b: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """int8 A[M x K] @ B[K x N] -> int32 C as the OS array computes it (vectorised over
    the outputs of a fold; the same pe_mac per PE and k)."""
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), np.int64)
    for m0 in range(0, m, rows):
        m1 = min(m0 + rows, m)
        for n0 in range(0, n, cols):
            n1 = min(n0 + cols, n)
            acc = np.zeros((m1 - m0, n1 - n0), np.int64)
            for kk in range(k):
                acc = int8.pe_mac(acc, a[m0:m1, kk:kk + 1], b[kk:kk + 1, n0:n1])
            c[m0:m1, n0:n1] = acc
    return c.astype(np.int32)
