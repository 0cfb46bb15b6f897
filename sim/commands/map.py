"""`accsim map ARCH WORKLOAD`: the mapper's choice for every op, and why.

For each distinct GEMM-class op (ops with identical shapes are mapped once) it
prints the best mapping as a loop nest, the analytical cost with its parts, the
cycle-level simulation of that same mapping next to the estimate, the buffer
use and traffic, the top-K alternatives and how much of the space was searched.
"""
from __future__ import annotations

import fnmatch
import json
import time

NAME = "map"


def add_parser(sub):
    from ..mapping import OBJECTIVES

    parser = sub.add_parser(NAME, help="show the mapper's best mapping for each op (tiles, loop order, costs)")
    parser.add_argument("arch", help="architecture YAML: a path or a bundled name")
    parser.add_argument("workload", help="workload YAML: a path or a bundled name")
    parser.add_argument("--op", metavar="PATTERN", help="only ops whose name matches (shell pattern, e.g. '*.ffn_up')")
    parser.add_argument("--objective", choices=OBJECTIVES, help="what to minimise (default: the mapping file's, "
                                                                "else latency)")
    parser.add_argument("--top", type=int, default=3, metavar="K", help="alternatives to show (default 3)")
    parser.add_argument("--mapping", metavar="FILE", help="mapping rules that pin or constrain the search")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a YAML field, as for `accsim run`; repeatable")
    parser.add_argument("--no-simulate", action="store_true", help="skip the cycle-level run of each mapping")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser


def main(args) -> int:
    from ..api import load_pair
    from ..errors import AccsimError
    from ..mapping_rules import MappingRules, load_rules
    from ..system import System
    from ..workload.lower import lower

    if args.top < 1:
        raise AccsimError("--top: must be at least 1")
    arch, workload = load_pair(args.arch, args.workload, args.overrides)
    rules = load_rules(args.mapping) if args.mapping else MappingRules()
    if args.objective:
        rules = MappingRules(args.objective, rules.rules)
    system = System(arch, rules)
    ops = _distinct_mappable(system, lower(workload), args.op)
    reports = [_map_op(system, op, repeats, args.top, not args.no_simulate) for op, repeats in ops]
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        print(_format(reports, arch.name, workload.name, rules.objective))
    return 0


def _distinct_mappable(system, ops, pattern):
    from ..errors import AccsimError

    chosen: dict[tuple, list] = {}
    names = []
    for op in ops:
        if not hasattr(system.executor(op), "plan"):
            continue
        names.append(op.name)
        if pattern and not fnmatch.fnmatchcase(op.name, pattern):
            continue
        entry = chosen.setdefault((op.kind, op.signature()), [op, 0])
        entry[1] += 1
    if not chosen:
        sample = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        raise AccsimError(f"--op {pattern!r} matches no mapped op; ops are named like: {sample}"
                          if pattern else "the workload has no op the mapper places (GEMM-class ops)")
    return [tuple(v) for v in chosen.values()]


def _map_op(system, op, repeats, top_k, simulate) -> dict:
    from ..mapping import evaluate_mapping

    component = system.executor(op)
    started = time.perf_counter()
    plans = component.plan(op, system, top_k=top_k)
    seconds = time.perf_counter() - started
    hier = component.hierarchy()
    names = tuple(level.name for level in hier.levels)
    problems = []
    for problem, result in plans:
        costs = evaluate_mapping(problem, hier, result.best.mapping)
        problems.append({
            "problem": problem.label(),
            "hardware": hier.describe(),
            "method": result.method, "evaluated": result.evaluated, "valid": result.alternatives,
            "cached": result.cached,
            "search_seconds": round(result.seconds, 4),
            "best": _candidate(result.best, problem, names, hier.compute.units),
            "traffic_bytes": {level: {k: float(v[0]) for k, v in entries.items() if float(v[0])}
                              for level, entries in costs.traffic_bytes.items()},
            "alternatives": [_candidate(c, problem, names, hier.compute.units) for c in result.top[1:]],
        })
    report = {"op": op.name, "identical_ops": repeats, "kind": op.kind, "shape": op.shape_text(),
              "problems": problems, "search_seconds": round(seconds, 4),
              "estimate_cycles": sum(p["best"]["latency_cycles"] for p in problems)}
    if simulate:
        cost = component.execute(op, system)
        report["simulated_cycles"] = round(component.clock.cycles(cost.ticks), 1)
        report["estimate_error"] = report["estimate_cycles"] / report["simulated_cycles"] - 1
    return report


def _candidate(cand, problem, level_names, units) -> dict:
    return {"latency_cycles": cand.latency_cycles, "compute_cycles": cand.compute_cycles,
            "memory_cycles": cand.memory_cycles, "exposed_cycles": cand.exposed_cycles,
            "energy_pj": cand.energy_pj, "footprint_bytes": dict(cand.footprint_bytes),
            "mapping": cand.mapping.as_dict(),
            "loop_nest": cand.mapping.loop_nest(problem, level_names, units)}


def _format(reports, arch, workload, objective) -> str:
    lines = [f"accsim map: {workload} on {arch} (objective: {objective})"]
    evaluated = seconds = 0
    for rep in reports:
        repeat = f"  (x{rep['identical_ops']} identical ops)" if rep["identical_ops"] > 1 else ""
        lines.append(f"\n== {rep['op']}{repeat}  {rep['kind']} {rep['shape']}")
        for prob in rep["problems"]:
            best = prob["best"]
            lines.append(f"   {prob['problem']}  on {prob['hardware']}")
            lines += ["     " + text for text in best["loop_nest"]]
            lines.append(f"   estimate {best['latency_cycles']:,.0f} cycles: compute {best['compute_cycles']:,.0f}"
                         f" (busiest unit), memory {best['memory_cycles']:,.0f}, exposed first load + last "
                         f"store {best['exposed_cycles']:,.0f}; energy {best['energy_pj'] / 1e6:,.3f} uJ")
            held = ", ".join(f"{name} {_size(b)}" for name, b in best["footprint_bytes"].items())
            lines.append(f"   buffer use: {held}")
            for level, entries in prob["traffic_bytes"].items():
                if entries:
                    lines.append(f"   {level}: " + ", ".join(f"{k} {_size(v)}" for k, v in entries.items()))
            for rank, alt in enumerate(prob["alternatives"], start=2):
                m = alt["mapping"]
                lines.append(f"   #{rank}: {alt['latency_cycles']:,.0f} cycles, {alt['energy_pj'] / 1e6:,.3f} uJ"
                             f"  tile {m['tiles'][0]}  order {'>'.join(m['orders'][0])}  split {m['split']}")
            lines.append(f"   searched {prob['evaluated']:,} mappings ({prob['valid']:,} fit; {prob['method']}) "
                         f"in {prob['search_seconds']:.3f} s"
                         + (" (read back from the mapping cache)" if prob["cached"] else ""))
            evaluated += prob["evaluated"]
            seconds += prob["search_seconds"]
        if "simulated_cycles" in rep:
            lines.append(f"   cycle-level simulation of this mapping: {rep['simulated_cycles']:,.0f} cycles "
                         f"(estimate {rep['estimate_error']:+.1%})")
    lines.append(f"\n{len(reports)} distinct op(s), {evaluated:,} mappings evaluated in {seconds:.2f} s")
    return "\n".join(lines)


def _size(nbytes: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"
