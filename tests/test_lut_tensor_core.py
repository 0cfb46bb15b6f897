"""LUT Tensor Core: cycle kernel vs closed form, mapper sums, host model, bad input."""
from __future__ import annotations

import numpy as np
import pytest

import accsim
from accsim.cli import main
from accsim.functional.lut import LUT_TIMING
from accsim.kernels.lut import simulate_tile, tile_cycles

ARCH = "arch/lut_tensor_core.yaml"


def _ops_workload(tmp_path, m, n, k, weights="int2", activations="int8", name="w"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""schema_version: 1
name: {name}
description: one mpGEMM
kind: ops
dtypes: {{weights: {weights}, activations: {activations}}}
ops:
  - name: g
    gemm: {{m: {m}, n: {n}, k: {k}}}
""")
    return str(path)


@pytest.mark.timing
def test_event_kernel_equals_closed_form_on_random_tiles():
    rng = np.random.default_rng(5)
    for _ in range(300):
        m, n, k = (int(x) for x in rng.integers(1, 300, 3))
        bits, depth, arrays = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 20))
        cycles, beats, idle = simulate_tile(m, n, k, 2, 64, 4, bits, depth, arrays)
        assert cycles == tile_cycles(m, n, k, 2, 64, 4, bits, depth, arrays)
        lmmas = -(-m // 2) * -(-n // 64) * -(-k // 4)
        assert beats == lmmas * bits


@pytest.mark.timing
def test_bit_planes_stream_back_to_back_and_the_pipeline_drains_once():
    """W = 2, depth 2, one array: one LMMA is 2 beats + 1 drain cycle; a chain of two (K = 8)
    accumulates in place: 4 beats + 1; two blocks on two arrays run side by side."""
    assert simulate_tile(2, 64, 4, 2, 64, 4, 2, 2, 1) == (3, 2, 0)
    assert simulate_tile(2, 64, 8, 2, 64, 4, 2, 2, 1) == (5, 4, 0)
    assert simulate_tile(2, 128, 8, 2, 64, 4, 2, 2, 2) == (5, 8, 0)
    assert simulate_tile(2, 192, 8, 2, 64, 4, 2, 2, 2) == (9, 12, 4)      # 3 blocks on 2 arrays: one idles


@pytest.mark.unit
def test_pipeline_depth_default_is_the_rtl_latency():
    from accsim.components.lut_tensor_core import LutTensorCore

    assert LutTensorCore.FIELDS["pipeline_depth"].default == LUT_TIMING.latency_cycles == 2
    assert LUT_TIMING.initiation_interval == 1


@pytest.mark.unit
def test_the_mapper_sums_the_lut_tile_cycles_exactly():
    from accsim.mapping import evaluate_mapping, gemm, lower, search
    from accsim.system import System
    from accsim.workload.ops import Op

    system = System(accsim.load_arch(ARCH))
    lut = system.components["lut"]
    op = Op(0, "g", "gemm", "ops", -1, 0, (), gemms=((300, 1000, 700),), a_bytes=1.0, b_bytes=0.25, c_bytes=1.0)
    hier = lut.hierarchy(op)
    problem = gemm(300, 1000, 700, *lut.operand_bytes(op))
    mapping = search(problem, hier, "latency").best.mapping
    schedule = lower(problem, hier, mapping)
    simulated = lut.simulate_tiles(schedule.m, schedule.n, schedule.k, op)
    # the cost model's compute is the total times the busiest SM's share of the split slices
    slices = -(-problem.bounds[mapping.split] // mapping.tile(1)[mapping.split]) if mapping.split else 1
    share = -(-slices // 108) / slices if mapping.split else 1.0
    assert evaluate_mapping(problem, hier, mapping).compute_cycles[0] == pytest.approx(simulated.sum() * share)


@pytest.mark.unit
def test_bit_serial_weights_cost_their_width(tmp_path):
    """A compute-bound mpGEMM: 4-bit weights take about twice the cycles of 2-bit ones,
    1-bit half; never faster than the arrays' peak."""
    seconds = {}
    for bits, dtype in ((1, "int1"), (2, "int2"), (4, "int4")):
        result = accsim.run(ARCH, _ops_workload(tmp_path, 2048, 4096, 4096, dtype, name=f"w{bits}"))
        seconds[bits] = result.summary["total"]["seconds"]
        peak = 108 * 16 * 2 * 64 * 4 / bits * 1.41e9        # MACs per second of 108 SMs x 16 arrays
        assert seconds[bits] >= 2048 * 4096 * 4096 / peak
    assert 1.6 < seconds[4] / seconds[2] < 2.2
    assert 1.3 < seconds[2] / seconds[1] < 2.2


@pytest.mark.unit
def test_lut_area_and_energy_come_from_the_technology_table():
    """Per SM the LUT arrays are smaller than the FP16 MAC tensor cores; changing the node
    scales both (nothing typed in)."""
    from accsim.components.lut_energy import TensorCoreEstimator
    from accsim.energy import technology
    from accsim.system import System

    def areas(node):
        tech = technology({"table": "horowitz45", "node_nm": node})
        lut_sys, mac_sys = System(accsim.load_arch(ARCH)), System(accsim.load_arch("arch/a100_fp16_tc.yaml"))
        est = TensorCoreEstimator(tech, lut_sys)
        return (est.area(lut_sys.components["lut"]).total_mm2 / 108,
                TensorCoreEstimator(tech, mac_sys).area(mac_sys.components["tc"]).total_mm2 / 108)

    lut7, mac7 = areas(7)
    lut45, mac45 = areas(45)
    assert 0 < lut7 < mac7
    assert lut45 / lut7 == pytest.approx(mac45 / mac7) and lut45 > lut7


STRICT = ["--set", "components.lut.fallback="]     # no MAC tensor core to fall back on


@pytest.mark.cli
@pytest.mark.parametrize("overrides, reason", [
    (STRICT + ["--set", "workload.dtypes.weights=int8"], "8-bit weights; the LUT unit 'lut' takes 1-4 bit weights"),
    (STRICT + ["--set", "workload.dtypes.weights=fp16"], "16-bit weights"),
    (STRICT + ["--set", "workload.dtypes.activations=fp16"], "takes int8 activations"),
    (["--set", "components.lut.activations=int4"], "cannot take 'int4' activations"),
    (["--set", "components.lut.register_file=4 KiB"], "the tables do not fit the register file"),
])
def test_bad_input_exits_2_with_the_reason(tmp_path, capsys, overrides, reason):
    code = main(["run", ARCH, _ops_workload(tmp_path, 64, 256, 256), *overrides])
    assert code == 2
    assert reason in capsys.readouterr().err


@pytest.mark.unit
def test_gemms_the_lut_unit_cannot_take_fall_back_to_the_mac_tensor_cores():
    from accsim.system import System
    from accsim.workload.ops import Op

    system = System(accsim.load_arch(ARCH))
    wide = Op(0, "g", "gemm", "ops", -1, 0, (), gemms=((64, 256, 256),), a_bytes=2.0, b_bytes=2.0, c_bytes=2.0)
    cost = system.executor(wide).execute(wide, system)
    assert cost.detail["fallback"].startswith("tc: g: 16-bit weights")
    assert ("tc", "mac_fp16") in cost.events and "lmmas" not in cost.detail
    low = Op(0, "g", "gemm", "ops", -1, 0, (), gemms=((64, 256, 256),), a_bytes=1.0, b_bytes=0.25, c_bytes=1.0)
    assert system.executor(low).execute(low, system).detail["lmmas"] >= 32 * 4 * 64   # + padded edge tiles


@pytest.mark.cli
def test_the_kernel_workload_runs_on_every_configuration(capsys):
    """The paper's kernel shape on the LUT unit and on the MAC baselines; the LUT-4X unit
    beats the INT8 tensor core, which beats FP16 with dequantization."""
    times = {}
    for arch in ("lut_tensor_core", "a100_int8_tc", "a100_fp16_tc"):
        over = ["workload.dtypes.activations=fp16"] if arch == "a100_fp16_tc" else []
        times[arch] = accsim.run(f"arch/{arch}.yaml", "workloads/lut-kernel.yaml", overrides=over).summary["total"]["seconds"]
    assert times["lut_tensor_core"] < times["a100_int8_tc"] < times["a100_fp16_tc"]


@pytest.mark.unit
def test_table_precompute_fused_costs_less_than_a_separate_pass():
    """Both count 14 vector adds per table of 4 activations; the separate pass also reads
    the activations and writes the tables, before the GEMM."""
    from accsim.system import System
    from accsim.workload.ops import Op

    op = Op(0, "g", "gemm", "ops", -1, 0, (), gemms=((512, 1024, 2048),), a_bytes=1.0, b_bytes=0.25, c_bytes=1.0)
    costs = {}
    for mode in ("fused", "separate"):
        system = System(accsim.load_arch(ARCH, (f"components.lut.precompute={mode}",)))
        costs[mode] = system.executor(op).execute(op, system)
        assert costs[mode].events[("vu", "add_int16")] == 512 * (2048 // 4) * 14
    fused, separate = costs["fused"], costs["separate"]
    assert 0 < fused.detail["precompute_ticks"] < separate.detail["precompute_ticks"]
    assert separate.ticks - separate.detail["precompute_ticks"] == fused.ticks - fused.detail["precompute_ticks"]
    # separate: the activations read (1 byte each) and the tables written (8 x 2 bytes per 4)
    assert separate.bytes_read["hbm"] - fused.bytes_read["hbm"] == 512 * 2048
    assert separate.bytes_written["hbm"] - fused.bytes_written["hbm"] == 512 * 2048 * 4 - (512 * 2048 * 3)


@pytest.mark.unit
def test_bitnet_runs_end_to_end_with_weight_gemms_on_the_lut_units():
    """Prefill and decode, exact and fast modes agree; weight GEMMs on the LUT units,
    attention on the MAC tensor cores; both priced by the tensor-core estimator."""
    over = ["serving.generate_tokens=3", "model.layers=2", "serving.prompt_tokens=64"]
    fast = accsim.run(ARCH, "workloads/bitnet-3b.yaml", overrides=over)
    exact = accsim.run(ARCH, "workloads/bitnet-3b.yaml", overrides=over, exact=True)
    assert fast.summary["total"] == exact.summary["total"]
    ops = fast.ops
    assert set(ops[ops["kind"] == "gemm"]["unit"]) == {"lut"}
    assert set(ops[ops["kind"].isin(["attention", "matmul"])]["unit"]) == {"tc"}
    assert set(fast.summary["phases"]) == {"prefill", "decode"}
    energy = fast.energy
    lut = energy[(energy["component"] == "lut") & (energy["event"] != "leakage")]
    assert set(lut["event"]) == {"table_lookup", "add_int32", "register_read_bytes"}
    assert (lut["estimator"] == "tensor_core").all() and (lut["energy_pj"] > 0).all()


@pytest.mark.unit
def test_an_int8_tensor_core_runs_fp16_operands_at_its_fp16_rate(tmp_path):
    int8 = accsim.run("arch/a100_int8_tc.yaml", _ops_workload(tmp_path, 2048, 4096, 4096, "int8", "int8", "i8"))
    fp16 = accsim.run("arch/a100_int8_tc.yaml", _ops_workload(tmp_path, 2048, 4096, 4096, "fp16", "fp16", "f16"))
    assert 1.6 < fp16.total_seconds / int8.total_seconds < 2.2          # 256 vs 512 MAC/clk per unit
    strict = main(["run", "arch/a100_int8_tc.yaml", _ops_workload(tmp_path, 64, 64, 64, "fp16", "fp16", "s"),
                   "--set", "components.tc.wide_macs_per_cycle=0"])
    assert strict == 2
