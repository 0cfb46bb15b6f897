"""Quantization accelerators on one frame: output-stationary PE arrays that run a
weight GEMM at the precision their PEs support, with the cycle model of
accsim.kernels.mixpe (folds x per-fold cycles, post-group dequantization stalls).

Base class `QuantGemmArray` (not registered) does the mapping, lowering, tile
pipeline and energy events; each registered type says which operand formats it
runs, how many cycles one K element costs a PE and what post-processing it does:

    type                  runs          K element costs a PE        post-processing
    fp16_mac_array        W16A16        1 cycle                     none
    int8_mac_array        W8A8          1 cycle                     requantize each output (FMA)
    dequant_fp16_array    W4A16         max(1, cols / lanes)        dequantize every weight before the array
    bitfusion_array       Wb x Ab       ceil(b_w/2) ceil(b_a/2)/16  requantize each output
    ant_array             Wb x Ab       ceil(b_w/4) ceil(b_a/4)/4   requantize each output
    olaccel_array         W4 x Ab + 16-bit outliers   max(1, f R C / outlier lanes)   requantize

MixPE itself (post-group dequantization, shift-add PEs) is accsim.components.mixpe.
What is approximated for ANT and OLAccel is said on their classes and in docs/mixpe.md.
Energy: events `pe_cycle` (one active PE-cycle, priced from the technology table's
[pe_cycle, PE_KIND] row), `dequant_fma`, `row_sum_add`, `outlier_pe_cycle`; the
estimator `quant_pe` below prices them and the PE area.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..dtypes import BYTES_PER_ELEMENT
from ..energy.estimator import AreaQuote, Decline, Estimator, register as register_estimator
from ..errors import ConfigError, Problem
from ..kernels.mixpe import tile_cycles
from ..schema import opt, req
from .base import CLOCK_FIELD, Component, OpCost, register
from .systolic_array import MAC_PJ, MEMORY_PJ_PER_BYTE, SRAM_PJ_PER_BYTE  # cited there
from .pipeline_exec import run_schedule

NO_GROUP = 0


@dataclass(frozen=True)
class RunFormat:
    """How an array runs one op: operand widths and bytes moved per element."""

    label: str                # e.g. W4A8
    weight_bits: int
    activation_bits: int
    weight_bytes: float       # per weight element, scales and zero points included
    activation_bytes: float
    output_bytes: float


@dataclass(frozen=True)
class Post:
    """Dequantization after (group > 0) or before (front_end) the array."""

    group: int = NO_GROUP     # K elements per raw partial sum (MixPE); 0: none
    drain: int = 0            # cycles a column needs to hand its sums to its dequantizers
    latency: int = 0          # dequantizer pipeline depth
    front_end: bool = False   # weights dequantized on their way into the array
    per_output: bool = False  # one requantization FMA per output of a tile


def fraction(value) -> tuple[int, int]:
    f = Fraction(value).limit_denominator(1 << 16)
    return f.numerator, f.denominator


def rounded_bits(bits: int, brick: int) -> int:
    return -(-bits // brick)


class QuantGemmArray(Component):
    """Shared frame of the quantization arrays (not selectable by itself)."""

    EXECUTES = frozenset({"gemm", "matmul", "attention"})
    PE_KIND = ""
    BASE_FIELDS = {
        "rows": req("int", "PE rows", positive=True),
        "cols": req("int", "PE columns", positive=True),
        "scratchpad": req("str", "name of the scratchpad component (one instance per array)"),
        "dma": req("str", "name of the DMA component that feeds the scratchpads"),
        "clock": CLOCK_FIELD,
    }
    REFERENCES = {"scratchpad": "buffer", "dma": "dma"}

    # --- what each type says
    def run_format(self, op) -> RunFormat:
        raise NotImplementedError

    def step(self, fmt: RunFormat) -> tuple[int, int]:
        """Cycles per K element of one PE, as (numerator, denominator)."""
        return 1, 1

    def post(self, op, fmt: RunFormat) -> Post:
        return Post()

    def pe_kind(self, fmt: RunFormat) -> str:
        return self.PE_KIND

    def extra_events(self, cost: OpCost, fmt: RunFormat, macs: float) -> None:
        """Events beyond PE-cycles and dequantization (e.g. OLAccel's outlier MACs)."""

    def dequant_units_total(self) -> int:
        """FP16 FMA units next to the PEs (dequantizers), for the area."""
        return 0

    # --- the frame
    def link(self, system) -> None:
        self.scratchpad = system.components[self.params["scratchpad"]]
        self.dma = system.components[self.params["dma"]]
        self.arch_path = system.arch.path

    def input_error(self, field: str, message: str) -> ConfigError:
        """A problem with this component's own field, located in the architecture file."""
        from ..yamlio import load

        line = None
        try:
            node = load(Path(self.arch_path)).tree["components"][self.name]
            line = node.location(field)[1] if field in node else node.origin[1]
        except Exception:  # noqa: BLE001 - locating is best effort; the message stands without a line
            pass
        return ConfigError([Problem(self.arch_path, line, f"components.{self.name}.{field}", message)])

    def setup(self, op):
        fmt = self.run_format(op)
        num, den = self.step(fmt)
        post = self.post(op, fmt)
        return fmt, (num, den), post

    def tile_function(self, step, post):
        rows, cols = self.params["rows"], self.params["cols"]
        num, den = step

        def cycles(m, n, k):
            m, n, k = np.broadcast_arrays(np.asarray(m), np.asarray(n), np.asarray(k))
            flat = [np.ascontiguousarray(x.ravel(), np.int64) for x in (m, n, k)]
            out = tile_cycles(rows, cols, *flat, num, den, post.group, post.drain, post.latency)[0]
            return out.reshape(m.shape)

        return cycles

    def hierarchy(self, fmt=None, step=None, post=None):
        """Memory levels and array as the mapper sees them; the array's per-tile cycles are
        the kernel's, summed exactly by the mapper. Access energies only rank mappings
        under `--objective energy` (same figures as systolic_array.hierarchy). Without
        arguments: the hierarchy of the op planned last (what `accsim map` asks for)."""
        from ..mapping import Compute, Hierarchy, Level

        if fmt is None:
            fmt, step, post = self._last_setup

        ticks_per_byte, _, _ = self.dma.transfer_model()
        memory_bytes_per_cycle = self.clock.period_ticks / ticks_per_byte
        rows, cols = self.params["rows"], self.params["cols"]
        feed = rows * fmt.activation_bytes + cols * fmt.weight_bytes
        return Hierarchy(
            (Level(self.dma.memory.name, None, memory_bytes_per_cycle,
                   read_pj_per_byte=MEMORY_PJ_PER_BYTE, write_pj_per_byte=MEMORY_PJ_PER_BYTE),
             Level(self.scratchpad.name, self.scratchpad.capacity_bytes, feed,
                   slots=self.scratchpad.slots, read_pj_per_byte=SRAM_PJ_PER_BYTE, write_pj_per_byte=SRAM_PJ_PER_BYTE)),
            Compute(self.TYPE, rows, cols, "os", self.count, False, mac_pj=MAC_PJ,
                    tile_cycles=self.tile_function(step, post)))

    def plan(self, op, system, top_k: int = 1) -> list:
        from ..mapping import op_problems
        from ..mapping_rules import plan_problems

        fmt, step, post = self.setup(op)
        self._last_setup = (fmt, step, post)
        problems = op_problems(op.gemms, fmt.activation_bytes, fmt.weight_bytes, fmt.output_bytes)
        return plan_problems(op.name, problems, self.hierarchy(fmt, step, post), system.mapping_rules, top_k)

    def execute(self, op, system) -> OpCost:
        from ..mapping import concat_schedules, evaluate_mapping, lower

        fmt, step, post = self.setup(op)
        hier = self.hierarchy(fmt, step, post)
        plans = self.plan(op, system)
        schedule = concat_schedules([lower(problem, hier, result.best.mapping) for problem, result in plans],
                                    self.count)
        rows, cols = self.params["rows"], self.params["cols"]
        num, den = step
        cycles, folds, dequant_ops, stalls = tile_cycles(
            rows, cols, schedule.m, schedule.n, schedule.k, num, den, post.group, post.drain, post.latency)
        ticks = self.clock.ticks_array(cycles)
        cost = run_schedule(schedule.unit, schedule.load_bytes, ticks, schedule.store_bytes,
                            self.count, self.scratchpad.slots, self.dma, self.name, self.scratchpad.name,
                            key=repr(op.signature()) + self.TYPE)
        m, n, k = (np.asarray(x, np.int64) for x in (schedule.m, schedule.n, schedule.k))
        macs = float((m * n * k).sum())
        pe_cycles = float((m * n * ((k * num + den - 1) // den)).sum())
        cost.macs = int(sum(a * b * c for a, b, c in op.gemms))
        busy_cycles = self.clock.cycles(cost.ticks)
        cost.peak_macs = int(round(rows * cols * self.count * busy_cycles * den / num))
        if post.front_end:
            dequant_ops = k * n * ((m + rows - 1) // rows)     # every weight, once per M fold
        elif post.per_output:
            dequant_ops = m * n
        cost.events[(self.name, "pe_cycle")] = pe_cycles
        if post.group or post.front_end or post.per_output:
            cost.events[(self.name, "dequant_fma")] = float(np.sum(dequant_ops))
        self.extra_events(cost, fmt, macs)
        spad = self.scratchpad.name
        for problem, result in plans:
            traffic = evaluate_mapping(problem, hier, result.best.mapping).traffic_bytes[spad]
            for label, nbytes in traffic.items():
                event = "read_bytes" if label.endswith("read") else "write_bytes"
                cost.events[(spad, event)] = cost.events.get((spad, event), 0.0) + float(nbytes[0])
        cost.detail.update(
            compute_cycles=int(cycles.sum()), dequant_stall_cycles=int(stalls.sum()),
            dequant_ops=int(np.sum(dequant_ops)), folds=int(folds.sum()), executed_as=fmt.label,
            pe_kind=self.pe_kind(fmt), estimate_cycles=float(sum(r.best.latency_cycles for _, r in plans)),
            mapping=[r.best.mapping for _, r in plans],
            buffer_peak_bytes=max(dict(r.best.footprint_bytes)[spad] for _, r in plans))
        return cost


def quantization_of(op):
    return getattr(op, "quant", None)


def weight_bits_of(op) -> int | None:
    """Integer weight width of the op (None: floating-point weights)."""
    quant = quantization_of(op)
    if quant is not None:
        return int(BYTES_PER_ELEMENT[quant.weights] * 8)
    return None


def scale_bytes_per_weight(quant, k: int) -> float:
    """Scale (and zero point) bytes per weight element: one of each per group of K."""
    if quant is None or not quant.given:
        return 0.0
    per_group = BYTES_PER_ELEMENT[quant.scale_dtype] * (2 if quant.zero_points else 1)
    group = quant.group_size or k
    return per_group / group


def _format(label, w_bits, a_bits, out_bytes, op, scales=True) -> RunFormat:
    k = op.gemms[0][2] if op.gemms else 1
    extra = scale_bytes_per_weight(quantization_of(op), k) if scales else 0.0
    return RunFormat(label, w_bits, a_bits, w_bits / 8 + extra, a_bits / 8, out_bytes)


@register("fp16_mac_array")
class Fp16MacArray(QuantGemmArray):
    SUMMARY = "FP16 MAC PE array (output stationary): the unquantized baseline, W16A16"
    FIELDS = dict(QuantGemmArray.BASE_FIELDS)
    PE_KIND = "fp16"

    def run_format(self, op) -> RunFormat:
        return _format("W16A16", 16, 16, 2.0, op, scales=False)


@register("int8_mac_array")
class Int8MacArray(QuantGemmArray):
    SUMMARY = "INT8 MAC PE array (output stationary): the model at W8A8, one requantization per output"
    FIELDS = dict(QuantGemmArray.BASE_FIELDS)
    PE_KIND = "int8"

    def run_format(self, op) -> RunFormat:
        return _format("W8A8", 8, 8, 1.0, op, scales=False)

    def post(self, op, fmt) -> Post:
        return Post(per_output=True)


@register("dequant_fp16_array")
class DequantFp16Array(QuantGemmArray):
    """W4A16 the GPU way: INT4 weights in memory, dequantized to FP16 (w = s (q - z)) by
    `dequant_lanes` FMA units on their way into an FP16 MAC array. The array takes
    `cols` weights per cycle; fewer lanes slow the stream to cols / lanes cycles per K
    element. Every M fold streams (and so dequantizes) the weights again. The
    dequantizer's pipeline fill is not modelled (a few cycles per fold)."""

    SUMMARY = "dequantize-then-FP16-MAC array (W4A16 the GPU way): a dequantizer in front of FP16 PEs"
    FIELDS = {**QuantGemmArray.BASE_FIELDS,
              "dequant_lanes": opt("int", 0, "weight dequantizers (FMA) in front of the array (0: one per column)",
                                   minimum=0)}
    PE_KIND = "fp16"

    def run_format(self, op) -> RunFormat:
        quant = quantization_of(op)
        if quant is None:       # floating-point weights (or attention operands) bypass the dequantizers
            return _format("W16A16", 16, 16, 2.0, op, scales=False)
        if not quant.given:
            raise _missing_scales(op, self.TYPE)
        return _format(f"W{weight_bits_of(op)}A16 (dequantized to FP16)", weight_bits_of(op), 16, 2.0, op)

    def dequant_units_total(self) -> int:
        return (self.params["dequant_lanes"] or self.params["cols"]) * self.count

    def step(self, fmt) -> tuple[int, int]:
        lanes = self.params["dequant_lanes"] or self.params["cols"]
        return fraction(max(Fraction(1), Fraction(self.params["cols"], lanes)))

    def post(self, op, fmt) -> Post:
        return Post(front_end=quantization_of(op) is not None)


@register("bitfusion_array")
class BitFusionArray(QuantGemmArray):
    """Bit Fusion (Sharma et al., ISCA 2018): each fusion unit has 16 BitBricks (2-bit x
    2-bit multipliers); a b_w x b_a product takes ceil(b_w/2) x ceil(b_a/2) bricks, so a
    unit does 16 / that many MACs per cycle (8x8: 1, 4x8: 2, 4x4: 4; 16-bit operands
    take several cycles). Integer only: per-output requantization; group-wise FP
    scales are not supported (the model runs with per-channel scales)."""

    SUMMARY = "BitFusion-style bit-composable array (2-bit BitBricks, 16 per fusion unit)"
    FIELDS = {**QuantGemmArray.BASE_FIELDS,
              "weight_bits": opt("int", 8, "weight width the model runs at", minimum=1, maximum=16),
              "activation_bits": opt("int", 8, "activation width the model runs at", minimum=1, maximum=16)}
    PE_KIND = "bitfusion"
    BRICK_BITS = 2          # Bit Fusion's BitBrick: 2-bit x 2-bit
    BRICKS_PER_UNIT = 16    # Bit Fusion's fusion unit: 4 x 4 BitBricks

    def run_format(self, op) -> RunFormat:
        w, a = self.params["weight_bits"], self.params["activation_bits"]
        return _format(f"W{w}A{a}", w, a, 1.0, op, scales=False)

    def step(self, fmt) -> tuple[int, int]:
        bricks = rounded_bits(fmt.weight_bits, self.BRICK_BITS) * rounded_bits(fmt.activation_bits, self.BRICK_BITS)
        return fraction(Fraction(bricks, self.BRICKS_PER_UNIT))

    def post(self, op, fmt) -> Post:
        return Post(per_output=True)


@register("ant_array")
class AntArray(QuantGemmArray):
    """ANT (Guo et al., MICRO 2022), approximated: PEs built from four 4-bit x 4-bit
    multipliers that fuse for 8-bit operands (its int8 fallback), so a b_w x b_a MAC
    takes ceil(b_w/4) x ceil(b_a/4) of the four (W4A4: 4 MACs per PE-cycle, W4A8: 2,
    W8A8: 1). Not modelled: the adaptive type decoder (flint / PoT -> int, energy and
    area), mixed per-tensor type selection, per-output requantization only."""

    SUMMARY = "ANT-style adaptive-numeric-type array (approximation: 4-bit sub-PEs fused for 8-bit)"
    FIELDS = {**QuantGemmArray.BASE_FIELDS,
              "weight_bits": opt("int", 4, "weight width the model runs at", minimum=1, maximum=8),
              "activation_bits": opt("int", 8, "activation width the model runs at", minimum=1, maximum=8)}
    PE_KIND = "ant"
    SUB_BITS = 4            # ANT's 4-bit PE granularity
    SUBS_PER_PE = 4         # four 4-bit multipliers make one 8x8 product

    def run_format(self, op) -> RunFormat:
        w, a = self.params["weight_bits"], self.params["activation_bits"]
        return _format(f"W{w}A{a}", w, a, 1.0, op, scales=False)

    def step(self, fmt) -> tuple[int, int]:
        subs = rounded_bits(fmt.weight_bits, self.SUB_BITS) * rounded_bits(fmt.activation_bits, self.SUB_BITS)
        return fraction(Fraction(subs, self.SUBS_PER_PE))

    def post(self, op, fmt) -> Post:
        return Post(per_output=True)


@register("olaccel_array")
class OlaccelArray(QuantGemmArray):
    """OLAccel (Park et al., ISCA 2018), approximated: dense PEs with 4-bit weights and
    b_a-bit activations do 1 MAC per cycle; a fraction `outlier_fraction` of the
    weights are outliers kept at 16 bits and multiplied by `outlier_lanes` separate
    16-bit MAC units working in parallel with the dense array. The array streams a K
    element every max(1, f R C / outlier lanes) cycles (outliers spread evenly; the
    real design's per-group outlier queues and their imbalance are not modelled).
    Outlier indices add (16 + index) bits per outlier weight to the weight traffic."""

    SUMMARY = "OLAccel-style outlier-aware array (approximation: dense 4-bit PEs + 16-bit outlier MACs)"
    FIELDS = {**QuantGemmArray.BASE_FIELDS,
              "activation_bits": opt("int", 8, "activation width the model runs at", minimum=1, maximum=16),
              "outlier_fraction": opt("float", 0.03, "share of weights kept at 16 bits", minimum=0, maximum=1),
              "outlier_lanes": opt("int", 0, "16-bit outlier MAC units (0: one per 16 PEs)", minimum=0)}
    PE_KIND = "olaccel"
    OUTLIER_BITS = 16       # OLAccel keeps outliers at full (16-bit) precision
    INDEX_BITS = 16         # assumption: a 16-bit position per outlier (sparse coordinate)

    def run_format(self, op) -> RunFormat:
        a = self.params["activation_bits"]
        f = self.params["outlier_fraction"]
        weight_bytes = 4 / 8 + f * (self.OUTLIER_BITS + self.INDEX_BITS) / 8
        return RunFormat(f"W4A{a} + {f:.0%} 16-bit outliers", 4, a, weight_bytes, a / 8, 1.0)

    def lanes(self) -> int:
        return self.params["outlier_lanes"] or max(1, self.params["rows"] * self.params["cols"] // 16)

    def step(self, fmt) -> tuple[int, int]:
        rows, cols = self.params["rows"], self.params["cols"]
        outlier = Fraction(self.params["outlier_fraction"]).limit_denominator(10000) * rows * cols / self.lanes()
        return fraction(max(Fraction(1), outlier))

    def post(self, op, fmt) -> Post:
        return Post(per_output=True)

    def extra_events(self, cost, fmt, macs) -> None:
        cost.events[(self.name, "outlier_pe_cycle")] = macs * self.params["outlier_fraction"]


def _missing_scales(op, type_name: str) -> ConfigError:
    quant = quantization_of(op)
    if quant is not None:
        return ConfigError([Problem(quant.file, quant.line, "quantization",
                                    f"{quant.weights} weights need per-group scales for the {type_name}: add a "
                                    f"quantization section (group_size, scale_dtype, zero_points)")])
    return ConfigError([Problem("<workload>", None, "dtypes.weights",
                                f"op {op.name!r} has floating-point weights ({op.b_bytes:g} bytes); the "
                                f"{type_name} takes integer weights with per-group scales (dtypes.weights: int4 "
                                f"and a quantization section)")])


@register_estimator
class QuantPeEstimator(Estimator):
    """Prices the quantization arrays' events and PE area from the technology table's
    rows [pe_cycle, PE_KIND], [fma, fp16], [add, int32] / [add, fp16]."""

    NAME = "quant_pe"
    RANK = 15
    ACCURACY = ("per-PE power of the MixPE paper's synthesis (28 nm, 500 MHz) per active PE-cycle; other PEs "
                "interpolated in operand bit product (about 1.5x)")

    def _row(self, component, event, op, dtype):
        return self.operation(component, event, op, dtype)

    def event_pj(self, component, event: str) -> float:
        if not isinstance(component, QuantGemmArray):
            raise Decline("not a quantization array")
        kind = component.pe_kind(None) if event == "pe_cycle" else None
        if event == "pe_cycle":
            return self._row(component, event, "pe_cycle", kind)[0]
        if event == "dequant_fma":
            return self._row(component, event, "fma", "fp16")[0]
        if event == "outlier_pe_cycle":
            return self._row(component, event, "pe_cycle", "olaccel_outlier")[0]
        if event == "row_sum_add":
            dtype = "int32" if component.params.get("activation", "int8") == "int8" else "fp16"
            return self._row(component, event, "add", dtype)[0]
        raise Decline(f"unknown event {event!r}")

    def area(self, component) -> AreaQuote:
        if not isinstance(component, QuantGemmArray):
            raise Decline("not a quantization array")
        kind = component.pe_kind(None)
        _, pe_um2 = self._row(component, "area", "pe_cycle", kind)
        pes = component.params["rows"] * component.params["cols"] * component.count
        units = component.dequant_units_total()
        _, fma_um2 = self._row(component, "area", "fma", "fp16") if units else (0.0, 0.0)
        return AreaQuote(logic_mm2=(pes * pe_um2 + units * fma_um2) / 1e6,
                         note=f"{pes} x [pe_cycle, {kind}] PEs of {pe_um2:.0f} um2"
                              + (f" + {units} FP16 dequantization FMAs" if units else ""))
