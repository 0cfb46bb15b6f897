"""The sweep report (report.md + report.html) from a store written by hand (no simulation)."""
from __future__ import annotations

import itertools
import json

import pytest

from accsim.sweep.report import render_sweep
from accsim.sweep.spec import SweepError
from accsim.sweep.store import MANIFEST, Store


def three_objective_sweep(directory):
    grid = list(itertools.product([16, 32, 64], ["1 MiB", "4 MiB"]))
    keys = [f"k{i:02d}" for i in range(len(grid) + 1)]
    manifest = {"format": "accsim-sweep", "format_version": 1, "name": "demo", "description": "a test sweep",
                "spec_path": "demo.yaml", "spec_sha256": "0" * 64, "accsim_version": "0", "created_utc": "now",
                "sampling": {"method": "grid"}, "points": len(keys), "keys": keys,
                "parameters": [{"name": "rows", "paths": ["components.sa.rows"], "unit": "", "values": [16, 32, 64]},
                               {"name": "spad", "paths": ["components.spad.capacity"], "unit": "",
                                "values": ["1 MiB", "4 MiB"]}],
                "objectives": [{"name": "latency", "column": "latency_s", "direction": "min"},
                               {"name": "energy", "column": "energy_pj", "direction": "min"},
                               {"name": "area", "column": "area_mm2", "direction": "min"}],
                "constraints": ["area <= 20 mm2"]}
    store = Store.open(directory, manifest, resume=False)
    for key, (rows, spad) in zip(keys, grid):
        area = rows * rows / 256 * (2 if spad == "4 MiB" else 1)
        store.append({"key": key, "arch": "a", "workload": "w", "params": {"rows": rows, "spad": spad},
                      "status": "ok", "metrics": {"total.seconds": 1.0 / rows, "energy.total_pj": 100.0 + rows,
                                                  "area.total_mm2": area}})
    store.append({"key": keys[-1], "arch": "a", "workload": "w", "params": {"rows": 128, "spad": "1 MiB"},
                  "status": "timeout", "error": "killed after the point timeout of 3 s", "metrics": {}})
    store.close()


@pytest.mark.unit
def test_report_has_best_points_pairwise_fronts_sensitivity_and_failures(tmp_path):
    three_objective_sweep(tmp_path)
    html = render_sweep(tmp_path)
    assert html == tmp_path / "report.html" and html.is_file()
    markdown = (tmp_path / "report.md").read_text()
    for section in ("## Best points", "## Pareto front", "## Parameter sensitivity", "## Points that did not finish"):
        assert section in markdown
    pairs = ["pareto_latency_s_energy_pj", "pareto_latency_s_area_mm2", "pareto_energy_pj_area_mm2"]
    for name in pairs + ["sensitivity_latency_s", "sensitivity_energy_pj", "sensitivity_area_mm2"]:
        assert (tmp_path / f"{name}.png").stat().st_size > 0 and f"({name}.png)" in markdown
    assert html.read_text().count("data:image/png;base64,") == 6
    # rows=64 with 4 MiB has area 32 > 20: flagged, so best latency is rows=64 with 1 MiB (area 16)
    best = markdown.split("## Best points")[1].split("##")[0]
    assert "| latency (min) | 0.01562 | 64 | 1 MiB |" in best
    assert "killed after the point timeout of 3 s" in markdown
    assert json.loads((tmp_path / MANIFEST).read_text())["name"] == "demo"


@pytest.mark.unit
def test_report_of_a_directory_without_a_sweep(tmp_path):
    with pytest.raises(SweepError, match="not a sweep directory"):
        render_sweep(tmp_path)
