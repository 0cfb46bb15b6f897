"""Cycles of an output-stationary array whose PEs accumulate raw partial sums over a
quantization group and hand them to a per-group dequantization unit (MixPE), and of
the baseline arrays on the same frame (no dequantization, or a dequantizer in front).

Geometry (output stationary, as the public MixPE simulator's `mix_int_os` runs): an
R x C array holds an R x C block of outputs C[m, n]; the reduction dimension K
streams through it. A GEMM tile m x n x k takes folds = ceil(m / R) x ceil(n / C).

One K element costs `step_num / step_den` cycles per PE: 1 for a bit-parallel
shift-add PE (all set bits of a weight summed by an adder tree in one cycle), the
weight width for a bit-serial one (one shifted add per cycle), less than 1 for
bit-composable PEs that do several narrow MACs per cycle, more than 1 when a
front-end dequantizer cannot feed every column each cycle.

Post-group dequantization (group size g > 0): the K stream of a fold is cut into
G = ceil(k / g) groups; group j computes for c_j = ceil(len_j * step) cycles. At the
end of a group every PE moves its raw sum into a shadow register; the column's R
shadow sums drain through the column's dequantization units (`drain` = ceil(R /
units) cycles) while the next group computes. The next group's sums can only move
into the shadow registers once the drain is done, so the array stalls

    stall_j = max(0, drain - c_j)        for j = 1 .. G-1

and the last group's drain and the dequantizer pipeline latency L are exposed:

    fold = (R + C - 2) + sum_j c_j + sum_{j>=1} stall_j + drain + L
    tile = folds x fold

(R + C - 2 is the skew of the output-stationary reference model, docs/systolic.md.)
Without post-group dequantization (g = 0) the fold is (R + C - 2) + ceil(k * step).
`simulate_fold` steps the same pipeline cycle by cycle; tests check both agree.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _ceil_div(a, b):
    return (a + b - 1) // b


@njit(cache=True)
def _step_cycles(elements, step_num, step_den):
    return _ceil_div(elements * step_num, step_den)


@njit(cache=True)
def fold_cycles(rows, cols, k, step_num, step_den, group, drain, latency):
    """(cycles, dequantization stall cycles) of one fold streaming k reduction elements."""
    skew = rows + cols - 2
    if group <= 0:
        return skew + _step_cycles(k, step_num, step_den), 0
    groups = _ceil_div(k, group)
    full = _step_cycles(group, step_num, step_den)
    last = _step_cycles(k - (groups - 1) * group, step_num, step_den)
    compute = (groups - 1) * full + last
    stall = 0
    if groups > 1:
        stall = (groups - 2) * max(0, drain - full) + max(0, drain - last)
    return skew + compute + stall + drain + latency, stall


@njit(cache=True)
def tile_cycles(rows, cols, m, n, k, step_num, step_den, group, drain, latency):
    """Vectorised over tiles: cycles, folds, dequantization operations and stall cycles."""
    count = m.shape[0]
    cycles = np.empty(count, np.int64)
    folds = np.empty(count, np.int64)
    dequant_ops = np.empty(count, np.int64)
    stalls = np.empty(count, np.int64)
    for i in range(count):
        folds[i] = _ceil_div(m[i], rows) * _ceil_div(n[i], cols)
        per_fold, stall = fold_cycles(rows, cols, k[i], step_num, step_den, group, drain, latency)
        cycles[i] = folds[i] * per_fold
        stalls[i] = folds[i] * stall
        dequant_ops[i] = m[i] * n[i] * _ceil_div(k[i], group) if group > 0 else 0
    return cycles, folds, dequant_ops, stalls


@njit(cache=True)
def simulate_fold(rows, cols, k, step_num, step_den, group, units, latency):
    """Cycle-by-cycle reference of one fold with post-group dequantization: returns
    (cycles, stall cycles, sums dequantized per column). In each cycle every
    dequantization unit of a column takes one sum out of the shadow registers, and
    the array works on its group; at the cycle boundary a finished group moves its
    sums into the shadow registers if they are empty, and the array starts the next
    group; otherwise it waits (a stall cycle). A sum leaves the dequantizer `latency`
    cycles after it entered."""
    groups = _ceil_div(k, group)
    t = 0
    stall = 0
    shadow = 0
    dequantized = 0
    group_index = 0
    remaining = _step_cycles(min(group, k), step_num, step_den)
    while True:
        issued = min(units, shadow)          # this cycle: the dequantizers take sums
        shadow -= issued
        dequantized += issued
        if group_index < groups and remaining > 0:
            remaining -= 1                   # this cycle: the array computes
        t += 1                               # cycle boundary
        if group_index < groups and remaining == 0:
            if shadow == 0:
                shadow = rows
                group_index += 1
                if group_index < groups:
                    remaining = _step_cycles(min(group, k - group_index * group), step_num, step_den)
            else:
                stall += 1
        if group_index == groups and shadow == 0:
            break
    return rows + cols - 2 + t + latency, stall, dequantized
