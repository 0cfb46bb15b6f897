"""Cycle-level DRAM / HBM memory (accsim.kernels.dram) as an architecture component.

Every op's tile transfers run through the DRAM model as 64-byte requests:

1. the tile pipeline runs with the DRAM's peak bandwidth and idle latency,
   which gives the tick at which each transfer starts;
2. each transfer becomes requests issued at the peak rate from its start
   (loads read, stores write); all of the op's requests, from every unit,
   go through the DRAM controller together, so they contend for channels,
   banks and the data bus; a transfer lasts until its last request completes;
3. the pipeline runs again; a transfer now ends at the later of its end on a
   port at peak bandwidth (which keeps the aggregate at or below the peak) and
   its start plus the measured duration (which adds row misses, bank conflicts
   and refresh); steps 2-3 repeat until the op's end moves by less than 0.5%,
   at most `refinements` times.

Addresses: the op's loads stream through one region and its stores through
another, in tile order (tensors stored tile by tile, as a DMA streams packed
tiles); the regions of an op start at a row-aligned offset derived from the
op, so different ops touch different rows and banks deterministically.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from types import MappingProxyType

import numpy as np

from ..clock import TICKS_PER_SECOND
from ..memory.preset import CONTROLLER_FIELDS, REQUEST_BYTES, check_controller, controller_from, load_preset
from ..memory.simulate import simulate_requests
from ..schema import Checker, opt, req
from .base import CLOCK_FIELD, Component, register


@register("dram")
class Dram(Component):
    ROLE = "memory"
    SUMMARY = "cycle-level DRAM/HBM: JEDEC timing presets, FR-FCFS controller, refresh (configs/dram)"
    FIELDS = {
        "preset": req("str", "bundled preset name (hbm2, hbm2e, hbm3, ddr4-3200, ddr5-4800) or a preset file"),
        "channels": opt("int", 0, "channels in all (0: the preset's); e.g. 32 for four 8-channel HBM2 stacks",
                        minimum=0),
        "refinements": opt("int", 4, "at most this many re-timing passes with measured transfer times "
                                     "(fewer once the op's end moves by less than 0.5%)", minimum=1),
        **CONTROLLER_FIELDS,
        "clock": CLOCK_FIELD,
    }

    @classmethod
    def cross_check(cls, name, params, peers, checker: Checker, node) -> None:
        """The channel count must be a power of two, the preset must load and the
        controller settings must suit it; every problem is reported."""
        from ..errors import ConfigError, ResolveError

        path = f"components.{name}."
        channels = params["channels"]
        if channels & (channels - 1):
            checker.add(node.location("channels"), path + "channels", f"must be a power of two, got {channels}")
            return
        try:
            preset = _preset(params)
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
        self.preset = _preset(params)
        self.controller = controller_from(params)
        self.tck_ps = self.preset.tck_ps

    @property
    def capacity_bytes(self) -> int:
        return self.preset.capacity_bytes

    def transfer_model(self) -> tuple[float, int]:
        """Peak bandwidth and idle row-miss read latency, for the first pipeline pass."""
        t = self.preset.timing
        idle_cycles = t["tRCDRD"] + t["CL"] + self.preset.burst_cycles
        return TICKS_PER_SECOND / self.preset.peak_bytes_per_s, math.ceil(idle_cycles * self.tck_ps)

    def time_transfers(self, load_start, load_bytes, store_start, store_bytes, setup_ticks, key: str):
        """Durations (ticks, from start to last completion) of every load and store."""
        ticks_per_byte, _ = self.transfer_model()
        loads = _requests(load_start, load_bytes, ticks_per_byte, self.tck_ps)
        stores = _requests(store_start, store_bytes, ticks_per_byte, self.tck_ps)
        base = _base(key, self.preset)
        half = self.preset.capacity_bytes // 2
        address = np.concatenate([(base + loads[2]) % self.preset.capacity_bytes,
                                  (base + half + stores[2]) % self.preset.capacity_bytes])
        arrive = np.concatenate([loads[1], stores[1]])
        writes = np.concatenate([np.zeros(loads[1].size, bool), np.ones(stores[1].size, bool)])
        run = simulate_requests(self.preset, self.controller, arrive, address, writes)
        order = np.argsort(arrive, kind="stable")
        done = np.empty_like(run.done_cycle)
        done[order] = run.done_cycle          # simulate_requests sorts by arrival
        n_loads = loads[1].size
        load_service = _service(load_start, loads[0], done[:n_loads], self.tck_ps, setup_ticks)
        store_service = _service(store_start, stores[0], done[n_loads:], self.tck_ps, setup_ticks)
        return load_service, store_service, run


def _preset(params):
    """The named preset, with the architecture's channel count when it gives one."""
    preset = load_preset(params["preset"])
    channels = params.get("channels") or 0
    if channels:          # a power of two: checked in Dram.cross_check
        preset = replace(preset, org=MappingProxyType({**preset.org, "channels": channels}))
    return preset


def _requests(start_ticks, nbytes, ticks_per_byte, tck_ps):
    """(transfer index, arrival cycle, byte offset in the region) of every 64-byte request."""
    counts = np.ceil(np.maximum(nbytes, 0) / REQUEST_BYTES).astype(np.int64)
    counts[np.asarray(start_ticks) < 0] = 0
    owner = np.repeat(np.arange(counts.size), counts)
    first = np.cumsum(counts) - counts
    index_in_transfer = np.arange(owner.size) - np.repeat(first, counts)
    arrival_ticks = np.asarray(start_ticks)[owner] + index_in_transfer * REQUEST_BYTES * ticks_per_byte
    offset = (np.repeat(first, counts) + index_in_transfer) * REQUEST_BYTES
    return owner, (arrival_ticks // tck_ps).astype(np.int64), offset.astype(np.int64)


def _service(start_ticks, owner, done_cycles, tck_ps, setup_ticks):
    last = np.full(np.asarray(start_ticks).size, -1, np.int64)
    np.maximum.at(last, owner, done_cycles)
    service = np.where(last >= 0, np.ceil(last * tck_ps).astype(np.int64) - np.asarray(start_ticks), 0)
    return (np.maximum(service, 0) + setup_ticks * (last >= 0)).astype(np.int64)


def _base(key: str, preset) -> int:
    """Row-aligned start of an op's regions, derived from the op so it is reproducible."""
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)
    row_span = preset.org["row_bytes"] * preset.org["channels"]
    return (digest * row_span) % preset.capacity_bytes
