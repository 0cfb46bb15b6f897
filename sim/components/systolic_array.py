"""Systolic array (weight-, output- or input-stationary), any rows x cols.

Executes GEMM-class ops. The op's GEMMs are tiled by accsim.mapping onto the
group of `count` arrays, each with its own scratchpad; per-tile compute cycles
come from the fold model in accsim.kernels.systolic (reference timing equal to
SCALE-Sim v3's compute cycles), and loads/stores run through the DMA and the
memory in the tile pipeline kernel.
"""
from __future__ import annotations

from ..dtypes import BYTES_PER_ELEMENT, DTYPES
from ..kernels.systolic import DATAFLOW_CODE, DATAFLOWS, tile_cycles
from ..schema import Checker, opt, req
from .base import CLOCK_FIELD, Component, OpCost, register
from .pipeline_exec import run_schedule


# Fallback energies for ranking mappings when the technology table cannot price an access:
# HBM2 3.9 pJ/bit (O'Connor et al., MICRO 2017); 100 pJ per 64-bit read of a 1 MB SRAM and an
# FP16 multiply 1.1 pJ + add 0.4 pJ (Horowitz, ISSCC 2014).
MEMORY_PJ_PER_BYTE = 3.9 * 8
SRAM_PJ_PER_BYTE = 100 / 8
MAC_PJ = 1.1 + 0.4


@register("systolic_array")
class SystolicArray(Component):
    SUMMARY = "systolic GEMM array (ws/os/is), fold-level timing equal to SCALE-Sim v3"
    EXECUTES = frozenset({"gemm", "matmul", "attention"})
    FIELDS = {
        "rows": req("int", "PE rows", positive=True),
        "cols": req("int", "PE columns", positive=True),
        "dataflow": req("str", "ws | os | is", choices=DATAFLOWS),
        "precision": opt("str", "fp16", "operand type the PEs multiply", choices=DTYPES),
        "accumulator": opt("str", "fp32", "type of partial sums kept in the array", choices=DTYPES),
        "preload_overlap": opt("bool", False,
                               "double-buffered stationary registers: the next fold's fill "
                               "overlaps the current stream (off = SCALE-Sim reference timing)"),
        "pipelined_folds": opt("bool", False,
                               "with preload_overlap: the next fold streams in as soon as the current "
                               "fold's last row has entered (skew and drain overlap it); a fold costs "
                               "max(stream, rows), a tile one fill + rows + cols - 2"),
        "scratchpad": req("str", "name of the scratchpad component (one instance per array)"),
        "dma": req("str", "name of the DMA component that feeds the scratchpads"),
        "clock": CLOCK_FIELD,
    }
    REFERENCES = {"scratchpad": "buffer", "dma": "dma"}

    @classmethod
    def cross_check(cls, name, params, peers, checker: Checker, node) -> None:
        if params["pipelined_folds"] and not params["preload_overlap"]:
            checker.add(node.location("pipelined_folds"), f"components.{name}.pipelined_folds",
                        "needs preload_overlap: true (the next fold's block must shift in while one streams)")
        spad = peers[params["scratchpad"]][1]
        operand = BYTES_PER_ELEMENT[params["precision"]]
        acc = BYTES_PER_ELEMENT[params["accumulator"]]
        slots = 2 if spad["double_buffer"] else 1
        rows, cols = params["rows"], params["cols"]
        smallest = slots * (rows * operand + rows * cols * operand) + cols * acc
        capacity = spad["capacity"] - spad["weight_pool"]
        if smallest > capacity:
            checker.add(node.location("scratchpad"), f"components.{name}.scratchpad",
                        f"the smallest tile of a {rows}x{cols} array needs {int(smallest)} bytes "
                        f"({slots} slot(s)), more than the {capacity} bytes of scratchpad "
                        f"{params['scratchpad']!r} left for tiles")

    def link(self, system) -> None:
        self.system = system
        self.scratchpad = system.components[self.params["scratchpad"]]
        self.dma = system.components[self.params["dma"]]
        self._hierarchy = None

    def hierarchy(self):
        """The memory levels and array as the mapper sees them (accsim.mapping.hierarchy),
        with access and MAC energies priced by the energy model's estimators."""
        from ..mapping import Compute, Hierarchy, Level

        if getattr(self, "_hierarchy", None) is None:
            ticks_per_byte, _, _ = self.dma.transfer_model()
            memory_bytes_per_cycle = self.clock.period_ticks / ticks_per_byte
            rows, cols = self.params["rows"], self.params["cols"]
            operand = BYTES_PER_ELEMENT[self.params["precision"]]
            memory, spad = self.dma.memory, self.scratchpad
            self._hierarchy = Hierarchy(
                (Level(memory.name, None, memory_bytes_per_cycle,
                       read_pj_per_byte=self._price(memory, "read_bytes", MEMORY_PJ_PER_BYTE),
                       write_pj_per_byte=self._price(memory, "write_bytes", MEMORY_PJ_PER_BYTE)),
                 Level(spad.name, spad.tile_capacity_bytes, (rows + cols) * operand, slots=spad.slots,
                       read_pj_per_byte=self._price(spad, "read_bytes", SRAM_PJ_PER_BYTE),
                       write_pj_per_byte=self._price(spad, "write_bytes", SRAM_PJ_PER_BYTE))),
                Compute("systolic", rows, cols, self.params["dataflow"], self.count,
                        self.params["preload_overlap"], self.params["pipelined_folds"],
                        mac_pj=self._price(self, f"mac_{self.params['precision']}", MAC_PJ)))
        return self._hierarchy

    def _price(self, component, event: str, fallback: float) -> float:
        """pJ per event from the first estimator of the architecture's technology that
        prices it; `fallback` when none does or the price hides in other events (DRAM
        bytes are priced per command)."""
        from ..energy.estimator import Decline, ordered
        from ..energy.tech import technology

        try:
            estimators = ordered(technology(self.system.arch.technology), self.system)
        except Exception:           # noqa: BLE001 - a broken table is reported by the energy model itself
            return fallback
        for estimator in estimators:
            try:
                price = estimator.event_pj(component, event)
            except Decline:
                continue
            return price if price > 0 else fallback
        return fallback

    def plan(self, op, system, top_k: int = 1) -> list:
        """(problem, search result) for every distinct GEMM shape of the op, under the
        system's mapping rules (accsim.mapping_rules) when it has any. Weights already
        in the weight pool (op.b_resident, accsim.residency) are neither loaded nor
        buffered: the problem's B carries only the share still to fetch."""
        from ..mapping_rules import plan_problems

        problems = self._problems(op, op.b_bytes * (1.0 - op.b_resident))
        return plan_problems(op.name, problems, self.hierarchy(), system.mapping_rules, top_k)

    def _problems(self, op, b_bytes: float) -> list:
        from ..mapping import op_problems

        partial = BYTES_PER_ELEMENT[self.params["accumulator"]]    # partial sums leave at accumulator width
        return op_problems(op.gemms, op.a_bytes, b_bytes, op.c_bytes, partial)

    @property
    def weight_pool_bytes(self) -> int:
        """On-chip bytes that keep weights between ops (accsim.residency)."""
        return self.scratchpad.weight_pool_bytes

    def execute(self, op, system) -> OpCost:
        from ..mapping import concat_schedules, lower

        hier = self.hierarchy()
        plans = self.plan(op, system)
        schedule = concat_schedules([lower(problem, hier, result.best.mapping) for problem, result in plans],
                                    self.count)
        rows, cols = self.params["rows"], self.params["cols"]
        cycles, _ = tile_cycles(DATAFLOW_CODE[self.params["dataflow"]], rows, cols,
                                schedule.m, schedule.n, schedule.k, hier.compute.overlap)
        ticks = self.clock.ticks_array(cycles)
        cost = run_schedule(schedule.unit, schedule.load_bytes, ticks, schedule.store_bytes,
                            self.count, self.scratchpad.slots, self.dma, self.name, self.scratchpad.name,
                            key=repr(op.signature()))
        cost.macs = int(sum(m * n * k for m, n, k in op.gemms))
        cost.peak_macs = rows * cols * self.count * int(round(self.clock.cycles(cost.ticks)))
        cost.detail["compute_cycles"] = int(cycles.sum())
        cost.detail["estimate_cycles"] = float(sum(r.best.latency_cycles for _, r in plans))
        cost.detail["mapping"] = [r.best.mapping for _, r in plans]
        cost.detail["tile"] = [tuple(dict(r.best.mapping.tiles[0]).get(d, 1) for d in "MNK") for _, r in plans[:1]]
        cost.detail["buffer_peak_bytes"] = max(dict(r.best.footprint_bytes)[self.scratchpad.name] for _, r in plans)
        self._count_events(cost, plans, hier, op)
        return cost

    def _count_events(self, cost: OpCost, plans, hier, op) -> None:
        """MACs, and the scratchpad traffic of the chosen mappings (DMA fills and
        drains, operand passes into the array): the mapper's access counts. Resident
        weights are not filled again but still pass into the array: reads count them."""
        from ..mapping import evaluate_mapping

        spad = self.scratchpad.name
        cost.events[(self.name, f"mac_{self.params['precision']}")] = float(cost.macs)
        whole = self._problems(op, op.b_bytes) if op.b_resident else [problem for problem, _ in plans]
        for (problem, result), full in zip(plans, whole):
            fetched = evaluate_mapping(problem, hier, result.best.mapping).traffic_bytes[spad]
            passed = fetched if full is problem else evaluate_mapping(full, hier, result.best.mapping).traffic_bytes[spad]
            for event, traffic in (("write_bytes", fetched), ("read_bytes", passed)):
                nbytes = sum(float(v[0]) for label, v in traffic.items() if label.endswith("read") == (event == "read_bytes"))
                cost.events[(spad, event)] = cost.events.get((spad, event), 0.0) + nbytes
