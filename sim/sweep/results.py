"""The results table of a sweep: one row per point, from the store's log.

Objective columns, constraint flags and the Pareto flag are computed here from
each point's stored summary metrics, so they always follow the manifest's
current objectives and constraints.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .objectives import Constraint, MetricUnavailable, Objective, parse_constraint, pareto_mask
from .store import read_log, read_manifest
from .spec import SweepError

SUMMARY_PREFIX = "summary."


def flatten_summary(summary: dict) -> dict:
    """Numeric leaves of a run summary as `path.to.field` -> number (metadata left out)."""
    flat: dict[str, float] = {}

    def walk(node, prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, path + ".")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                flat[path] = value
    walk({k: v for k, v in summary.items() if k != "metadata"}, "")
    return flat


def objectives_of(manifest: dict) -> list[Objective]:
    return [Objective(o["name"], o["column"], o["direction"]) for o in manifest.get("objectives", ())]


def constraints_of(manifest: dict) -> list[Constraint]:
    return [parse_constraint(text, (manifest.get("spec_path", ""), None), "constraints")
            for text in manifest.get("constraints", ())]


def load_results(directory: str | Path, all_points: bool = False) -> pd.DataFrame:
    """The table of a sweep directory (the points of its current spec, or every
    point in its store with `all_points`)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise SweepError(f"{directory}: not a sweep directory (no sweep_manifest.json)")
    records = read_log(directory)
    keys = list(records) if all_points else [k for k in manifest.get("keys", ()) if k in records]
    return build_frame(manifest, [records[k] for k in keys])


def build_frame(manifest: dict, records: list[dict]) -> pd.DataFrame:
    objectives, constraints = objectives_of(manifest), constraints_of(manifest)
    parameters = [p["name"] for p in manifest.get("parameters", ())]
    rows = [_row(record, parameters, objectives, constraints) for record in records]
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["key", "arch", "workload", *parameters, "status",
                                      *[o.column for o in objectives], "feasible", "pareto", "violations"])
    frame["pareto"] = _pareto(frame, objectives)
    first = ["key", "arch", "workload", *parameters, "status", *[o.column for o in objectives],
             "feasible", "pareto", "violations", "error_type", "error", "wall_s", "accsim_version",
             "inputs", "overrides", "host", "finished_utc"]
    first = [c for c in first if c in frame.columns]
    metrics = sorted(c for c in frame.columns if c.startswith(SUMMARY_PREFIX) and c not in first)
    rest = [c for c in frame.columns if c not in first and c not in metrics]
    return frame[first + rest + metrics]


def _row(record: dict, parameters, objectives, constraints) -> dict:
    metrics = record.get("metrics") or {}
    ok = record.get("status") == "ok"
    row = {"key": record["key"], "arch": record.get("arch"), "workload": record.get("workload")}
    row.update({name: record.get("params", {}).get(name) for name in parameters})
    row["status"] = record.get("status")
    for objective in objectives:
        row[objective.column] = _value(objective, metrics) if ok else math.nan
    violations = []
    for constraint in constraints:
        value = _value(constraint, metrics) if ok else math.nan
        if math.isnan(value):
            violations.append(f"{constraint.metric}: not available")
        elif not constraint.holds(value):
            violations.append(f"{constraint.column} = {value:.6g} violates {constraint.text}")
    row["feasible"] = ok and not violations
    row["violations"] = "; ".join(violations) if ok else ""
    row.update(error_type=record.get("error_type", ""), error=record.get("error", ""),
               wall_s=record.get("wall_s"), accsim_version=record.get("accsim_version"),
               inputs=json.dumps(record.get("inputs", {}), sort_keys=True),
               overrides="; ".join(record.get("overrides", ())), host=record.get("host"),
               finished_utc=record.get("finished_utc"))
    row.update({SUMMARY_PREFIX + k: v for k, v in metrics.items()})
    return row


def _value(metric, metrics: dict) -> float:
    try:
        return metric.value(metrics)
    except MetricUnavailable:
        return math.nan


def candidates(frame: pd.DataFrame, objectives) -> pd.Series:
    """Rows that compete: finished ok, within the constraints, every objective known."""
    mask = (frame["status"] == "ok") & frame["feasible"].astype(bool)
    for objective in objectives:
        mask &= frame[objective.column].notna()
    return mask


def _pareto(frame: pd.DataFrame, objectives) -> pd.Series:
    result = pd.Series(False, index=frame.index)
    if frame.empty or not objectives:
        return result
    mask = candidates(frame, objectives)
    if not mask.any():
        return result
    values = np.column_stack([frame.loc[mask, o.column].astype(float) * o.sign for o in objectives])
    result.loc[mask] = pareto_mask(values)
    return result


def best_points(frame: pd.DataFrame, objectives) -> dict[str, pd.Series]:
    """The best competing row per objective (by its direction)."""
    best = {}
    mask = candidates(frame, objectives) if not frame.empty else None
    for objective in objectives:
        if mask is None or not mask.any():
            continue
        column = frame.loc[mask, objective.column].astype(float)
        index = column.idxmin() if objective.direction == "min" else column.idxmax()
        best[objective.name] = frame.loc[index]
    return best
