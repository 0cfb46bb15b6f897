"""The Python API: everything the CLI does is one of these functions first."""
from __future__ import annotations

import platform
from pathlib import Path
from typing import Callable, Iterable

import numba
import pandas as pd

from . import __version__
from .arch import ARCH_FIELDS, ArchSpec, parse_arch
from .clock import TICKS_PER_SECOND
from .components.dram import PLAYBACK_CACHE
from .errors import ConfigError, Problem, ResolveError
from .mapping import cache as mapping_cache
from .mapping_rules import load_rules
from .resolve import resolve
from .result import Result, seconds
from .system import OpRecord, SimStats, System
from .workload.lower import lower, resident_tensors
from .workload.ops import GEMM_KINDS
from .workload.spec import WORKLOAD_FIELDS, WorkloadSpec, parse_workload
from .yamlio import load

_SHARED_TOP_KEYS = {"schema_version", "name", "description", "notes"}
# on-disk result stores, by the summary metadata key that reports their use in a run
DISK_CACHES = {"mapping_cache": mapping_cache.STORE, "dram_cache": PLAYBACK_CACHE}


def split_overrides(overrides: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Send each `path=value` to the architecture or the workload.

    `arch.` / `workload.` prefixes choose explicitly; otherwise the first key
    decides (components -> architecture, serving -> workload, ...)."""
    arch, workload, problems = [], [], []
    for item in overrides:
        head = item.split("=", 1)[0].split(".", 1)[0].strip()
        if head == "arch":
            arch.append(item.split(".", 1)[1])
        elif head == "workload":
            workload.append(item.split(".", 1)[1])
        elif head in _SHARED_TOP_KEYS:
            problems.append(Problem("--set", None, item, f"{head!r} exists in both files; "
                                                         f"write arch.{head} or workload.{head}"))
        elif head in ARCH_FIELDS:
            arch.append(item)
        elif head in WORKLOAD_FIELDS:
            workload.append(item)
        else:
            valid = sorted((set(ARCH_FIELDS) | set(WORKLOAD_FIELDS)) - _SHARED_TOP_KEYS)
            problems.append(Problem("--set", None, item,
                                    f"unknown top-level key {head!r}; valid: arch., workload., {', '.join(valid)}"))
    if problems:
        raise ConfigError(problems)
    return tuple(arch), tuple(workload)


def load_arch(name: str, overrides: tuple[str, ...] = ()) -> ArchSpec:
    return parse_arch(load(resolve(name, "arch"), lambda n: resolve(n, "arch")), overrides)


def load_workload(name: str, overrides: tuple[str, ...] = ()) -> WorkloadSpec:
    return parse_workload(load(resolve(name, "workload"), lambda n: resolve(n, "workload")), overrides)


def load_pair(arch: str | ArchSpec, workload: str | WorkloadSpec,
              overrides: Iterable[str] = ()) -> tuple[ArchSpec, WorkloadSpec]:
    """Parse and validate both files; problems of both are reported together."""
    arch_overrides, workload_overrides = split_overrides(overrides)
    problems: list[Problem] = []
    specs = []
    for given, loader, extra in ((arch, load_arch, arch_overrides), (workload, load_workload, workload_overrides)):
        if not isinstance(given, str):
            specs.append(given)
            continue
        try:
            specs.append(loader(given, extra))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return specs[0], specs[1]


def kind_of(path: Path) -> str:
    """'arch' or 'workload', from the file's own keys or, failing that, its parents'."""
    from .yamlio import parse_text, read_file

    seen = set()
    while path not in seen:
        seen.add(path)
        tree = parse_text(read_file(path), str(path), collect=True)
        if {"components", "clock"} & tree.keys():
            return "arch"
        if {"kind", "model", "serving", "ops"} & tree.keys():
            return "workload"
        parent = tree.get("extends")
        if not isinstance(parent, str):
            break
        candidate = path.parent / parent
        if candidate.is_file():
            path = candidate.resolve()
            continue
        for kind in ("arch", "workload"):
            try:
                path = resolve(parent, kind)
                break
            except ResolveError:
                continue
        else:
            break
    return "workload"


def run(arch: str | ArchSpec, workload: str | WorkloadSpec, overrides: Iterable[str] = (),
        exact: bool = False, progress: Callable | None = None, mapping: str | None = None) -> Result:
    """Simulate `workload` on `arch` (paths, bundled names or parsed specs); `mapping`
    is a mapping-rules file (accsim.mapping_rules) that pins or constrains the mapper."""
    arch_spec, workload_spec = load_pair(arch, workload, overrides)
    system = System(arch_spec, load_rules(mapping) if mapping else None)
    system.check_capacity(resident_tensors(workload_spec))
    system.check_workload(workload_spec)
    ops = lower(workload_spec, sub_batches=getattr(arch_spec, "sub_batches", 1))
    before = {name: dict(store.stats) for name, store in DISK_CACHES.items()}
    stats = system.simulate(ops, exact=exact, progress=progress)
    result = _result(system, workload_spec, stats, exact)
    for name, store in DISK_CACHES.items():
        result.summary["metadata"][name] = store.metadata(before[name])
    return result


def _result(system: System, workload: WorkloadSpec, stats: SimStats, exact: bool) -> Result:
    """The summary and ops table, with energy, area and the Perfetto trace (accsim.energy)."""
    from .energy import account, roofline
    from .trace_export import chrome_trace

    summary = _summary(system, workload, stats, exact)
    ops = _ops_frame(system, stats)
    books = account(system, stats)
    ops["energy_pj"] = books.op_energy_pj
    ops["start_seconds"] = [r.start_tick / TICKS_PER_SECOND for r in stats.records]
    metadata = summary.pop("metadata")
    summary.update(energy=books.energy, area=books.area, roofline=roofline(system), metadata=metadata)
    return Result(summary, ops, energy=books.energy_frame, area=books.area_frame,
                  trace=lambda: chrome_trace(system, stats, summary))


def _cycles(clock, ticks: int) -> float:
    return round(clock.cycles(ticks), 3)


def _summary(system: System, workload: WorkloadSpec, stats: SimStats, exact: bool) -> dict:
    clock = system.clock
    total = stats.total_ticks
    summary = {
        "arch": system.arch.name,
        "workload": workload.name,
        "total": {"seconds": seconds(total), "cycles": _cycles(clock, total), "clock": clock.label(),
                  "ticks_ps": total},
        "phases": _phases(stats, clock),
        "components": _components(system, stats),
        "memory_levels": _memory_levels(stats),
    }
    if workload.kind == "llm":
        from .workload.lower import serving_totals

        served = serving_totals(workload)      # tokens emitted by the simulated iterations (a window, or all)
        generated = served["tokens_generated"]
        summary["tokens"] = {"generated": generated, "per_second": generated / seconds(total) if total else 0.0,
                             "batch_size": workload.batch_size, "requests_completed": served["requests_completed"],
                             "iterations": served["iterations"]}
    summary["metadata"] = {
        "accsim_version": __version__,
        "inputs": {**system.arch.file_hashes, **workload.file_hashes},
        "overrides": {"arch": list(system.arch.overrides), "workload": list(workload.overrides)},
        "exact": exact,
        "shortcuts": stats.shortcuts,
        "weight_residency": stats.weight_residency,
        "memory_sharing": stats.memory_sharing,
        "ops": len(stats.records),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "wall_seconds": {"kernels": stats.kernel_seconds, "schedule": stats.schedule_seconds},
        "time_unit": "1 tick = 1 ps; cycles are counted in the named clock",
    }
    return summary


def _phases(stats: SimStats, clock) -> dict:
    phases: dict[str, dict] = {}
    for record in stats.records:
        span = phases.setdefault(record.op.phase, {"start": record.start_tick, "end": record.end_tick, "steps": set()})
        span["start"] = min(span["start"], record.start_tick)
        span["end"] = max(span["end"], record.end_tick)
        span["steps"].add(record.op.step)
    return {name: {"seconds": seconds(s["end"] - s["start"]), "cycles": _cycles(clock, s["end"] - s["start"]),
                   "steps": len(s["steps"])} for name, s in phases.items()}


def _components(system: System, stats: SimStats) -> dict:
    """Busy time and utilization of every component that did work; for buffers,
    the peak bytes in use against their capacity."""
    busy: dict[str, int] = {}
    peak_buffer: dict[str, int] = {}
    macs: dict[str, int] = {}       # per executing unit
    peak: dict[str, int] = {}
    for record in stats.records:
        for name, ticks in record.cost.busy_ticks.items():
            busy[name] = busy.get(name, 0) + ticks
        macs[record.unit] = macs.get(record.unit, 0) + record.cost.macs
        peak[record.unit] = peak.get(record.unit, 0) + record.cost.peak_macs
        buffer = _buffer(system, record.unit)
        if buffer is not None:
            used = record.cost.detail.get("buffer_peak_bytes", 0)
            peak_buffer[buffer] = max(peak_buffer.get(buffer, 0), used)
    total = max(stats.total_ticks, 1)
    result = {}
    for name, component in system.components.items():
        entry = {"type": component.TYPE, "count": component.count, "clock": component.clock.label()}
        if name in busy:
            # Compute groups report busy time summed over instances; memory and DMA are one port.
            instances = component.count if component.ROLE == "compute" else 1
            ticks = busy[name] / instances
            entry.update(busy_seconds=seconds(ticks), busy_cycles=_cycles(component.clock, int(ticks)),
                         utilization=ticks / total)
            if component.EXECUTES & GEMM_KINDS and peak.get(name):
                entry["mac_utilization_while_busy"] = macs[name] / peak[name]
        elif name in peak_buffer:
            capacity = component.capacity_bytes
            entry.update(capacity_bytes=capacity, peak_bytes_in_use=peak_buffer[name],
                         peak_occupancy=peak_buffer[name] / capacity)
        else:
            continue
        result[name] = entry
    for name, dram in _dram_totals(stats).items():
        result.setdefault(name, {}).update(dram)
    return result


def _dram_totals(stats: SimStats) -> dict:
    """Row-buffer outcomes, commands and energy of cycle-level DRAM, over all ops."""
    totals: dict[str, dict] = {}
    for record in stats.records:
        dram = record.cost.detail.get("dram")
        if dram is None:
            continue
        entry = totals.setdefault(dram["memory"], {"row_hits": 0, "row_misses": 0, "row_conflicts": 0,
                                                    "commands": {}, "energy_pj": 0.0})
        for key in ("row_hits", "row_misses", "row_conflicts"):
            entry[key] += dram[key]
        for command, count in dram["commands"].items():
            entry["commands"][command] = entry["commands"].get(command, 0) + count
        energy = dram["energy_pj"]
        entry["energy_pj"] = entry["energy_pj"] + energy["total"] if energy and entry["energy_pj"] is not None else None
    for entry in totals.values():
        accesses = entry["row_hits"] + entry["row_misses"] + entry["row_conflicts"]
        entry["row_hit_rate"] = entry["row_hits"] / accesses if accesses else 0.0
    return totals


def _memory_levels(stats: SimStats) -> dict:
    levels: dict[str, dict] = {}
    for record in stats.records:
        for direction, table in (("bytes_read", record.cost.bytes_read), ("bytes_written", record.cost.bytes_written)):
            for name, nbytes in table.items():
                level = levels.setdefault(name, {"bytes_read": 0.0, "bytes_written": 0.0})
                level[direction] += nbytes
    return levels


def _ops_frame(system: System, stats: SimStats) -> pd.DataFrame:
    """One row per op (ops.csv), built column by column."""
    records = stats.records
    ops = [r.op for r in records]
    clocks = {name: c.clock for name, c in system.components.items()}
    labels = {name: clock.label() for name, clock in clocks.items()}
    buffers = {name: _buffer(system, name) for name in system.components}
    ticks = [r.end_tick - r.start_tick for r in records]
    return pd.DataFrame({
        "index": [op.index for op in ops], "name": [op.name for op in ops], "kind": [op.kind for op in ops],
        "phase": [op.phase for op in ops], "step": [op.step for op in ops], "layer": [op.layer for op in ops],
        "unit": [r.unit for r in records], "shape": [op.shape_text() for op in ops],
        "start_cycle": [_cycles(clocks[r.unit], r.start_tick) for r in records],
        "cycles": [_cycles(clocks[r.unit], t) for r, t in zip(records, ticks)],
        "clock": [labels[r.unit] for r in records],
        "compute_cycles": [r.cost.detail.get("compute_cycles", 0) for r in records],
        "seconds": [t / TICKS_PER_SECOND for t in ticks],
        # time added because ops running beside it shared the memory bandwidth (accsim.sharing)
        "memory_sharing_seconds": [(t - r.cost.ticks) / TICKS_PER_SECOND for r, t in zip(records, ticks)],
        "bytes_read": [_moved(r.cost.bytes_read, buffers[r.unit]) for r in records],
        "bytes_written": [_moved(r.cost.bytes_written, buffers[r.unit]) for r in records],
        "flops": [op.flops for op in ops],
        "utilization": [_utilization(r, t, system.components[r.unit].count) for r, t in zip(records, ticks)],
    })


def _moved(nbytes: dict[str, float], buffer: str | None) -> float:
    """Bytes moved to or from memory levels other than the unit's own buffer."""
    return sum(v for k, v in nbytes.items() if k != buffer)


def _utilization(record: OpRecord, ticks: int, instances: int) -> float:
    """MAC utilization of a GEMM op; otherwise the unit group's busy share of the op's time."""
    cost = record.cost
    if cost.peak_macs:
        return cost.macs / cost.peak_macs
    return cost.busy_ticks.get(record.unit, 0) / max(ticks * instances, 1)


def _buffer(system: System, unit: str) -> str | None:
    scratchpad = getattr(system.components[unit], "scratchpad", None)
    return scratchpad.name if scratchpad is not None else None
