"""SIMD vector unit for the non-GEMM ops of a transformer.

An op over E elements is cut into chunks spread over the `count` units; each
chunk is loaded, processed, and stored. Processing a chunk of c elements takes

    passes[op] * ceil(c / lanes)                 streaming sweeps over the chunk
  + reductions[op] * ceil(log2(lanes))           one adder/max tree per reduction
  + latency_cycles[op]                           pipeline depth of the op's datapath

Default pass and reduction counts follow the algorithms (accsim assumption,
not from a paper): softmax = 3 sweeps (max, exp+sum, scale) with 2 reductions,
layernorm = 3 (mean, variance, normalise+affine) with 2, rmsnorm = 2 (sum of
squares, scale) with 1, gelu / add / kv_append = 1, silu_mul = 2 (silu,
product). Default latencies are 0 (unknown for the NeuPIMs NPU); set
`latency_cycles` from RTL or a datasheet when known.
"""
from __future__ import annotations

import math

import numpy as np

from ..dtypes import DTYPES
from ..schema import Checker, opt, req
from .base import CLOCK_FIELD, Component, OpCost, register
from .pipeline_exec import run_schedule

DEFAULT_PASSES = {"softmax": 3, "layernorm": 3, "rmsnorm": 2, "gelu": 1, "silu_mul": 2,
                  "add": 1, "kv_append": 1}
REDUCTIONS = {"softmax": 2, "layernorm": 2, "rmsnorm": 1, "gelu": 0, "silu_mul": 0, "add": 0, "kv_append": 0}
# (input tensors, output tensors) of each op, each of op.elements elements.
OPERANDS = {"softmax": (1, 1), "layernorm": (1, 1), "rmsnorm": (1, 1), "gelu": (1, 1),
            "silu_mul": (2, 1), "add": (2, 1), "kv_append": (1, 1)}
# Arithmetic per element, for the energy model (accsim assumption from the algorithms; a
# reduction tree over n elements does n - 1 adds, counted as one per element):
#   softmax   max (cmp), x - max and the sum (2 add), exp, scale by 1/sum (mult)
#   layernorm sum, x - mean, sum of squares, + beta (4 add); square, normalise, gamma (3 mult)
#   rmsnorm   sum of squares (add); square, scale, gamma (3 mult)
#   gelu      tanh form 0.5x(1 + tanh(c(x + 0.044715x^3))): x^2, x^3, c, 0.5x, product (5 mult),
#             x + .., 1 + t (2 add); tanh u = (e^2u - 1)/(e^2u + 1): exp, 2 add, reciprocal + mult (2 mult)
#   silu_mul  x / (1 + e^-x) * up: exp, add, reciprocal, 2 products (3 mult)
#   add       one add; kv_append copies (no arithmetic)
ARITHMETIC = {"softmax": {"cmp": 1, "add": 2, "exp": 1, "mult": 1}, "layernorm": {"add": 4, "mult": 3},
              "rmsnorm": {"add": 1, "mult": 3}, "gelu": {"mult": 7, "add": 4, "exp": 1},
              "silu_mul": {"exp": 1, "add": 1, "mult": 3}, "add": {"add": 1}, "kv_append": {}}


@register("vector_unit")
class VectorUnit(Component):
    SUMMARY = "SIMD vector unit: softmax, norms, activations, residual add, KV append"
    EXECUTES = frozenset(OPERANDS)
    FIELDS = {
        "lanes": req("int", "elements processed per cycle per pass", positive=True),
        "passes": opt("map", None, f"sweeps over the data per op; defaults {DEFAULT_PASSES}"),
        "latency_cycles": opt("map", None, "pipeline latency per op (default 0 for every op)"),
        "precision": opt("str", "fp16", "type the lanes compute in (energy and area)", choices=DTYPES),
        "chunk_elements": opt("int", 0, "elements per chunk (0 = fill half the scratchpad)", minimum=0),
        "scratchpad": req("str", "name of the scratchpad component (one instance per unit)"),
        "dma": req("str", "name of the DMA component that feeds the scratchpads"),
        "clock": CLOCK_FIELD,
    }
    REFERENCES = {"scratchpad": "buffer", "dma": "dma"}

    @classmethod
    def cross_check(cls, name, params, peers, checker: Checker, node) -> None:
        for table, smallest in (("passes", 1), ("latency_cycles", 0)):
            entries = params.get(table)
            for op, value in (entries or {}).items():
                path = f"components.{name}.{table}.{op}"
                if op not in DEFAULT_PASSES:
                    checker.add(entries.location(op), path,
                                f"unknown op; valid ops: {', '.join(sorted(DEFAULT_PASSES))}")
                elif isinstance(value, bool) or not isinstance(value, int) or value < smallest:
                    checker.add(entries.location(op), path, f"must be a whole number >= {smallest}, got {value!r}")

    def link(self, system) -> None:
        self.scratchpad = system.components[self.params["scratchpad"]]
        self.dma = system.components[self.params["dma"]]
        self.passes = {**DEFAULT_PASSES, **dict(self.params["passes"] or {})}
        self.latency = {op: 0 for op in DEFAULT_PASSES} | dict(self.params["latency_cycles"] or {})

    def _chunk_elements(self, bytes_per_element: float) -> int:
        if self.params["chunk_elements"]:
            return self.params["chunk_elements"]
        per_slot = self.scratchpad.capacity_bytes // (2 * self.scratchpad.slots)
        return max(self.params["lanes"], int(per_slot // bytes_per_element))

    def execute(self, op, system) -> OpCost:
        inputs, outputs = OPERANDS[op.kind]
        element_bytes = op.a_bytes
        chunk = self._chunk_elements((inputs + outputs) * element_bytes)
        # Spread evenly: at least one chunk per unit when there is enough work.
        chunk = min(chunk, max(self.params["lanes"], math.ceil(op.elements / self.count)))
        sizes = np.full(op.elements // chunk, chunk, np.int64)
        if op.elements % chunk:
            sizes = np.append(sizes, op.elements % chunk)
        lanes = self.params["lanes"]
        tree_depth = math.ceil(math.log2(lanes)) if lanes > 1 else 0
        cycles = (self.passes[op.kind] * ((sizes + lanes - 1) // lanes)
                  + REDUCTIONS[op.kind] * tree_depth + self.latency[op.kind])
        unit = np.arange(sizes.shape[0], dtype=np.int64) % self.count
        cost = run_schedule(unit, sizes * (inputs * element_bytes), self.clock.ticks_array(cycles),
                            sizes * (outputs * element_bytes), self.count, self.scratchpad.slots,
                            self.dma, self.name, self.scratchpad.name, key=repr(op.signature()))
        cost.detail["compute_cycles"] = int(cycles.sum())
        cost.detail["buffer_peak_bytes"] = int(sizes.max() * (inputs + outputs) * element_bytes) * self.scratchpad.slots
        self._count_events(cost, op, inputs, outputs, element_bytes)
        return cost

    def _count_events(self, cost: OpCost, op, inputs: int, outputs: int, element_bytes: float) -> None:
        """Arithmetic per element (ARITHMETIC) and scratchpad traffic: the DMA fills the
        inputs and drains the outputs; the lanes read the inputs on every pass and
        write the outputs once."""
        precision = self.params["precision"]
        # a kind without an entry counts one add per element until its algorithm is added above
        for operation, per_element in ARITHMETIC.get(op.kind, {"add": 1}).items():
            cost.events[(self.name, f"{operation}_{precision}")] = float(per_element * op.elements)
        in_bytes = float(op.elements * inputs * element_bytes)
        out_bytes = float(op.elements * outputs * element_bytes)
        spad = self.scratchpad.name
        cost.events[(spad, "write_bytes")] = in_bytes + out_bytes
        cost.events[(spad, "read_bytes")] = self.passes[op.kind] * in_bytes + out_bytes
