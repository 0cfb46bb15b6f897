"""cocotb bench of rtl/systolic_array_ws.v and rtl/systolic_array_os.v (the dataflow is
taken from the top's name): whole GEMM tiles, values against the unit-model chain
(accsim.functional.systolic_ws / systolic_os) and NumPy, cycles against the simulator's
kernel accsim.kernels.systolic.gemm_cycles.

Cycle count: edges from the one that samples `start` high to the one that samples `done`
high, both included (see the header of rtl/systolic_array_ws.v)."""
from __future__ import annotations

import json
import os

import cocotb
import numpy as np
import tbutil
from cocotb.triggers import FallingEdge, Timer

from accsim.functional import systolic_os, systolic_ws
from accsim.kernels.systolic import DATAFLOW_CODE, gemm_cycles


def cases(rows: int, cols: int) -> list:
    """(name, m, n, k, fill): one fold exactly, GEMV, a partial single fold, and several
    multi-fold tiles with partial folds in K and N; fill = random | extreme patterns."""
    shapes = json.loads(os.environ.get("ACCSIM_TB_SHAPES", "null")) or [
        [rows, cols, rows], [1, cols, rows], [max(1, rows - 1), cols - 1, rows - 2],
        [2 * rows + 3, 2 * cols + 1, 2 * rows + 1], [3, 3 * cols, 3 * rows], [rows + 5, cols, 2 * rows]]
    out = [(f"{m}x{n}x{k}", m, n, k, "random") for m, n, k in shapes]
    m, n, k = shapes[3]
    out += [(f"{m}x{n}x{k}-{fill}", m, n, k, fill) for fill in ("min", "max", "minmax", "zero")]
    return out


def operands(name, m, n, k, fill):
    r = np.random.default_rng(tbutil.rng(name).getrandbits(32))
    if fill == "random":
        return r.integers(-128, 128, (m, k)), r.integers(-128, 128, (k, n))
    if fill == "min":        # the largest products: (-128)*(-128), summed over K
        return np.full((m, k), -128), np.full((k, n), -128)
    if fill == "max":
        return np.full((m, k), 127), np.full((k, n), 127)
    if fill == "minmax":     # the most negative products
        return np.full((m, k), -128), np.full((k, n), 127)
    return np.zeros((m, k), int), r.integers(-128, 128, (k, n))


async def load(dut, a, b, max_k, max_n):
    for select, matrix, stride in ((0, a, max_k), (1, b, max_n)):
        for (i, j), value in np.ndenumerate(matrix):
            dut.ld_en.value, dut.ld_sel.value = 1, select
            dut.ld_addr.value, dut.ld_data.value = i * stride + j, int(value) & 0xFF
            await FallingEdge(dut.clk)
    dut.ld_en.value = 0


async def run_tile(dut, m, n, k, limit):
    """Pulse start; return the inclusive cycle count from start to done."""
    dut.m_size.value, dut.n_size.value, dut.k_size.value = m, n, k
    dut.start.value = 1
    await FallingEdge(dut.clk)      # the rising edge in between sampled start: cycle 1
    dut.start.value = 0
    cycles = 1
    while True:
        done = dut.done.value == 1  # stable now, sampled by the next rising edge
        await FallingEdge(dut.clk)
        cycles += 1
        if done:
            return cycles
        if cycles > limit:
            raise AssertionError(f"no done after {limit} cycles")


async def read(dut, m, n, max_n):
    out = np.zeros((m, n), np.int64)
    for i in range(m):
        for j in range(n):
            dut.rd_addr.value = i * max_n + j
            await Timer(1, unit="ns")
            out[i, j] = dut.rd_data.value.to_signed()
    return out


@cocotb.test()
async def tiles_match_model_and_kernel(dut):
    params = tbutil.parameters()
    rows, cols = params["ROWS"], params["COLS"]
    dataflow = "os" if "systolic_array_os" in os.environ.get("COCOTB_TOPLEVEL", dut._name) else "ws"
    model_gemm = {"ws": systolic_ws.ws_gemm_int8, "os": systolic_os.os_gemm_int8}[dataflow]
    max_n, max_k = params["MAX_N"], params["MAX_K"]
    await tbutil.start(dut)
    rows_out, failures = [], []
    for name, m, n, k, fill in cases(rows, cols):
        a, b = operands(name, m, n, k, fill)
        await load(dut, a, b, max_k, max_n)
        kernel, folds = gemm_cycles(DATAFLOW_CODE[dataflow], rows, cols, m, n, k, False)
        cycles = await run_tile(dut, m, n, k, 4 * int(kernel))
        got = await read(dut, m, n, max_n)
        await FallingEdge(dut.clk)
        model = model_gemm(a, b, rows, cols).astype(np.int64)
        reference = (a.astype(np.int64) @ b.astype(np.int64))     # no int32 overflow at these K
        row = {"tile": name, "m": m, "n": n, "k": k, "folds": int(folds), "rtl_cycles": cycles,
               "kernel_cycles": int(kernel), "values_equal_model": bool((got == model).all()),
               "model_equal_numpy": bool((model == reference).all())}
        rows_out.append(row)
        if cycles != kernel or not row["values_equal_model"] or not row["model_equal_numpy"]:
            failures.append(row)
    tbutil.write_report(f"systolic_array_{dataflow}_{rows}x{cols}", rows_out)
    assert not failures, f"{len(failures)} tiles differ: {failures[:3]}"
