"""LUT Tensor Core timing: the LMMA pipeline of the lookup-table arrays of one SM.

An LMMA (LUT matrix-multiply-accumulate) computes O[M x N] = A[M x K] . W[N x K] + C
on one array (default M = 2, N = 64, K = 4): the tables of the M rows are broadcast
from registers, and the weights arrive one bit-plane per cycle (bit-serial), so an
LMMA with W-bit weights occupies the array for W cycles (initiation interval 1 per
bit-plane, rtl/lut_dot.v) and its result is out `depth` cycles after its last
bit-plane, i.e. W + depth - 1 cycles after its first one (accsim.functional.lut.LUT_TIMING).

A register tile (m, n, k) is ceil(m/M) x ceil(n/N) output blocks, each a chain of
ceil(k/K) LMMAs. Blocks are dealt round-robin to the `arrays` arrays of the SM; an array
runs each of its blocks' chains back to back, accumulating in place (the accumulator seeds
from C on the chain's first bit-plane only, as in the RTL), so bit-planes stream at one per
cycle and only the last result's pipeline drains:

    per array with b blocks:  b * G * W + depth - 1        (G = ceil(k/K) LMMAs per block)

`simulate_tile` is the cycle-level kernel (one event per array cycle per bit-plane);
`tile_cycles` is the same number in closed form, vectorised over tiles for the mapper.
Tests check that both agree exactly and that rtl/lut_dot.v takes these cycles.
An SM with fewer blocks than arrays leaves arrays idle (no split of K over arrays).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def simulate_tile(m, n, k, lmma_m, lmma_n, lmma_k, weight_bits, depth, arrays):
    """Cycle-level run of one register tile: returns (cycles, bit-plane beats, idle array cycles).

    Every array cycle takes one weight bit-plane of an LMMA (a beat: M x N lookups, sign
    flips, shifts and adds); the tile ends when the last array's last result leaves the
    pipeline, `depth` - 1 cycles after its last beat."""
    blocks = ((m + lmma_m - 1) // lmma_m) * ((n + lmma_n - 1) // lmma_n)
    groups = (k + lmma_k - 1) // lmma_k
    if blocks == 0 or groups == 0:
        return 0, 0, 0
    busy = np.zeros(arrays, np.int64)          # beats taken by each array
    for block in range(blocks):
        array = block % arrays
        for group in range(groups):             # the block's chain, accumulated in place
            for plane in range(weight_bits):    # one event per cycle per bit-plane
                busy[array] += 1
    last = busy.max()
    idle = last * arrays - busy.sum()
    return last + depth - 1, busy.sum(), idle


def tile_cycles(m, n, k, lmma_m: int, lmma_n: int, lmma_k: int, weight_bits: int, depth: int, arrays: int):
    """Closed form of simulate_tile's cycles, vectorised over NumPy arrays of tile extents."""
    m, n, k = (np.asarray(x, np.int64) for x in (m, n, k))
    blocks = -(-m // lmma_m) * -(-n // lmma_n)
    groups = -(-k // lmma_k)
    per_array = -(-blocks // arrays)                  # the busiest array's blocks
    return np.where(blocks * groups > 0, per_array * groups * weight_bits + depth - 1, 0)


def lmmas(m, n, k, lmma_m: int, lmma_n: int, lmma_k: int):
    """LMMA instructions a tile issues (padded edges included), vectorised."""
    m, n, k = (np.asarray(x, np.int64) for x in (m, n, k))
    return -(-m // lmma_m) * -(-n // lmma_n) * -(-k // lmma_k)
