"""Reference Verilog of the functional units against accsim.functional, through cocotb."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.rtl


def test_fp16_fma_matches_model(rtl):
    outcome = rtl.run("fma")
    assert outcome["tests"] >= 1 and outcome["failed"] == 0, outcome


def test_pim_dot16_matches_model(rtl):
    outcome = rtl.run("dot16")
    assert outcome["tests"] >= 1 and outcome["failed"] == 0, outcome


def test_systolic_pe_matches_model(rtl):
    outcome = rtl.run("pe")
    assert outcome["tests"] >= 1 and outcome["failed"] == 0, outcome


@pytest.mark.parametrize("design", ["array4", "array8", "array_os4"])
def test_systolic_array_tiles_match_kernel_cycles_and_values(rtl, design):
    outcome = rtl.run(design)
    tiles = next(iter(outcome["report"].values()), [])
    for row in tiles:
        print(f"{design} {row['tile']:>18}: folds {row['folds']:>2}  rtl {row['rtl_cycles']:>4}  "
              f"kernel {row['kernel_cycles']:>4}  values {'ok' if row['values_equal_model'] else 'DIFFER'}")
    assert outcome["failed"] == 0 and len(tiles) >= 8, outcome
    assert any(row["folds"] == 1 for row in tiles) and any(row["folds"] > 1 for row in tiles)
