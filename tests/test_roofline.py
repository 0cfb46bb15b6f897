"""The analytical roofline component (GPU baseline) on hand-computed examples."""
from __future__ import annotations

import math

import pytest

import accsim
from accsim.arch import parse_arch
from accsim.clock import TICKS_PER_SECOND
from accsim.errors import ConfigError
from accsim.system import System
from accsim.workload.ops import Op
from accsim.yamlio import load

pytestmark = pytest.mark.unit

# Round numbers so that every expectation below is computed by hand.
ARCH = """\
# test architecture (numbers chosen for hand computation)
schema_version: 1
name: roof
description: roofline test
clock: 1 GHz
components:
  hbm: {type: ideal_memory, bandwidth: 1 TB/s, latency: 0 ns, capacity: 1 GiB}
  gpu: {type: roofline, peak_tflops: 100, vector_tflops: 10, memory: hbm}
"""


@pytest.fixture
def system(tmp_path):
    path = tmp_path / "roof.yaml"
    path.write_text(ARCH)
    return System(parse_arch(load(path)))


def _op(kind, **shape):
    return Op(0, "x", kind, "ops", -1, 0, (), **shape)


def _seconds(cost):
    return cost.ticks / TICKS_PER_SECOND


def test_large_gemm_is_compute_bound(system):
    # 4096^3 GEMM: 2 x 4096^3 = 137.4 GFLOP -> 1.374 ms at 100 TFLOP/s;
    # bytes 3 x 4096^2 x 2 = 100.7 MB -> 0.1007 ms at 1 TB/s
    op = _op("gemm", gemms=((4096, 4096, 4096),))
    cost = system.components["gpu"].execute(op, system)
    assert _seconds(cost) == pytest.approx(2 * 4096 ** 3 / 100e12, rel=1e-9)
    assert cost.detail["bound"] == "compute"
    assert cost.bytes_read["hbm"] == 2 * 4096 * 4096 * 2 and cost.bytes_written["hbm"] == 4096 * 4096 * 2


def test_gemv_is_memory_bound(system):
    # decode-like: m = 1, n = k = 8192: bytes = (8192 + 8192^2 + 8192) x 2
    op = _op("gemm", gemms=((1, 8192, 8192),))
    cost = system.components["gpu"].execute(op, system)
    nbytes = (8192 + 8192 * 8192 + 8192) * 2
    assert _seconds(cost) == pytest.approx(nbytes / 1e12, rel=1e-9)
    assert cost.detail["bound"] == "memory"


def test_attention_reads_each_kv_once_per_gemm(system):
    # two requests x one head: (q=1, ctx=100, dh=64) with fp16 operands and an 8-bit KV cache
    op = _op("attention", gemms=((1, 100, 64), (1, 300, 64)), a_bytes=2.0, b_bytes=1.0, c_bytes=2.0, group=1)
    read, written = system.components["gpu"].op_bytes(op)
    assert read == (64 * 2 + 64 * 100) + (64 * 2 + 64 * 300)
    assert written == (100 + 300) * 2


def test_vector_op_uses_vector_peak_and_operand_counts(system):
    # add: two inputs, one output; 1e6 elements fp16 = 6 MB -> 6 us at 1 TB/s (1 FLOP each: 0.1 us)
    op = _op("add", elements=1_000_000)
    cost = system.components["gpu"].execute(op, system)
    assert _seconds(cost) == pytest.approx(6e6 / 1e12, rel=1e-9)
    # softmax: 5 FLOP per element at 10 TFLOP/s vs 4 bytes per element at 1 TB/s: memory bound
    soft = system.components["gpu"].execute(_op("softmax", elements=1_000_000), system)
    assert _seconds(soft) == pytest.approx(max(5e6 / 10e12, 4e6 / 1e12), rel=1e-9)


def test_roofline_needs_a_memory_with_a_bandwidth(tmp_path):
    text = ARCH.replace("memory: hbm}", "memory: hbm2}") + \
        "  hbm2: {type: dram, preset: hbm2, channels: 1}\n"
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        parse_arch(load(path))
    assert any(p.path == "components.gpu.memory" for p in caught.value.problems)


def test_bundled_a100_runs_a_small_llm():
    result = accsim.run("gpu_a100", "gpt2", overrides=["model.layers=1", "serving.batch_size=2",
                                                      "serving.prompt_tokens=4", "serving.generate_tokens=2"])
    ops = result.ops
    assert set(ops["unit"]) == {"gpu"}
    # every op is at least as long as its memory traffic at 1.555 TB/s (the roofline's floor)
    moved = ops["bytes_read"] + ops["bytes_written"]
    assert (ops["seconds"] >= moved / 1555e9 * (1 - 1e-9)).all()
    assert math.isclose(result.summary["total"]["seconds"], ops["seconds"].sum(), rel_tol=1e-9)
