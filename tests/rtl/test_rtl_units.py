"""Reference Verilog of the functional units against accsim.functional, through cocotb."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.rtl


def test_fp16_fma_matches_model(rtl):
    outcome = rtl.run("fma")
    assert outcome["tests"] >= 1 and outcome["failed"] == 0, outcome
