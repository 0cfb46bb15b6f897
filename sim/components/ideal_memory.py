"""Analytical memory: a bandwidth and a fixed latency, no banks, no refresh.

The fast option: every transfer occupies the port for bytes / bandwidth and
arrives `latency` later. It never models row-buffer locality, bank conflicts
or refresh; the cycle-level DRAM model is the accurate choice.
"""
from __future__ import annotations

from ..clock import TICKS_PER_SECOND
from ..schema import opt, req
from .base import CLOCK_FIELD, Component, register


@register("ideal_memory")
class IdealMemory(Component):
    ROLE = "memory"
    SUMMARY = "analytical memory: bandwidth + fixed latency + capacity"
    FIELDS = {
        "bandwidth": req("bandwidth_bytes_per_s", "sustained bandwidth of all instances together, e.g. 1 TB/s", positive=True),
        "latency": req("time_s", "fixed access latency, e.g. 100 ns", minimum=0),
        "capacity": req("size_bytes", "capacity of all instances together, e.g. 32 GiB", positive=True),
        "interface": opt("str", "hbm2", "memory technology for energy per bit and PHY area: a row of the "
                                        "technology table's memory_interfaces (hbm2, hbm3, ddr4, ddr5)"),
        "clock": CLOCK_FIELD,
    }

    @property
    def capacity_bytes(self) -> int:
        return self.params["capacity"]

    @property
    def bandwidth_bytes_per_s(self) -> float:
        return self.params["bandwidth"]

    def count_events(self, cost, read_bytes: float, written_bytes: float, dram_run=None) -> None:
        cost.events[(self.name, "read_bytes")] = float(read_bytes)
        cost.events[(self.name, "write_bytes")] = float(written_bytes)

    def sustained(self, load_start, load_bytes, store_start, store_bytes, key: str):
        """(ticks per byte, None): an ideal memory sustains its bandwidth on any traffic."""
        return self.transfer_model()[0], None

    def transfer_model(self) -> tuple[float, int]:
        """(ticks per byte, latency in ticks) for the tile pipeline kernel."""
        return TICKS_PER_SECOND / self.bandwidth_bytes_per_s, round(self.params["latency"] * TICKS_PER_SECOND)
