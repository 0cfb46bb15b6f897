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
The `overlap` argument selects how folds of one tile overlap:

    0  reference timing above;
    1  preload overlap: double-buffered stationary registers take the next
       fold's block while the current fold computes, so only the first fold
       pays its load;
    2  pipelined folds (needs the double buffer): the next fold streams in as
       soon as the current fold's last row has entered, so a fold's skew and
       drain overlap the next fold's stream. A fold then occupies the array
       for max(T, R) cycles (its stream, or the shift-in of the next block),
       and the tile pays one fill and one skew + drain:
           tile = R + folds x max(T, R) + R + C - 2
       The public NeuPIMs core (built on ONNXim) times its weight-stationary
       instructions this way: an instruction with new weights starts R cycles
       after the previous one, one on the same weights `size` cycles after it,
       and each takes R + C - 2 + size cycles from its start.

Output stationary ignores `overlap` (no stationary block to shift in).
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
def gemm_cycles(dataflow, rows, cols, m, n, k, overlap):
    """Compute cycles and folds of one GEMM on one array (`overlap`: module docstring)."""
    on_rows, on_cols, stream = fold_geometry(dataflow, rows, cols, m, n, k)
    folds = _ceil_div(on_rows, rows) * _ceil_div(on_cols, cols)
    if overlap >= 2 and dataflow != 1:
        return rows + folds * max(stream, rows) + rows + cols - 2, folds
    per_fold = fold_cycles(dataflow, rows, cols, stream)
    cycles = folds * per_fold
    if overlap and dataflow != 1 and folds > 1:
        # Shadow registers take the next fold's stationary block while the current fold
        # streams and drains (stream + rows + cols - 2 >= rows cycles), so only the
        # first fold pays its fill.
        cycles -= (folds - 1) * rows
    return cycles, folds


@njit(cache=True)
def tile_cycles(dataflow, rows, cols, m, n, k, overlap):
    """Vectorised gemm_cycles over arrays of tile shapes; also returns folds."""
    count = m.shape[0]
    cycles = np.empty(count, np.int64)
    folds = np.empty(count, np.int64)
    for i in range(count):
        cycles[i], folds[i] = gemm_cycles(dataflow, rows, cols, m[i], n[i], k[i], overlap)
    return cycles, folds
