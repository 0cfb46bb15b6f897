"""DMA engine moving tiles between a memory and the scratchpads.

Each transfer pays a fixed setup time (descriptor fetch, address generation)
before its bytes stream at the memory's bandwidth.
"""
from __future__ import annotations

from ..schema import opt, req
from .base import CLOCK_FIELD, Component, register


@register("dma")
class Dma(Component):
    ROLE = "dma"
    SUMMARY = "DMA engine between memory and scratchpads; setup cycles per transfer"
    FIELDS = {
        "memory": req("str", "name of the memory component it reads and writes"),
        "setup_cycles": opt("int", 0, "cycles of fixed overhead per transfer", minimum=0),
        "clock": CLOCK_FIELD,
    }
    REFERENCES = {"memory": "memory"}

    def link(self, system) -> None:
        self.memory = system.components[self.params["memory"]]

    def count_events(self, cost, read_bytes: float, written_bytes: float, dram_run=None) -> None:
        """Bytes through the DMA, and the memory's own events, for the energy model."""
        cost.events[(self.name, "bytes")] = float(read_bytes + written_bytes)
        self.memory.count_events(cost, read_bytes, written_bytes, dram_run)

    def transfer_model(self) -> tuple[float, int, int]:
        """(ticks per byte, latency ticks, setup ticks per transfer) at the memory's peak."""
        ticks_per_byte, latency = self.memory.transfer_model()
        return ticks_per_byte, latency, self.clock.ticks(self.params["setup_cycles"])

    def sustained(self, load_start, load_bytes, store_start, store_bytes, key: str):
        """(ticks per byte, DRAM run or None) the memory sustains on an op's transfers, given
        their start ticks and sizes: a cycle-level memory (type: dram) plays the op's requests
        through its controller; an analytical one sustains its peak."""
        return self.memory.sustained(load_start, load_bytes, store_start, store_bytes, key)
