"""Systolic array compute cycles, fold by fold.

A GEMM C[M x N] = A[M x K] @ B[K x N] on an R x C array is cut into folds: each
fold pins one block of the stationary operand in the array and streams the
other operand through it. Which GEMM dimensions map onto the array's rows and
columns, and which one streams, depends on the dataflow:

    dataflow  array rows  array cols  streamed (one row per cycle)
    ws        K           N           M     (weights stay)
    os        M           N           K     (outputs stay)
    is        K           M           N     (inputs stay)

Reference timing (SCALE-Sim v3's compute model; docs/systolic.md): every fold
takes the same number of cycles, even a partial one at the edge of the GEMM,
and folds do not overlap:

    ws, is:  fold = R (load the stationary block) + R + C + T - 2 (skewed stream of T rows)
    os:      fold = R + C + T - 2 (outputs stay; the drain is inside the skew)
    gemm     = folds x fold,  folds = ceil(dim on rows / R) x ceil(dim on cols / C)

SCALE-Sim reports gemm - 1: its report gives the 0-based index of the last busy
cycle rather than the number of cycles. The golden test
(tests/test_systolic_golden.py) checks this relation on 48 shapes.
`preload_overlap` = 1 models double-buffered stationary registers: the next
fold's block is shifted in while the current fold computes, so only the first
fold pays its load.
"""
from __future__ import annotations

import numpy as np
from numba import njit

DATAFLOWS = ("ws", "os", "is")
DATAFLOW_CODE = {name: code for code, name in enumerate(DATAFLOWS)}


@njit(cache=True)
def _ceil_div(a, b):
    return (a + b - 1) // b


@njit(cache=True)
def fold_geometry(dataflow, rows, cols, m, n, k):
    """(dimension on rows, dimension on cols, streamed dimension)."""
    if dataflow == 0:
        return k, n, m
    if dataflow == 1:
        return m, n, k
    return k, m, n


@njit(cache=True)
def fold_cycles(dataflow, rows, cols, stream):
    """Cycles one fold takes in the reference (SCALE-Sim v3) timing."""
    fill = rows if dataflow != 1 else 0
    return fill + stream + rows + cols - 2


@njit(cache=True)
def gemm_cycles(dataflow, rows, cols, m, n, k, preload_overlap):
    """Compute cycles and folds of one GEMM on one array."""
    on_rows, on_cols, stream = fold_geometry(dataflow, rows, cols, m, n, k)
    folds = _ceil_div(on_rows, rows) * _ceil_div(on_cols, cols)
    per_fold = fold_cycles(dataflow, rows, cols, stream)
    cycles = folds * per_fold
    if preload_overlap and dataflow != 1 and folds > 1:
        # Shadow registers take the next fold's stationary block while the current fold
        # streams and drains (stream + rows + cols - 2 >= rows cycles), so only the
        # first fold pays its fill.
        cycles -= (folds - 1) * rows
    return cycles, folds


@njit(cache=True)
def tile_cycles(dataflow, rows, cols, m, n, k, preload_overlap):
    """Vectorised gemm_cycles over arrays of tile shapes; also returns folds."""
    count = m.shape[0]
    cycles = np.empty(count, np.int64)
    folds = np.empty(count, np.int64)
    for i in range(count):
        cycles[i], folds[i] = gemm_cycles(dataflow, rows, cols, m[i], n[i], k[i], preload_overlap)
    return cycles, folds
