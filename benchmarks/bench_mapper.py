"""Mapper speed: every distinct GEMM of a GPT-3 175B decoder block on arch/npu.yaml,
and one GPT-2 GEMM, against a divisor-only exhaustive search run in the same process.

    python benchmarks/bench_mapper.py

The baseline enumerates tile sizes that divide each dimension (the factorisation
space Timeloop and ZigZag search) with every loop order and split, no dominance
pruning; accsim's search also tries uneven tiles and prunes exactly. Printed:
search seconds of each, their ratio, and the best latency each finds.
"""
from __future__ import annotations

import itertools
import time

import numpy as np

from accsim.api import load_pair
from accsim.mapping import evaluate_variants, op_problems, search
from accsim.mapping.search import _search
from accsim.system import System
from accsim.workload.lower import lower

GPT3_175B_BLOCK = ["model.base=gpt3-175b", "model.layers=1", "serving.batch_size=32",
                   "serving.prompt_tokens=2046", "serving.generate_tokens=2"]


def distinct_problems(arch: str, workload: str, overrides, phase_filter=None):
    arch_spec, work = load_pair(arch, workload, overrides)
    system = System(arch_spec)
    array = system.components["sa"]
    problems = {}
    for op in lower(work):
        if op.gemms and (phase_filter is None or phase_filter(op)):
            for problem in op_problems(op.gemms, op.a_bytes, op.b_bytes, op.c_bytes):
                problems.setdefault(problem, op.name)
    return array.hierarchy(), problems


def divisor_baseline(problem, hier):
    """Best latency over divisor tiles x orders x splits, no pruning."""
    names = problem.names
    divisors = [[t for t in range(1, b + 1) if b % t == 0] if problem.roles[d] != "batch" else [1]
                for d, b in problem.dims]
    grids = np.meshgrid(*[np.asarray(v) for v in divisors], indexing="ij")
    tiles = {d: [g.ravel()] for d, g in zip(names, grids)}
    splits = [d for d in names if problem.roles[d] != "reduce"]
    variants = [((order,), split) for order in itertools.permutations(names) for split in splits]
    best = np.inf
    for costs in evaluate_variants(problem, hier, tiles, variants):
        if costs.valid.any():
            best = min(best, costs.latency_cycles[costs.valid].min())
    return best


def timed(problems, hier, fn):
    started = time.perf_counter()
    results = {p: fn(p, hier) for p in problems}
    return time.perf_counter() - started, results


def report(title, hier, problems):
    _search.cache_clear()
    ours_s, ours = timed(problems, hier, lambda p, h: search(p, h).best.latency_cycles)
    base_s, base = timed(problems, hier, divisor_baseline)
    print(f"\n{title}: {len(problems)} distinct problems")
    print(f"  accsim search   {ours_s:8.3f} s   ({ours_s / len(problems) * 1e3:.1f} ms per problem)")
    print(f"  divisor search  {base_s:8.3f} s   ratio accsim/baseline time {ours_s / base_s:.2f}")
    for problem, name in problems.items():
        gain = base[problem] / ours[problem]
        print(f"    {name:<24} {problem.label():<34} accsim {ours[problem]:>13,.0f}  divisors "
              f"{base[problem]:>13,.0f} cycles  (baseline / accsim {gain:.3f})")


def main() -> None:
    hier, problems = distinct_problems("npu", "gpt2", GPT3_175B_BLOCK, lambda op: op.step <= 1)
    report("GPT-3 175B decoder block (prefill 32 x 2046 tokens + one decode step) on npu", hier, problems)
    hier, problems = distinct_problems("npu", "gpt2", [], lambda op: op.name == "prefill.L0.qkv")
    report("GPT-2 QKV GEMM on npu", hier, problems)


if __name__ == "__main__":
    main()
