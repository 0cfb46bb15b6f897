"""cocotb bench of rtl/mixpe_pe.v against accsim.functional.mixpe.shift_add_mac."""
from __future__ import annotations

import cocotb
import tbutil
from cocotb.triggers import FallingEdge

from accsim.functional import mixpe

EXTREME_A = [-128, -127, -1, 0, 1, 127]


def beats(count: int, bits: int) -> list:
    """(first, a, q) per cycle: every activation extreme with every weight code (directed),
    a long group of the most negative products, then random beats with random group starts."""
    out = []
    for a in EXTREME_A:
        for q in range(1 << bits):
            out.append((1, a, q))
            out.append((0, a, q))
    out.append((1, -128, (1 << bits) - 1))                             # a group of the most negative
    out.extend((0, -128, (1 << bits) - 1) for _ in range(299))        # products: -128 x max code x 300
    r = tbutil.rng(f"mixpe_pe{bits}")
    out.extend((int(r.random() < 0.05), r.randint(-128, 127), r.getrandbits(bits)) for _ in range(count))
    return out


@cocotb.test()
async def mixpe_pe_matches_model(dut):
    """One beat per cycle; psum, a_out, q_out after `latency` edges equal the model."""
    bits = int(tbutil.parameters().get("WBITS", 4))
    latency = mixpe.MIXPE_TIMING["mixpe_pe"].latency_cycles
    vectors = beats(int(tbutil.os.environ.get("ACCSIM_TB_VECTORS", "20000")), bits)
    await tbutil.start(dut)
    psum = 0
    history, mismatches = [], []
    for index, (first, a, q) in enumerate(vectors):
        dut.first.value, dut.a_in.value, dut.q_in.value = first, a, q
        psum = mixpe.shift_add_mac(0 if first else psum, a, q, bits)
        history.append((psum, a, q))
        await FallingEdge(dut.clk)
        if index + 1 >= latency:
            want = history[index + 1 - latency]
            got = (dut.psum.value.to_signed(), dut.a_out.value.to_signed(), int(dut.q_out.value))
            if got != want:
                mismatches.append(f"beat {index + 1 - latency} {vectors[index + 1 - latency]}: got {got} want {want}")
    largest = max(abs(p) for p, _, _ in history)
    tbutil.write_report(f"mixpe_pe{bits}", {"vectors": len(vectors), "mismatches": len(mismatches),
                                             "latency_cycles": latency, "weight_bits": bits,
                                             "largest_sum": largest})
    assert not mismatches, tbutil.mismatch_text(mismatches)
