"""Cycle-level DRAM / HBM memory (accsim.kernels.dram) as an architecture component.

Every op's memory traffic runs through the DRAM model as 64-byte requests:

1. the tile pipeline runs with the DRAM's peak bandwidth and idle latency,
   which orders the op's transfers (loads read, stores write) in time;
2. all the op's requests, from every unit, in that order, are played back to
   back through the DRAM controller: they contend for channels, banks and the
   data bus, and meet row misses, bank conflicts and refresh. The bandwidth
   the DRAM sustained on this stream (bytes / cycles to serve it) becomes the
   bandwidth of the pipeline's memory port;
3. the pipeline runs again with that port (and the idle row-miss latency).

One DRAM run per op, no feedback loop: the result cannot oscillate and never
beats the peak. What it does not capture is the timing of individual
transfers (a particular transfer stalled by a refresh), only their aggregate.

Playbacks are kept on disk (accsim.diskcache, $ACCSIM_DRAM_CACHE, default
~/.cache/accsim/dram, `off` to disable), keyed by the op's transfers, the
preset, the controller settings and the DRAM model's source code: a later run
or sweep point that plays the same stream on the same DRAM reads its totals
back instead of simulating it again (the results are the same either way).

Addresses: the op's loads stream through one region and its stores through
another, in tile order (tensors stored tile by tile, as a DMA streams packed
tiles); the regions of an op start at a row-aligned offset derived from the
op, so different ops touch different rows and banks deterministically.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from ..clock import TICKS_PER_SECOND
from ..diskcache import DiskCache
from ..kernels import dram as kernel
from ..memory.preset import (CONTROLLER_FIELDS, REQUEST_BYTES, check_controller, compile_dram, controller_from,
                             preset_from_params)
from ..memory.simulate import Playback, simulate_requests
from ..schema import Checker, opt, req
from .base import CLOCK_FIELD, Component, register


def _model_sources():
    """The files whose code decides a playback: this module, the kernel and accsim.memory."""
    here = Path(__file__).resolve().parent
    return [Path(__file__).resolve(), here.parent / "kernels" / "dram.py", here.parent / "clock.py",
            *(here.parent / "memory").glob("*.py")]


PLAYBACK_CACHE = DiskCache("ACCSIM_DRAM_CACHE", "dram", _model_sources)


@register("dram")
class Dram(Component):
    ROLE = "memory"
    SUMMARY = "cycle-level DRAM/HBM: JEDEC timing presets, FR-FCFS controller, refresh (configs/dram)"
    FIELDS = {
        "preset": req("str", "bundled preset name (hbm2, hbm2e, hbm3, ddr4-3200, ddr5-4800) or a preset file"),
        "channels": opt("int", 0, "channels in all (0: the preset's); e.g. 32 for four 8-channel HBM2 stacks, 40 for five",
                        minimum=0, maximum=kernel.MAX_CHANNELS),
        "model": opt("str", "command_level", "command_level: every op's requests through the controller; "
                     "analytical: the preset's peak bandwidth and idle row-miss latency, as ideal_memory "
                     "(fast; no row, bank or refresh effects)", choices=("command_level", "analytical")),
        **CONTROLLER_FIELDS,
        "clock": CLOCK_FIELD,
    }

    @classmethod
    def cross_check(cls, name, params, peers, checker: Checker, node) -> None:
        """The preset must load and the controller settings must suit it; every problem is reported."""
        from ..errors import ConfigError, ResolveError

        path = f"components.{name}."
        try:
            preset = preset_from_params(params)
        except ResolveError as exc:
            checker.add(node.location("preset"), path + "preset", str(exc).split(": ", 1)[-1])
            return
        except ConfigError as exc:
            checker.problems.extend(exc.problems)
            return
        try:
            check_controller(controller_from(params), preset, node.location("address_mapping"), path)
        except ConfigError as exc:
            checker.problems.extend(exc.problems)

    def __init__(self, name, count, params, default_clock):
        super().__init__(name, count, params, default_clock)
        self.preset = preset_from_params(params)
        self.controller = controller_from(params)
        self.compiled = compile_dram(self.preset, self.controller)    # kept for every op's run
        self.tck_ps = self.preset.tck_ps
        # what a playback depends on besides the op's stream and the model's code: the device and
        # the controller (not the preset file's path, so that machines sharing a cache agree)
        p = self.preset
        self._identity = repr((p.name, dict(p.org), dict(p.timing), p.power and dict(p.power), self.controller))

    @property
    def capacity_bytes(self) -> int:
        return self.preset.capacity_bytes

    def count_events(self, cost, read_bytes: float, written_bytes: float, run=None) -> None:
        """Bytes, DRAM commands by type and cycles with a bank open (for background power)."""
        cost.events[(self.name, "read_bytes")] = float(read_bytes)
        cost.events[(self.name, "write_bytes")] = float(written_bytes)
        if run is not None:
            for command, count in run.command_counts.items():
                if count:
                    cost.events[(self.name, command)] = float(count)
            cost.events[(self.name, "active_rank_cycles")] = float(run.active_rank_cycles)

    def transfer_model(self) -> tuple[float, int]:
        """Peak bandwidth and idle row-miss read latency, for the first pipeline pass."""
        t = self.preset.timing
        idle_cycles = t["tRCDRD"] + t["CL"] + self.preset.burst_cycles
        return TICKS_PER_SECOND / self.preset.peak_bytes_per_s, math.ceil(idle_cycles * self.tck_ps)

    def sustained(self, load_start, load_bytes, store_start, store_bytes, key: str):
        """Play the op's requests back to back through the DRAM (in the order the
        transfers started) and return (ticks per byte it sustained, the run); the
        peak and no run in the analytical model or when nothing moves."""
        ticks_per_byte, latency_ticks = self.transfer_model()
        if self.params["model"] == "analytical" or np.sum(load_bytes) + np.sum(store_bytes) <= 0:
            return ticks_per_byte, None
        load_counts, store_counts = _request_counts(load_start, load_bytes), _request_counts(store_start, store_bytes)
        n = int(load_counts.sum()) + int(store_counts.sum())
        if n == 0:                      # (only transfers that do not run)
            return ticks_per_byte, None
        load_start, store_start = np.ascontiguousarray(load_start), np.ascontiguousarray(store_start)
        base = _base(key, self.preset)
        name = PLAYBACK_CACHE.key(self._identity, load_start.tobytes(), load_counts.tobytes(),
                                  store_start.tobytes(), store_counts.tobytes(),
                                  repr((load_start.dtype.str, store_start.dtype.str, ticks_per_byte, base)))
        run = PLAYBACK_CACHE.load(name)
        if run is None:
            run = self._play(load_start, load_counts, store_start, store_counts, ticks_per_byte, base)
            PLAYBACK_CACHE.store(name, run)
        # the port adds the idle latency itself: do not count it twice
        served_ticks = max(run.last_cycle * self.tck_ps - latency_ticks, 1)
        return max(served_ticks / (n * REQUEST_BYTES), ticks_per_byte), run

    def _play(self, load_start, load_counts, store_start, store_counts, ticks_per_byte, base) -> Playback:
        """The op's requests, loads and stores ordered by the tick their transfer issues them,
        all queued at cycle 0, through the controller."""
        loads = int(load_counts.sum())
        n = loads + int(store_counts.sum())
        ticks, address = np.empty(n, np.float64), np.empty(n, np.int64)
        capacity = self.preset.capacity_bytes
        kernel.transfer_requests(load_start, load_counts, ticks_per_byte, base, capacity, ticks, address, 0)
        kernel.transfer_requests(store_start, store_counts, ticks_per_byte, base + capacity // 2, capacity,
                                 ticks, address, loads)
        order = np.argsort(ticks, kind="stable")      # (loads before stores issued on the same tick)
        return simulate_requests(self.preset, self.controller, np.zeros(n, np.int64), address[order], order >= loads,
                                 compiled=self.compiled).playback()

    def run_detail(self, run, ticks_per_byte: float) -> dict:
        """What an op's cost detail reports about its DRAM playback."""
        return {"memory": self.name, "row_hits": run.row_hits, "row_misses": run.row_misses,
                "row_conflicts": run.row_conflicts, "commands": run.command_counts,
                "energy_pj": run.energy_pj(), "sustained_bytes_per_s": 1e12 / ticks_per_byte,
                "channel_busy_ticks": (run.bus_busy_cycles * self.tck_ps).tolist()}


def _request_counts(start_ticks, nbytes):
    """64-byte requests of each transfer (none for a transfer that does not run: start < 0)."""
    counts = np.ceil(np.maximum(nbytes, 0) / REQUEST_BYTES).astype(np.int64)
    counts[np.asarray(start_ticks) < 0] = 0
    return counts


def _base(key: str, preset) -> int:
    """Row-aligned start of an op's regions, derived from the op so it is reproducible."""
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)
    row_span = preset.org["row_bytes"] * preset.org["channels"]
    return (digest * row_span) % preset.capacity_bytes
