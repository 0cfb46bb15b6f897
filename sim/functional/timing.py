"""Latency and initiation interval of every functional unit, in cycles of the unit's clock.

The one place these numbers live: the RTL testbenches (tests/rtl) check that the Verilog
in rtl/ takes exactly these cycles, and the simulator's components read them from here.
They come from our own reference RTL (rtl/*.v), not from a paper.

latency_cycles: rising edges from the one that samples an input beat to the one after
which its result is on the outputs (1 = registered output of a single-cycle unit).
initiation_interval: cycles between two input beats the unit accepts back to back.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class UnitTiming:
    latency_cycles: int
    initiation_interval: int
    rtl_file: str          # file under rtl/
    top: str               # Verilog module name
    model: str             # Python model in accsim.functional
    summary: str
    helpers: tuple[str, ...] = ()   # other rtl/ files the unit instantiates

    @property
    def sources(self) -> tuple[str, ...]:
        """Files under rtl/ to compile, the unit's own file last."""
        return (*self.helpers, self.rtl_file)


UNIT_TIMING = MappingProxyType({
    "systolic_pe_int8": UnitTiming(
        1, 1, "systolic_pe_int8.v", "systolic_pe_int8", "int8.pe_mac",
        "INT8 weight-stationary PE: psum_out = psum_in + a*w (int32, wraps); one hop per cycle, "
        "the per-hop delay behind the systolic kernel's R + C + T - 2 skew"),
    "systolic_pe_os_int8": UnitTiming(
        1, 1, "systolic_pe_os_int8.v", "systolic_pe_os_int8", "int8.pe_mac",
        "INT8 output-stationary PE: acc = (first ? 0 : acc) + a*b (int32, wraps); operands pass "
        "right and down one hop per cycle (the os kernel's R + C + K - 2)"),
    "fp16_fma": UnitTiming(
        3, 1, "fp16_fma.v", "fp16_fma", "fp.fp16_fma",
        "FP16 fused multiply-add y = RNE(a*b + c), IEEE binary16, subnormals kept",
        ("fp16_round.v",)),
    "pim_dot16_fp16": UnitTiming(
        3, 1, "pim_dot16_fp16.v", "pim_dot16_fp16", "fp.fp16_dot_accumulate",
        "16-lane FP16 dot-product-accumulate of a PIM bank: acc = RNE(acc + sum a_i*b_i), one "
        "rounding per beat; back-to-back beats accumulate at II 1",
        ("fp16_round.v",)),
})
