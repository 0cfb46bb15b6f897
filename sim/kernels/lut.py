"""LUT Tensor Core timing: the LMMA pipeline of the lookup-table arrays of one SM.

An LMMA (LUT matrix-multiply-accumulate) computes O[M x N] = A[M x K] . W[N x K] + C
on one array (default M = 2, N = 64, K = 4): the tables of the M rows are broadcast
from registers, and the weights arrive one bit-plane per cycle (bit-serial), so an
LMMA with W-bit weights occupies the array for W cycles (initiation interval 1 per
bit-plane, rtl/lut_dot.v) and its result is out `depth` cycles after its last
bit-plane, i.e. W + depth - 1 cycles after its first one (accsim.functional.lut.LUT_TIMING).

A register tile (m, n, k) is ceil(m/M) x ceil(n/N) independent output blocks, each a
chain of ceil(k/K) LMMAs (the accumulator C of one is the output of the previous).
Blocks are dealt round-robin to the `arrays` arrays of the SM; each array issues its
blocks k-group by k-group, and an LMMA waits for its block's previous result:

    per array with b blocks:  (G - 1) * max(b * W, W + depth - 1) + b * W + depth - 1

`simulate_tile` is the cycle-level kernel (one event per array cycle per bit-plane,
the hazard checked per LMMA); `tile_cycles` is the same number in closed form,
vectorised over tiles for the mapper. Tests check that both agree exactly.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def simulate_tile(m, n, k, lmma_m, lmma_n, lmma_k, weight_bits, depth, arrays):
    """Cycle-level run of one register tile: returns (cycles, bit-plane beats, stall cycles).

    Every array cycle either takes one weight bit-plane of an LMMA (a beat: M x N lookups
    and adds) or stalls on the accumulator of the block it is about to continue."""
    blocks = ((m + lmma_m - 1) // lmma_m) * ((n + lmma_n - 1) // lmma_n)
    groups = (k + lmma_k - 1) // lmma_k
    free = np.zeros(arrays, np.int64)        # first cycle each array can take a bit-plane
    ready = np.zeros(blocks, np.int64)       # cycle the block's accumulator can be read as C
    beats = 0
    stalls = 0
    finish = 0
    for group in range(groups):
        for block in range(blocks):
            array = block % arrays
            issue = free[array]
            if ready[block] > issue:
                stalls += ready[block] - issue
                issue = ready[block]
            for plane in range(weight_bits):     # one event per cycle per bit-plane
                beats += 1
            free[array] = issue + weight_bits
            ready[block] = issue + weight_bits + depth - 1
            if ready[block] > finish:
                finish = ready[block]
    return finish, beats, stalls


def tile_cycles(m, n, k, lmma_m: int, lmma_n: int, lmma_k: int, weight_bits: int, depth: int, arrays: int):
    """Closed form of simulate_tile's cycles, vectorised over NumPy arrays of tile extents."""
    m, n, k = (np.asarray(x, np.int64) for x in (m, n, k))
    blocks = -(-m // lmma_m) * -(-n // lmma_n)
    groups = -(-k // lmma_k)
    per_array = -(-blocks // arrays)                  # the busiest array's blocks
    period = np.maximum(per_array * weight_bits, weight_bits + depth - 1)
    return np.where(blocks > 0, (groups - 1) * period + per_array * weight_bits + depth - 1, 0)


def lmmas(m, n, k, lmma_m: int, lmma_n: int, lmma_k: int):
    """LMMA instructions a tile issues (padded edges included), vectorised."""
    m, n, k = (np.asarray(x, np.int64) for x in (m, n, k))
    return -(-m // lmma_m) * -(-n // lmma_n) * -(-k // lmma_k)
