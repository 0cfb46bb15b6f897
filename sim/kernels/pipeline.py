"""Tile pipeline of a group of compute units sharing one memory port.

Each unit works through its own tiles in order: load the tile's operands from
memory into a scratchpad slot, compute, store the results. With `slots` = 2
(double buffering) the load of tile i+1 overlaps the compute of tile i; with 1
it waits for the compute to finish. All units' loads and stores go through one
first-come-first-served memory server with a bandwidth and a pipelined latency,
so units contend for bandwidth. Times are integer picosecond ticks.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _transfer_end(ready, start_free, nbytes, ticks_per_byte, setup_ticks):
    start = max(ready, start_free)
    busy = setup_ticks + int(np.ceil(nbytes * ticks_per_byte))
    return start, start + busy


@njit(cache=True)
def run_tile_pipeline(unit_of_tile, load_bytes, compute_ticks, store_bytes, n_units, slots,
                      ticks_per_byte, latency_ticks, setup_ticks):
    """Simulate the tiles; tiles of one unit run in array order.

    Returns (finish_tick, compute_busy_ticks per unit, memory_busy_ticks,
    compute_end per tile, load start tick per tile, store start tick per tile).
    """
    n_tiles = unit_of_tile.shape[0]
    load_start = np.full(n_tiles, -1, np.int64)
    store_start = np.full(n_tiles, -1, np.int64)
    # Per-unit tile lists in order (CSR layout).
    counts = np.zeros(n_units, np.int64)
    for t in range(n_tiles):
        counts[unit_of_tile[t]] += 1
    offsets = np.zeros(n_units + 1, np.int64)
    for u in range(n_units):
        offsets[u + 1] = offsets[u] + counts[u]
    order = np.empty(n_tiles, np.int64)
    fill = offsets[:-1].copy()
    for t in range(n_tiles):
        u = unit_of_tile[t]
        order[fill[u]] = t
        fill[u] += 1

    compute_end = np.zeros(n_tiles, np.int64)
    next_load = np.zeros(n_units, np.int64)   # local index of the next tile to load
    next_store = np.zeros(n_units, np.int64)  # local index of the next tile to store
    last_compute_end = np.zeros(n_units, np.int64)
    busy = np.zeros(n_units, np.int64)
    memory_free = 0
    memory_busy = 0
    finish = 0
    remaining = 2 * n_tiles
    while remaining > 0:
        # Choose the earliest ready memory request over all units (loads first on ties).
        best_unit = -1
        best_ready = np.int64(0)
        best_is_load = False
        for u in range(n_units):
            i = next_load[u]
            if i < counts[u]:
                ready = np.int64(0)
                if i >= slots:
                    ready = compute_end[order[offsets[u] + i - slots]]
                if best_unit < 0 or ready < best_ready:
                    best_unit, best_ready, best_is_load = u, ready, True
            j = next_store[u]
            if j < next_load[u]:
                ready = compute_end[order[offsets[u] + j]]
                if best_unit < 0 or ready < best_ready:
                    best_unit, best_ready, best_is_load = u, ready, False
        u = best_unit
        if best_is_load:
            t = order[offsets[u] + next_load[u]]
            if load_bytes[t] <= 0:
                arrived = best_ready
            else:
                start, memory_free_new = _transfer_end(best_ready, memory_free, load_bytes[t],
                                                       ticks_per_byte, setup_ticks)
                load_start[t] = start
                memory_busy += memory_free_new - start
                memory_free = memory_free_new
                arrived = memory_free_new + latency_ticks
            begin = max(arrived, last_compute_end[u])
            compute_end[t] = begin + compute_ticks[t]
            last_compute_end[u] = compute_end[t]
            busy[u] += compute_ticks[t]
            finish = max(finish, compute_end[t])
            next_load[u] += 1
        else:
            t = order[offsets[u] + next_store[u]]
            if store_bytes[t] > 0:
                start, memory_free_new = _transfer_end(best_ready, memory_free, store_bytes[t],
                                                       ticks_per_byte, setup_ticks)
                store_start[t] = start
                memory_busy += memory_free_new - start
                memory_free = memory_free_new
                finish = max(finish, memory_free_new + latency_ticks)
            next_store[u] += 1
        remaining -= 1
    return finish, busy, memory_busy, compute_end, load_start, store_start
