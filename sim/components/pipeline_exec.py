"""Shared execution of a tile schedule on a group of compute units.

Not a component (no @register): the helper that turns per-tile bytes and
compute ticks into an OpCost through the tile pipeline kernel.
"""
from __future__ import annotations

import numpy as np

from ..kernels.pipeline import run_tile_pipeline
from .base import OpCost


def run_schedule(unit, load_bytes, compute_ticks, store_bytes, units: int, slots: int, dma,
                 compute_name: str, buffer_name: str, key: str = "") -> OpCost:
    """Run the tiles; when the memory is cycle-level (type: dram), re-run them with the
    bandwidth the DRAM sustained on the op's own request stream (accsim.components.dram)."""
    ticks_per_byte, latency, setup = dma.transfer_model()
    args = (np.ascontiguousarray(unit, np.int64), np.ascontiguousarray(load_bytes, np.float64),
            np.ascontiguousarray(compute_ticks, np.int64), np.ascontiguousarray(store_bytes, np.float64),
            units, slots, ticks_per_byte, latency, setup)
    finish, busy, memory_busy, _, load_start, store_start = run_tile_pipeline(*args)
    memory = dma.memory
    sustained, run = dma.sustained(load_start, args[1], store_start, args[3], key)
    if run is not None:
        finish, busy, memory_busy, _, _, _ = run_tile_pipeline(*args[:6], sustained, *args[7:])
    memory_name = memory.name
    read = float(load_bytes.sum())
    written = float(store_bytes.sum())
    cost = OpCost(
        ticks=int(finish),
        busy_ticks={compute_name: int(busy.sum()), memory_name: int(memory_busy), dma.name: int(memory_busy)},
        # Scratchpad traffic counted here is the DMA side only: tiles filled from memory
        # (written) and results drained to memory (read). Operand re-reads by the
        # compute unit across folds are not counted yet.
        bytes_read={memory_name: read, buffer_name: written},
        bytes_written={memory_name: written, buffer_name: read},
        detail={"tiles": int(unit.shape[0]), **({"dram": memory.run_detail(run, sustained)} if run is not None else {})},
    )
    dma.count_events(cost, read, written, run)
    return cost
