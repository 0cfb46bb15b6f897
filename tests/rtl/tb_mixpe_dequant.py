"""cocotb bench of rtl/mixpe_dequant.v against accsim.functional.mixpe.dequantize."""
from __future__ import annotations

import cocotb
import tbutil

from accsim.functional import mixpe
from accsim.functional.int8 import INT32_MAX, INT32_MIN

SCALES = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x1400, 0x2E66, 0x3C00, 0xBC00, 0x7BFF, 0x7C00, 0x7E00]
PSUMS = [INT32_MIN, INT32_MIN + 1, -65520, -2049, -2048, -1, 0, 1, 2047, 2049, 65504, 65520, INT32_MAX]
ASUMS = [INT32_MIN, -32768, -1, 0, 1, 16256, INT32_MAX]


def directed() -> list:
    """Extremes of every input: int32 wrap of the correction, int-to-half rounding ties
    (2049), overflow to infinity (65520), special scales (zero, subnormal, inf, NaN)."""
    out = []
    for s in SCALES:
        for p in PSUMS:
            for a in ASUMS[::2]:
                out.append((p, a, 8, s, 0x3C00))
        out.append((12345, 678, 15, s, 0xFBFF))
    return out


def random_vectors(count: int) -> list:
    r = tbutil.rng("mixpe_dequant")
    out = []
    for i in range(count):
        if i % 2:   # realistic: a group of 128 int8 x int4 products, scales around 2^-8
            psum = r.randint(-128 * 127 * 15, 128 * 127 * 15)
            asum = r.randint(-128 * 128, 128 * 127)
            zero = r.randint(0, 15)
            scale = (r.getrandbits(1) << 15) | (r.randint(5, 14) << 10) | r.getrandbits(10)
            y = (r.getrandbits(1) << 15) | (r.randint(5, 20) << 10) | r.getrandbits(10)
        else:       # any bits
            psum, asum = r.randint(INT32_MIN, INT32_MAX), r.randint(INT32_MIN, INT32_MAX)
            zero, scale, y = r.getrandbits(8), r.getrandbits(16), r.getrandbits(16)
        out.append((psum, asum, zero, scale, y))
    return out


def drive(dut, beat):
    dut.psum.value, dut.asum.value, dut.zero.value, dut.scale.value, dut.y_in.value = beat


def expected(beat):
    psum, asum, zero, scale, y = beat
    return mixpe.dequantize(y, scale, psum, asum, zero)


@cocotb.test()
async def dequant_matches_model(dut):
    """Directed extremes plus random vectors, bit for bit, latency and II 1."""
    timing = mixpe.MIXPE_TIMING["mixpe_dequant"]
    count = int(tbutil.os.environ.get("ACCSIM_TB_VECTORS", "20000"))
    beats = directed() + random_vectors(count)
    await tbutil.start(dut)
    result = await tbutil.stream_valid_unit(dut, beats, drive, lambda d: int(d.y.value), expected,
                                            timing.latency_cycles)
    tbutil.write_report("mixpe_dequant", {"vectors": len(beats), "directed": len(beats) - count,
                                          "mismatches": len(result["mismatches"]), "late": len(result["late"]),
                                          "latency_cycles": timing.latency_cycles,
                                          "initiation_interval": timing.initiation_interval})
    assert not result["mismatches"], tbutil.mismatch_text(result["mismatches"])
    assert not result["late"], tbutil.mismatch_text(result["late"])
    assert result["received"] == len(beats)
