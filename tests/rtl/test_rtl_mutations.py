"""Proof the RTL checks bite: a copy of rtl/ with one deliberate fault, made in a tmp dir,
must fail the same cocotb bench that the real RTL passes, for the reason injected."""
from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.rtl


def mutant(rtl, rtl_dir, file: str, original: str, replacement: str):
    folder = rtl.scratch("mutant") / "rtl"
    shutil.copytree(rtl_dir, folder)
    text = (folder / file).read_text()
    assert text.count(original) == 1, f"mutation site not unique in {file}: {original!r}"
    (folder / file).write_text(text.replace(original, replacement))
    return folder


@pytest.fixture
def rtl_dir():
    from accsim.functional.rtl import rtl_dir

    return rtl_dir()


def test_rounding_ties_away_instead_of_to_even_is_caught(rtl, rtl_dir):
    folder = mutant(rtl, rtl_dir, "fp16_round.v", "round_bit & (sticky | kept[0])", "round_bit")
    outcome = rtl.run("fma", folder, env={"ACCSIM_TB_VECTORS": "4000"})
    report = outcome["report"]["fp16_fma"]
    assert outcome["failed"] == 1
    assert report["mismatches"] > 0 and report["late"] == 0      # wrong values, right timing


def test_dropped_pipeline_register_is_caught(rtl, rtl_dir):
    """Stage 3 of the FMA made combinational: the values are right, one cycle early."""
    folder = mutant(rtl, rtl_dir, "fp16_fma.v",
                    "    assign out_valid = s3_valid;\n    assign y = s3_y;",
                    "    assign out_valid = s2_valid;\n    assign y = rounded;")
    outcome = rtl.run("fma", folder, env={"ACCSIM_TB_VECTORS": "4000"})
    report = outcome["report"]["fp16_fma"]
    assert outcome["failed"] == 1 and report["late"] > 0


def test_array_loading_one_cycle_longer_is_caught(rtl, rtl_dir):
    """A weight load phase of ROWS + 1 cycles: same matrix, one cycle more per fold."""
    folder = mutant(rtl, rtl_dir, "systolic_array_ws.v",
                    "LOAD: if (t == R_AW - ONE) begin", "LOAD: if (t == R_AW) begin")
    outcome = rtl.run("array4", folder, env={"ACCSIM_TB_SHAPES": "[[4, 4, 4], [5, 9, 9], [3, 5, 6], [7, 9, 9]]"})
    tiles = outcome["report"]["systolic_array_ws_4x4"]
    assert outcome["failed"] == 1
    assert all(row["rtl_cycles"] == row["kernel_cycles"] + row["folds"] for row in tiles)
