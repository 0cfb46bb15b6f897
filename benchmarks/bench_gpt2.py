"""Wall time of the main job: GPT-2 small, batch 32, 128 + 128 tokens, all 12
layers and all decode steps, on arch/npu.yaml (cycle-level HBM2), with a warm Numba cache,
in-process, next to the same job on arch/npu_ideal.yaml (ideal memory) measured in the same run.

    python benchmarks/bench_gpt2.py [--repeat 3] [--exact]

Prints the best wall time of each, the share spent inside the DRAM kernel (request preparation
and command scheduling) and the tile kernels (timed by wrapping the compiled entry points) versus
Python (tiling, SimPy scheduling, lowering, result tables), the npu run again with its DRAM
playbacks read back from the on-disk cache (a re-run or a sweep point that plays the same
streams), and with --exact the ratio against the exact mode (no reuse shortcut) on npu_ideal.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import accsim
from accsim.components import pipeline_exec, systolic_array
from accsim.memory import simulate

os.environ["ACCSIM_DRAM_CACHE"] = "off"     # time the DRAM model, not its on-disk cache of playbacks

SECONDS = {"tile": 0.0, "dram": 0.0}


def _timed(function, account: str):
    def wrapper(*args):
        began = time.perf_counter()
        try:
            return function(*args)
        finally:
            SECONDS[account] += time.perf_counter() - began
    return wrapper


def measure(arch: str, exact: bool, repeat: int) -> tuple[float, dict, accsim.Result]:
    best = (float("inf"), {}, None)
    for _ in range(repeat):
        SECONDS.update(tile=0.0, dram=0.0)
        began = time.perf_counter()
        result = accsim.run(arch, "gpt2", exact=exact)
        wall = time.perf_counter() - began
        if wall < best[0]:
            best = (wall, dict(SECONDS), result)
    return best


def report(arch: str, wall: float, kernels: dict, result: accsim.Result, repeat: int) -> None:
    s = result.summary
    python = wall - kernels["tile"] - kernels["dram"]
    print(f"gpt2 on {arch}: simulated {s['total']['seconds'] * 1e3:.3f} ms, {s['tokens']['per_second']:,.0f} tokens/s, "
          f"{s['metadata']['ops']} ops ({s['metadata']['shortcuts']['identical_op_reuse']['simulated']} simulated)")
    print(f"  wall time (best of {repeat}): {wall:.2f} s  [DRAM kernel {kernels['dram']:.2f} s = "
          f"{kernels['dram'] / wall:.0%}, tile kernels {kernels['tile']:.2f} s = {kernels['tile'] / wall:.0%}, "
          f"Python {python:.2f} s = {python / wall:.0%}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exact", action="store_true", help="also time --exact (slow: every op simulated)")
    args = parser.parse_args()
    pipeline_exec.run_tile_pipeline = _timed(pipeline_exec.run_tile_pipeline, "tile")
    systolic_array.tile_cycles = _timed(systolic_array.tile_cycles, "tile")
    simulate._run_kernel = _timed(simulate._run_kernel, "dram")
    accsim.run("npu", "gpt2", overrides=["model.layers=1", "serving.generate_tokens=2"])   # load/compile kernels
    walls, results = {}, {}
    for arch in ("npu", "npu_ideal"):
        walls[arch], kernels, results[arch] = measure(arch, False, args.repeat)
        report(arch, walls[arch], kernels, results[arch], args.repeat)
    print(f"npu / npu_ideal wall-time ratio: {walls['npu'] / walls['npu_ideal']:.2f}")
    with tempfile.TemporaryDirectory() as folder:      # a re-run reading the DRAM playbacks back
        os.environ["ACCSIM_DRAM_CACHE"] = folder
        accsim.run("npu", "gpt2")
        warm, kernels, result = measure("npu", False, args.repeat)
        os.environ["ACCSIM_DRAM_CACHE"] = "off"
    report("npu, DRAM playbacks read from the on-disk cache", warm, kernels, result, args.repeat)
    print(f"  x{walls['npu'] / warm:.1f} faster than simulating them; "
          f"{result.summary['metadata']['dram_cache']['hits']} playbacks read back; "
          f"identical totals: {result.summary['total'] == results['npu'].summary['total']}")
    if args.exact:
        exact_wall, _, exact_result = measure("npu_ideal", True, 1)
        same = exact_result.summary["total"] == results["npu_ideal"].summary["total"]
        print(f"exact mode on npu_ideal: {exact_wall:.2f} s; fast/exact speed-up {exact_wall / walls['npu_ideal']:.1f}x; "
              f"identical totals: {same}")


if __name__ == "__main__":
    main()
