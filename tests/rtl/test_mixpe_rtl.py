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


def _mutant(tmp_path, file: str, original: str, replacement: str):
    """A copy of rtl/ with one deliberate fault (the harness builds it separately)."""
    import shutil

    from accsim.functional.rtl import rtl_dir

    folder = tmp_path / "rtl"
    shutil.copytree(rtl_dir(), folder)
    text = (folder / file).read_text()
    assert text.count(original) == 1, f"mutation site not unique in {file}: {original!r}"
    (folder / file).write_text(text.replace(original, replacement))
    return folder


def test_zero_point_sign_fault_is_caught(rtl, tmp_path):
    folder = _mutant(tmp_path, "mixpe_dequant.v", "t1 <= psum - correction;", "t1 <= psum + correction;")
    outcome = rtl.run("mixpe_dequant", folder, env={"ACCSIM_TB_VECTORS": "2000"})
    report = outcome["report"]["mixpe_dequant"]
    assert outcome["failed"] == 1 and report["mismatches"] > 0 and report["late"] == 0


def test_dequantizer_one_stage_short_is_caught(rtl, tmp_path):
    """The int-to-half register skipped: right values, one cycle early (the simulator's
    dequant_latency would then be wrong)."""
    folder = _mutant(tmp_path, "mixpe_dequant.v", ".in_valid(v2), .a(s2), .b(t2), .c(y2)",
                     ".in_valid(v1), .a(s1), .b(t_half), .c(y1)")
    outcome = rtl.run("mixpe_dequant", folder, env={"ACCSIM_TB_VECTORS": "2000"})
    report = outcome["report"]["mixpe_dequant"]
    assert outcome["failed"] == 1 and report["late"] > 0
