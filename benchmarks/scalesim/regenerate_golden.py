#!/usr/bin/env python3
"""Regenerate tests/golden/scalesim_v3_compute_cycles.csv by running SCALE-Sim v3.

This is a maintainer tool, not part of the test suite: tests only read the CSV it
writes, and nothing imports this module. It needs a separate Python interpreter that
has the PyPI package ``scalesim`` (v3) installed, for example::

    python3 -m venv /work/scalesim-venv
    /work/scalesim-venv/bin/pip install scalesim 'numpy<2.4'
    python3 benchmarks/scalesim/regenerate_golden.py --python /work/scalesim-venv/bin/python

For every case it writes a temporary config, a one-layer GEMM topology (SCALE-Sim's
``M, N, K`` format) and an empty layout file, runs SCALE-Sim in a subprocess with that
interpreter, and reads back ``COMPUTE_REPORT.csv``.  Nothing is downloaded.

Our convention: C[M x N] = A[M x K] @ B[K x N] on an array of R rows x C cols.
SCALE-Sim's GEMM mode turns (M, N, K) into a conv layer with ofmap pixels = M
(its Sr for os), number of filters = N and filter window = K, which is the same
convention (see the sibling .md file in tests/golden for the per-dataflow mapping).

Columns written:
  compute_cycles = COMPUTE_REPORT.csv column "Total Cycles" (printed as "Compute cycles"
                   on stdout); stall cycles are asserted to be 0, so this is pure compute.
  total_cycles   = COMPUTE_REPORT.csv column "Total Cycles (incl. prefetch)" (printed as
                   "Total cycles"); depends on the SRAM sizes and bandwidth mode in CONFIG.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = ["dataflow", "array_rows", "array_cols", "M", "N", "K", "compute_cycles", "total_cycles"]

# SRAM sizes are large and the interface bandwidth is SCALE-Sim's CALC (estimate) mode,
# so no case stalls; compute cycles do not depend on these settings anyway.
SRAM_KB = 1024
CONFIG_TEMPLATE = """\
[general]
run_name = golden

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:   {sram_kb}
FilterSramSzkB:  {sram_kb}
OfmapSramSzkB:   {sram_kb}
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10
Dataflow : {dataflow}
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 100
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 100
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""

# (array_rows, array_cols, M, N, K); every shape is run for every dataflow.
SHAPES = [
    (32, 32, 256, 256, 256),   # reference point: ws compute = 22399
    (8, 8, 64, 64, 64),        # divisible, square
    (8, 8, 100, 37, 129),      # non-divisible in every dimension
    (32, 32, 100, 37, 129),
    (128, 128, 100, 37, 129),  # M, N smaller than the array, K one past it
    (128, 128, 20, 30, 40),    # smaller than the array in every dimension
    (32, 32, 5, 7, 3),         # tiny, smaller than the array in every dimension
    (128, 128, 512, 256, 384), # divisible, large array
    (16, 64, 100, 37, 129),    # non-square, wide
    (64, 16, 100, 37, 129),    # non-square, tall
    (4, 32, 33, 65, 17),       # non-square, very wide
    (128, 8, 200, 50, 300),    # non-square, very tall
    (32, 32, 1, 512, 256),     # GEMV (M = 1)
    (8, 8, 1, 100, 37),        # GEMV, non-divisible
    (32, 32, 256, 1, 256),     # N = 1
    (16, 64, 64, 64, 1),       # K = 1
]
DATAFLOWS = ["ws", "os", "is"]

# Run inside the SCALE-Sim interpreter. save_disk_space=True skips the per-cycle
# trace files (the `python -m scalesim.scale` CLI always writes them: its -s flag is
# ignored in 3.0.0); the cycle counts are the same either way.
RUNNER = """\
import json, sys
from scalesim.scale_sim import scalesim
cfg, topo, layout, out = sys.argv[1:5]
s = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo,
             layout=layout, input_type_gemm=True)
s.run_scale(top_path=out)
"""

VERSION_PROBE = """\
import json
from importlib.metadata import version
print(json.dumps({"scalesim": version("scalesim"), "numpy": version("numpy")}))
"""


def probe_versions(python: str) -> dict:
    out = subprocess.run([python, "-c", VERSION_PROBE], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout)


def read_compute_report(path: Path) -> dict:
    with open(path, newline="") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f) if r]
    header, values = rows[0], rows[1]
    return dict(zip(header, values))


def run_case(python: str, workdir: Path, dataflow: str, rows: int, cols: int,
             m: int, n: int, k: int) -> tuple[int, int]:
    case = workdir / f"{dataflow}_{rows}x{cols}_{m}_{n}_{k}"
    case.mkdir()
    cfg = case / "config.cfg"
    cfg.write_text(CONFIG_TEMPLATE.format(rows=rows, cols=cols, sram_kb=SRAM_KB,
                                          dataflow=dataflow))
    topo = case / "gemm.csv"
    # SCALE-Sim's parser drops the last comma-separated field, so rows end with ','.
    topo.write_text(f"Layer,M,N,K,\ngemm,{m},{n},{k},\n")
    layout = case / "layout.csv"
    layout.write_text("Layer name,unused,\n")  # read but unused (custom layouts are off)
    out = case / "out"
    proc = subprocess.run([python, "-c", RUNNER, str(cfg), str(topo), str(layout), str(out)],
                          cwd=case, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"SCALE-Sim failed for {case.name}:\n{proc.stdout}\n{proc.stderr}")
    report = read_compute_report(out / "golden" / "COMPUTE_REPORT.csv")
    stalls = int(report["Stall Cycles"])
    if stalls != 0:
        raise RuntimeError(f"{case.name}: {stalls} stall cycles; enlarge the SRAMs")
    return int(report["Total Cycles"]), int(report["Total Cycles (incl. prefetch)"])


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", required=True,
                    help="path of a Python interpreter with the PyPI package scalesim installed")
    ap.add_argument("--out", type=Path,
                    default=repo / "tests" / "golden" / "scalesim_v3_compute_cycles.csv")
    ap.add_argument("--keep", action="store_true", help="keep the temporary run directories")
    args = ap.parse_args(argv)

    versions = probe_versions(args.python)
    print(f"scalesim {versions['scalesim']}, numpy {versions['numpy']}", file=sys.stderr)

    tmp = tempfile.mkdtemp(prefix="scalesim_golden_")
    results = []
    for dataflow in DATAFLOWS:
        for rows, cols, m, n, k in SHAPES:
            compute, total = run_case(args.python, Path(tmp), dataflow, rows, cols, m, n, k)
            print(f"{dataflow} {rows}x{cols} M={m} N={n} K={k}: compute={compute} "
                  f"total={total}", file=sys.stderr)
            results.append([dataflow, rows, cols, m, n, k, compute, total])

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(results)
    print(f"wrote {len(results)} rows to {args.out}", file=sys.stderr)

    if args.keep:
        print(f"run directories kept in {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
