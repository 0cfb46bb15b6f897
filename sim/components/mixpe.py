"""MixPE array: shift-and-add PEs for low-bit weights x INT8 or FP16 activations, raw
partial sums accumulated over a quantization group, and a per-group dequantization
unit per column applying y += s_g * (psum_g - z_g * sum(a_g)) once per output per group
(MixPE, arXiv 2411.16158; shared/reference/mixpe.md).

Timing (accsim.kernels.mixpe): output-stationary folds; one K element costs a PE one
cycle bit-parallel (all set bits of the weight summed by an adder tree) or
`weight bits` cycles bit-serial (one shifted add per cycle), divided by `pe_lanes`;
every group the column's R sums drain through `dequant_units` dequantizers per
column (ceil(R / units) cycles) while the next group computes, and the array stalls
when the drain is the slower; the last group's drain and the dequantizer latency
(accsim.functional.mixpe.MIXPE_TIMING, checked against rtl/mixpe_dequant.v) end the fold.
Events: `pe_cycle` (active PE-cycles), `dequant_fma` (one per output per group),
`row_sum_add` (sum(a_g) for the zero-point term: one add per activation per N fold).
"""
from __future__ import annotations

from ..dtypes import BYTES_PER_ELEMENT
from ..functional.mixpe import MIXPE_TIMING
from ..schema import opt
from .base import register
from .quant_arrays import Post, QuantGemmArray, RunFormat, _missing_scales, quantization_of, \
    scale_bytes_per_weight, weight_bits_of


@register("mixpe_array")
class MixPeArray(QuantGemmArray):
    SUMMARY = "MixPE: shift-and-add PEs (2-8 bit weights x INT8/FP16 activations), post-group dequantization"
    EXECUTES = frozenset({"gemm"})
    FIELDS = {
        **QuantGemmArray.BASE_FIELDS,
        "weight_bits": opt("int", 4, "widest weight the shift-add PE takes (narrower weights run too)",
                           minimum=2, maximum=8),
        "activation": opt("str", "int8", "activation format: int8 (W4A8) | fp16 (W4A16)",
                          choices=("int8", "fp16")),
        "shift_add": opt("str", "parallel", "parallel: all set bits of a weight in one cycle (adder tree) | "
                                            "serial: one bit per cycle", choices=("parallel", "serial")),
        "pe_lanes": opt("int", 1, "K elements one PE consumes per cycle (the public MixPE simulator packs "
                                  "datapath width / weight width: 2 for W4A8, 4 for W4A16)", minimum=1),
        "dequant_units": opt("int", 1, "dequantization units per column (one sum each per cycle)", minimum=1),
        "fallback": opt("str", "", "compute component (e.g. an fp16_mac_array) that runs the GEMMs with "
                                   "floating-point weights; empty: such GEMMs are an input error"),
        "dequant_latency": opt("int", None, "dequantizer pipeline depth in cycles (default: the RTL unit's, "
                                            "accsim.functional.mixpe.MIXPE_TIMING)", minimum=0),
    }

    @classmethod
    def cross_check(cls, name, params, peers, checker, node) -> None:
        fallback = params.get("fallback")
        if fallback and (fallback not in peers or not issubclass(peers[fallback][0], QuantGemmArray)
                         or peers[fallback][0] is cls):
            checker.add(node.location("fallback"), f"components.{name}.fallback",
                        f"{fallback!r} is not a MAC array of this architecture (fp16_mac_array, int8_mac_array, ...)")

    def link(self, system) -> None:
        super().link(system)
        self.fallback = system.components[self.params["fallback"]] if self.params["fallback"] else None

    def execute(self, op, system):
        if self.fallback is not None and weight_bits_of(op) is None:
            cost = self.fallback.execute(op, system)
            cost.detail["fallback"] = f"{self.fallback.name}: {op.b_bytes:g}-byte floating-point weights"
            return cost
        return super().execute(op, system)

    def pe_kind(self, fmt=None) -> str:
        return "w4a8_shift_add" if self.params["activation"] == "int8" else "w4a16_shift_add"

    def dequant_units_total(self) -> int:
        return self.params["cols"] * self.params["dequant_units"] * self.count

    def latency(self) -> int:
        given = self.params["dequant_latency"]
        return MIXPE_TIMING["mixpe_dequant"].latency_cycles if given is None else given

    def run_format(self, op) -> RunFormat:
        quant = quantization_of(op)
        bits = weight_bits_of(op)
        if bits is None:
            raise self.input_error(
                "weight_bits", f"op {op.name!r} has floating-point weights ({op.b_bytes:g} bytes per element); the "
                f"shift-add PE takes integer weights of at most {self.params['weight_bits']} bits "
                f"(workload dtypes.weights: int4 and a quantization section)")
        if bits > self.params["weight_bits"]:
            raise self.input_error(
                "weight_bits", f"op {op.name!r} has {quant.weights} weights; the shift-add PE takes at most "
                f"{self.params['weight_bits']}-bit weights ({quant.file}:{quant.line})")
        if not quant.given:
            raise _missing_scales(op, self.TYPE)
        act = self.params["activation"]
        k = op.gemms[0][2]
        a_bytes = BYTES_PER_ELEMENT[act]
        return RunFormat(f"W{bits}A{8 * int(a_bytes)}", bits, int(8 * a_bytes),
                         bits / 8 + scale_bytes_per_weight(quant, k), a_bytes, 2.0)

    def step(self, fmt) -> tuple[int, int]:
        per_element = fmt.weight_bits if self.params["shift_add"] == "serial" else 1
        return per_element, self.params["pe_lanes"]

    def post(self, op, fmt) -> Post:
        group = op.quant.group_size or op.gemms[0][2]     # 0: per-channel scales, one group = all of K
        drain = -(-self.params["rows"] // self.params["dequant_units"])
        return Post(group=group, drain=drain, latency=self.latency())

    def extra_events(self, cost, fmt, macs) -> None:
        cols = self.params["cols"]
        # sum(a_g) per row and group: each activation entering a row is added once per N fold;
        # macs / cols is the activations streamed (m x k x N folds when tiles fill the columns)
        cost.events[(self.name, "row_sum_add")] = macs / cols
