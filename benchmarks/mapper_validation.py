"""Mapper's analytical latency against the cycle-level simulation of the same mapping.

    python benchmarks/mapper_validation.py [ARCH] [WORKLOAD ...]     (default: npu gpt2 gpt3-7b)

For every distinct GEMM-class op of each workload, `accsim map --json` gives the
best mapping's estimate and the simulator's cycles for that mapping. Ops are
classed by the estimate's own bottleneck (compute >= 1.1 x memory: compute-bound;
memory >= 1.1 x compute: memory-bound; else balanced) and the signed error
(estimate / simulated - 1) is summarised per class.
"""
from __future__ import annotations

import json
import subprocess
import sys


def classify(best: dict) -> str:
    if best["compute_cycles"] >= 1.1 * best["memory_cycles"]:
        return "compute-bound"
    if best["memory_cycles"] >= 1.1 * best["compute_cycles"]:
        return "memory-bound"
    return "balanced"


def main(argv: list[str]) -> int:
    arch = argv[0] if argv else "npu"
    workloads = argv[1:] or ["gpt2", "gpt3-7b"]
    print("| arch | workload | class | ops | min error | median | max | within 10% |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for workload in workloads:
        out = subprocess.run(["accsim", "map", arch, workload, "--json", "--top", "1"],
                             capture_output=True, text=True, check=True)
        by_class: dict[str, list[float]] = {}
        for report in json.loads(out.stdout):
            kind = classify(report["problems"][0]["best"])
            by_class.setdefault(kind, []).append(100 * report["estimate_error"])
        for kind, errors in sorted(by_class.items()):
            errors.sort()
            within = sum(abs(e) <= 10 for e in errors)
            print(f"| {arch} | {workload} | {kind} | {len(errors)} | {errors[0]:+.1f}% | "
                  f"{errors[len(errors) // 2]:+.1f}% | {errors[-1]:+.1f}% | {within}/{len(errors)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
