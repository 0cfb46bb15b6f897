"""Shared host model of the GPU tensor-core components (no @register: a base class).

An instance is one streaming multiprocessor (SM): `count` SMs, each with
`units_per_sm` tensor-core units, a register file and a shared memory. Weight GEMMs
are mapped by accsim.mapping onto a two-level hierarchy:

    L2 (shared by all SMs) -> register file of one SM (tile operands, double-buffered) -> units

Memory: every SM fetches its own tiles through the L2 port (`l2_bandwidth`; the tile
pipeline kernel runs on it, so SMs contend for it); the HBM behind it moves each operand
once and each result once (compulsory traffic, at the memory's bandwidth: its peak for
ideal_memory, for a cycle-level DRAM the bandwidth its controller sustains on those
bytes moved in the L2 pipeline's tile order), and the op takes at least that long.
This is exact when the L2 holds the operands an op re-reads; a three-level lowering
in accsim.mapping would model L2 misses too (docs/lut_tensor_core.md).

The register file bounds the tile the units work on (operands as the units hold them:
LUT tables, weights, accumulators); the shared memory is the staging path between HBM
and registers, and a mapping is used only if one slot of its input tiles also fits the
shared memory (the best of the mapper's top candidates that does). Per-tile compute
cycles come from the subclass's cycle model, loads and stores run through the DMA and
the memory in the tile pipeline kernel, as for the systolic array.
"""
from __future__ import annotations

import numpy as np

from ..dtypes import BYTES_PER_ELEMENT
from ..errors import AccsimError, CapacityError
from ..schema import opt, req
from .base import CLOCK_FIELD, Component, OpCost

CANDIDATES = 16      # mapper candidates tried against the shared-memory staging bound


class TensorCoreInputError(AccsimError):
    """A workload the tensor-core unit cannot execute (weight width, activation type)."""


SM_FIELDS = {
    "units_per_sm": req("int", "tensor-core units per SM", positive=True),
    "register_file": req("size_bytes", "register file of one SM available to the tiles, e.g. 256 KiB",
                         positive=True),
    "scratchpad": req("str", "name of the shared-memory scratchpad (one instance per SM)"),
    "dma": req("str", "name of the DMA component that feeds the SMs"),
    "l2_bandwidth": req("bandwidth_bytes_per_s", "L2 bandwidth shared by the SMs (their tile loads and stores)",
                        positive=True),
    # 0 by default: GPU GEMM kernels hide the L2 latency behind multi-stage asynchronous copies and
    # several resident thread blocks per SM; the two-slot tile pipeline would expose it on every
    # tile, and the mapper's cost model (which chooses the tiles) has no per-transfer latency.
    "l2_latency": opt("time_s", 0.0, "L2 latency exposed on every tile load (0: hidden)", minimum=0),
    "register_bank_bytes": opt("size_bytes", 0, "register-file bank an operand read comes from, for "
                               "energy (0: register_file / units_per_sm)", minimum=0),
    "clock": CLOCK_FIELD,
}


class SmTensorCore(Component):
    """Subclasses give: operand_bytes(op) -> (a, b, c) bytes as the units hold them,
    per_tile(m, n, k, op) -> cycles (vectorised, exact), simulate_tiles(m, n, k, op) -> cycles
    per tile from the cycle-level kernel, peak_macs_per_cycle(op), check_op(op), events(...)."""

    EXECUTES = frozenset({"gemm"})
    REFERENCES = {"scratchpad": "buffer", "dma": "dma"}
    MAPPER_ROWS_COLS = (64, 64)

    def link(self, system) -> None:
        self.scratchpad = system.components[self.params["scratchpad"]]
        self.dma = system.components[self.params["dma"]]

    @property
    def register_bank_bytes(self) -> float:
        return self.params["register_bank_bytes"] or self.params["register_file"] / self.params["units_per_sm"]

    def hierarchy(self, op=None):
        """The mapper's view for `op` (its weight width sets the cycle model); without an
        op, the hierarchy of the op planned last (what `accsim map` asks for after plan)."""
        from ..mapping import Compute, Hierarchy, Level

        op = op if op is not None else self._planned_op

        memory_bytes_per_cycle = self.params["l2_bandwidth"] / self.clock.frequency_hz
        a, b, c = self.operand_bytes(op)
        rows, cols = self.MAPPER_ROWS_COLS
        # Register-file port: what the units read per cycle at peak (the design feeds them; not a limit)
        feed = self.register_feed_bytes_per_cycle(op)
        return Hierarchy(
            (Level("l2", None, memory_bytes_per_cycle),
             Level("register_file", float(self.params["register_file"]), feed, slots=2)),
            Compute(self.TYPE, rows, cols, "ws", self.count,
                    tile_cycles=lambda m, n, k: self.per_tile(m, n, k, op)))

    def _fits_staging(self, candidate, problem) -> bool:
        return self._staging_bytes(candidate, problem) <= self.scratchpad.capacity_bytes

    @staticmethod
    def _staging_bytes(candidate, problem) -> float:
        """Shared-memory bytes of one slot of the tile's inputs."""
        tile = candidate.mapping.tile(1)
        inputs = 0.0
        for operand in problem.inputs:
            size = 1
            for axis in operand.axes:
                size *= sum(coef * (tile[d] - 1) for d, coef in axis) + 1
            inputs += size * operand.bytes_per_element
        return inputs

    _planned_op = None

    def plan(self, op, system, top_k: int = 1) -> list:
        """(problem, search result) per distinct GEMM shape; the result's best is the best
        mapping whose input tiles also fit the shared memory."""
        from dataclasses import replace

        from ..mapping import op_problems
        from ..mapping.search import Constraints
        from ..mapping_rules import plan_problems

        self.check_op(op)
        self._planned_op = op
        hier = self.hierarchy(op)

        def stationary(problem):
            # GPU GEMM kernels keep the accumulators in registers for the whole K loop: the
            # reduced dimension is innermost at the L2 level (no partial sums leave the SM).
            # This also cuts the search to the splits and tile sizes. User rules replace it.
            # Batched matmuls (attention heads) take one head per register tile, as attention
            # kernels do one head per thread block (and the lowering's batch tiles hold one item).
            # In attention matmuls the head dimension (the smaller of N and K) stays whole in a
            # thread block, as FlashAttention-style kernels hold a head's vectors.
            whole = ()
            if op.kind != "gemm" and problem.kind == "bmm":
                head = min(("N", "K"), key=lambda d: problem.bounds[d])
                whole = ((1, head, problem.bounds[head]),)
            return Constraints(
                tiles=tuple((1, d, 1) for d in problem.names if problem.roles[d] == "batch") + whole,
                orders=((0, tuple(d for d in problem.names if problem.roles[d] != "reduce")
                         + tuple(d for d in problem.names if problem.roles[d] == "reduce")),))

        plans = []
        for problem, result in plan_problems(
                op.name, op_problems(op.gemms, *self.operand_bytes(op)), hier, system.mapping_rules,
                max(CANDIDATES, top_k), stationary,
                f" (register file {self.params['register_file']} B of {self.name!r})"):
            staged = [cand for cand in result.top if self._fits_staging(cand, problem)]
            if not staged:
                raise CapacityError(f"{op.name}: none of the best {len(result.top)} register tiles has input "
                                    f"tiles that fit the {self.scratchpad.capacity_bytes}-byte shared memory "
                                    f"{self.scratchpad.name!r}")
            plans.append((problem, replace(result, best=staged[0], top=tuple(staged[:top_k]))))
        return plans

    def execute(self, op, system) -> OpCost:
        from ..mapping import concat_schedules, lower

        self.check_op(op)
        hier = self.hierarchy(op)
        plans = [(problem, hier, result.best) for problem, result in self.plan(op, system)]
        schedule = concat_schedules([lower(problem, hier, cand.mapping) for problem, hier, cand in plans],
                                    self.count)
        cycles = self.simulate_tiles(schedule.m, schedule.n, schedule.k, op)
        cost = self._run_tiles(schedule, self.clock.ticks_array(cycles), op, plans)
        cost.macs = int(sum(m * n * k for m, n, k in op.gemms))
        cost.peak_macs = int(self.peak_macs_per_cycle(op) * self.count * round(self.clock.cycles(cost.ticks)))
        cost.detail["compute_cycles"] = int(cycles.sum())
        cost.detail["estimate_cycles"] = float(sum(cand.latency_cycles for _, _, cand in plans))
        cost.detail["mapping"] = [cand.mapping for _, _, cand in plans]
        cost.detail["tile"] = [tuple(dict(cand.mapping.tiles[0]).get(d, 1) for d in "MNK") for _, _, cand in plans[:1]]
        cost.detail["register_peak_bytes"] = max(dict(cand.footprint_bytes)["register_file"] for _, _, cand in plans)
        cost.detail["buffer_peak_bytes"] = max(self._staging_bytes(cand, problem) for problem, _, cand in plans)
        self.count_events(cost, op, schedule)
        self.add_precompute(cost, op, system)
        return cost

    def _run_tiles(self, schedule, compute_ticks, op, plans) -> OpCost:
        """Tile pipeline on the L2 port, then the HBM floor of the compulsory traffic.

        The compulsory bytes move in the order the L2 pipeline moves its tiles: each tile's
        share of the HBM reads (writes) starts when its L2 load (store) does. On a cycle-level
        memory (type: dram) those transfers are played through the controller and the floor
        takes the bandwidth it sustained; on an analytical one, its peak."""
        from ..clock import TICKS_PER_SECOND
        from ..kernels.pipeline import run_tile_pipeline

        l2_ticks_per_byte = TICKS_PER_SECOND / self.params["l2_bandwidth"]
        l2_latency = round(self.params["l2_latency"] * TICKS_PER_SECOND)
        finish, busy, l2_busy, _, load_start, store_start = run_tile_pipeline(
            np.ascontiguousarray(schedule.unit, np.int64), np.ascontiguousarray(schedule.load_bytes, np.float64),
            np.ascontiguousarray(compute_ticks, np.int64), np.ascontiguousarray(schedule.store_bytes, np.float64),
            self.count, 2, l2_ticks_per_byte, l2_latency, 0)
        read, written = self.compulsory_bytes(op, plans)
        _, latency, setup = self.dma.transfer_model()
        hbm_load = _scaled(schedule.load_bytes, read)
        hbm_store = _scaled(schedule.store_bytes, written)
        ticks_per_byte, run = self.dma.sustained(load_start, hbm_load, store_start, hbm_store,
                                                 repr(op.signature()) + self.TYPE)
        hbm_ticks = int(np.ceil((read + written) * ticks_per_byte)) + latency + setup
        memory = self.dma.memory
        cost = OpCost(ticks=int(max(finish, hbm_ticks)),
                      busy_ticks={self.name: int(busy.sum()), memory.name: hbm_ticks, self.dma.name: hbm_ticks},
                      bytes_read={memory.name: read, "l2": float(schedule.load_bytes.sum())},
                      bytes_written={memory.name: written, "l2": float(schedule.store_bytes.sum())},
                      detail={"tiles": int(schedule.unit.shape[0]), "l2_busy_ticks": int(l2_busy),
                              "hbm_floor_ticks": hbm_ticks, "pipeline_ticks": int(finish),
                              **({"dram": memory.run_detail(run, ticks_per_byte)} if run is not None else {})})
        self.dma.count_events(cost, read, written, run)
        return cost

    def compulsory_bytes(self, op, plans) -> tuple[float, float]:
        """Every input operand read once, every result written once (as the op's type)."""
        read = written = 0.0
        for problem, _, _ in plans:
            for operand in problem.inputs:
                size = 1
                for axis in operand.axes:
                    size *= sum(coef * (problem.bounds[d] - 1) for d, coef in axis) + 1
                read += size * operand.bytes_per_element
            out = problem.output
            size = 1
            for axis in out.axes:
                size *= sum(coef * (problem.bounds[d] - 1) for d, coef in axis) + 1
            written += size * op.c_bytes
        return read, written

    def add_precompute(self, cost: OpCost, op, system) -> None:
        """Work that runs before the GEMM on the same SMs (LUT table precompute)."""

    @staticmethod
    def unique_tiles(m, n, k):
        shapes = np.stack([np.asarray(m, np.int64), np.asarray(n, np.int64), np.asarray(k, np.int64)], axis=1)
        return np.unique(shapes, axis=0, return_inverse=True)


def weight_bits(op) -> float:
    return op.b_bytes * 8


def dtype_bytes(name: str) -> float:
    return BYTES_PER_ELEMENT[name]


def _scaled(tile_bytes, total: float) -> np.ndarray:
    """Per-tile bytes rescaled to add up to `total` (zeros when the tiles move none)."""
    tile_bytes = np.asarray(tile_bytes, np.float64)
    moved = tile_bytes.sum()
    return tile_bytes * (total / moved) if moved > 0 else np.zeros_like(tile_bytes)
