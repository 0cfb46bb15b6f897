"""MixPE (issue 10): the dequantization-stall kernel, the mixpe_array component and its
baselines, the quantization section of workloads, bad input, and the bit-accurate
functional model against a NumPy dequantize-then-matmul reference."""
from __future__ import annotations

import re

import numpy as np
import pytest

import accsim
from accsim.kernels.mixpe import fold_cycles, simulate_fold, tile_cycles

ARCHS = ["mixpe_int", "mixpe_fp", "mixpe_base_fp16", "mixpe_base_int8", "mixpe_base_w4a16",
         "mixpe_base_bitfusion", "mixpe_base_ant", "mixpe_base_olaccel"]

SMALL = """\
schema_version: 1
name: small-w4
description: one W4 GEMM, group 128
kind: ops
dtypes: {weights: int4, activations: fp16}
quantization:
  group_size: 128
  scale_dtype: fp16
  zero_points: true
ops:
  - name: g
    gemm: {m: 64, n: 256, k: 512}
"""


def write(tmp_path, text, name="w.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# --------------------------------------------------------------------------- kernel


@pytest.mark.timing
def test_closed_form_equals_cycle_by_cycle_pipeline():
    """The fold formula and the cycle-stepped shadow-register / dequantizer pipeline agree
    on random geometries, group sizes, step costs, dequantizer counts and latencies."""
    rng = np.random.default_rng(10)
    for _ in range(400):
        rows, cols = int(rng.integers(1, 80)), int(rng.integers(1, 80))
        k, group = int(rng.integers(1, 700)), int(rng.integers(1, 260))
        num, den = int(rng.integers(1, 9)), int(rng.integers(1, 5))
        units, latency = int(rng.integers(1, 5)), int(rng.integers(0, 9))
        drain = -(-rows // units)
        cycles, stall = fold_cycles(rows, cols, k, num, den, group, drain, latency)
        stepped, stepped_stall, dequantized = simulate_fold(rows, cols, k, num, den, group, units, latency)
        assert (cycles, stall) == (stepped, stepped_stall)
        assert dequantized == rows * -(-k // group)


@pytest.mark.timing
def test_dequant_stall_starts_exactly_when_the_drain_outlasts_a_group():
    """64 rows, one dequantizer per column: a group of 64 one-cycle steps hides the
    64-cycle drain (no stall); a group of 63 stalls one cycle per group boundary."""
    skew = 64 + 64 - 2
    cycles, stall = fold_cycles(64, 64, 4 * 64, 1, 1, 64, 64, 5)
    assert stall == 0 and cycles == skew + 4 * 64 + 64 + 5
    cycles, stall = fold_cycles(64, 64, 4 * 63, 1, 1, 63, 64, 5)
    assert stall == 3 and cycles == skew + 4 * 63 + 3 + 64 + 5
    # two dequantizers per column halve the drain: no stall at 63
    assert fold_cycles(64, 64, 4 * 63, 1, 1, 63, 32, 5)[1] == 0


@pytest.mark.timing
def test_bit_serial_costs_weight_bits_cycles_per_element():
    parallel = fold_cycles(32, 32, 512, 1, 1, 128, 32, 5)[0]
    serial = fold_cycles(32, 32, 512, 4, 1, 128, 32, 5)[0]
    assert serial - parallel == 3 * 512
    cycles, folds, dequants, stalls = tile_cycles(32, 32, np.array([64]), np.array([96]), np.array([300]),
                                                  1, 1, 128, 32, 5)
    assert folds[0] == 2 * 3 and dequants[0] == 64 * 96 * 3
    assert cycles[0] == folds[0] * fold_cycles(32, 32, 300, 1, 1, 128, 32, 5)[0]


# --------------------------------------------------------------------------- component


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("mixpe"), SMALL)
    return {arch: accsim.run(arch, str(path)) for arch in ARCHS}, path


@pytest.mark.unit
def test_every_architecture_runs_and_prices_every_event(small_runs):
    runs, _ = small_runs
    for arch, result in runs.items():
        energy = result.summary["energy"]
        assert not energy.get("unpriced"), (arch, energy.get("unpriced"))
        frame = result.energy
        pe = frame[frame["component"] == "pe"]
        assert pe[pe["event"] == "pe_cycle"]["energy_pj"].sum() > 0, arch
        assert pe[pe["event"] == "leakage"]["energy_pj"].sum() > 0, arch


@pytest.mark.unit
def test_mixpe_counts_one_dequantization_per_output_per_group(small_runs):
    runs, _ = small_runs
    frame = runs["mixpe_int"].energy
    dequants = frame[(frame["component"] == "pe") & (frame["event"] == "dequant_fma")]["count"].sum()
    # at least M x N x K / 128; more only where the mapper cuts a group between K tiles
    assert dequants >= 64 * 256 * 512 / 128
    pe_cycles = frame[(frame["component"] == "pe") & (frame["event"] == "pe_cycle")]["count"].sum()
    assert pe_cycles == 64 * 256 * 512            # bit-parallel: one PE-cycle per MAC


@pytest.mark.unit
def test_iso_area_throughput_ordering(small_runs):
    """PEs x MACs per PE-cycle decide the compute-bound order: MixPE-INT (4096 shift-add
    PEs) < BitFusion (1280 units x 2 W4A8 MACs) < ANT (1024 x 2) < INT8 (1024) < FP16 (896)."""
    runs, _ = small_runs
    seconds = {arch: r.summary["total"]["seconds"] for arch, r in runs.items()}
    order = ["mixpe_int", "mixpe_base_bitfusion", "mixpe_base_ant", "mixpe_base_int8", "mixpe_base_fp16"]
    assert [seconds[a] for a in order] == sorted(seconds[a] for a in order), seconds


@pytest.mark.unit
def test_serial_shift_add_and_scarce_dequantizers_slow_mixpe_down(small_runs):
    runs, path = small_runs
    base = runs["mixpe_int"].summary["total"]["cycles"]
    serial = accsim.run("mixpe_int", str(path), overrides=["components.pe.shift_add=serial"])
    frame = serial.energy
    assert frame[(frame["component"] == "pe") & (frame["event"] == "pe_cycle")]["count"].sum() == 4 * 64 * 256 * 512
    assert serial.summary["total"]["cycles"] > 2.5 * base
    small_groups = accsim.run("mixpe_int", str(path), overrides=["workload.quantization.group_size=32"])
    assert small_groups.summary["total"]["cycles"] > base      # 64-cycle drain vs 32-cycle groups
    two_units = accsim.run("mixpe_int", str(path), overrides=["workload.quantization.group_size=32",
                                                              "components.pe.dequant_units=2"])
    assert two_units.summary["total"]["cycles"] < small_groups.summary["total"]["cycles"]


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    from accsim.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACCSIM_CRASH_DIR", str(tmp_path / "crash"))

    def call(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert not (tmp_path / "crash").exists()
        return code, out, err

    return call


@pytest.mark.unit
def test_group_size_that_does_not_divide_k_is_refused_with_its_line(cli, tmp_path):
    text = SMALL.replace("group_size: 128", "group_size: 96")
    path = write(tmp_path, text)
    code, _, err = cli("run", "mixpe_int", path)
    assert code == 2
    assert re.search(rf"w\.yaml:{line_of(text, 'group_size')}: quantization\.group_size: group size 96 does not "
                     r"divide K = 512", err), err


@pytest.mark.unit
def test_padding_zero_pads_k_to_whole_groups(tmp_path):
    text = SMALL.replace("group_size: 128", "group_size: 96\n  padding: zero")
    result = accsim.run("mixpe_int", str(write(tmp_path, text)))
    frame = result.energy
    pe_cycles = frame[(frame["component"] == "pe") & (frame["event"] == "pe_cycle")]["count"].sum()
    assert pe_cycles == 64 * 256 * 576             # K 512 -> 6 groups of 96


@pytest.mark.unit
def test_weights_wider_than_the_pe_are_refused(cli, tmp_path):
    path = write(tmp_path, SMALL.replace("weights: int4", "weights: int8"))
    code, _, err = cli("run", "mixpe_int", path)
    assert code == 2 and "components.pe.weight_bits" in err and "int8 weights" in err, err
    assert re.search(r"mixpe_int\.yaml:\d+: components\.pe\.weight_bits", err), err


@pytest.mark.unit
def test_floating_point_weights_run_on_the_fallback_or_are_refused(cli, tmp_path):
    from accsim.resolve import resolve

    text = SMALL.replace("weights: int4", "weights: fp16").split("quantization:")[0] + "ops:" + \
        SMALL.split("ops:")[1]
    workload = write(tmp_path, text)
    result = accsim.run("mixpe_int", str(workload))
    frame = result.energy
    assert frame[(frame["component"] == "fp") & (frame["event"] == "pe_cycle")]["count"].sum() == 64 * 256 * 512
    arch = resolve("mixpe_int", "arch").read_text()
    no_fallback = write(tmp_path, "\n".join(line for line in arch.splitlines() if "fallback:" not in line),
                        "arch.yaml")
    code, _, err = cli("run", no_fallback, workload)
    assert code == 2 and "floating-point weights" in err and "components.pe.weight_bits" in err, err


@pytest.mark.unit
def test_quantized_weights_without_scales_are_refused(cli, tmp_path):
    text = SMALL.split("quantization:")[0] + "ops:" + SMALL.split("ops:")[1]
    code, _, err = cli("run", "mixpe_int", write(tmp_path, text))
    assert code == 2
    assert re.search(rf"w\.yaml:{line_of(text, 'dtypes')}: quantization: int4 weights need per-group scales", err), err


@pytest.mark.unit
def test_quantization_needs_integer_weights(cli, tmp_path):
    text = SMALL.replace("weights: int4", "weights: fp16")
    code, _, err = cli("check", write(tmp_path, text))
    assert code == 2 and "dtypes.weights: a quantization section needs integer weights" in err, err


# --------------------------------------------------------------------------- functional model


@pytest.mark.unit
def test_shift_add_equals_multiply_and_serial_equals_parallel():
    from accsim.functional.mixpe import shift_add_mac, shift_add_serial

    for bits in (2, 4, 8):
        for a in (-128, -77, -1, 0, 1, 99, 127):
            for q in range(1 << bits):
                assert shift_add_mac(5, a, q, bits) == 5 + a * q
                assert shift_add_serial(5, a, q, bits) == (5 + a * q, bits)
    with pytest.raises(ValueError):
        shift_add_mac(0, 1, 16, 4)


@pytest.mark.unit
def test_group_gemm_matches_numpy_dequantize_then_matmul_within_the_rounding_bound():
    from accsim.functional.mixpe import as_float, error_bound, fp16_bits, group_gemm_int8, reference_gemm

    rng = np.random.default_rng(2411)
    m, k, n, group = 3, 256, 5, 128
    a = rng.integers(-128, 128, size=(m, k))
    q = rng.integers(0, 16, size=(k, n))
    scales = fp16_bits(rng.uniform(0.002, 0.02, size=(k // group, n)))
    zeros = rng.integers(0, 16, size=(k // group, n))
    y, dequants = group_gemm_int8(a, q, scales, zeros, group)
    assert dequants == m * n * (k // group)
    ref = reference_gemm(a, q, scales, zeros, group)
    got = as_float(y)
    bound = error_bound(a, q, scales, zeros, group, ref)
    assert np.all(np.abs(got - ref) <= bound), (got - ref, bound)
    # the bound is tight enough to catch a wrong zero point
    wrong, _ = group_gemm_int8(a, q, scales, (zeros + 1) % 16, group)
    assert np.any(np.abs(as_float(wrong) - ref) > bound)


# --------------------------------------------------------------------------- modes, map, golden


@pytest.mark.unit
def test_exact_and_reuse_agree(tmp_path):
    path = write(tmp_path, SMALL.replace("gemm: {m: 64, n: 256, k: 512}", "gemm: {m: 64, n: 256, k: 512}\n    count: 3"))
    fast, exact = (accsim.run("mixpe_int", str(path), exact=e) for e in (False, True))
    assert fast.summary["total"]["cycles"] == exact.summary["total"]["cycles"]
    assert fast.summary["energy"]["total_pj"] == pytest.approx(exact.summary["energy"]["total_pj"])


@pytest.mark.unit
def test_accsim_map_explains_a_mixpe_op(cli, tmp_path):
    code, out, err = cli("map", "mixpe_int", write(tmp_path, SMALL), "--op", "g")
    assert code == 0, err
    match = re.search(r"cycle-level simulation of this mapping: ([\d,]+) cycles \(estimate ([-+\d.]+)%\)", out)
    assert match and abs(float(match.group(2))) < 5, out


@pytest.mark.golden
def test_public_simulator_times_with_its_assumptions():
    """With the public MixPE simulator's PE assumptions (bench_mixpe.PUBLIC_OVERRIDES),
    OPT-6.7B times normalised to FP16 land within 0.05 of its results/mixpe_res.csv."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "bench_mixpe", Path(__file__).resolve().parent.parent / "benchmarks" / "bench_mixpe.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    fp16 = accsim.run("mixpe_base_fp16", "opt-6.7b").summary["total"]["seconds"]
    for label in ("MixPE-W4A8", "INT8 (W8A8)", "BitFusion", "ANT"):
        seconds = accsim.run(bench.ARCHS[label], "opt-6.7b",
                             overrides=bench.PUBLIC_OVERRIDES.get(label, [])).summary["total"]["seconds"]
        assert seconds / fp16 == pytest.approx(bench.PUBLIC_TIME[label]["OPT-6.7B"], abs=0.05), label
