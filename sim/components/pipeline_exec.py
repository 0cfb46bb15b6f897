"""Shared execution of a tile schedule on a group of compute units.

Not a component (no @register): the helper that turns per-tile bytes and
compute ticks into an OpCost through the tile pipeline kernel.
"""
from __future__ import annotations

import numpy as np

from ..kernels.pipeline import run_tile_pipeline
from .base import OpCost


def run_schedule(unit, load_bytes, compute_ticks, store_bytes, units: int, slots: int, dma,
                 compute_name: str, buffer_name: str) -> OpCost:
    ticks_per_byte, latency, setup = dma.transfer_model()
    none = np.zeros(0, np.int64)
    finish, busy, memory_busy, _, _, _ = run_tile_pipeline(
        np.ascontiguousarray(unit, np.int64), np.ascontiguousarray(load_bytes, np.float64),
        np.ascontiguousarray(compute_ticks, np.int64), np.ascontiguousarray(store_bytes, np.float64),
        units, slots, ticks_per_byte, latency, setup, none, none)
    memory_name = dma.memory.name
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
        detail={"tiles": int(unit.shape[0])},
    )
