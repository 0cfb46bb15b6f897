"""MixPE's reference Verilog (shift-add PE, per-group dequantization unit) against
accsim.functional.mixpe through cocotb, and the simulator's dequantizer latency against
the RTL's."""
from __future__ import annotations

import pytest
from conftest import DESIGNS, Design

from accsim.functional.mixpe import MIXPE_TIMING

pytestmark = pytest.mark.rtl


def _register() -> None:
    """The harness's DESIGNS table, extended with MixPE's units (parametrised PE widths)."""
    for bits in (2, 4, 8):
        timing = MIXPE_TIMING["mixpe_pe"]
        DESIGNS.setdefault(f"mixpe_pe{bits}", Design(timing.top, timing.sources, "tb_mixpe_pe",
                                                     (("WBITS", bits),)))
    timing = MIXPE_TIMING["mixpe_dequant"]
    DESIGNS.setdefault("mixpe_dequant", Design(timing.top, timing.sources, "tb_mixpe_dequant"))


_register()


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_mixpe_pe_matches_model(rtl, bits):
    outcome = rtl.run(f"mixpe_pe{bits}", env={"ACCSIM_TB_VECTORS": "5000"})
    report = outcome["report"].get(f"mixpe_pe{bits}", {})
    print(f"mixpe_pe WBITS={bits}: {report}")
    assert outcome["tests"] >= 1 and outcome["failed"] == 0, outcome
    assert report["mismatches"] == 0 and report["largest_sum"] >= 300 * 128 * ((1 << bits) - 1)


def test_mixpe_dequant_matches_model_and_simulator_latency(rtl):
    outcome = rtl.run("mixpe_dequant", env={"ACCSIM_TB_VECTORS": "20000"})
    report = outcome["report"].get("mixpe_dequant", {})
    print(f"mixpe_dequant: {report}")
    assert outcome["tests"] >= 1 and outcome["failed"] == 0, outcome
    # the latency the bench checked is the one mixpe_array uses by default
    from accsim.components.mixpe import MixPeArray

    assert report["latency_cycles"] == MIXPE_TIMING["mixpe_dequant"].latency_cycles
    assert MixPeArray.FIELDS["dequant_latency"].default is None   # None: read from MIXPE_TIMING
