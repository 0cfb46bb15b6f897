"""cocotb bench of rtl/fp16_fma.v against accsim.functional.fp.fp16_fma."""
from __future__ import annotations

import itertools

import cocotb
import tbutil

from accsim.functional import fp
from accsim.functional.timing import UNIT_TIMING

# +-0, smallest/largest subnormal, smallest normal, 1 - ulp, 1, 1 + ulp, 2, 1/3, largest
# normal, +-inf, a quiet and a signalling NaN
SPECIAL = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x8400, 0x3BFF, 0x3C00, 0xBC00,
           0x3C01, 0x4000, 0x3555, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01]


def directed() -> list:
    return list(itertools.product(SPECIAL, repeat=3))


def random_vectors(count: int) -> list:
    r = tbutil.rng("fma")
    beats = []
    for i in range(count):
        kind = i % 4
        if kind == 0:                                  # any bit pattern
            beats.append((r.getrandbits(16), r.getrandbits(16), r.getrandbits(16)))
        elif kind == 1:                                # finite, nearby exponents: rounding ties
            def near():
                return (r.getrandbits(1) << 15) | (r.randint(10, 20) << 10) | r.getrandbits(10)
            beats.append((near(), near(), near()))
        elif kind == 2:                                # c close to -a*b: cancellation
            a, b = r.getrandbits(15), r.getrandbits(15)
            c = fp.fp16_mul(a, b) ^ 0x8000
            c = (c + r.randint(-2, 2)) & 0xFFFF
            beats.append((a, b, c))
        else:                                          # tiny and huge: underflow, overflow
            def edge():
                e = r.choice([0, 1, 2, 3, 27, 28, 29, 30])
                return (r.getrandbits(1) << 15) | (e << 10) | r.getrandbits(10)
            beats.append((edge(), edge(), edge()))
    return beats


def drive(dut, beat):
    dut.a.value, dut.b.value, dut.c.value = beat


@cocotb.test()
async def fma_matches_model(dut):
    """Directed special-value cube plus random vectors, bit for bit, latency and II."""
    timing = UNIT_TIMING["fp16_fma"]
    count = tbutil.vector_count(20000)
    beats = directed() + random_vectors(count)
    await tbutil.start(dut)
    result = await tbutil.stream_valid_unit(
        dut, beats, drive, lambda d: int(d.y.value), lambda beat: fp.fp16_fma(*beat), timing.latency_cycles)
    tbutil.write_report("fp16_fma", {"vectors": len(beats), "directed": len(beats) - count,
                                     "mismatches": len(result["mismatches"]), "late": len(result["late"]),
                                     "latency_cycles": timing.latency_cycles,
                                     "initiation_interval": timing.initiation_interval})
    assert not result["mismatches"], tbutil.mismatch_text(result["mismatches"])
    assert not result["late"], tbutil.mismatch_text(result["late"])
    assert result["received"] == len(beats)
