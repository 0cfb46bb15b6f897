"""The report of a sweep directory: best points, Pareto front plots, parameter
sensitivity, points that did not finish. Built with accsim.reporting.Document,
so it is report.md + a self-contained report.html like the report of a run.

`accsim report SWEEP_DIR` calls render_sweep when the directory holds a
sweep_manifest.json.
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..reporting import Document
from .results import best_points, candidates, constraints_of, load_results, objectives_of
from .spec import SweepError
from .store import CSV, PARQUET, read_manifest

MAX_PAIRS = 6
MAX_ROWS = 50


def render_sweep(directory: str | Path) -> Path:
    """Write report.md, report.html and figures into the sweep directory; return report.html."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None:
        raise SweepError(f"{directory}: not a sweep directory (no sweep_manifest.json)")
    frame = load_results(directory)
    objectives = objectives_of(manifest)
    parameters = [p["name"] for p in manifest.get("parameters", ())]
    dimensions = [c for c in ("arch", "workload") if c in frame and frame[c].nunique() > 1] + parameters
    doc = Document(f"Sweep {manifest['name']}")
    _overview(doc, manifest, frame, objectives)
    if frame.empty:
        return doc.write(directory)
    _best(doc, frame, objectives, dimensions)
    _pareto(doc, frame, objectives, dimensions, constraints_of(manifest))
    _sensitivity(doc, frame, objectives, dimensions, manifest)
    _unfinished(doc, frame)
    return doc.write(directory)


def _overview(doc: Document, manifest: dict, frame: pd.DataFrame, objectives) -> None:
    counts = frame["status"].value_counts().to_dict() if len(frame) else {}
    status = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no points finished yet"
    doc.paragraph(manifest.get("description") or "")
    doc.paragraph(f"Spec {manifest.get('spec_path')} (sha256 {manifest.get('spec_sha256', '')[:12]}), "
                  f"accsim {manifest.get('accsim_version')}, sampling {manifest['sampling']['method']}: "
                  f"{len(frame)} of {manifest['points']} points stored ({status}); state {manifest.get('state')}.")
    doc.paragraph("Objectives: " + ", ".join(f"{o.name} ({o.direction}, column {o.column})" for o in objectives)
                  + ". Constraints: " + ("; ".join(manifest.get("constraints", ())) or "none")
                  + ". Points that violate a constraint are kept and flagged; only points within every "
                    "constraint compete for best and Pareto.")
    doc.paragraph(f"Full table (one row per point, every summary metric): {PARQUET}, {CSV}.")


def _best(doc: Document, frame: pd.DataFrame, objectives, dimensions) -> None:
    doc.heading("Best points")
    rows = []
    for name, row in best_points(frame, objectives).items():
        objective = next(o for o in objectives if o.name == name)
        rows.append({"objective": f"{name} ({objective.direction})", "value": row[objective.column],
                     **{d: row[d] for d in dimensions}, **{o.column: row[o.column] for o in objectives},
                     "key": row["key"][:12]})
    if rows:
        doc.table(pd.DataFrame(rows))
    else:
        doc.paragraph("No point finished within the constraints.")


def _pareto(doc: Document, frame: pd.DataFrame, objectives, dimensions, constraints) -> None:
    doc.heading("Pareto front")
    front = frame[frame["pareto"].astype(bool)]
    if len(objectives) < 2:
        doc.paragraph("One objective: the best point above is the whole front.")
        return
    doc.paragraph(f"{len(front)} of {int(candidates(frame, objectives).sum())} competing points are "
                  "Pareto-optimal (no other point is at least as good in every objective and better in one).")
    pairs = list(itertools.combinations(objectives, 2))
    for first, second in pairs[:MAX_PAIRS]:
        name = f"pareto_{_slug(first.column)}_{_slug(second.column)}"
        doc.figure(_front_figure(frame, first, second, constraints), name,
                   f"{second.name} against {first.name}: Pareto set (over all {len(objectives)} objectives) "
                   "highlighted, points outside the constraints hollow, constraint bounds dashed")
    columns = [*dimensions, *[o.column for o in objectives], "key"]
    table = front.sort_values(objectives[0].column, ascending=objectives[0].direction == "min")[columns]
    table = table.assign(key=table["key"].str[:12]).head(MAX_ROWS)
    doc.table(table.reset_index(drop=True))


def _front_figure(frame: pd.DataFrame, first, second, constraints):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.6))
    axes = fig.add_subplot()
    ok = frame[frame["status"] == "ok"]
    feasible = ok["feasible"].astype(bool)
    axes.scatter(ok.loc[feasible, first.column], ok.loc[feasible, second.column], s=16, color="#9aa7b8",
                 label="within constraints")
    if (~feasible).any():
        axes.scatter(ok.loc[~feasible, first.column], ok.loc[~feasible, second.column], s=16,
                     facecolors="none", edgecolors="#c44", label="violates a constraint")
    front = ok[ok["pareto"].astype(bool)].sort_values(first.column)
    axes.scatter(front[first.column], front[second.column], s=30, color="#1f5fbf", label="Pareto set", zorder=3)
    if len(front) > 1:
        two = _two_objective_front(front, (first, second))
        axes.step(two[first.column], two[second.column], where="post", color="#1f5fbf", linewidth=1)
    for constraint in constraints:
        if constraint.column == first.column:
            axes.axvline(constraint.bound, color="#c44", linestyle="--", linewidth=0.8)
        elif constraint.column == second.column:
            axes.axhline(constraint.bound, color="#c44", linestyle="--", linewidth=0.8)
    axes.set_xlabel(f"{first.column} ({first.direction})")
    axes.set_ylabel(f"{second.column} ({second.direction})")
    for column, setter in ((first.column, axes.set_xscale), (second.column, axes.set_yscale)):
        if _wide(ok[column]):
            setter("log")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return fig


def _two_objective_front(front: pd.DataFrame, pair) -> pd.DataFrame:
    """The points of the set not dominated in this pair alone, for the step line."""
    from .objectives import pareto_mask

    values = np.column_stack([front[o.column].astype(float) * o.sign for o in pair])
    return front[pareto_mask(values)].sort_values(pair[0].column)


def _sensitivity(doc: Document, frame: pd.DataFrame, objectives, dimensions, manifest) -> None:
    if not dimensions:
        return
    doc.heading("Parameter sensitivity")
    doc.paragraph("Each objective against each parameter over all finished points (dots), with the median "
                  "per value (line). The table gives each parameter's main effect: the spread of those "
                  "medians as a share of the overall median.")
    ok = frame[frame["status"] == "ok"]
    effects = []
    orders = {p["name"]: p.get("values") for p in manifest.get("parameters", ())}
    units = {p["name"]: p.get("unit") for p in manifest.get("parameters", ())}
    for objective in objectives:
        values = ok[objective.column].astype(float)
        if values.notna().sum() == 0:
            continue
        fig = _sensitivity_figure(ok, objective, dimensions, orders, units)
        doc.figure(fig, f"sensitivity_{_slug(objective.column)}", f"{objective.column} against each parameter")
        overall = float(values.median())
        for dimension in dimensions:
            medians = ok.groupby(ok[dimension].astype(str))[objective.column].median()
            spread = float(medians.max() - medians.min()) if len(medians) else math.nan
            effects.append({"parameter": dimension, "objective": objective.column,
                            "median min": float(medians.min()), "median max": float(medians.max()),
                            "main effect": spread / abs(overall) if overall else math.nan})
    if effects:
        doc.table(pd.DataFrame(effects).sort_values(["objective", "main effect"], ascending=[True, False]))


def _sensitivity_figure(ok: pd.DataFrame, objective, dimensions, orders, units):
    from matplotlib.figure import Figure

    columns = min(3, len(dimensions))
    rows = math.ceil(len(dimensions) / columns)
    fig = Figure(figsize=(4.2 * columns, 3.2 * rows))
    for index, dimension in enumerate(dimensions):
        axes = fig.add_subplot(rows, columns, index + 1)
        x, labels = _positions(ok[dimension], orders.get(dimension))
        y = ok[objective.column].astype(float)
        axes.scatter(x, y, s=10, alpha=0.5, color="#5b6f8a")
        medians = pd.DataFrame({"x": x, "y": y}).groupby("x")["y"].median()
        axes.plot(medians.index, medians.values, color="#1f5fbf", marker="o", markersize=3)
        if labels is not None:
            axes.set_xticks(range(len(labels)))
            axes.set_xticklabels(labels, rotation=30, fontsize=7, ha="right")
        elif _wide(pd.Series(x)):
            axes.set_xscale("log")
        if _wide(y):
            axes.set_yscale("log")
        axes.set_xlabel(f"{dimension} ({units[dimension]})" if units.get(dimension) else dimension, fontsize=8)
        axes.set_ylabel(objective.column, fontsize=8)
        axes.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _positions(column: pd.Series, order) -> tuple[np.ndarray, list | None]:
    """Numbers stay numbers; anything else is placed by the spec's order of values."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in column):
        return column.astype(float).to_numpy(), None
    labels = [str(v) for v in (order or sorted(set(column), key=str))]
    for value in column:
        if str(value) not in labels:
            labels.append(str(value))
    return np.array([labels.index(str(v)) for v in column], dtype=float), labels


def _unfinished(doc: Document, frame: pd.DataFrame) -> None:
    failed = frame[frame["status"] != "ok"]
    if failed.empty:
        return
    doc.heading("Points that did not finish")
    table = failed[["status", "error_type", "error", "overrides", "key"]].copy()
    table["error"] = table["error"].astype(str).str.split("\n").str[0].str.slice(0, 160)
    table["key"] = table["key"].str[:12]
    doc.table(table.head(MAX_ROWS).reset_index(drop=True))
    if len(failed) > MAX_ROWS:
        doc.paragraph(f"... and {len(failed) - MAX_ROWS} more (status and error columns of {CSV}).")


def _wide(values: pd.Series) -> bool:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(values) and (values > 0).all() and values.max() / values.min() > 50)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")
