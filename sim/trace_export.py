"""A run as a Chrome trace-event document (trace.json), for the Perfetto UI
(ui.perfetto.dev: Open trace file) or chrome://tracing.

* one track per unit: every compute group (systolic arrays, vector units) shows
  its ops as slices; the DMA track shows, per op, how long the DMA moved data
  (drawn from the op's start: the pipeline interleaves transfers with compute,
  so this is the op's transfer time, not the exact instants);
* counter tracks, sampled on a grid of at most COUNTER_POINTS buckets: bandwidth
  of every memory (bytes of each op spread evenly over the op), occupancy of
  every scratchpad (the op's peak bytes while it runs), and, on cycle-level
  DRAM, busy fraction of every channel;
* bounded size: when the slices would exceed MAX_BYTES, consecutive ops of a
  unit are merged into one slice ("N ops") and the document says so in
  otherData.accsim.aggregated (summary.json metadata.trace repeats it).

Times are microseconds, as the format requires (1 us = 1e6 ticks).
"""
from __future__ import annotations

import math

import numpy as np

MAX_BYTES = 50_000_000        # the bound on trace.json
SLICE_BYTES = 260             # upper bound of one slice with its args (GPT-2 ops measure 150-200 bytes)
COUNTER_POINTS = 2000         # samples per counter track: enough for a screen, bounded size
TICKS_PER_US = 1_000_000
PID_UNITS, PID_COUNTERS = 1, 2


def chrome_trace(system, stats, summary: dict) -> dict:
    records = stats.records
    merge = max(1, math.ceil(len(records) * 2 * SLICE_BYTES / MAX_BYTES))
    units = list(system.components)
    tid = {name: index + 1 for index, name in enumerate(units)}
    events = [{"ph": "M", "pid": PID_UNITS, "name": "process_name",
               "args": {"name": f"accsim: {summary['workload']} on {summary['arch']}"}},
              {"ph": "M", "pid": PID_COUNTERS, "name": "process_name", "args": {"name": "counters"}}]
    events += [{"ph": "M", "pid": PID_UNITS, "tid": tid[name], "name": "thread_name",
                "args": {"name": f"{name} ({c.TYPE} x{c.count})"}} for name, c in system.components.items()]
    events += [{"ph": "M", "pid": PID_UNITS, "tid": tid[name], "name": "thread_sort_index",
                "args": {"sort_index": tid[name]}} for name in units]
    events += _slices(system, records, tid, merge)
    events += _counters(system, records, stats.total_ticks)
    info = {"ops": len(records), "events": len(events), "aggregated": merge > 1,
            "ops_per_slice": merge,
            "note": (f"slices merge {merge} consecutive ops of a unit to stay under {MAX_BYTES // 10**6} MB"
                     if merge > 1 else "one slice per op"),
            "counter_points": COUNTER_POINTS}
    return {"traceEvents": events, "displayTimeUnit": "ns", "otherData": {"accsim": info}}


def _us(ticks: float) -> float:
    return round(ticks / TICKS_PER_US, 6)


def _slices(system, records, tid, merge: int) -> list[dict]:
    by_unit: dict[str, list] = {}
    for record in records:
        by_unit.setdefault(record.unit, []).append(record)
    events = []
    dma_names = [n for n, c in system.components.items() if c.ROLE == "dma"]
    for unit, group in by_unit.items():
        group.sort(key=lambda r: r.start_tick)
        for first in range(0, len(group), merge):
            chunk = group[first:first + merge]
            start, end = chunk[0].start_tick, chunk[-1].end_tick
            if len(chunk) == 1:
                op = chunk[0].op
                name, args = op.name, {"kind": op.kind, "phase": op.phase, "step": op.step, "layer": op.layer,
                                       "shape": op.shape_text(), "flops": op.flops}
            else:
                kinds = sorted({r.op.kind for r in chunk})
                name, args = f"{len(chunk)} ops", {"kinds": ", ".join(kinds), "aggregated": True}
            events.append({"ph": "X", "pid": PID_UNITS, "tid": tid[unit], "name": name,
                           "cat": chunk[0].op.kind, "ts": _us(start), "dur": _us(end - start), "args": args})
            for dma in dma_names:
                busy = sum(r.cost.busy_ticks.get(dma, 0) for r in chunk)
                if busy:
                    events.append({"ph": "X", "pid": PID_UNITS, "tid": tid[dma], "name": f"transfers: {name}",
                                   "cat": "dma", "ts": _us(start), "dur": _us(min(busy, end - start)),
                                   "args": {"busy_us": _us(busy)}})
    return events


def _averages(starts, ends, levels, grid) -> np.ndarray:
    """Average over each grid bucket of a sum of boxes (level between start and end)."""
    times = np.concatenate([starts, ends])
    steps = np.concatenate([levels, -levels])
    order = np.argsort(times, kind="stable")
    times, steps = times[order], steps[order]
    level = np.cumsum(steps)
    # integral of the step function at each breakpoint, then at the grid edges
    area = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(times))])
    at_grid = np.interp(grid, times, area, left=0.0, right=area[-1] if area.size else 0.0)
    return np.diff(at_grid) / np.diff(grid)


def _counters(system, records, total_ticks: int) -> list[dict]:
    if not records or total_ticks <= 0:
        return []
    grid = np.linspace(0, total_ticks, min(COUNTER_POINTS, max(2, len(records))) + 1)
    starts = np.array([r.start_tick for r in records], float)
    ends = np.array([max(r.end_tick, r.start_tick + 1) for r in records], float)
    span = ends - starts
    tracks: dict[str, np.ndarray] = {}
    for memory in system.memories:
        moved = np.array([r.cost.bytes_read.get(memory.name, 0.0) + r.cost.bytes_written.get(memory.name, 0.0)
                          for r in records])
        # bytes per tick x 1e12 ticks/s / 1e9 = GB/s
        tracks[f"{memory.name} bandwidth (GB/s)"] = _averages(starts, ends, moved / span * 1e3, grid)
        channels = [r.cost.detail.get("dram", {}).get("channel_busy_ticks") for r in records]
        if any(channels):
            width = len(next(c for c in channels if c))
            busy = np.array([c if c else [0.0] * width for c in channels], float)
            for channel in range(width):
                tracks[f"{memory.name} ch{channel} busy (%)"] = _averages(starts, ends,
                                                                         100 * busy[:, channel] / span, grid)
    for name, component in system.components.items():
        if component.ROLE != "buffer":
            continue
        users = [n for n, c in system.components.items() if getattr(c, "scratchpad", None) is component]
        level = np.array([r.cost.detail.get("buffer_peak_bytes", 0) if r.unit in users else 0 for r in records], float)
        if level.any():
            tracks[f"{name} occupancy per instance (MB)"] = _averages(starts, ends, level / 1e6, grid)
    events = []
    for track, values in tracks.items():
        for t, value in zip(grid[:-1], values):
            events.append({"ph": "C", "pid": PID_COUNTERS, "name": track, "ts": _us(t),
                           "args": {"value": round(float(value), 4)}})
    return events
