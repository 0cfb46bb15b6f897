"""Text summaries of a sweep for the terminal: the plan, and the outcome."""
from __future__ import annotations

from .results import best_points, candidates, objectives_of
from .store import CSV, PARQUET


def format_plan(plan) -> str:
    spec = plan.spec
    lines = [f"sweep {spec.name}: {len(plan.points)} points ({spec.sampling.method}"
             + (f", {plan.requested - len(plan.points)} duplicates removed" if plan.requested > len(plan.points)
                else "") + ")",
             f"  architectures: {', '.join(spec.archs)}", f"  workloads: {', '.join(spec.workloads)}"]
    for parameter in spec.parameters:
        shown = (", ".join(str(parameter.text(v)) for v in parameter.values) if parameter.values is not None
                 else f"{parameter.low:g} .. {parameter.high:g}{' ' + parameter.unit if parameter.unit else ''}")
        lines.append(f"  {parameter.name}: {shown}")
    lines.append("  objectives: " + ", ".join(f"{o.name} ({o.direction})" for o in spec.objectives))
    if spec.constraints:
        lines.append("  constraints: " + "; ".join(c.text for c in spec.constraints))
    for point in plan.points[:5]:
        lines.append(f"  e.g. {point.key[:12]}: " + " ".join([*point.arch_overrides, *point.workload_overrides]))
    return "\n".join(lines)


def format_outcome(outcome) -> str:
    frame, manifest = outcome.frame, outcome.manifest
    objectives = objectives_of(manifest)
    counts = frame["status"].value_counts().to_dict() if len(frame) else {}
    done = ", ".join(f"{counts[s]} {s}" for s in ("ok", "failed", "timeout", "crashed") if counts.get(s))
    lines = [f"sweep {manifest['name']}: {len(frame)} of {manifest['points']} points stored ({done or 'none'}); "
             f"ran {outcome.ran}, skipped {outcome.skipped} already stored, {outcome.wall_s:.1f} s"]
    if len(frame):
        competing = int(candidates(frame, objectives).sum())
        infeasible = int(((frame["status"] == "ok") & ~frame["feasible"].astype(bool)).sum())
        lines.append(f"  within constraints: {competing}" + (f" ({infeasible} violate them, kept and flagged)"
                                                             if infeasible else ""))
        lines.append(f"  Pareto set: {int(frame['pareto'].sum())} points over "
                     + ", ".join(f"{o.name} ({o.direction})" for o in objectives))
        parameters = [p["name"] for p in manifest["parameters"]]
        for name, row in best_points(frame, objectives).items():
            objective = next(o for o in objectives if o.name == name)
            settings = " ".join(f"{p}={row[p]}" for p in ["arch", "workload"] + parameters
                                if _varies(frame, p) or p in parameters)
            lines.append(f"  best {name}: {objective.column} = {row[objective.column]:.6g}  [{settings}]")
        failed = frame[frame["status"] != "ok"]
        for _, row in failed.head(5).iterrows():
            lines.append(f"  {row['status']}: {row['key'][:12]} {row['overrides']}: "
                         f"{str(row['error']).splitlines()[0] if row['error'] else ''}")
        if len(failed) > 5:
            lines.append(f"  ... {len(failed) - 5} more not ok (see the status and error columns)")
    lines.append(f"  results: {outcome.directory / PARQUET}, {outcome.directory / CSV}; "
                 f"report: accsim report {outcome.directory}")
    return "\n".join(lines)


def _varies(frame, column: str) -> bool:
    return column in frame.columns and frame[column].nunique(dropna=False) > 1
