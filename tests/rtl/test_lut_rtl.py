"""rtl/lut_dot.v (LUT Tensor Core dot-product columns) against accsim.functional.lut and the
LUT cycle kernel, through the harness of tests/rtl/conftest.py."""
from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.rtl


def _register(rtl, name: str, rows: int, cols: int) -> str:
    """Add the design to the harness's table (conftest.DESIGNS) without editing it."""
    harness = sys.modules[type(rtl).__module__]
    harness.DESIGNS.setdefault(name, harness.Design("lut_dot", ("lut_dot.v",), "tb_lut_dot",
                                                    (("M", rows), ("N", cols))))
    return name


@pytest.mark.parametrize("rows, cols", [(2, 16)])
def test_lut_dot_matches_model_and_kernel_cycles(rtl, rows, cols):
    outcome = rtl.run(_register(rtl, f"lut_dot_m{rows}n{cols}", rows, cols))
    report = outcome["report"].get("lut_dot", {})
    print(f"lut_dot M{rows} N{cols}: {report.get('lmmas')} LMMAs in {report.get('chains')} chains, "
          f"{report.get('beats')} bit-planes, value mismatches {report.get('mismatches')}, "
          f"chains off the kernel's cycles {report.get('cycle_mismatches')}")
    assert outcome["tests"] >= 1 and outcome["failed"] == 0, outcome
    assert report["lmmas"] >= 300 and report["mismatches"] == 0 and report["cycle_mismatches"] == 0
    assert {row["weight_bits"] for row in report["cycle_rows"]} == {1, 2, 3, 4}


def test_the_bench_catches_a_wrong_sign_flip(rtl, tmp_path):
    """A mutant that negates on bit 0 = 1 instead of 0 must fail the bench (the bench can fail)."""
    from accsim.functional.rtl import rtl_file

    text = rtl_file("lut_dot.v").read_text()
    assert "idx[0] ? wide : -wide" in text
    source = tmp_path / "mutant"
    source.mkdir()
    (source / "lut_dot.v").write_text(text.replace("idx[0] ? wide : -wide", "idx[0] ? -wide : wide"))
    outcome = rtl.run(_register(rtl, "lut_dot_m2n4", 2, 4), source_dir=source)
    assert outcome["failed"] >= 1
