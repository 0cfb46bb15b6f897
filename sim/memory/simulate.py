"""Run a batch of requests through the cycle-level DRAM kernel and summarise it."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, Problem
from ..kernels import dram as kernel
from .constraints import COMMANDS
from .preset import ControllerSpec, DramPreset, compile_dram  # noqa: F401 (ControllerSpec in signatures)

FRONTENDS = ("inorder", "unlimited")


@dataclass(frozen=True)
class DramRun:
    """Outcome of one batch. Cycles are cycles of the DRAM clock (tCK)."""

    preset: DramPreset
    done_cycle: np.ndarray          # completion cycle of each request (data transferred)
    arrive_cycle: np.ndarray
    is_write: np.ndarray
    command_counts: dict[str, int]
    row_hits: int
    row_misses: int
    row_conflicts: int
    bus_busy_cycles: np.ndarray     # per channel
    read_queue_occupancy: float     # mean entries per channel
    write_queue_occupancy: float
    active_rank_cycles: int         # sum over ranks of cycles with a bank open
    last_cycle: int
    commands: np.ndarray            # (k, 4): cycle, command code, channel, bank (first k commands)
    command_energy_pj: np.ndarray   # per command code, from the preset's currents (zeros without them)
    background_mw: np.ndarray       # per rank: [all banks precharged, some bank open]
    source: np.ndarray              # source id of each request (0 when the caller gave none)

    @property
    def requests(self) -> int:
        return int(self.done_cycle.shape[0])

    @property
    def seconds(self) -> float:
        return self.last_cycle * self.preset.timing["tCK_ns"] * 1e-9

    @property
    def bandwidth_bytes_per_s(self) -> float:
        return self.requests * self.preset.burst_bytes / self.seconds if self.last_cycle else 0.0

    @property
    def latency_cycles(self) -> np.ndarray:
        return self.done_cycle - self.arrive_cycle

    @property
    def row_hit_rate(self) -> float:
        total = self.row_hits + self.row_misses + self.row_conflicts
        return self.row_hits / total if total else 0.0

    def by_source(self) -> dict[int, dict]:
        """Per source id: requests, reads, writes, read latency (cycles: mean, p50, p99, max; None
        without reads), the span from its first arrival to its last completion (cycles) and the
        bandwidth it got over that span. The controller does not schedule by source (FR-FCFS is
        source-blind, as in DRAMsim3 and Ramulator), so these only attribute the shared run."""
        out = {}
        latency = self.latency_cycles
        for source in np.unique(self.source):
            mine = self.source == source
            reads = mine & ~self.is_write
            lat = latency[reads]
            span = int(self.done_cycle[mine].max() - self.arrive_cycle[mine].min())
            seconds = span * self.preset.timing["tCK_ns"] * 1e-9
            out[int(source)] = {
                "requests": int(mine.sum()), "reads": int(reads.sum()), "writes": int((mine & self.is_write).sum()),
                "read_latency_cycles": latency_stats(lat) if lat.size else None,
                "span_cycles": span,
                "bandwidth_bytes_per_s": int(mine.sum()) * self.preset.burst_bytes / seconds if span > 0 else 0.0}
        return out

    def playback(self) -> Playback:
        """The totals an architecture keeps of this run."""
        return Playback(last_cycle=self.last_cycle, command_counts=dict(self.command_counts),
                        row_hits=self.row_hits, row_misses=self.row_misses, row_conflicts=self.row_conflicts,
                        bus_busy_cycles=self.bus_busy_cycles.copy(), active_rank_cycles=self.active_rank_cycles,
                        energy=self.energy_pj())

    def energy_pj(self) -> dict[str, float] | None:
        """Command energy plus background energy (IDD2N when all banks of a rank are
        precharged, IDD3N while any is open), from the preset's currents."""
        if self.preset.power is None:
            return None
        commands = sum(self.command_counts[name] * self.command_energy_pj[i] for i, name in enumerate(COMMANDS))
        ranks = self.preset.org["channels"] * self.preset.org["ranks"]
        tck_ns = self.preset.timing["tCK_ns"]
        idle_rank_cycles = ranks * self.last_cycle - self.active_rank_cycles
        background = (self.background_mw[0] * idle_rank_cycles + self.background_mw[1]
                      * self.active_rank_cycles) * tck_ns     # mW x ns = pJ
        return {"commands": float(commands), "background": float(background),
                "total": float(commands + background)}


@dataclass(frozen=True)
class Playback:
    """What a DRAM component keeps of an op's DramRun (accsim.components.dram): totals only, no
    per-request arrays, so that it is small enough to keep on disk between runs."""

    last_cycle: int
    command_counts: dict[str, int]
    row_hits: int
    row_misses: int
    row_conflicts: int
    bus_busy_cycles: np.ndarray     # per channel
    active_rank_cycles: int
    energy: dict[str, float] | None     # DramRun.energy_pj()

    def energy_pj(self) -> dict[str, float] | None:
        return None if self.energy is None else dict(self.energy)


def simulate_requests(preset: DramPreset, controller: ControllerSpec, arrive_cycle, address, is_write,
                      frontend: str = "unlimited", trace_commands: int = 0,
                      cycle_limit: int = 1 << 60, compiled=None, source=None, threads: int | None = None) -> DramRun:
    """Requests (arrival cycle, byte address, read/write, optionally a source id each) in arrival
    order -> DramRun; `DramRun.by_source()` splits latency and bandwidth by source.
    `compiled`: compile_dram(preset, controller), when the caller keeps it between runs.

    `inorder` hands the controller at most one request per cycle in order and
    stalls when the target queue is full (DRAMsim3's trace front end);
    `unlimited` hands every arrived request to its channel's queue while it has room; its channels
    share nothing, so they are simulated on up to `threads` threads at once (None: resolve_threads;
    the results do not depend on the number)."""
    if frontend not in FRONTENDS:
        raise ValueError(f"frontend must be one of {FRONTENDS}")
    arrive = np.ascontiguousarray(arrive_cycle, np.int64)
    source = np.zeros(arrive.size, np.int64) if source is None else np.asarray(source, np.int64)
    if source.shape != arrive.shape:
        raise ValueError(f"source must give one id per request ({arrive.size}), got shape {source.shape}")
    if arrive.size > 1 and np.any(arrive[1:] < arrive[:-1]):
        order = np.argsort(arrive, kind="stable")
        arrive, address, is_write = arrive[order], np.asarray(address)[order], np.asarray(is_write)[order]
        source = source[order]
    addr = np.ascontiguousarray(address, np.int64)
    writes = np.ascontiguousarray(is_write, np.bool_)
    compiled = compiled or compile_dram(preset, controller)
    unlimited = frontend == "unlimited"
    channels = preset.org["channels"]
    # the unlimited front end runs the channels as separate parts, each logging into its own rows
    trace = np.full((trace_commands * (channels if unlimited else 1), 4), -1, np.int64)
    done, stats, last = _run_kernel(compiled, arrive, addr, writes, unlimited, cycle_limit, trace,
                                    resolve_threads(threads))
    logged = trace[trace[:, 0] >= 0]
    commands = logged[np.lexsort((logged[:, 2], logged[:, 0]))][:trace_commands]    # by cycle, then channel
    if stats[kernel.STAT_STALLED]:
        raise RuntimeError(f"DRAM controller stalled at cycle {int(last)} with requests pending "
                           "(a scheduling deadlock: please report it with the trace)")
    cycles = max(int(last), 1)
    return DramRun(
        preset=preset, done_cycle=done, arrive_cycle=arrive, is_write=writes,
        command_counts={name: int(stats[i]) for i, name in enumerate(COMMANDS)},
        row_hits=int(stats[kernel.STAT_HIT]), row_misses=int(stats[kernel.STAT_MISS]),
        row_conflicts=int(stats[kernel.STAT_CONFLICT]),
        bus_busy_cycles=stats[kernel.STAT_BUS:kernel.STAT_BUS + channels].copy(),
        read_queue_occupancy=stats[kernel.STAT_RQ_OCC] / (cycles * channels),
        write_queue_occupancy=stats[kernel.STAT_WQ_OCC] / (cycles * channels),
        active_rank_cycles=int(stats[kernel.STAT_ACTIVE]), last_cycle=int(last),
        commands=commands,
        command_energy_pj=compiled.energy_pj, background_mw=compiled.background_mw, source=source)


def resolve_threads(threads: int | None = None) -> int:
    """Threads for the unlimited front end's channels: `threads` if given, else the ACCSIM_THREADS
    environment variable if set, else the CPUs this process may run on."""
    if threads is None:
        text = os.environ.get("ACCSIM_THREADS", "").strip()
        if not text:
            return len(os.sched_getaffinity(0))
        threads = int(text) if text.isdigit() else 0
        if threads < 1:
            raise ConfigError([Problem("ACCSIM_THREADS", None, "", f"must be an integer of at least 1, got {text!r}")])
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    return threads


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of `threads` workers (kept between runs: an op's run may take a
    millisecond)."""
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="accsim-dram")
        return _POOLS[threads]


def _forget_pools() -> None:
    """In a forked child: the pools' threads stayed in the parent (a pool copied along would take
    work and never run it), and the lock may have been held by one of them."""
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def _run_kernel(compiled, arrive, addr, writes, unlimited, cycle_limit, trace, threads):
    """Prepare the requests, run every part through phase 0 (serve the requests), then through
    phase 1 (on to the last part's end, refreshing) -> (done cycle per request, stats, last done
    cycle). The unlimited front end's parts are its channels; they go to the threads in contiguous
    blocks, each thread adding into its own row of stats."""
    n = arrive.size
    # the kernel's request records and results, allocated by NumPy (huge pages: kernel.prepare)
    req, done = np.empty(n * kernel.NQ, np.int64), np.empty(n, np.int64)
    ch_start = kernel.prepare(arrive, addr, writes, compiled.org, compiled.scalars, compiled.mapping, unlimited,
                              req, done)
    state = kernel.new_state(compiled.org, compiled.rules, compiled.scalars, ch_start)
    channels = int(compiled.org[0])
    parts = channels if unlimited else 1
    workers = min(threads, parts)
    bounds = [parts * k // workers for k in range(workers + 1)]
    width = -(-(kernel.STAT_BUS + channels) // 8) * 8 + 8     # rows a cache line apart at least
    stats = np.zeros((workers, width), np.int64)
    part_now, part_logged = np.zeros(parts, np.int64), np.zeros(parts, np.int64)
    limit = np.int64(cycle_limit)

    def phase(number: int, end_cycle: int) -> None:
        def run(k: int) -> None:
            kernel.run_parts(req, done, ch_start, state, compiled.org, compiled.scalars, unlimited, limit, trace,
                             bounds[k], bounds[k + 1], number, np.int64(end_cycle), part_now, part_logged, stats[k])
        if workers == 1:
            run(0)
        else:
            list(_pool(workers).map(run, range(workers)))

    phase(0, 0)
    total = stats.sum(axis=0)[:kernel.STAT_BUS + channels]
    end_cycle = int(part_now.max())
    if not total[kernel.STAT_STALLED]:
        phase(1, end_cycle)
        total = stats.sum(axis=0)[:kernel.STAT_BUS + channels]
    total[kernel.STAT_TRACED] = part_logged.sum()
    total[kernel.STAT_ACTIVE] += kernel.active_to_end(state, np.int64(end_cycle))
    last = max(int(done.max()), 0) if n else 0
    return done, total, last


def latency_stats(latency_cycles: np.ndarray) -> dict[str, float]:
    """Mean, p50, p99 and max of some requests' latencies (cycles); at least one latency."""
    return {"mean": float(latency_cycles.mean()), "p50": float(np.percentile(latency_cycles, 50)),
            "p99": float(np.percentile(latency_cycles, 99)), "max": float(latency_cycles.max())}
