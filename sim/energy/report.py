"""Reports of saved runs (`accsim report DIR [DIR ...]`): report.md and a self-contained
report.html with PNG/SVG figures, built with accsim.reporting.Document.

One directory: energy breakdown (by component, by op kind), area breakdown,
utilization timeline (Gantt of units), roofline with every op, memory bandwidth
over time, top ops by time and by energy, and which estimator priced what.
Several directories: the same totals side by side (e.g. npu vs sa32).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import AccsimError
from ..reporting import Document

TOP_OPS = 10
TIMELINE_BUCKETS = 400        # bandwidth samples over the run: enough for a page-wide plot


class NotAResultError(AccsimError):
    """A directory that holds no saved run (summary.json, ops.csv, energy.csv, area.csv)."""


@dataclass(frozen=True)
class SavedRun:
    path: Path
    summary: dict
    ops: pd.DataFrame
    energy: pd.DataFrame
    area: pd.DataFrame

    @property
    def label(self) -> str:
        return f"{self.summary['workload']} on {self.summary['arch']}"


def load_run(directory: str | Path) -> SavedRun:
    path = Path(directory)
    if not path.is_dir():
        raise NotAResultError(f"{path}: no such directory")
    missing = [n for n in ("summary.json", "ops.csv", "energy.csv", "area.csv") if not (path / n).is_file()]
    if missing:
        raise NotAResultError(f"{path}: not a result directory of `accsim run --out` (missing {', '.join(missing)})")
    try:
        summary = json.loads((path / "summary.json").read_text())
        frames = [pd.read_csv(path / name) for name in ("ops.csv", "energy.csv", "area.csv")]
    except (json.JSONDecodeError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise NotAResultError(f"{path}: unreadable result files ({exc})") from None
    if not isinstance(summary, dict) or not {"energy", "area", "total", "arch", "workload"} <= summary.keys():
        raise NotAResultError(f"{path}/summary.json: not a run summary with energy and area "
                              "(re-run `accsim run ... --out` with this version)")
    needed = {"start_seconds", "seconds", "energy_pj", "unit", "kind", "flops", "bytes_read", "bytes_written"}
    lacking = sorted(needed - set(frames[0].columns))
    if lacking:
        raise NotAResultError(f"{path}/ops.csv: lacks columns {', '.join(lacking)} "
                              "(re-run `accsim run ... --out` with this version)")
    return SavedRun(path, summary, *frames)


# ---------------------------------------------------------------- figures

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def energy_figure(run: SavedRun):
    """Left: one stacked bar of the run's energy by component (leakage hatched).
    Right: dynamic energy of each op kind, stacked by component."""
    plt = _plt()
    frame = run.energy
    factor, unit = _energy_scale(run.summary["energy"]["total_pj"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1, 3]})
    components = list(dict.fromkeys(frame["component"]))
    colors = {c: plt.cm.tab10(i % 10) for i, c in enumerate(components)}
    bottom = 0.0
    for component in components:
        rows = frame[frame["component"] == component]
        dynamic = rows.loc[~rows["event"].isin(["leakage", "static"]), "energy_pj"].sum() * factor
        static = rows.loc[rows["event"].isin(["leakage", "static"]), "energy_pj"].sum() * factor
        left.bar(0, dynamic, bottom=bottom, color=colors[component], label=component)
        left.bar(0, static, bottom=bottom + dynamic, color=colors[component], hatch="//", alpha=0.6)
        bottom += dynamic + static
    left.set_xticks([0], ["run"])
    left.set_ylabel(f"energy ({unit})")
    left.set_title("by component (hatched: leakage/static)", fontsize=9)
    dynamic = frame[frame["op_kind"] != "-"]
    table = dynamic.pivot_table(index="op_kind", columns="component", values="energy_pj", aggfunc="sum",
                                fill_value=0.0) * factor
    table = table.loc[table.sum(axis=1).sort_values(ascending=False).index]
    base = np.zeros(len(table))
    for component in table.columns:
        right.bar(table.index, table[component], bottom=base, color=colors[component], label=component)
        base += table[component].to_numpy()
    right.set_ylabel(f"dynamic energy ({unit})")
    right.set_title("by op kind, stacked by component", fontsize=9)
    right.tick_params(axis="x", rotation=30)
    right.legend(*left.get_legend_handles_labels(), fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    total = run.summary["energy"]["total_pj"] * factor
    fig.suptitle(f"Energy: {run.label} ({total:.4g} {unit})")
    fig.tight_layout()
    return fig


def area_figure(run: SavedRun):
    plt = _plt()
    area = run.area.sort_values("area_mm2")
    fig, axis = plt.subplots(figsize=(8, 0.5 * len(area) + 1.5))
    left = np.zeros(len(area))
    for column, color, label in (("logic_mm2", "tab:blue", "logic"), ("sram_mm2", "tab:orange", "SRAM"),
                                 ("phy_mm2", "tab:green", "memory PHY")):
        axis.barh(area["component"], area[column], left=left, color=color, label=label)
        left += area[column].to_numpy()
    axis.set_xlabel("area (mm2)")
    axis.set_title(f"Area: {run.summary['arch']} at {run.summary['area']['node_nm']} nm "
                   f"({run.summary['area']['total_mm2']:.4g} mm2)")
    axis.legend(fontsize=8)
    fig.tight_layout()
    return fig


def timeline_figure(run: SavedRun):
    """Gantt chart: one row per unit, one bar per op (colour = op kind)."""
    plt = _plt()
    ops = run.ops
    units = list(dict.fromkeys(ops["unit"]))
    kinds = list(dict.fromkeys(ops["kind"]))
    colors = {k: plt.cm.tab20(i % 20) for i, k in enumerate(kinds)}
    fig, axis = plt.subplots(figsize=(11, 0.6 * len(units) + 2))
    scale, unit_name = _time_scale(run.summary["total"]["seconds"])
    for row, unit in enumerate(units):
        mine = ops[ops["unit"] == unit]
        for kind, group in mine.groupby("kind", sort=False):
            spans = list(zip(group["start_seconds"] * scale, np.maximum(group["seconds"] * scale, 0)))
            axis.broken_barh(spans, (row - 0.4, 0.8), facecolors=colors[kind], linewidth=0, label=kind)
    handles, labels = axis.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axis.legend(unique.values(), unique.keys(), fontsize=7, ncol=min(len(unique), 8), loc="upper center",
                bbox_to_anchor=(0.5, -0.25))
    axis.set_yticks(range(len(units)), units)
    axis.set_xlabel(f"time ({unit_name})")
    axis.set_title(f"Utilization timeline: {run.label}")
    fig.tight_layout()
    return fig


def roofline_figure(run: SavedRun):
    plt = _plt()
    ops = run.ops
    roof = run.summary.get("roofline", {})
    peak, bandwidth = roof.get("peak_flops_per_s", 0.0), roof.get("memory_bytes_per_s", 0.0)
    moved = ops["bytes_read"] + ops["bytes_written"]
    usable = (ops["flops"] > 0) & (moved > 0) & (ops["seconds"] > 0)
    fig, axis = plt.subplots(figsize=(8, 5.5))
    intensity = ops.loc[usable, "flops"] / moved[usable]
    achieved = ops.loc[usable, "flops"] / ops.loc[usable, "seconds"]
    for kind in dict.fromkeys(ops.loc[usable, "kind"]):
        mask = ops.loc[usable, "kind"] == kind
        axis.scatter(intensity[mask], achieved[mask], s=12, alpha=0.6, label=kind)
    if peak and bandwidth:
        low = min(intensity.min() if len(intensity) else 1.0, peak / bandwidth) / 4
        high = max(intensity.max() if len(intensity) else 1.0, peak / bandwidth) * 4
        x = np.geomspace(low, high, 200)
        axis.plot(x, np.minimum(peak, bandwidth * x), "k-", lw=1.5,
                  label=f"roof: {peak / 1e12:.3g} TFLOP/s, {bandwidth / 1e9:.3g} GB/s")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("arithmetic intensity (FLOP per memory byte)")
    axis.set_ylabel("achieved FLOP/s")
    axis.set_title(f"Roofline: {run.label} (each point one op)")
    axis.legend(fontsize=8)
    fig.tight_layout()
    return fig


def bandwidth_series(ops: pd.DataFrame, total_seconds: float, buckets: int = TIMELINE_BUCKETS):
    """(bucket start times, GB/s): each op's memory bytes spread evenly over the op."""
    from ..trace_export import _averages

    grid = np.linspace(0.0, max(total_seconds, 1e-12), buckets + 1)
    starts = ops["start_seconds"].to_numpy(float)
    ends = starts + np.maximum(ops["seconds"].to_numpy(float), 1e-15)
    rate = (ops["bytes_read"] + ops["bytes_written"]).to_numpy(float) / (ends - starts)
    return grid[:-1], _averages(starts, ends, rate / 1e9, grid) if len(ops) else np.zeros(buckets)


def bandwidth_figure(run: SavedRun):
    plt = _plt()
    times, gbps = bandwidth_series(run.ops, run.summary["total"]["seconds"])
    scale, unit_name = _time_scale(run.summary["total"]["seconds"])
    fig, axis = plt.subplots(figsize=(11, 3.5))
    axis.fill_between(times * scale, gbps, step="post", alpha=0.5)
    axis.step(times * scale, gbps, where="post", lw=0.8)
    peak = run.summary.get("roofline", {}).get("memory_bytes_per_s", 0.0)
    if peak:
        axis.axhline(peak / 1e9, color="k", ls="--", lw=1, label=f"peak {peak / 1e9:.4g} GB/s")
        axis.legend(fontsize=8)
    axis.set_xlabel(f"time ({unit_name})")
    axis.set_ylabel("memory bandwidth (GB/s)")
    axis.set_title(f"Memory bandwidth over time: {run.label}")
    fig.tight_layout()
    return fig


def _energy_scale(pj: float) -> tuple[float, str]:
    """(factor from pJ, unit name) that keeps the largest value readable."""
    for factor, name in ((1e-12, "J"), (1e-9, "mJ"), (1e-6, "uJ"), (1e-3, "nJ")):
        if pj * factor >= 1:
            return factor, name
    return 1.0, "pJ"


def _time_scale(seconds: float) -> tuple[float, str]:
    for scale, name in ((1.0, "s"), (1e3, "ms"), (1e6, "us")):
        if seconds * scale >= 1:
            return scale, name
    return 1e9, "ns"


# ---------------------------------------------------------------- documents

def summary_table(run: SavedRun) -> pd.DataFrame:
    s = run.summary
    energy, area = s["energy"], s["area"]
    rows = [("total time (s)", s["total"]["seconds"]), ("energy (J)", energy["total_pj"] * 1e-12),
            ("  dynamic (J)", energy["dynamic_pj"] * 1e-12), ("  leakage (J)", energy["leakage_pj"] * 1e-12),
            ("  DRAM background (J)", energy.get("static_pj", 0.0) * 1e-12),
            ("average power (W)", energy["average_power_w"]), ("area (mm2)", area["total_mm2"]),
            ("technology", f"{energy['technology']['table']} @ {energy['technology']['node_nm']} nm, "
                           f"{energy['technology']['vdd']} V")]
    if "tokens" in s:
        rows.insert(1, ("tokens/s", s["tokens"]["per_second"]))
        rows.append(("energy per token (mJ)", energy["total_pj"] * 1e-9 / max(s["tokens"]["generated"], 1)))
    return pd.DataFrame(rows, columns=["metric", "value"])


def estimator_table(run: SavedRun) -> pd.DataFrame:
    rows = []
    for name, entry in run.summary["energy"]["estimators"]["components"].items():
        area = entry.get("area", {})
        rows.append({"component": name, "item": "area", "priced by": area.get("by") or "unpriced",
                     "declined": "; ".join(f"{k}: {v}" for k, v in area.get("declined", {}).items())})
        for event, info in entry.get("events", {}).items():
            rows.append({"component": name, "item": event, "priced by": info["by"] or "unpriced",
                         "declined": "; ".join(f"{k}: {v}" for k, v in info["declined"].items())})
    return pd.DataFrame(rows)


def _top(run: SavedRun, column: str) -> pd.DataFrame:
    columns = ["name", "kind", "phase", "unit", "shape", "seconds", "energy_pj", "utilization"]
    return run.ops.nlargest(TOP_OPS, column)[columns].reset_index(drop=True)


def render_run(directory: str | Path, out: str | Path | None = None) -> Path:
    """report.md + report.html (+ figures) of one saved run, in `out` (default: the run's directory)."""
    run = load_run(directory)
    doc = Document(f"accsim report: {run.label}")
    doc.paragraph(f"Result directory: {run.path}. Energies in J (pJ in the CSV files), areas in mm2.")
    doc.table(summary_table(run))
    doc.heading("Energy")
    doc.figure(energy_figure(run), "energy_breakdown", "Energy by component and by op kind")
    by_component = pd.DataFrame([(k, v * 1e-12, v / run.summary["energy"]["total_pj"])
                                 for k, v in run.summary["energy"]["by_component"].items()],
                                columns=["component", "energy (J)", "share"])
    doc.table(by_component)
    doc.heading("Area")
    doc.figure(area_figure(run), "area_breakdown", "Area by component (logic, SRAM, memory PHY)")
    doc.table(run.area[["component", "type", "count", "area_mm2", "estimator", "note"]])
    doc.heading("Utilization timeline")
    doc.figure(timeline_figure(run), "timeline", "Ops on each unit over time (colour: op kind)")
    doc.heading("Roofline")
    doc.figure(roofline_figure(run), "roofline", "Each op on the roofline of the architecture")
    doc.heading("Memory bandwidth")
    doc.figure(bandwidth_figure(run), "bandwidth", "Memory bandwidth over time (each op's bytes spread over it)")
    doc.heading(f"Top {TOP_OPS} ops by time")
    doc.table(_top(run, "seconds"))
    doc.heading(f"Top {TOP_OPS} ops by energy")
    doc.table(_top(run, "energy_pj"))
    doc.heading("Who priced what")
    accuracy = run.summary["energy"]["estimators"]["accuracy"]
    doc.paragraph("Estimators, most accurate first: " + " | ".join(f"{k}: {v}" for k, v in accuracy.items()))
    doc.table(estimator_table(run))
    trace = run.summary["metadata"].get("trace")
    if trace:
        doc.paragraph(f"trace.json ({trace['events']} events, {trace['note']}) opens in https://ui.perfetto.dev.")
    return doc.write(out or run.path)


def render_comparison(directories, out: str | Path) -> Path:
    """Side-by-side report of several saved runs."""
    runs = [load_run(d) for d in directories]
    plt = _plt()
    doc = Document("accsim comparison: " + " vs ".join(r.label for r in runs))
    table = pd.DataFrame({f"{r.label} ({r.path.name})": summary_table(r).set_index("metric")["value"]
                          for r in runs})
    doc.table(table.reset_index())
    fig, (energy_axis, area_axis) = plt.subplots(1, 2, figsize=(11, 4.5))
    labels = [f"{r.summary['arch']}\n{r.summary['workload']}" for r in runs]
    names = list(dict.fromkeys(n for r in runs for key in ("energy", "area") for n in r.summary[key]["by_component"]))
    colors = {name: plt.cm.tab10(i % 10) for i, name in enumerate(names)}
    largest = max(r.summary["energy"]["total_pj"] for r in runs)
    energy_factor, energy_unit = _energy_scale(largest)
    for axis, key, unit, scale in ((energy_axis, "energy", energy_unit, energy_factor),
                                   (area_axis, "area", "mm2", 1.0)):
        base = np.zeros(len(runs))
        for name in names:
            values = np.array([r.summary[key]["by_component"].get(name, 0.0) * scale for r in runs])
            if values.any():
                axis.bar(labels, values, bottom=base, label=name, color=colors[name])
            base += values
        axis.set_ylabel(f"{key} ({unit})")
        axis.legend(fontsize=7)
        axis.set_title(f"{key} by component")
    fig.tight_layout()
    doc.heading("Energy and area")
    doc.figure(fig, "comparison", "Energy and area of each run, stacked by component")
    for r in runs:
        doc.heading(r.label)
        doc.figure(energy_figure(r), f"energy_{_slug(r)}", f"Energy of {r.label}")
    return doc.write(out)


def _slug(run: SavedRun) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in f"{run.path.name}_{run.summary['arch']}")
