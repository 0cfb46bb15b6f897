"""Bit-accurate functional models of the functional units, and functional mode.

- `fp`: IEEE binary16/binary32 in integer arithmetic (decode, encode, RNE), the FP16
  fused multiply-add and the 16-lane FP16 dot-product-accumulate of a PIM bank;
- `int8`: the INT8 systolic PE's multiply-accumulate (int32, wrapping);
- `systolic_ws`, `systolic_os`: weight- and output-stationary arrays computing a GEMM value
  by value through them;
- `timing.UNIT_TIMING`: latency and initiation interval of each unit (read by the RTL
  tests and the simulator);
- `run_functional`: functional mode (`accsim run --functional`).

Each model has reference Verilog in rtl/ checked against it bit for bit (tests/rtl).
"""
from __future__ import annotations

from .run import (FunctionalError, FunctionalReport, FunctionalRow, FunctionalSizeError, MAX_MACS,
                  check_functional, run_functional)
from .timing import UNIT_TIMING, UnitTiming

__all__ = ["FunctionalError", "FunctionalReport", "FunctionalRow", "FunctionalSizeError", "MAX_MACS",
           "UNIT_TIMING", "UnitTiming", "check_functional", "run_functional"]
