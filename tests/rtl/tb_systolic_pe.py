"""cocotb bench of rtl/systolic_pe_int8.v against accsim.functional.int8.pe_mac."""
from __future__ import annotations

import cocotb
import tbutil
from cocotb.triggers import FallingEdge

from accsim.functional import int8
from accsim.functional.timing import UNIT_TIMING

EXTREME_A = [-128, -127, -1, 0, 1, 127]
EXTREME_PSUM = [int8.INT32_MIN, int8.INT32_MIN + 1, -16384, -1, 0, 1, 16383,
                int8.INT32_MAX - 16383, int8.INT32_MAX]


def beats(count: int) -> list:
    """(w_shift, w_in, a_in, psum_in) per cycle: the directed cross product of extremes
    (wrap-around both ways), then random values with random weight reloads."""
    out = []
    for w in EXTREME_A:
        out.append((1, w, 0, 0))
        out.extend((0, 0, a, p) for a in EXTREME_A for p in EXTREME_PSUM)
    r = tbutil.rng("pe")
    for _ in range(count):
        out.append((int(r.random() < 0.3), r.randint(-128, 127), r.randint(-128, 127),
                    r.randint(int8.INT32_MIN, int8.INT32_MAX)))
    return out


@cocotb.test()
async def pe_matches_model(dut):
    """One new input every cycle; psum_out/a_out/w_out after `latency` edges equal the model."""
    latency = UNIT_TIMING["systolic_pe_int8"].latency_cycles
    vectors = beats(tbutil.vector_count(20000))
    await tbutil.start(dut)
    weight = 0                     # the model's copy of the stationary weight register
    history = []                   # expected (psum_out, a_out, w_out) after each beat's edge
    mismatches = []
    for index, (w_shift, w_in, a_in, psum_in) in enumerate(vectors):
        dut.w_shift.value, dut.w_in.value, dut.a_in.value, dut.psum_in.value = w_shift, w_in, a_in, psum_in
        history.append((int8.pe_mac(psum_in, a_in, weight), a_in, w_in if w_shift else weight))
        if w_shift:
            weight = w_in
        await FallingEdge(dut.clk)
        # latency L: the registers now hold the result of the beat driven L cycles ago
        if index + 1 >= latency:
            want = history[index + 1 - latency]
            got = (dut.psum_out.value.to_signed(), dut.a_out.value.to_signed(), dut.w_out.value.to_signed())
            if got != want:
                mismatches.append(f"beat {index + 1 - latency} {vectors[index + 1 - latency]}: got {got} want {want}")
    tbutil.write_report("systolic_pe_int8", {"vectors": len(vectors), "mismatches": len(mismatches),
                                       "latency_cycles": latency})
    assert not mismatches, tbutil.mismatch_text(mismatches)
