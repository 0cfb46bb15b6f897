"""Analytical roofline, NOT cycle-level: a processor described only by its peak
FLOP/s and the bandwidth of its memory (e.g. a GPU baseline).

Every op takes

    time = max(FLOPs / peak FLOP/s, bytes / memory bandwidth)

with bytes = every operand read once plus every result written once (for a
GEMM C[m x n] = A[m x k] @ B[k x n]: m*k + k*n elements read, m*n written;
for attention, each request's K or V of each KV head once; for an
element-wise op, its input and output tensors). No efficiency factor, no
launch overhead, no cache or tiling effects, no overlap between ops: the
result is an upper bound on the speed of a real device, not a simulation of
one. GEMM-class ops use `peak_tflops`; element-wise ops use `vector_tflops`
(the arithmetic per element of accsim.components.vector_unit.ARITHMETIC).
"""
from __future__ import annotations

import math

from ..clock import TICKS_PER_SECOND
from ..schema import req
from ..workload.ops import GEMM_KINDS
from .base import CLOCK_FIELD, Component, OpCost, register
from .vector_unit import ARITHMETIC, OPERANDS

LABEL = "analytical roofline, not cycle-level"


@register("roofline")
class Roofline(Component):
    SUMMARY = f"{LABEL}: time = max(FLOPs / peak, bytes / bandwidth) per op (GPU baseline)"
    EXECUTES = frozenset(GEMM_KINDS | set(OPERANDS))
    FIELDS = {
        "peak_tflops": req("float", "peak FLOP/s of GEMM-class ops (gemm, matmul, attention), in TFLOP/s",
                           positive=True),
        "vector_tflops": req("float", "peak FLOP/s of element-wise ops (softmax, norms, ...), in TFLOP/s",
                             positive=True),
        "memory": req("str", "name of the memory component whose bandwidth bounds every op"),
        "clock": CLOCK_FIELD,
    }
    REFERENCES = {"memory": "memory"}

    @classmethod
    def cross_check(cls, name, params, peers, checker, node) -> None:
        memory_cls = peers[params["memory"]][0]
        if "bandwidth" not in memory_cls.FIELDS:
            checker.add(node.location("memory"), f"components.{name}.memory",
                        f"a roofline needs a memory with a `bandwidth` (type ideal_memory), "
                        f"got type {memory_cls.TYPE!r}")

    def link(self, system) -> None:
        self.memory = system.components[self.params["memory"]]

    @staticmethod
    def op_bytes(op) -> tuple[float, float]:
        """(bytes read, bytes written): operands once, results once."""
        if op.gemms:
            read = sum(m * k * op.a_bytes + k * n * op.b_bytes for m, n, k in op.gemms)
            written = sum(m * n * op.c_bytes for m, n, _ in op.gemms)
            return float(read), float(written)
        inputs, outputs = OPERANDS[op.kind]
        return float(op.elements * inputs * op.a_bytes), float(op.elements * outputs * op.c_bytes)

    @staticmethod
    def op_flops(op) -> float:
        if op.kind in GEMM_KINDS:
            return float(op.flops)
        return float(op.elements * sum(ARITHMETIC[op.kind].values()))

    def execute(self, op, system) -> OpCost:
        read, written = self.op_bytes(op)
        flops = self.op_flops(op)
        peak = (self.params["peak_tflops"] if op.kind in GEMM_KINDS else self.params["vector_tflops"]) * 1e12
        compute_s = flops / peak
        memory_s = (read + written) / self.memory.bandwidth_bytes_per_s
        ticks = max(1, math.ceil(max(compute_s, memory_s) * TICKS_PER_SECOND))
        cost = OpCost(ticks=ticks,
                      busy_ticks={self.name: ticks * self.count,
                                  self.memory.name: math.ceil(memory_s * TICKS_PER_SECOND)},
                      bytes_read={self.memory.name: read}, bytes_written={self.memory.name: written})
        if op.kind in GEMM_KINDS:
            cost.macs = op.flops // 2
            cost.peak_macs = int(peak / 2 * ticks / TICKS_PER_SECOND)
        self.memory.count_events(cost, read, written)
        cost.detail.update(model=LABEL, bound="compute" if compute_s >= memory_s else "memory",
                           compute_cycles=self.clock.cycles(math.ceil(compute_s * TICKS_PER_SECOND)),
                           compute_seconds=compute_s, memory_seconds=memory_s)
        return cost
