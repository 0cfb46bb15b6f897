"""LUT Tensor Core (Mo et al., ISCA 2025): lookup-table mixed-precision GEMM units in an SM.

Each of the `units_per_sm` tensor-core units of an SM holds `arrays_per_unit` LMMA arrays
(M x N x K = 2 x 64 x 4 by default). An array takes one weight bit-plane per cycle: per
column the four weight bits index a symmetrized 8-entry table of the row's four
activations (broadcast from registers along the N columns), the top bit flips the sign,
the entry is shifted by the bit position and accumulated. A W-bit weight costs W cycles
per LMMA (any W in 1..4 on the same hardware); the LMMA's result is out `pipeline_depth`
cycles after its last bit-plane (rtl/lut_dot.v, accsim.functional.lut.LUT_TIMING).
Cycle model: accsim.kernels.lut (event kernel per distinct tile, closed form for the mapper).

Tables: 2^(K-1) entries per K activations, in `table_dtype` (default fp16 for FP
activations, int16 for int8 activations: a sum of four int8 needs 10 bits; `int8` is the
quantized-table option). They are precomputed by a vector-unit op: `precompute: fused`
folds it into the op before the GEMM (the tables are written instead of the activations:
only the extra bytes and the adds cost), `separate` runs it as its own pass (read the
activations, write the tables) before the GEMM. The GEMM loads tables, not activations.
"""
from __future__ import annotations

import math

import numpy as np

from ..dtypes import BYTES_PER_ELEMENT
from ..functional.lut import LUT_TIMING, MAX_WEIGHT_BITS, MIN_WEIGHT_BITS
from ..kernels.lut import lmmas, simulate_tile, tile_cycles
from ..schema import Checker, opt
from .base import OpCost, register
from .tensor_core_sm import SM_FIELDS, SmTensorCore, TensorCoreInputError

ACTIVATIONS = ("fp16", "fp8", "int8")
TABLE_DTYPES = ("auto", "fp16", "fp8", "int16", "int8")
# adds to build one symmetrized table from K activations: a0 +- a1 (2), then +- a2 (4), +- a3 (8)
# (each level doubles the partial sums; the 8 kept entries need 2 + 4 + 8 = 14 adds for K = 4)


def precompute_adds_per_table(k: int) -> int:
    return sum(2 ** i for i in range(1, k))


@register("lut_tensor_core")
class LutTensorCore(SmTensorCore):
    SUMMARY = "LUT Tensor Core SM: bit-serial LMMA arrays with symmetrized lookup tables (low-bit weights)"
    FIELDS = {
        **SM_FIELDS,
        "arrays_per_unit": opt("int", 1, "LMMA arrays per tensor-core unit", positive=True),
        "lmma_m": opt("int", 2, "LMMA rows (one table per row)", positive=True),
        "lmma_n": opt("int", 64, "LMMA columns (the table is broadcast along them)", positive=True),
        "lmma_k": opt("int", 4, "activations per table (2^(K-1) entries after symmetrization)", minimum=1,
                      maximum=4),
        "activations": opt("str", "int8", f"activation type the unit takes ({', '.join(ACTIVATIONS)})"),
        "table_dtype": opt("str", "auto", "table entry type (auto: fp16 for FP activations, int16 for int8; "
                                          "int8 = quantized tables)", choices=TABLE_DTYPES),
        "accumulator": opt("str", "auto", "accumulator type (auto: fp32 for FP tables, int32 for integer)",
                           choices=("auto", "fp32", "fp16", "int32")),
        "pipeline_depth": opt("int", LUT_TIMING.latency_cycles,
                              "register stages after a bit-plane is sampled (rtl/lut_dot.v: 2)", positive=True),
        "precompute": opt("str", "fused", "table precompute: fused into the preceding op, or a separate pass",
                          choices=("fused", "separate")),
        "vector_unit": opt("str", "", "vector unit that computes the tables (adds counted there)"),
        "fallback": opt("str", "", "MAC tensor core (tensor_core_mac) that runs the GEMMs this unit cannot take "
                                   "(weights outside 1-4 bits, other activation types); empty: such ops are an "
                                   "input error"),
    }
    MAPPER_ROWS_COLS = (64, 64)   # tile alignment along K and N for the search (warp tiles); cycles: per_tile

    @classmethod
    def cross_check(cls, name, params, peers, checker: Checker, node) -> None:
        path = f"components.{name}"
        if params["activations"] not in ACTIVATIONS:
            checker.add(node.location("activations"), f"{path}.activations",
                        f"the LUT unit cannot take {params['activations']!r} activations; it takes "
                        f"{', '.join(ACTIVATIONS)}")
            return
        fallback = params.get("fallback")
        if fallback and (fallback not in peers or peers[fallback][0].TYPE != "tensor_core_mac"):
            checker.add(node.location("fallback"), f"{path}.fallback",
                        f"{fallback!r} is not a tensor_core_mac component of this architecture")
        vector = params.get("vector_unit")
        if vector and (vector not in peers or peers[vector][0].TYPE != "vector_unit"):
            checker.add(node.location("vector_unit"), f"{path}.vector_unit",
                        f"{vector!r} is not a vector_unit component of this architecture")
        smallest = cls.smallest_tile_bytes(params)
        if smallest > params["register_file"]:
            checker.add(node.location("register_file"), f"{path}.register_file",
                        f"the tables do not fit the register file: one LMMA per array needs {smallest:.0f} bytes "
                        f"(tables, weights, accumulators, 2 slots) for {params['units_per_sm']} x "
                        f"{params['arrays_per_unit']} arrays, more than {params['register_file']} bytes")

    @staticmethod
    def resolved_types(params) -> tuple[str, str]:
        act = params["activations"]
        table = params["table_dtype"]
        if table == "auto":
            table = "int16" if act == "int8" else "fp16"
        acc = params["accumulator"]
        if acc == "auto":
            acc = "int32" if table.startswith("int") else "fp32"
        return table, acc

    @classmethod
    def smallest_tile_bytes(cls, params) -> float:
        """Register bytes of one LMMA per array, double-buffered: the M tables of one
        K-group, the M x N accumulators, the N x K weights at the widest width (4 bits)."""
        table, acc = cls.resolved_types(params)
        m, n, k = params["lmma_m"], params["lmma_n"], params["lmma_k"]
        per_lmma = (m * 2 ** (k - 1) * BYTES_PER_ELEMENT[table] + m * n * BYTES_PER_ELEMENT[acc]
                    + n * k * MAX_WEIGHT_BITS / 8)
        return 2 * per_lmma * params["units_per_sm"] * params["arrays_per_unit"]

    def link(self, system) -> None:
        super().link(system)
        self.fallback = system.components[self.params["fallback"]] if self.params["fallback"] else None

    def execute(self, op, system) -> OpCost:
        if self.fallback is not None:
            try:
                self.check_op(op)
            except TensorCoreInputError as why:
                cost = self.fallback.execute(op, system)
                cost.detail["fallback"] = f"{self.fallback.name}: {why}"
                return cost
        return super().execute(op, system)

    # --- what an op needs
    @property
    def arrays(self) -> int:
        return self.params["units_per_sm"] * self.params["arrays_per_unit"]

    @property
    def types(self) -> tuple[str, str]:
        return self.resolved_types(self.params)

    def check_op(self, op) -> None:
        bits = op.b_bytes * 8
        if bits != int(bits) or not MIN_WEIGHT_BITS <= bits <= MAX_WEIGHT_BITS:
            raise TensorCoreInputError(
                f"{op.name}: {bits:g}-bit weights; the LUT unit {self.name!r} takes 1-4 bit weights "
                f"(workload dtypes.weights int1, int2, ternary or int4)")
        act = self.params["activations"]
        named = getattr(op, "activation_dtype", None)     # ops that carry their activation type
        if named is not None and named != act and named in BYTES_PER_ELEMENT:
            raise TensorCoreInputError(
                f"{op.name}: {named} activations, but {self.name!r} takes {act} activations; "
                f"set the workload's dtypes.activations to {act}")
        if op.a_bytes != BYTES_PER_ELEMENT[act]:
            raise TensorCoreInputError(
                f"{op.name}: {op.a_bytes:g}-byte activations, but {self.name!r} takes {act} activations "
                f"({BYTES_PER_ELEMENT[act]:g} byte); set the workload's dtypes.activations to {act}")

    def weight_bits(self, op) -> int:
        return int(op.b_bytes * 8)

    def operand_bytes(self, op):
        table, acc = self.types
        k = self.params["lmma_k"]
        table_per_activation = 2 ** (k - 1) * BYTES_PER_ELEMENT[table] / k
        return table_per_activation, op.b_bytes, BYTES_PER_ELEMENT[acc]

    def register_feed_bytes_per_cycle(self, op) -> float:
        p = self.params
        table, acc = self.types
        per_lmma = (p["lmma_m"] * 2 ** (p["lmma_k"] - 1) * BYTES_PER_ELEMENT[table]
                    + p["lmma_n"] * p["lmma_k"] * self.weight_bits(op) / 8
                    + 2 * p["lmma_m"] * p["lmma_n"] * BYTES_PER_ELEMENT[acc])
        return self.arrays * per_lmma / self.weight_bits(op)

    def _shape(self):
        p = self.params
        return p["lmma_m"], p["lmma_n"], p["lmma_k"]

    def per_tile(self, m, n, k, op):
        return tile_cycles(m, n, k, *self._shape(), self.weight_bits(op), self.params["pipeline_depth"],
                           self.arrays).astype(float)

    def simulate_tiles(self, m, n, k, op):
        shapes, inverse = self.unique_tiles(m, n, k)
        bits, depth = self.weight_bits(op), self.params["pipeline_depth"]
        cycles = np.array([simulate_tile(int(a), int(b), int(c), *self._shape(), bits, depth, self.arrays)[0]
                           for a, b, c in shapes], np.int64)
        return cycles[inverse.ravel()]

    def peak_macs_per_cycle(self, op) -> float:
        m, n, k = self._shape()
        return self.arrays * m * n * k / self.weight_bits(op)

    # --- energy events
    def count_events(self, cost: OpCost, op, schedule) -> None:
        """Per executed LMMA: W bit-plane beats of M x N lookups (mux + sign) and adds into
        the accumulators; the tables of its M rows and its N x K weight bits read from registers."""
        m, n, k = self._shape()
        bits = self.weight_bits(op)
        table, acc = self.types
        count = float(lmmas(schedule.m, schedule.n, schedule.k, m, n, k).sum())
        cost.events[(self.name, "table_lookup")] = count * bits * m * n
        cost.events[(self.name, f"add_{acc}")] = count * bits * m * n
        cost.events[(self.name, "register_read_bytes")] = count * (m * 2 ** (k - 1) * BYTES_PER_ELEMENT[table]
                                                                   + n * k * bits / 8)
        cost.detail["lmmas"] = count

    def add_precompute(self, cost: OpCost, op, system) -> None:
        """The table precompute of the op's activations (see the module docstring)."""
        table, _ = self.types
        k = self.params["lmma_k"]
        activations = sum(m * kk for m, _, kk in op.gemms)
        tables = sum(m * math.ceil(kk / k) for m, _, kk in op.gemms)
        table_bytes = tables * 2 ** (k - 1) * BYTES_PER_ELEMENT[table]
        act_bytes = activations * op.a_bytes
        adds = tables * precompute_adds_per_table(k)
        arith = "int16" if table.startswith("int") else table
        vector = system.components.get(self.params["vector_unit"]) if self.params["vector_unit"] else None
        if self.params["precompute"] == "fused":
            # the preceding op writes the tables instead of its activations: the extra bytes
            moved = max(table_bytes - act_bytes, 0.0)
            compute_ticks = 0
        else:
            moved = act_bytes + table_bytes
            lanes = vector.params["lanes"] * vector.count if vector else self.count * self.params["units_per_sm"]
            compute_ticks = self.clock.ticks(math.ceil(adds / lanes))
        written = table_bytes if self.params["precompute"] == "separate" else moved
        read = act_bytes if self.params["precompute"] == "separate" else 0.0
        # the reads and writes stream side by side from the start (on a cycle-level DRAM, at the
        # bandwidth its controller sustains on them); separate: its own pass pays the memory
        # latency; fused: the bytes join the preceding op's stream
        _, latency, _ = self.dma.transfer_model()
        start = np.zeros(1)
        ticks_per_byte, run = self.dma.sustained(start, np.array([read]), start, np.array([written]),
                                                 repr(op.signature()) + "precompute")
        exposed = latency if moved and self.params["precompute"] == "separate" else 0
        memory_ticks = int(math.ceil(moved * ticks_per_byte)) + exposed
        extra = max(memory_ticks, compute_ticks)
        cost.ticks += extra
        memory = self.dma.memory.name
        cost.busy_ticks[memory] = cost.busy_ticks.get(memory, 0) + memory_ticks
        cost.busy_ticks[self.dma.name] = cost.busy_ticks.get(self.dma.name, 0) + memory_ticks
        cost.bytes_read[memory] = cost.bytes_read.get(memory, 0.0) + read
        cost.bytes_written[memory] = cost.bytes_written.get(memory, 0.0) + written
        self.dma.count_events(_Extra(cost), read, written, run)
        if vector is not None:
            key = (vector.name, f"add_{arith}")
            cost.events[key] = cost.events.get(key, 0.0) + float(adds)
        cost.detail["precompute_ticks"] = int(extra)
        cost.detail["precompute"] = self.params["precompute"]


class _Extra:
    """Adds the DMA/memory events of the precompute traffic to an OpCost's events."""

    def __init__(self, cost: OpCost):
        self.cost = cost
        self.events = _Adder(cost.events)


class _Adder(dict):
    def __init__(self, target: dict):
        super().__init__()
        self.target = target

    def __setitem__(self, key, value) -> None:
        self.target[key] = self.target.get(key, 0.0) + value
