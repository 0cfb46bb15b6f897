"""Shared execution of a tile schedule on a group of compute units.

Not a component (no @register): the helper that turns per-tile bytes and
compute ticks into an OpCost through the tile pipeline kernel.
"""
from __future__ import annotations

import numpy as np

from ..kernels.pipeline import run_tile_pipeline
from .base import OpCost

CONVERGED = 0.005   # stop re-timing when the op's end moves by less than 0.5%


def run_schedule(unit, load_bytes, compute_ticks, store_bytes, units: int, slots: int, dma,
                 compute_name: str, buffer_name: str, key: str = "") -> OpCost:
    """Run the tiles; when the memory times transfers itself (type: dram), re-run the
    pipeline with the durations it measured (see accsim.components.dram)."""
    ticks_per_byte, latency, setup = dma.transfer_model()
    args = (np.ascontiguousarray(unit, np.int64), np.ascontiguousarray(load_bytes, np.float64),
            np.ascontiguousarray(compute_ticks, np.int64), np.ascontiguousarray(store_bytes, np.float64),
            units, slots, ticks_per_byte, latency, setup)
    none = np.zeros(0, np.int64)
    finish, busy, memory_busy, _, load_start, store_start = run_tile_pipeline(*args, none, none)
    memory = dma.memory
    dram_detail = None
    if hasattr(memory, "time_transfers") and (load_bytes.sum() + store_bytes.sum()) > 0:
        for _ in range(memory.params["refinements"]):
            previous = finish
            load_service, store_service, run = memory.time_transfers(
                load_start, args[1], store_start, args[3], setup, key)
            finish, busy, memory_busy, _, load_start, store_start = run_tile_pipeline(*args, load_service,
                                                                                      store_service)
            if abs(finish - previous) <= CONVERGED * previous:
                break
        # the memory is busy while its data bus moves data
        memory_busy = int(run.bus_busy_cycles.sum() / max(memory.preset.org["channels"], 1) * memory.tck_ps)
        dram_detail = {"memory": memory.name, "row_hits": run.row_hits, "row_misses": run.row_misses, "row_conflicts": run.row_conflicts,
                       "commands": run.command_counts, "energy_pj": run.energy_pj()}
    memory_name = memory.name
    read = float(load_bytes.sum())
    written = float(store_bytes.sum())
    return OpCost(
        ticks=int(finish),
        busy_ticks={compute_name: int(busy.sum()), memory_name: int(memory_busy), dma.name: int(memory_busy)},
        # Scratchpad traffic counted here is the DMA side only: tiles filled from memory
        # (written) and results drained to memory (read). Operand re-reads by the
        # compute unit across folds are not counted yet.
        bytes_read={memory_name: read, buffer_name: written},
        bytes_written={memory_name: written, buffer_name: read},
        detail={"tiles": int(unit.shape[0]), **({"dram": dram_detail} if dram_detail else {})},
    )
