import json

import pytest

import accsim
from accsim.errors import CapacityError

pytestmark = pytest.mark.golden


def test_exact_and_fast_agree(tiny_llm):
    fast = accsim.run("npu", tiny_llm)
    exact = accsim.run("npu", tiny_llm, exact=True)
    assert fast.summary["metadata"]["shortcuts"]["identical_op_reuse"]["simulated"] < len(fast.ops)
    assert exact.summary["metadata"]["shortcuts"] == {}
    assert fast.summary["total"] == exact.summary["total"]
    assert fast.ops["cycles"].tolist() == exact.ops["cycles"].tolist()


def test_summary_is_consistent(tiny_llm):
    result = accsim.run("npu", tiny_llm)
    s = result.summary
    phases = s["phases"]
    assert set(phases) == {"prefill", "decode"} and phases["decode"]["steps"] == 3
    assert phases["prefill"]["seconds"] + phases["decode"]["seconds"] == pytest.approx(s["total"]["seconds"])
    assert s["tokens"]["generated"] == 12
    assert s["tokens"]["per_second"] == pytest.approx(12 / s["total"]["seconds"])
    assert all(0 < c["utilization"] <= 1 for c in s["components"].values() if "utilization" in c)
    assert 0 < s["components"]["spad"]["peak_occupancy"] <= 1
    # every byte the arrays and vector units load comes from the memory
    assert s["memory_levels"]["hbm"]["bytes_read"] == pytest.approx(result.ops["bytes_read"].sum())
    json.loads(result.to_json())


def test_more_bandwidth_is_never_slower(tiny_llm):
    slow = accsim.run("npu_ideal", tiny_llm, overrides=["components.hbm.bandwidth=256 GB/s"])
    fast = accsim.run("npu_ideal", tiny_llm, overrides=["components.hbm.bandwidth=4 TB/s"])
    assert fast.total_seconds < slow.total_seconds


def test_capacity_error_names_tensors(tiny_llm):
    with pytest.raises(CapacityError, match=r"KV cache .* but hbm hold"):
        accsim.run("npu_ideal", tiny_llm, overrides=["components.hbm.capacity=1 MiB"])


def test_save_writes_both_files(tmp_path, tiny_llm):
    result = accsim.run("npu", tiny_llm)
    result.save(tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert saved["total"] == result.summary["total"]
    assert (tmp_path / "out" / "ops.csv").read_text().count("\n") == len(result.ops) + 1
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


@pytest.mark.timing
def test_vector_op_cycles_follow_passes_reductions_and_latency(tmp_path):
    """One softmax chunk of 1000 elements on one 128-lane unit with memory that costs
    nothing: 3 sweeps x 8 + 2 reductions x log2(128) + latency."""
    from accsim import load_arch
    from accsim.system import System
    from accsim.workload.ops import Op

    arch = load_arch("npu_ideal", ("components.vu.count=1", "components.vu.latency_cycles={softmax: 5}",
                             "components.hbm.bandwidth=1000 PB/s", "components.hbm.latency=0 ns"))
    system = System(arch)
    op = Op(0, "s", "softmax", "ops", -1, 0, (), elements=1000)
    cost = system.executor(op).execute(op, system)
    assert cost.detail["compute_cycles"] == 3 * 8 + 2 * 7 + 5
    assert cost.busy_ticks["vu"] == (3 * 8 + 2 * 7 + 5) * 1000   # 1 GHz: 1000 ps per cycle


# architectures whose units take only low-bit / quantized operands run a workload of their family
FAMILY_WORKLOAD = {"a100_int8": "bitnet-3b", "lut_": "bitnet-3b", "h100_lut": "bitnet-3b", "a100_lut": "bitnet-3b",
                   "mixpe": "llama2-13b"}


def _bundled_pairs():
    """Every bundled architecture runs once (the main job, shortened; a microbenchmark-sized
    memory runs gemm-256) and every bundled workload runs once (LLMs on npu, op lists on
    sa32): archs + workloads runs, not their product. Families with their own workloads
    (MixPE, LUT Tensor Core, NeuPIMs) are paired with them in their own tests."""
    from accsim.resolve import bundled_names
    from accsim.system import System

    pairs = set()
    for arch in bundled_names("arch"):
        family = next((w for prefix, w in FAMILY_WORKLOAD.items() if arch.startswith(prefix)), None)
        memory = sum(m.capacity_bytes for m in System(accsim.load_arch(arch)).memories)
        pairs.add((arch, family or ("gpt2" if memory >= 4 * 2**30 else "gemm-256")))
    for workload in bundled_names("workload"):
        pairs.add(("npu" if accsim.load_workload(workload).kind == "llm" else "sa32", workload))
    return sorted(pairs)


@pytest.mark.golden
@pytest.mark.parametrize("arch, workload", _bundled_pairs())
def test_bundled_examples_run(arch, workload):
    """Bundled architectures run the bundled workloads (LLMs shortened to 3 tokens, 2 layers)."""
    spec = accsim.load_workload(workload)
    overrides = ["serving.generate_tokens=3", "model.layers=2"] if spec.kind == "llm" else []
    if spec.kind == "llm" and spec.pipeline_parallel > 1:
        overrides[-1] = f"model.layers={2 * spec.pipeline_parallel}"
    if spec.kind == "llm" and (spec.skip_iterations or spec.max_iterations):
        # serving windows (docs/serving.md): a short window of a small continuous batch
        overrides += ["serving.skip_iterations=2", "serving.max_iterations=2", "serving.batch_size=4",
                      "serving.requests=8"]
    if spec.kind == "llm" and any(c.type == "dram" for c in accsim.load_arch(arch).components):
        # cycle-level DRAM times every 64-byte request: shrink the model, keep its structure
        overrides += ["model.d_model=256", "model.ffn=512", "model.vocab=1024", "serving.prompt_tokens=8",
                      f"model.d_head={256 // spec.model.heads}"]
    result = accsim.run(arch, workload, overrides=overrides)
    assert result.total_seconds > 0
    assert (result.ops["cycles"] > 0).all()


@pytest.mark.unit
@pytest.mark.parametrize("model", list(__import__("accsim").workload.spec._library()))
def test_every_library_model_lowers(model, tmp_path):
    from accsim.workload.lower import lower

    path = tmp_path / "m.yaml"
    path.write_text("schema_version: 1\nname: m\ndescription: d\nkind: llm\n"
                    f"model: {{base: {model}}}\nserving: {{batch_size: 2, prompt_tokens: 4, generate_tokens: 2}}\n")
    ops = lower(accsim.load_workload(str(path)))
    assert sum(op.kind == "gemm" for op in ops) > 0


@pytest.mark.golden
def test_exact_and_fast_agree_on_cycle_level_dram(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("schema_version: 1\nname: small\ndescription: d\nkind: llm\n"
                    "model: {layers: 2, d_model: 128, heads: 4, ffn: 512, ffn_kind: gelu, vocab: 512, context: 64,"
                    " norm: layernorm}\nserving: {batch_size: 2, prompt_tokens: 8, generate_tokens: 3}\n")
    fast = accsim.run("npu", str(path))
    exact = accsim.run("npu", str(path), exact=True)
    assert fast.summary["total"] == exact.summary["total"]
    ideal = accsim.run("npu_ideal", str(path))
    # the same work on cycle-level HBM2 cannot beat the ideal memory of the same peak bandwidth
    assert fast.total_seconds >= ideal.total_seconds * 0.999


@pytest.mark.golden
@pytest.mark.parametrize("arch, workload", [("lut_tensor_core", "lut-kernel"), ("a100_fp16_tc", "gemm-fp16-small")])
def test_tensor_core_traffic_runs_through_cycle_level_dram(arch, workload, tmp_path):
    """The GPU tensor-core models' HBM traffic (and the LUT table precompute) is played through
    the DRAM controller when the memory is cycle-level: its commands are counted, and it is
    never faster than an ideal memory of the same peak with no latency."""
    base = accsim.load_arch(arch)
    memory = next(c.name for c in base.components if c.type == "ideal_memory")
    dma = next(c.name for c in base.components if c.type == "dma")
    on_dram = tmp_path / "dram.yaml"
    on_dram.write_text(f"schema_version: 1\nextends: {base.path}\nname: on-dram\ncomponents:\n"
                       f"  {memory}: ~\n  {dma}: {{memory: dram}}\n  dram: {{type: dram, preset: hbm2e, channels: 32}}\n")
    ideal = tmp_path / "ideal.yaml"     # hbm2e: 32 channels x 51.2 GB/s (configs/dram/hbm2e.yaml)
    ideal.write_text(f"schema_version: 1\nextends: {base.path}\nname: ideal\ncomponents:\n"
                     f"  {memory}: {{bandwidth: 1638.4 GB/s, latency: 0 ns}}\n")
    dram_run = accsim.run(str(on_dram), workload)
    ideal_run = accsim.run(str(ideal), workload)
    dram = dram_run.summary["components"]["dram"]
    assert dram["commands"]["RD"] > 0 and dram["commands"]["WR"] > 0 and dram["commands"]["ACT"] > 0
    assert dram["row_hits"] + dram["row_misses"] + dram["row_conflicts"] == dram["commands"]["RD"] + dram["commands"]["WR"]
    assert dram_run.total_seconds >= ideal_run.total_seconds * 0.999


@pytest.mark.golden
def test_analytical_dram_model_is_the_ideal_memory_of_its_preset(tmp_path):
    """`model: analytical` turns a DRAM into the ideal memory of its preset's peak bandwidth and
    idle row-miss latency (HBM2 x 32: 1,024 GB/s, tRCD + CL + burst = 30 ns): same times,
    same per-bit memory energy, and no DRAM commands counted."""
    path = tmp_path / "small.yaml"
    path.write_text("schema_version: 1\nname: small\ndescription: d\nkind: llm\n"
                    "model: {layers: 2, d_model: 128, heads: 4, ffn: 512, ffn_kind: gelu, vocab: 512, context: 64,"
                    " norm: layernorm}\nserving: {batch_size: 2, prompt_tokens: 8, generate_tokens: 3}\n")
    analytical = accsim.run("npu", str(path), overrides=["components.hbm.model=analytical"])
    ideal = accsim.run("npu_ideal", str(path), overrides=["components.hbm.latency=30 ns"])
    assert analytical.summary["total"]["cycles"] == ideal.summary["total"]["cycles"]
    assert "commands" not in analytical.summary["components"]["hbm"]
    by_component = (analytical.summary["energy"]["by_component"], ideal.summary["energy"]["by_component"])
    assert by_component[0]["hbm"] == pytest.approx(by_component[1]["hbm"], rel=1e-9)
    command_level = accsim.run("npu", str(path))
    assert command_level.summary["components"]["hbm"]["commands"]["ACT"] > 0
