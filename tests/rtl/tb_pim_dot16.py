"""cocotb bench of rtl/pim_dot16_fp16.v against accsim.functional.fp.fp16_dot_accumulate."""
from __future__ import annotations

import cocotb
import tbutil
from tb_fp16_fma import SPECIAL

from accsim.functional import fp
from accsim.functional.timing import UNIT_TIMING

LANES = 16
NEG_ZERO = 0x8000


def _finite(r, low=8, high=22):
    return (r.getrandbits(1) << 15) | (r.randint(low, high) << 10) | r.getrandbits(10)


def beats(count: int) -> list:
    """(first, a lanes, b lanes); accumulations of 1..8 beats."""
    r = tbutil.rng("dot16")
    out = []
    while len(out) < count:
        length = r.randint(1, 8)
        style = r.randrange(5)
        for position in range(length):
            if style == 0:      # finite values of similar size: roundings and ties
                a = [_finite(r) for _ in range(LANES)]
                b = [_finite(r) for _ in range(LANES)]
            elif style == 1:    # any bit patterns: NaN, inf, subnormals everywhere
                a = [r.getrandbits(16) for _ in range(LANES)]
                b = [r.getrandbits(16) for _ in range(LANES)]
            elif style == 2:    # one special value among finite lanes
                a = [_finite(r) for _ in range(LANES)]
                b = [_finite(r) for _ in range(LANES)]
                a[r.randrange(LANES)] = r.choice(SPECIAL)
            elif style == 3:    # pairs that cancel exactly: sums of zero, -0 handling
                half = [(_finite(r), _finite(r)) for _ in range(LANES // 2)]
                a = [x for x, _ in half] + [x ^ 0x8000 for x, _ in half]
                b = [y for _, y in half] * 2
                if r.random() < 0.5:
                    a = [r.choice([0x0000, 0x8000]) for _ in range(LANES)]
            else:               # huge and tiny: overflow to inf, subnormal results
                a = [_finite(r, 0, 3) if r.random() < 0.5 else _finite(r, 27, 30) for _ in range(LANES)]
                b = [_finite(r, 0, 3) if r.random() < 0.5 else _finite(r, 27, 30) for _ in range(LANES)]
            out.append((position == 0, tuple(a), tuple(b)))
    return out


def pack(lanes) -> int:
    return sum(value << (16 * i) for i, value in enumerate(lanes))


@cocotb.test()
async def dot16_matches_model(dut):
    """Back-to-back beats of accumulations, bit for bit against the model; latency and II 1."""
    timing = UNIT_TIMING["pim_dot16_fp16"]
    count = tbutil.vector_count(4000)
    vectors = beats(count)
    expected = {}
    acc = 0
    for index, (first, a, b) in enumerate(vectors):
        acc = fp.fp16_dot_accumulate(NEG_ZERO if first else acc, a, b)
        expected[index] = acc
    indexed = list(enumerate(vectors))

    def drive(d, item):
        _, (first, a, b) = item
        d.first.value = int(first)
        d.a.value = pack(a)
        d.b.value = pack(b)

    await tbutil.start(dut)
    result = await tbutil.stream_valid_unit(dut, indexed, drive, lambda d: int(d.acc_out.value),
                                            lambda item: expected[item[0]], timing.latency_cycles)
    tbutil.write_report("pim_dot16_fp16", {"beats": len(vectors), "mismatches": len(result["mismatches"]),
                                           "late": len(result["late"]),
                                           "latency_cycles": timing.latency_cycles,
                                           "initiation_interval": timing.initiation_interval})
    assert not result["mismatches"], tbutil.mismatch_text([m[:200] for m in result["mismatches"]])
    assert not result["late"], tbutil.mismatch_text(result["late"])
    assert result["received"] == len(vectors)
