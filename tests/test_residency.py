"""Weights kept on chip between the sub-batches of a layer (accsim.residency)."""
from __future__ import annotations

import pytest

import accsim
from accsim.residency import with_residency
from accsim.workload.lower import lower

pytestmark = pytest.mark.unit
SMALL = ["model.layers=2", "serving.batch_size=8", "serving.prompt_tokens=16", "serving.generate_tokens=3"]


def _ops(sub_batches):
    spec = accsim.load_workload("gpt2", overrides=SMALL)
    return lower(spec, sub_batches)


def test_later_sub_batches_find_the_pool_share_of_the_layer_weights():
    ops = _ops(2)
    layer_bytes = sum(n * k * op.b_bytes for op in ops if op.kind == "gemm" and op.sub_batch == 1
                      and op.layer == 0 and op.phase == "prefill" for _, n, k in op.gemms)
    pool = layer_bytes / 4
    out, summary = with_residency(ops, lambda op: pool)
    shares = {(op.sub_batch, op.kind, op.layer >= 0): op.b_resident for op in out if op.phase == "prefill"}
    assert shares[(1, "gemm", True)] == 0.0                     # the first sub-batch loads them
    assert shares[(2, "gemm", True)] == pytest.approx(0.25, abs=1e-4)
    assert all(op.b_resident == 0 for op in out if op.kind != "gemm")
    assert summary["ops"] == sum(1 for op in out if op.b_resident > 0)


def test_nothing_is_resident_without_sub_batches_or_without_a_pool():
    ops = _ops(1)
    assert with_residency(ops, lambda op: 2**40) == (ops, None)
    ops = _ops(2)
    assert with_residency(ops, lambda op: 0) == (ops, None)


def test_memory_reads_drop_by_exactly_the_weight_bytes_not_reloaded(tmp_path):
    # the same pinned mapping for every GEMM (M innermost: each weight tile is loaded once), so that
    # only the resident weights change the traffic
    rules = tmp_path / "rules.yaml"
    pinned = "    tile: {M: 4, N: 128, K: 128}\n    order: [N, K, M]\n    split: N\n"
    rules.write_text("schema_version: 1\nrules:\n"
                     + "".join(f"  - ops: '{pattern}'\n{pinned}" for pattern in ("*.qkv", "*.proj", "*.ffn_*", "*.lm_head")))
    pooled = accsim.run("neupims", "gpt2", overrides=SMALL, mapping=str(rules))
    # without the pool, with the same room for tiles (16 MiB less the 12 MiB pool)
    plain = accsim.run("neupims", "gpt2", overrides=SMALL + ["arch.components.spad.weight_pool=0",
                                                            "arch.components.spad.capacity=4MiB"],
                       mapping=str(rules))
    saved = pooled.summary["metadata"]["weight_residency"]["weight_bytes_not_reloaded"]
    assert plain.summary["metadata"]["weight_residency"] is None and saved > 0
    read = {name: run.summary["memory_levels"]["hbm"]["bytes_read"] for name, run in
            (("pooled", pooled), ("plain", plain))}
    assert read["plain"] - read["pooled"] == pytest.approx(saved, rel=1e-6)


def test_a_pool_that_leaves_no_room_for_tiles_is_a_config_error():
    from accsim.errors import ConfigError

    with pytest.raises(ConfigError, match="weight_pool"):
        accsim.load_arch("neupims", overrides=["components.spad.weight_pool=16MiB"])
