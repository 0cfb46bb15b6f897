"""accsim's systolic model against SCALE-Sim 3.0 on ResNet-50 (32x32 ws array).

    python benchmarks/bench_resnet50_vs_scalesim.py
    python benchmarks/bench_resnet50_vs_scalesim.py --scalesim-python /tmp/scalesim-venv/bin/python

Layer shapes and SCALE-Sim's compute cycles come from
benchmarks/data/resnet50_scalesim_v3_ws32.csv (SCALE-Sim's own conv -> GEMM
lowering of its ResNet-50 topology; provenance in the .md next to it). The
script checks that accsim's compute cycles equal SCALE-Sim's for every layer
(SCALE-Sim reports one less: docs/systolic.md), then times accsim two ways:
the fold kernel alone over all layers, and the whole `accsim.run` (tiling,
pipeline with memory, SimPy, result tables) of the layer list on arch/sa32.yaml.

SCALE-Sim's wall time: by default the figure recorded on this machine (read
from the .md); with --scalesim-python it runs SCALE-Sim on the same GEMMs in
this run (about 15+ minutes) and uses that.
"""
from __future__ import annotations

import argparse
import csv
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import accsim
from accsim.kernels.systolic import DATAFLOW_CODE, tile_cycles

DATA = Path(__file__).parent / "data" / "resnet50_scalesim_v3_ws32.csv"
NOTES = DATA.with_suffix(".md")
ROWS = COLS = 32


def layers() -> list[dict]:
    return [{k: (v if k == "layer" else int(v)) for k, v in row.items()} for row in csv.DictReader(DATA.open())]


def time_kernel(table, repeat=20) -> tuple[float, np.ndarray]:
    m = np.array([r["M"] for r in table], np.int64)
    n = np.array([r["N"] for r in table], np.int64)
    k = np.array([r["K"] for r in table], np.int64)
    tile_cycles(DATAFLOW_CODE["ws"], ROWS, COLS, m, n, k, False)        # warm-up (compile / cache load)
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        cycles, _ = tile_cycles(DATAFLOW_CODE["ws"], ROWS, COLS, m, n, k, False)
        best = min(best, time.perf_counter() - began)
    return best, cycles


def time_full_run(table, folder: Path) -> tuple[float, accsim.Result]:
    path = folder / "resnet50.yaml"
    ops = "\n".join(f"  - {{name: {r['layer']}, gemm: {{m: {r['M']}, n: {r['N']}, k: {r['K']}}}}}" for r in table)
    path.write_text("schema_version: 1\nname: resnet50\ndescription: ResNet-50 conv layers as GEMMs\n"
                    f"kind: ops\nops:\n{ops}\n")
    overrides = ["components.dram.bandwidth=1 PB/s", "components.spad.capacity=64 MiB"]
    accsim.run("sa32", str(path), overrides=overrides)                    # warm-up
    began = time.perf_counter()
    result = accsim.run("sa32", str(path), overrides=overrides)
    return time.perf_counter() - began, result


def recorded_scalesim_seconds() -> float:
    text = NOTES.read_text()
    match = re.search(r"^recorded_wall_seconds:\s*([0-9.]+)", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"no wall time found in {NOTES}")
    return float(match.group(1).replace(",", ""))


def run_scalesim(python: str, table, folder: Path) -> float:
    config = folder / "ws32.cfg"
    config.write_text("[general]\nrun_name = bench\n[architecture_presets]\nArrayHeight: 32\nArrayWidth: 32\n"
                      "IfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nIfmapOffset: 0\n"
                      "FilterOffset: 10000000\nOfmapOffset: 20000000\nBandwidth : 10\nDataflow : ws\n"
                      "MemoryBanks: 1\nReadRequestBuffer: 32\nWriteRequestBuffer: 32\n[run_presets]\n"
                      "InterfaceBandwidth: CALC\nUseRamulatorTrace: False\n")
    topology = folder / "resnet50_gemm.csv"
    topology.write_text("Layer, M, N, K,\n" + "".join(f"{r['layer']},{r['M']},{r['N']},{r['K']},\n" for r in table))
    began = time.perf_counter()
    subprocess.run([python, "-m", "scalesim.scale", "-c", str(config), "-t", str(topology), "-p",
                    str(folder / "out"), "-i", "gemm"], check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scalesim-python", help="interpreter with scalesim installed: measure it in this run")
    args = parser.parse_args()
    table = layers()
    kernel_seconds, cycles = time_kernel(table)
    expected = np.array([r["compute_cycles"] for r in table])
    identical = bool(np.array_equal(cycles - 1, expected))
    with tempfile.TemporaryDirectory() as folder:
        run_seconds, result = time_full_run(table, Path(folder))
        run_identical = bool(np.array_equal(result.ops["compute_cycles"].to_numpy() - 1, expected))
        if args.scalesim_python:
            scalesim_seconds, source = run_scalesim(args.scalesim_python, table, Path(folder)), "measured now"
        else:
            scalesim_seconds, source = recorded_scalesim_seconds(), f"recorded in {NOTES.name}"
    print(f"ResNet-50, {len(table)} layers, 32x32 ws; total compute cycles {int(cycles.sum()):,}")
    print(f"compute cycles identical to SCALE-Sim (ours - 1) on every layer: kernel {identical}, "
          f"full run {run_identical}")
    print(f"SCALE-Sim 3.0 wall time: {scalesim_seconds:,.1f} s ({source})")
    print(f"accsim fold kernel:      {kernel_seconds * 1e6:,.1f} us  -> {scalesim_seconds / kernel_seconds:,.0f}x faster")
    print(f"accsim full run:         {run_seconds * 1e3:,.1f} ms  -> {scalesim_seconds / run_seconds:,.0f}x faster")


if __name__ == "__main__":
    main()
