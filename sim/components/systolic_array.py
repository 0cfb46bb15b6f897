"""Systolic array (weight-, output- or input-stationary), any rows x cols.

Executes GEMM-class ops. The op's GEMMs are tiled by accsim.mapping onto the
group of `count` arrays, each with its own scratchpad; per-tile compute cycles
come from the fold model in accsim.kernels.systolic (reference timing equal to
SCALE-Sim v3's compute cycles), and loads/stores run through the DMA and the
memory in the tile pipeline kernel.
"""
from __future__ import annotations

from ..dtypes import BYTES_PER_ELEMENT, DTYPES
from ..errors import CapacityError
from ..kernels.systolic import DATAFLOW_CODE, DATAFLOWS, tile_cycles
from ..schema import Checker, opt, req
from .base import CLOCK_FIELD, Component, OpCost, register
from .pipeline_exec import run_schedule


@register("systolic_array")
class SystolicArray(Component):
    SUMMARY = "systolic GEMM array (ws/os/is), fold-level timing equal to SCALE-Sim v3"
    EXECUTES = frozenset({"gemm", "matmul"})
    FIELDS = {
        "rows": req("int", "PE rows", positive=True),
        "cols": req("int", "PE columns", positive=True),
        "dataflow": req("str", "ws | os | is", choices=DATAFLOWS),
        "precision": opt("str", "fp16", "operand type the PEs multiply", choices=DTYPES),
        "accumulator": opt("str", "fp32", "type of partial sums kept in the array", choices=DTYPES),
        "preload_overlap": opt("bool", False,
                               "double-buffered stationary registers: the next fold's fill "
                               "overlaps the current stream (off = SCALE-Sim reference timing)"),
        "scratchpad": req("str", "name of the scratchpad component (one instance per array)"),
        "dma": req("str", "name of the DMA component that feeds the scratchpads"),
        "clock": CLOCK_FIELD,
    }
    REFERENCES = {"scratchpad": "buffer", "dma": "dma"}

    @classmethod
    def cross_check(cls, name, params, peers, checker: Checker, node) -> None:
        spad = peers[params["scratchpad"]][1]
        operand = BYTES_PER_ELEMENT[params["precision"]]
        acc = BYTES_PER_ELEMENT[params["accumulator"]]
        slots = 2 if spad["double_buffer"] else 1
        rows, cols = params["rows"], params["cols"]
        smallest = slots * (rows * operand + rows * cols * operand) + cols * acc
        capacity = spad["capacity"]
        if smallest > capacity:
            checker.add(node.location("scratchpad"), f"components.{name}.scratchpad",
                        f"the smallest tile of a {rows}x{cols} array needs {int(smallest)} bytes "
                        f"({slots} slot(s)), more than the {capacity}-byte scratchpad "
                        f"{params['scratchpad']!r}")

    def link(self, system) -> None:
        self.scratchpad = system.components[self.params["scratchpad"]]
        self.dma = system.components[self.params["dma"]]

    def target(self):
        from ..mapping import ArrayTarget

        ticks_per_byte, _, _ = self.dma.transfer_model()
        bytes_per_cycle = self.clock.period_ticks / ticks_per_byte
        return ArrayTarget(self.params["rows"], self.params["cols"], self.count,
                           self.scratchpad.capacity_bytes, self.scratchpad.slots, bytes_per_cycle,
                           self.params["dataflow"])

    def execute(self, op, system) -> OpCost:
        from ..mapping import GemmShape, schedule_gemms
        from ..mapping.gemm_tiling import TilingError

        shapes = [GemmShape(m, n, k, op.a_bytes, op.b_bytes, op.c_bytes) for m, n, k in op.gemms]
        try:
            schedule = schedule_gemms(shapes, self.target())
        except TilingError as exc:
            raise CapacityError(f"{op.name}: {exc} of {self.scratchpad.name!r}") from None
        rows, cols = self.params["rows"], self.params["cols"]
        cycles, _ = tile_cycles(DATAFLOW_CODE[self.params["dataflow"]], rows, cols,
                                schedule.m, schedule.n, schedule.k, self.params["preload_overlap"])
        ticks = self.clock.ticks_array(cycles)
        cost = run_schedule(schedule.unit, schedule.load_bytes, ticks, schedule.store_bytes,
                            self.count, self.scratchpad.slots, self.dma, self.name, self.scratchpad.name,
                            key=repr(op.signature()))
        cost.macs = int(sum(m * n * k for m, n, k in op.gemms))
        cost.peak_macs = rows * cols * self.count * int(round(self.clock.cycles(cost.ticks)))
        cost.detail["compute_cycles"] = int(cycles.sum())
        cost.detail["tile"] = [(c.tm, c.tn, c.tk) for c in schedule.choices[:1]]
        cost.detail["buffer_peak_bytes"] = max(c.footprint_bytes for c in schedule.choices)
        self._count_events(cost, op, schedule)
        return cost

    def _count_events(self, cost: OpCost, op, schedule) -> None:
        """MACs, and scratchpad traffic: DMA writes every loaded byte; the array reads
        each stationary element once per fold and each streamed element once per fold
        it meets (ws/is: once per column fold; os: once per row/column fold pair)."""
        rows, cols = self.params["rows"], self.params["cols"]
        m, n, k = schedule.m, schedule.n, schedule.k
        col_folds = -(-n // cols)
        row_folds = -(-m // rows)
        a_reads = {"ws": m * k * col_folds, "os": m * k * col_folds, "is": m * k}[self.params["dataflow"]]
        b_reads = {"ws": k * n, "os": k * n * row_folds, "is": k * n * (-(-m // cols))}[self.params["dataflow"]]
        spad = self.scratchpad.name
        cost.events[(self.name, f"mac_{self.params['precision']}")] = float(cost.macs)
        cost.events[(spad, "write_bytes")] = float(schedule.load_bytes.sum())
        cost.events[(spad, "read_bytes")] = float((a_reads * op.a_bytes + b_reads * op.b_bytes).sum()
                                                  + schedule.store_bytes.sum())
