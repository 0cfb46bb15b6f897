"""The bundled example sweeps (configs/sweeps/): every point validates, and each
runs for real at a small size (two points, a 1-layer GPT-2 with a tiny batch)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from accsim.resolve import bundled_dir
from accsim.sweep.points import plan_sweep
from accsim.sweep.spec import load_spec

EXAMPLES = sorted(p.stem for p in (bundled_dir("config") / "sweeps").glob("*.yaml"))
SMALL = ["--set", "model.layers=1", "--set", "serving.prompt_tokens=8", "--set", "serving.generate_tokens=2",
         "--set", "serving.skip_iterations=0", "--set", "serving.max_iterations=1"]   # windows: the first iteration


@pytest.mark.golden
def test_examples_are_bundled_and_every_point_validates():
    assert {"npu_array_sram", "npu_batch_bandwidth"} <= set(EXAMPLES)
    for name in EXAMPLES:
        plan = plan_sweep(load_spec(name))
        assert len(plan.points) == plan.requested >= 8, name


@pytest.mark.golden
@pytest.mark.cli
@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_small(tmp_path, name):
    out = tmp_path / "sweep"
    proc = subprocess.run([sys.executable, "-m", "accsim.cli", "sweep", name, "--out", str(out), "--limit", "2",
                           "-j", "2", *SMALL], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "ACCSIM_CRASH_DIR": str(tmp_path / "crash")})
    assert proc.returncode == 0, proc.stderr
    assert "2 of 2 points stored (2 ok)" in proc.stdout
    manifest = json.loads((out / "sweep_manifest.json").read_text())
    assert manifest["state"] == "complete" and manifest["cli_overrides"] == SMALL[1::2]
    if name == EXAMPLES[0]:                    # the report command recognises the sweep directory
        report = subprocess.run([sys.executable, "-m", "accsim.cli", "report", str(out)], cwd=tmp_path,
                                capture_output=True, text=True, timeout=600)
        assert report.returncode == 0, report.stderr
        assert (out / "report.html").is_file() and "## Pareto front" in (out / "report.md").read_text()
