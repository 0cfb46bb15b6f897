"""Helpers shared by the cocotb benches (run inside the simulator's Python)."""
from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

CLOCK_PERIOD_NS = 10


def seed() -> int:
    return int(os.environ.get("ACCSIM_TB_SEED", "20261122"))


def rng(salt: str) -> random.Random:
    return random.Random(f"{seed()}:{salt}")


def vector_count(default: int) -> int:
    """Random vectors per bench: $ACCSIM_TB_VECTORS, else the bench's default."""
    return int(os.environ.get("ACCSIM_TB_VECTORS", default))


def parameters() -> dict:
    return json.loads(os.environ.get("ACCSIM_TB_PARAMETERS", "{}"))


def write_report(key: str, value) -> None:
    """Add `key` to the JSON report the pytest side reads ($ACCSIM_TB_REPORT)."""
    path = os.environ.get("ACCSIM_TB_REPORT")
    if not path:
        return
    data = json.loads(open(path).read()) if os.path.exists(path) else {}
    data[key] = value
    with open(path, "w") as handle:
        json.dump(data, handle, indent=1)


async def start(dut, resets: int = 2) -> None:
    """Clock on, synchronous reset held for `resets` rising edges, released at a falling edge."""
    cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())
    dut.rst.value = 1
    for _ in range(resets):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


def mismatch_text(rows: list, limit: int = 8) -> str:
    return f"{len(rows)} mismatches, first: " + "; ".join(rows[:limit])


async def stream_valid_unit(dut, beats: list, drive, sample, expected, latency: int) -> dict:
    """Drive one beat per cycle (in_valid high every cycle: initiation interval 1) and check
    every output beat bit for bit and its latency.

    Time base: inputs change at falling edges; falling edge f is followed by rising edge f,
    which samples them. An output seen at falling edge g was produced by rising edge g - 1,
    so a beat driven at f with latency L shows up at g = f + L.
    """
    issued = []          # (falling edge index, expected output, beat)
    mismatches, late = [], []
    received = 0
    falling = 0
    total = len(beats) + latency + 2
    while falling < total:
        if dut.out_valid.value == 1:
            if not issued:
                mismatches.append(f"out_valid at edge {falling} with nothing in flight")
            else:
                at, want, beat = issued.pop(0)
                got = sample(dut)
                received += 1
                if falling - at != latency:
                    late.append(f"beat {beat}: latency {falling - at}")
                if got != want:
                    mismatches.append(f"{beat}: got {got:#x} want {want:#x}")
        elif issued and falling - issued[0][0] > latency:
            late.append(f"beat {issued[0][2]}: no output after {latency} cycles")
            issued.pop(0)
        if falling < len(beats):
            beat = beats[falling]
            drive(dut, beat)
            dut.in_valid.value = 1
            issued.append((falling, expected(beat), beat))
        else:
            dut.in_valid.value = 0
        await FallingEdge(dut.clk)
        falling += 1
    return {"beats": len(beats), "received": received, "mismatches": mismatches, "late": late}
