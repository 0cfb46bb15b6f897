"""A System is the built architecture: component instances from the registry,
linked by name, plus the scheduler that runs an op graph on them.

Scheduling is coarse and event-driven (SimPy): each op is a process, started
once its dependencies finished, that takes the component group that executes
its kind, holds it for the op's duration, and releases it. Ops that overlap in
time share the memory bandwidth (accsim.sharing): an op runs its own duration
unless the ops running beside it ask the same memory for more than it can
serve. The duration comes from the component's cycle-level kernels. Identical
ops (same signature) on an idle group cost the same, so by default each
signature is simulated once and reused; `exact=True` simulates every op, and
reads no DRAM playback back from the disk cache either (accsim.components.dram).
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial

import simpy

from .arch import ArchSpec
from .clock import TICKS_PER_SECOND, Clock
from .components import REGISTRY
from .components.base import OpCost
from .components.dram import PLAYBACK_CACHE
from .errors import AccsimError, CapacityError
from .sharing import SharedMemories
from .workload.ops import Op


@dataclass
class OpRecord:
    op: Op
    unit: str
    start_tick: int
    end_tick: int
    cost: OpCost


@dataclass
class SimStats:
    records: list[OpRecord]
    total_ticks: int
    shortcuts: dict = field(default_factory=dict)
    weight_residency: dict | None = None   # accsim.residency summary, None when no weight stayed on chip
    memory_sharing: dict | None = None     # ops slowed by sharing memory bandwidth (accsim.sharing), or None
    kernel_seconds: float = 0.0     # wall time inside component execute() (kernels + tiling)
    schedule_seconds: float = 0.0   # wall time of the SimPy schedule


class System:
    def __init__(self, arch: ArchSpec, mapping_rules=None):
        self.arch = arch
        self.mapping_rules = mapping_rules   # accsim.mapping_rules.MappingRules, or None: search freely
        self.clock = Clock("core", arch.clock_hz)
        self.components = {spec.name: REGISTRY[spec.type](spec.name, spec.count, dict(spec.params), self.clock)
                           for spec in arch.components}
        for component in self.components.values():
            component.link(self)
        # each op kind goes to the most specialised component that executes it (fewest kinds;
        # ties: the first in the file), e.g. attention to a PIM unit rather than the arrays
        self.executors: dict[str, object] = {}
        for component in sorted(self.components.values(), key=lambda c: len(c.EXECUTES)):
            for kind in component.EXECUTES:
                self.executors.setdefault(kind, component)
        self.blocking = [c for c in self.components.values() if getattr(c, "blocks_memory", False)]
        self.memories = [c for c in self.components.values() if c.ROLE == "memory"]

    def executor(self, op: Op):
        try:
            return self.executors[op.kind]
        except KeyError:
            raise AccsimError(f"architecture {self.arch.name!r} has no component that executes "
                              f"{op.kind!r} ops (needed by {op.name})") from None

    def check_capacity(self, tensors: list[tuple[str, float]]) -> None:
        """Raise CapacityError when the tensors that live in memory do not fit."""
        capacity = sum(m.capacity_bytes for m in self.memories)
        needed = sum(size for _, size in tensors)
        if needed > capacity:
            listing = ", ".join(f"{name} {_gib(size)}" for name, size in tensors)
            raise CapacityError(f"workload needs {_gib(needed)} of memory ({listing}) but "
                                f"{', '.join(m.name for m in self.memories)} hold {_gib(capacity)}")

    def check_workload(self, workload) -> None:
        """Component checks that need the whole workload (e.g. KV caches per PIM channel)."""
        for component in self.components.values():
            check = getattr(component, "check_workload", None)
            if check is not None:
                check(workload)

    def simulate(self, ops: list[Op], exact: bool = False, progress=None) -> SimStats:
        from .residency import with_residency

        ops, residency = with_residency(ops, self._weight_pool_bytes)
        with PLAYBACK_CACHE.bypass(exact):
            costs, kernel_seconds, unique = self._costs(ops, exact, progress)
        started = time.perf_counter()
        records = self._schedule(ops, costs)
        shortcuts = {}
        if not exact:
            shortcuts["identical_op_reuse"] = {
                "what": "ops with the same kind, shapes and dtypes are simulated once on an idle "
                        "unit group and their cost reused",
                "ops": len(ops), "simulated": unique}
        total = max((r.end_tick for r in records), default=0)
        return SimStats(records, total, shortcuts, residency, _sharing_summary(records), kernel_seconds,
                        time.perf_counter() - started)

    def _weight_pool_bytes(self, op: Op) -> int:
        return getattr(self.executor(op), "weight_pool_bytes", 0)

    def _costs(self, ops, exact, progress):
        memo: dict[tuple, OpCost] = {}
        costs = []
        spent = 0.0
        for op in ops:
            key = (op.kind, op.signature())
            cost = None if exact else memo.get(key)
            if cost is None:
                began = time.perf_counter()
                cost = self.executor(op).execute(op, self)
                spent += time.perf_counter() - began
                memo[key] = cost
            costs.append(cost)
            if progress is not None:
                progress(op)
        return costs, spent, len(memo) if not exact else len(ops)

    def _schedule(self, ops: list[Op], costs: list[OpCost]) -> list[OpRecord]:
        env = simpy.Environment()
        groups = {name: _UnitGroup(env) for name in self.components}
        units = [self.executor(op).name for op in ops]
        records: list[OpRecord | None] = [None] * len(ops)
        # an op's process starts once its dependencies finished: few processes are alive at once
        waiting = [len(op.deps) for op in ops]
        dependents: list[list[int]] = [[] for _ in ops]
        for op in ops:
            for d in op.deps:
                dependents[d].append(op.index)

        gate = _MemoryGate(env) if self.blocking else None
        blockers = {c.name for c in self.blocking}
        shared = SharedMemories(env, [m.name for m in self.memories])

        def run(op: Op, cost: OpCost, unit: str):
            yield groups[unit].request()
            if gate is not None:
                # a PIM unit with a single row buffer owns the memory while it computes
                yield from gate.enter(exclusive=unit in blockers)
            start = env.now
            yield from shared.run(cost.ticks, cost.busy_ticks)
            if gate is not None:
                gate.leave(exclusive=unit in blockers)
            records[op.index] = OpRecord(op, unit, start, env.now, cost)
            groups[unit].release()

        def launch(index: int, _event=None) -> None:
            process = env.process(run(ops[index], costs[index], units[index]))
            process.callbacks.append(partial(finished, index))

        def finished(index: int, _event) -> None:
            """The ops whose last dependency this was become ready one event later, as
            they would waiting on a condition over their dependencies' processes."""
            for later in dependents[index]:
                waiting[later] -= 1
                if not waiting[later]:
                    ready = env.event()
                    ready.callbacks.append(partial(launch, later))
                    ready.succeed()

        for op in ops:
            if not op.deps:
                launch(op.index)
        env.run()
        return records


def _sharing_summary(records: list[OpRecord]) -> dict | None:
    """How much sharing memory bandwidth with overlapping ops stretched the ops."""
    stretched = [r.end_tick - r.start_tick - r.cost.ticks for r in records]
    slowed = [ticks for ticks in stretched if ticks > 0]
    if not slowed:
        return None
    return {"ops_slowed": len(slowed), "ops": len(records), "added_op_seconds": sum(slowed) / TICKS_PER_SECOND}


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**28 else f"{nbytes / 2**20:.2f} MiB"


class _UnitGroup:
    """A component group that one op holds at a time, first come first served. It
    grants at the same event steps as simpy.Resource(capacity=1) (a waiting op gets
    the group when the release event is processed) but schedules that release event
    only when an op waits: one event per op fewer."""

    def __init__(self, env):
        self.env = env
        self.busy = False
        self.waiting: deque[simpy.Event] = deque()

    def request(self) -> simpy.Event:
        """An event that succeeds when the group is the caller's."""
        granted = self.env.event()
        self.waiting.append(granted)
        self._grant()
        return granted

    def release(self) -> None:
        """Free the group; the first waiting op gets it one event later."""
        self.busy = False
        if self.waiting:
            handover = self.env.event()
            handover.callbacks.append(self._grant)
            handover.succeed()

    def _grant(self, _event=None) -> None:
        if not self.busy and self.waiting:
            self.busy = True
            self.waiting.popleft().succeed()


class _MemoryGate:
    """Readers-writer gate over the memory: NPU ops share it, a blocking PIM op takes it
    alone. Waiting exclusive users are served before new shared ones (no starvation)."""

    def __init__(self, env):
        self.env = env
        self.shared = 0
        self.exclusive = False
        self.waiting_exclusive = 0
        self.changed = env.event()

    def enter(self, exclusive: bool):
        if exclusive:
            self.waiting_exclusive += 1
            while self.exclusive or self.shared:
                yield self.changed
            self.waiting_exclusive -= 1
            self.exclusive = True
        else:
            while self.exclusive or self.waiting_exclusive:
                yield self.changed
            self.shared += 1

    def leave(self, exclusive: bool) -> None:
        if exclusive:
            self.exclusive = False
        else:
            self.shared -= 1
        event, self.changed = self.changed, self.env.event()
        event.succeed()
