"""MAC tensor cores of a GPU SM (the baselines of the LUT Tensor Core comparison).

Each of the `units_per_sm` units multiplies-accumulates `macs_per_cycle` products per
cycle of `precision` operands into `accumulator` sums, as mma instructions of shape
mma_m x mma_n x mma_k: one takes mma_m*mma_n*mma_k / macs_per_cycle cycles of its unit;
chains over K accumulate in the unit back to back and the last result is out
`mma_latency` cycles after its issue (the pipeline model of the LUT arrays,
accsim.kernels.lut, with the bit-planes of an LMMA replaced by the issue cycles of an mma).

Weights narrower than `precision` (e.g. INT2 weights on an FP16 or INT8 tensor core) are
first dequantized by the SM's CUDA cores: `dequant_ops_per_weight` operations per weight
(convert + scale/zero FMA for FP, unpack for integers), at `dequant_ops_per_cycle` per SM,
once per weight tile brought into registers, not overlapped with the mma of that tile
(the dequantizing warps are the ones that issue the mma; accsim assumption).
Attention (activation x activation) matmuls also run here.
"""
from __future__ import annotations

import math

import numpy as np

from ..dtypes import BYTES_PER_ELEMENT, DTYPES
from ..kernels.lut import lmmas, simulate_tile, tile_cycles
from ..schema import opt, req
from .base import OpCost, register
from .tensor_core_sm import SM_FIELDS, SmTensorCore, TensorCoreInputError


@register("tensor_core_mac")
class MacTensorCore(SmTensorCore):
    SUMMARY = "GPU SM with MAC tensor cores (FP16 / INT8 / FP8 mma), weight dequantization on CUDA cores"
    EXECUTES = frozenset({"gemm", "matmul", "attention"})   # attention: kind of the attention matmuls
    FIELDS = {
        **SM_FIELDS,
        "precision": req("str", "operand type of the mma (fp16, int8, fp8, ...)", choices=DTYPES),
        "accumulator": opt("str", "fp32", "accumulator type", choices=DTYPES),
        "macs_per_cycle": req("int", "multiply-accumulates per cycle per unit", positive=True),
        "narrow_macs_per_cycle": opt("int", 0, "MACs per cycle per unit when both operands are 1-byte integers or "
                                               "FP8 (e.g. INT8 on an FP16 tensor core; 0: macs_per_cycle)", minimum=0),
        "wide_macs_per_cycle": opt("int", 0, "MACs per cycle per unit for operands wider than `precision` (up to "
                                             "FP16), e.g. an INT8 or FP8 tensor core's FP16 mode (0: an input error)",
                                   minimum=0),
        "mma_m": opt("int", 16, "mma instruction rows", positive=True),
        "mma_n": opt("int", 8, "mma instruction columns", positive=True),
        "mma_k": opt("int", 16, "mma instruction depth", positive=True),
        "mma_latency": req("int", "cycles from an mma's issue until its result can be accumulated into",
                           positive=True),
        "dequant_ops_per_cycle": opt("int", 0, "CUDA-core operations per cycle per SM for weight "
                                               "dequantization (0: narrower weights are an input error)", minimum=0),
        "dequant_ops_per_weight": opt("int", 2, "operations to dequantize one weight", positive=True),
    }
    MAPPER_ROWS_COLS = (64, 64)   # tile alignment along K and N for the search (warp tiles); cycles: per_tile

    def _wide(self, op) -> bool:
        width = BYTES_PER_ELEMENT[self.params["precision"]]
        return op is not None and (op.a_bytes > width or op.b_bytes > width)

    def _rate(self, op) -> int:
        p = self.params
        if self._wide(op):
            return p["wide_macs_per_cycle"]
        narrow = op is not None and op.a_bytes <= 1 and op.b_bytes <= 1
        return p["narrow_macs_per_cycle"] if narrow and p["narrow_macs_per_cycle"] else p["macs_per_cycle"]

    def _issue(self, op=None) -> int:
        p = self.params
        return max(1, math.ceil(p["mma_m"] * p["mma_n"] * p["mma_k"] / self._rate(op)))

    def _shape(self):
        p = self.params
        return p["mma_m"], p["mma_n"], p["mma_k"]

    def _pipeline(self, op=None):
        issue = self._issue(op)
        return issue, max(1, self.params["mma_latency"] - issue + 1), self.params["units_per_sm"]

    def check_op(self, op) -> None:
        width = 2.0 if self.params["wide_macs_per_cycle"] else BYTES_PER_ELEMENT[self.params["precision"]]
        if op.a_bytes > width:
            raise TensorCoreInputError(f"{op.name}: {op.a_bytes:g}-byte activations do not fit the "
                                       f"{self.params['precision']} tensor core {self.name!r}")
        if self._dequantizes(op) and not self.params["dequant_ops_per_cycle"]:
            raise TensorCoreInputError(f"{op.name}: {op.b_bytes * 8:g}-bit weights on the "
                                       f"{self.params['precision']} tensor core {self.name!r}, which has no "
                                       f"dequantization (dequant_ops_per_cycle: 0)")
        if op.b_bytes > width:
            raise TensorCoreInputError(f"{op.name}: {op.b_bytes:g}-byte weights do not fit the "
                                       f"{self.params['precision']} tensor core {self.name!r}")

    def _dequantizes(self, op) -> bool:
        return op.kind == "gemm" and op.b_bytes < BYTES_PER_ELEMENT[self.params["precision"]]

    def operand_bytes(self, op):
        # weights stay packed in registers until dequantized in the tile's pass
        return op.a_bytes, op.b_bytes, BYTES_PER_ELEMENT[self.params["accumulator"]]

    def register_feed_bytes_per_cycle(self, op) -> float:
        p = self.params
        width = BYTES_PER_ELEMENT[p["precision"]]
        per_mma = (p["mma_m"] + p["mma_n"]) * p["mma_k"] * width \
            + 2 * p["mma_m"] * p["mma_n"] * BYTES_PER_ELEMENT[p["accumulator"]]
        return p["units_per_sm"] * per_mma / self._issue(op)

    def _dequant_cycles(self, n, k, op):
        if not self._dequantizes(op):
            return 0
        ops = np.asarray(n, np.int64) * np.asarray(k, np.int64) * self.params["dequant_ops_per_weight"]
        return -(-ops // self.params["dequant_ops_per_cycle"])

    def per_tile(self, m, n, k, op):
        issue, depth, units = self._pipeline(op)
        return (tile_cycles(m, n, k, *self._shape(), issue, depth, units)
                + self._dequant_cycles(n, k, op)).astype(float)

    def simulate_tiles(self, m, n, k, op):
        shapes, inverse = self.unique_tiles(m, n, k)
        issue, depth, units = self._pipeline(op)
        cycles = np.array([simulate_tile(int(a), int(b), int(c), *self._shape(), issue, depth, units)[0]
                           for a, b, c in shapes], np.int64)
        return cycles[inverse.ravel()] + self._dequant_cycles(n, k, op)

    def peak_macs_per_cycle(self, op) -> float:
        return self.params["units_per_sm"] * self._rate(op)

    def count_events(self, cost: OpCost, op, schedule) -> None:
        """MACs of the executed mma instructions (padded edges included), the operand
        fragments read from registers, and the dequantization operations."""
        p = self.params
        mm, mn, mk = self._shape()
        count = float(lmmas(schedule.m, schedule.n, schedule.k, mm, mn, mk).sum())
        width = BYTES_PER_ELEMENT[p["precision"]]
        kind = "fp16" if self._wide(op) else p["precision"]     # the FP16 mode of a narrower tensor core
        cost.events[(self.name, f"mac_{kind}")] = count * mm * mn * mk
        cost.events[(self.name, "register_read_bytes")] = count * (mm + mn) * mk * width
        if self._dequantizes(op):
            weights = float((np.asarray(schedule.n) * np.asarray(schedule.k)).sum())
            cost.events[(self.name, f"dequant_{p['precision']}")] = weights * p["dequant_ops_per_weight"]
        cost.detail["mmas"] = count
