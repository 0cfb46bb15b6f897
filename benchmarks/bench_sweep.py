"""Sweep overhead: N trivial points (one 256x256x256 GEMM on sa32, ideal memory).

    python benchmarks/bench_sweep.py                    # 1000 points, 2 local workers
    python benchmarks/bench_sweep.py --points 200 --dask-local 2

The points vary DRAM latency and vector-unit lanes, which leave the GEMM's
mapping unchanged, so each point costs about one small simulation. Prints the
wall time, the simulation time inside the workers, and the per-point overhead:
the parent's time to store a point, the steady-state cost of a point
(scheduling, transfer, storing), and all wall time not spent simulating
(worker start-up, scheduling, transfer, storing, idle) per point.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

SPEC = """\
schema_version: 1
name: bench-sweep
arch: sa32
workload: gemm-256
parameters:
  components.dram.latency: {{from: 0, to: {last_latency}, step: 1, unit: ns}}
  components.vu.lanes: {{from: 8, to: 80, step: 8}}
objectives: [latency]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000, help="a multiple of 10 (default 1000)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dask-local", type=int, help="run on a Dask LocalCluster of N workers instead")
    args = parser.parse_args()
    from accsim.sweep.driver import run_sweep

    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "bench.yaml"
        spec.write_text(SPEC.format(last_latency=args.points // 10 - 1))
        started = time.perf_counter()
        outcome = run_sweep(spec, Path(folder) / "out", jobs=args.jobs, dask_local=args.dask_local, outcome=True)
        total = time.perf_counter() - started
        again = time.perf_counter()
        rerun = run_sweep(spec, Path(folder) / "out", jobs=args.jobs, outcome=True)
        skip = time.perf_counter() - again
    frame = outcome.frame
    workers = args.dask_local or args.jobs
    overhead = outcome.overhead
    print(f"backend: {'Dask LocalCluster x ' + str(args.dask_local) if args.dask_local else f'{args.jobs} local workers'}")
    print(f"points: {len(frame)} ({(frame['status'] == 'ok').sum()} ok)")
    print(f"wall time: {total:.1f} s end to end (planning + sweep {outcome.wall_s:.1f} s + tables), "
          f"{len(frame) / outcome.wall_s:.1f} points/s")
    print(f"simulation inside workers: {overhead['simulation_ms_per_point']:.1f} ms/point (mean)")
    print(f"parent time to store a point: {overhead['parent_ms_per_point']:.2f} ms")
    print(f"steady-state overhead per point (scheduling + transfer + storing, between two results of one "
          f"worker beyond the point's run): mean {overhead['steady_ms_per_point']:.1f} ms, "
          f"p90 {overhead['steady_ms_per_point_p90']:.1f} ms")
    print(f"overhead per point (wall x {workers} workers - simulation) / points: "
          f"{overhead['overhead_ms_per_point']:.1f} ms (includes worker start-up)")
    print(f"re-run that skips every stored point: {skip:.1f} s ({rerun.skipped} skipped, {rerun.ran} ran)")


if __name__ == "__main__":
    main()
