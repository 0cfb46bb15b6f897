"""cocotb bench of rtl/lut_dot.v against accsim.functional.lut.lut_dot_lmma and the
LUT cycle kernel (accsim.kernels.lut.simulate_tile)."""
from __future__ import annotations

import cocotb
import numpy as np
import tbutil
from cocotb.triggers import FallingEdge

from accsim.functional import lut
from accsim.kernels.lut import simulate_tile

EW, AW = 16, 32


def _signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) else value


def chains(count: int, rows: int, cols: int) -> list:
    """(weight bits, [(tables[M][8], weights[N][4]) per LMMA], c seed[M][N]) chains."""
    r = tbutil.rng("lut_dot")
    out = []
    for index in range(count):
        bits = 1 + index % 4 if index < 8 else r.randint(1, 4)
        length = r.randint(1, 3)
        lmmas = []
        for _ in range(length):
            style = r.randrange(3)
            if style == 0:      # any int8 activations
                a = [[r.randint(-128, 127) for _ in range(4)] for _ in range(rows)]
            elif style == 1:    # extremes: the widest table entries (+-512)
                a = [[r.choice([-128, 127]) for _ in range(4)] for _ in range(rows)]
            else:               # small values and zeros
                a = [[r.randint(-2, 2) for _ in range(4)] for _ in range(rows)]
            tables = lut.precompute_tables(np.array(a))[:, 0, :].tolist()
            weights = [[r.randrange(1 << bits) for _ in range(4)] for _ in range(cols)]
            lmmas.append((tables, weights))
        seed = [[r.randint(-(1 << 20), 1 << 20) for _ in range(cols)] for _ in range(rows)]
        out.append((bits, lmmas, seed))
    return out


def expected_chain(bits, lmmas, seed):
    acc, results = seed, []
    for tables, weights in lmmas:
        acc = lut.lut_dot_lmma(tables, weights, bits, acc, AW)
        results.append(acc)
    return results


def pack(values, width) -> int:
    return sum((v & ((1 << width) - 1)) << (width * i) for i, v in enumerate(values))


@cocotb.test()
async def lut_dot_matches_model_and_kernel(dut):
    """Chains of LMMAs, bit-planes back to back (II 1), bubbles between chains: every LMMA's
    accumulators bit for bit, and each chain's cycles equal the cycle kernel's."""
    params = tbutil.parameters()
    rows, cols = params.get("M", 2), params.get("N", 4)
    depth = lut.LUT_TIMING.latency_cycles
    count = int(tbutil.os.environ.get("ACCSIM_TB_VECTORS", "300"))
    work = chains(count, rows, cols)
    r = tbutil.rng("lut_dot:bubbles")
    beats, expect = [], []          # beats: (first, last, bit, tables, wbits, c, chain, lmma) or None
    for chain, (bits, lmmas, seed) in enumerate(work):
        results = expected_chain(bits, lmmas, seed)
        for position, ((tables, weights), result) in enumerate(zip(lmmas, results)):
            for b in range(bits):
                wbits = [sum(((w >> b) & 1) << i for i, w in enumerate(column)) for column in weights]
                beats.append((position == 0 and b == 0, b == bits - 1, b, tables, wbits, seed, chain, position))
            expect.append((chain, position, result))
        beats.extend([None] * r.choice([0, 0, 1, 3]))
    await tbutil.start(dut)
    first_edge, pending = {}, list(expect)
    mismatches, rows_out = [], []
    total = len(beats) + depth + 2
    for edge in range(total):
        if dut.out_valid.value == 1:
            chain, position, want = pending.pop(0)
            word = int(dut.acc.value)
            got = [[_signed((word >> (AW * (m * cols + j))) & ((1 << AW) - 1), AW) for j in range(cols)]
                   for m in range(rows)]
            if got != want:
                mismatches.append(f"chain {chain} lmma {position}: got {got} want {want}")
            bits, lmmas, _ = work[chain]
            if position == len(lmmas) - 1:
                rtl_cycles = edge - first_edge[chain]
                kernel = int(simulate_tile(rows, cols, 4 * len(lmmas), rows, cols, 4, bits, depth, 1)[0])
                rows_out.append({"chain": chain, "weight_bits": bits, "lmmas": len(lmmas),
                                 "rtl_cycles": rtl_cycles, "kernel_cycles": kernel})
        beat = beats[edge] if edge < len(beats) else None
        if beat is None:
            dut.in_valid.value = 0
        else:
            first, last, b, tables, wbits, seed, chain, _ = beat
            if first:
                first_edge[chain] = edge
            dut.in_valid.value = 1
            dut.first.value = int(first)
            dut.last.value = int(last)
            dut.bit_pos.value = b
            dut.tables.value = pack([e for row in tables for e in row], EW)
            dut.wbits.value = pack(wbits, 4)
            dut.c.value = pack([v for row in seed for v in row], AW)
        await FallingEdge(dut.clk)
    late = [row for row in rows_out if row["rtl_cycles"] != row["kernel_cycles"]]
    tbutil.write_report("lut_dot", {"chains": len(work), "lmmas": len(expect), "beats": sum(b is not None for b in beats),
                                    "mismatches": len(mismatches), "unreceived": len(pending),
                                    "cycle_rows": rows_out, "cycle_mismatches": len(late)})
    assert not mismatches, tbutil.mismatch_text(mismatches)
    assert not pending, f"{len(pending)} LMMA results never came out"
    assert not late, f"{len(late)} chains differ from the kernel, first: {late[:3]}"
