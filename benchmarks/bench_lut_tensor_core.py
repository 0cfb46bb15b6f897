"""Speed of the LUT Tensor Core model: BitNet b1.58 3B, batch 1, 2048-token prefill + 128
decode steps on arch/lut_tensor_core.yaml (A100-LUT-4X). Target: under 60 s of wall time.

    python benchmarks/bench_lut_tensor_core.py [--arch ARCH] [--decode N] [--exact]

Prints the wall time (total, inside the components, SimPy schedule), the simulated prefill
and decode times and the LUT unit's share of the GEMM work. The first run on a machine
also compiles the Numba kernels (cached afterwards); run twice to see the warm time.
"""
from __future__ import annotations

import argparse
import time

import accsim

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="arch/lut_tensor_core.yaml")
    parser.add_argument("--decode", type=int, default=128, help="decode steps after the prefill")
    parser.add_argument("--exact", action="store_true", help="simulate every op (no identical-op reuse)")
    args = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time()
    result = accsim.run(args.arch, "workloads/bitnet-3b.yaml",
                        overrides=[f"serving.generate_tokens={args.decode + 1}"], exact=args.exact)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    meta = result.summary["metadata"]
    phases = result.summary["phases"]
    ops = result.ops
    gemm = ops[ops["kind"] == "gemm"]
    print(f"BitNet b1.58 3B, batch 1, 2048 prefill + {args.decode} decode on {result.summary['arch']}")
    print(f"  wall time          {wall:8.2f} s   (target < {TARGET_SECONDS:.0f} s: "
          f"{'met' if wall < TARGET_SECONDS else 'MISSED'}); CPU time {cpu:.2f} s "
          f"(wall > CPU: other processes share the cores)")
    reuse = meta["shortcuts"].get("identical_op_reuse", {})
    print(f"  ops                {len(ops):8,d}   simulated {reuse.get('simulated', len(ops)):,d} (the rest reused)")
    print(f"  inside components  {meta['wall_seconds']['kernels']:8.2f} s   SimPy schedule "
          f"{meta['wall_seconds']['schedule']:.2f} s")
    print(f"  prefill (sim)      {phases['prefill']['seconds'] * 1e3:8.3f} ms")
    if "decode" in phases:
        steps = phases["decode"]["steps"]
        print(f"  decode (sim)       {phases['decode']['seconds'] * 1e3:8.3f} ms  "
              f"({phases['decode']['seconds'] / steps * 1e3:.3f} ms per step, {steps} steps)")
    print(f"  weight GEMMs       {gemm['seconds'].sum() / result.total_seconds:8.1%} of the simulated time "
          f"(units: {', '.join(sorted(gemm['unit'].unique()))})")
    print(f"  tokens/s (sim)     {result.summary['tokens']['per_second']:8.1f}")


if __name__ == "__main__":
    main()
