"""NeuPIMs speed: one full decode iteration of GPT-3 7B at batch 256 (all 32 layers of the
TP-4 shard) on arch/neupims.yaml, and the whole GPT-2 main job on it; each next to the
same run on the NPU-only baseline on the same cycle-level HBM2 (arch/npu.yaml), measured
in the same process.

    python benchmarks/bench_neupims.py
"""
from __future__ import annotations

import os
import time

import accsim

os.environ["ACCSIM_DRAM_CACHE"] = "off"     # time the DRAM model, not its on-disk cache of playbacks

CASES = [
    ("GPT-3 7B, batch 256, one decode iteration (32 layers)", "gpt3-7b-sharegpt",
     ["serving.batch_size=256", "serving.max_iterations=1"]),
    ("GPT-2 main job (batch 32, 128 + 128 tokens, 12 layers)", "gpt2", []),
]


def timed(arch, workload, overrides):
    started = time.perf_counter()
    result = accsim.run(arch, workload, overrides=overrides)
    return time.perf_counter() - started, result


def main() -> None:
    accsim.run("neupims", "gpt2", overrides=["model.layers=1", "serving.generate_tokens=2"])   # compile kernels
    for title, workload, overrides in CASES:
        pim_s, pim = timed("neupims", workload, overrides)
        npu_s, _ = timed("npu", workload, overrides)
        shortcuts = pim.summary["metadata"]["shortcuts"]
        print(f"{title}:\n  neupims {pim_s:7.2f} s wall   npu {npu_s:7.2f} s wall   ratio {pim_s / npu_s:.2f}"
              f"\n  simulated {pim.summary['total']['seconds'] * 1e3:.3f} ms; shortcuts: {', '.join(shortcuts) or 'none'}")


if __name__ == "__main__":
    main()
