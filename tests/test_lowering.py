import pytest

from accsim import load_workload
from accsim.workload.lower import lower, resident_tensors

pytestmark = pytest.mark.unit


def _ops(tmp_path, text):
    path = tmp_path / "w.yaml"
    path.write_text(text)
    spec = load_workload(str(path))
    return spec, lower(spec)


BASE = "schema_version: 1\nname: w\ndescription: d\nkind: llm\n"


def test_gpt2_op_counts_and_shapes():
    spec = load_workload("gpt2")
    ops = lower(spec)
    per_layer = 13
    per_pass = 12 * per_layer + 2          # + final norm + lm_head
    assert len(ops) == 128 * per_pass      # prefill + 127 decode steps (prefill emits token 1)
    by_name = {op.name: op for op in ops}
    assert by_name["prefill.L0.qkv"].gemms == ((32 * 128, 3 * 768, 768),)
    assert by_name["prefill.lm_head"].gemms == ((32, 50257, 768),)
    assert by_name["decode1.L5.ffn_up"].gemms == ((32, 3072, 768),)
    # decode step s: every request has prompt + s tokens of context
    assert by_name["decode7.L0.attn_score"].gemms == ((1, 135, 64),) * (32 * 12)
    assert by_name["decode7.L0.attn_value"].gemms == ((1, 64, 135),) * (32 * 12)
    assert by_name["decode127.L11.residual2"].deps == (by_name["decode127.L11.ffn_down"].index,
                                                        by_name["decode127.L11.residual1"].index)


def test_gqa_stacks_query_heads_and_tp_shards(tmp_path):
    spec, ops = _ops(tmp_path, BASE + "model: {base: llama2-70b, layers: 2}\n"
                     "serving: {batch_size: 2, prompt_tokens: 4, generate_tokens: 2}\n"
                     "parallel: {tensor: 4}\n")
    by_name = {op.name: op for op in ops}
    # 64 heads / 4 = 16 local heads over 8 / 4 = 2 KV heads: 8 query heads per KV head
    assert by_name["decode1.L0.attn_score"].gemms == ((8, 5, 128),) * (2 * 2)
    assert by_name["prefill.L0.qkv"].gemms == ((8, (16 + 2 * 2) * 128, 8192),)
    assert by_name["prefill.L0.ffn_up"].gemms == ((8, 2 * 28672 // 4, 8192),)   # gate + up fused
    assert by_name["prefill.L0.silu_mul"].kind == "silu_mul"
    assert by_name["prefill.L0.norm1"].kind == "rmsnorm"


def test_variable_lengths_retire_requests(tmp_path):
    spec, ops = _ops(tmp_path, BASE + "model: {base: gpt2-small, layers: 1}\n"
                     "serving: {batch_size: 16, seed: 5, prompt_tokens: {distribution: uniform, min: 4, max: 40},"
                     " generate_tokens: {distribution: normal, mean: 10, std: 4, min: 2, max: 20}}\n")
    assert len(set(spec.prompt_tokens)) > 1 and min(spec.generate_tokens) >= 2
    again = load_workload(spec.path)
    assert again.prompt_tokens == spec.prompt_tokens            # seeded: reproducible
    lm_heads = [op for op in ops if op.name.endswith("lm_head")]
    for op in lm_heads[1:]:
        step = op.step
        assert op.gemms[0][0] == sum(1 for g in spec.generate_tokens if g > step)
    assert len(lm_heads) == max(spec.generate_tokens)


def test_resident_tensors_count_weights_and_kv():
    spec = load_workload("gpt2")
    sizes = dict(resident_tensors(spec))
    weights = next(v for k, v in sizes.items() if k.startswith("weights"))
    assert weights == 12 * (768 * 2304 + 768 * 768 + 2 * 768 * 3072) * 2
    kv = next(v for k, v in sizes.items() if k.startswith("KV cache"))
    assert kv == 32 * 256 * 12 * 2 * 768 * 2
