"""Serving: static vs continuous batching, windows, length distributions, CSV lengths,
sub-batch interleaving in the lowering, bad input through the API and CLI."""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from accsim import load_workload
from accsim.errors import ConfigError
from accsim.workload.lengths import DATASET_CV, DATASET_MEANS, lognormal_samples
from accsim.workload.lower import iterations, lower, resident_tensors, serving_totals

pytestmark = pytest.mark.unit

BASE = "schema_version: 1\nname: w\ndescription: d\nkind: llm\nmodel: {base: gpt2-small, layers: 1}\n"


def _spec(tmp_path, serving: str, extra: str = ""):
    path = tmp_path / "w.yaml"
    path.write_text(BASE + "serving:\n" + serving + extra)
    return load_workload(str(path))


def _by_step(ops, suffix):
    """step -> list of ops whose name ends with `suffix`."""
    table = defaultdict(list)
    for op in ops:
        if op.name.endswith(suffix):
            table[op.step].append(op)
    return table


# ----------------------------------------------------------------- static = today's behaviour

def test_static_default_is_one_prefill_then_shrinking_decode(tmp_path):
    spec = _spec(tmp_path, "  batch_size: 4\n  prompt_tokens: 8\n  seed: 3\n"
                           "  generate_tokens: {distribution: uniform, min: 1, max: 6}\n")
    assert spec.requests == spec.batch_size == 4 and spec.scheduling == "static"
    ops = lower(spec)
    g = spec.generate_tokens
    # the loop of the lowering before continuous batching, written out independently
    steps = [(0, [8] * 4, [8] * 4)] + [(s, [1] * sum(x > s for x in g), [8 + s] * sum(x > s for x in g))
                                        for s in range(1, max(g))]
    scores = _by_step(ops, ".L0.attn_score")
    assert sorted(scores) == [s for s, _, _ in steps]
    for step, queries, contexts in steps:
        (op,) = scores[step]
        assert op.phase == ("prefill" if step == 0 else "decode")
        assert op.gemms == tuple((q * 1, c, 64) for q, c in zip(queries, contexts) for _ in range(12))
    assert len(ops) == len(steps) * (13 + 2)
    assert serving_totals(spec)["tokens_generated"] == sum(g)
    assert {op.sub_batch for op in ops} == {0}


def test_static_with_a_queue_runs_batch_after_batch(tmp_path):
    spec = _spec(tmp_path, "  batch_size: 2\n  requests: 5\n  prompt_tokens: 4\n  generate_tokens: 3\n")
    its = iterations(spec)
    # batches {0,1}, {2,3}, {4}; each 3 iterations (prefill + 2 decode)
    assert [tuple(s.request for s in it.slots) for it in its] == [(0, 1)] * 3 + [(2, 3)] * 3 + [(4,)] * 3
    assert [it.phase for it in its] == ["prefill", "decode", "decode"] * 3
    names = {op.name for op in lower(spec)}
    assert {"prefill.L0.qkv", "prefill3.L0.qkv", "decode4.L0.qkv", "prefill6.lm_head"} <= names


# ----------------------------------------------------------------- continuous batching

def test_continuous_replaces_finished_requests_and_kv_grows(tmp_path):
    (tmp_path / "lens.csv").write_text("prompt_tokens,generate_tokens\n5,2\n7,4\n3,1\n6,2\n")
    spec = _spec(tmp_path, "  batch_size: 2\n  requests: 4\n  scheduling: continuous\n"
                           "  lengths_csv: lens.csv\n")
    its = iterations(spec)
    active = [[(s.request, s.queries, s.context, s.joins) for s in it.slots] for it in its]
    assert active == [
        [(0, 5, 5, True), (1, 7, 7, True)],         # both prompts
        [(0, 1, 6, False), (1, 1, 8, False)],       # request 0 emits its 2nd (last) token
        [(1, 1, 9, False), (2, 3, 3, True)],        # request 2 joins in request 0's slot; finishes at once
        [(1, 1, 10, False), (3, 6, 6, True)],       # request 1 emits its 4th token; 3 joins
        [(3, 1, 7, False)],
    ]
    assert [it.phase for it in its] == ["prefill", "decode", "decode", "decode", "decode"]
    ops = lower(spec)
    scores = _by_step(ops, ".L0.attn_score")
    qkv = _by_step(ops, ".L0.qkv")
    for it in its:
        (score,) = scores[it.index]
        # one (queries x context) GEMM per request and head: the KV cache of every request grows by one
        assert score.gemms == tuple((s.queries, s.context, 64) for s in it.slots for _ in range(12))
        assert qkv[it.index][0].gemms[0][0] == sum(s.queries for s in it.slots)   # prompts are extra rows
    totals = serving_totals(spec)
    assert totals == {"iterations": 5, "tokens_generated": 2 + 4 + 1 + 2, "requests_joined": 4,
                      "requests_completed": 4}


def test_window_counts_only_its_tokens(tmp_path):
    serving = "  batch_size: 3\n  requests: 20\n  scheduling: continuous\n  prompt_tokens: 4\n" \
              "  generate_tokens: {distribution: uniform, min: 1, max: 9}\n  seed: 1\n"
    whole = _spec(tmp_path, serving)
    full = iterations(whole)
    assert sum(it.tokens_generated for it in full) == sum(whole.generate_tokens)   # every request served
    assert max(len(it.slots) for it in full) == 3
    window = _spec(tmp_path, serving + "  skip_iterations: 4\n  max_iterations: 5\n")
    its = iterations(window)
    assert [it.index for it in its] == [4, 5, 6, 7, 8]
    assert its == full[4:9]                     # the same schedule, only the window simulated
    assert serving_totals(window)["tokens_generated"] == sum(len(it.slots) for it in full[4:9])
    assert sorted({op.step for op in lower(window)}) == [4, 5, 6, 7, 8]
    assert lower(window)[0].deps == ()


def test_resident_kv_is_the_peak_of_active_requests(tmp_path):
    spec = _spec(tmp_path, "  batch_size: 2\n  requests: 6\n  scheduling: continuous\n"
                           "  prompt_tokens: 10\n  generate_tokens: 5\n")
    kv = next(v for k, v in resident_tensors(spec) if k.startswith("KV cache"))
    assert kv == 2 * 15 * 1 * 2 * 768 * 2          # two requests of 15 tokens, 1 layer, K and V, fp16


# ----------------------------------------------------------------- distributions

@pytest.mark.parametrize("dataset", sorted(DATASET_MEANS))
def test_dataset_presets_are_seeded_with_documented_means(tmp_path, dataset):
    n = 4000
    serving = (f"  batch_size: {n}\n  seed: 11\n  prompt_tokens: {{distribution: {dataset}, max: 100000}}\n"
               f"  generate_tokens: {{distribution: {dataset}, max: 100000}}\n")
    extra = "model: {base: gpt2-small, layers: 1, context: 300000}\n"
    path = tmp_path / "w.yaml"
    path.write_text(BASE.replace("model: {base: gpt2-small, layers: 1}\n", extra) + "serving:\n" + serving)
    spec = load_workload(str(path))
    assert load_workload(str(path)).prompt_tokens == spec.prompt_tokens       # seeded
    for which, lengths in enumerate((spec.prompt_tokens, spec.generate_tokens)):
        mean = DATASET_MEANS[dataset][which]
        sample = np.asarray(lengths, float)
        # the mean of n draws has standard error std / sqrt(n), std = CV x mean; rounding to
        # integers and redrawing the values that round to 0 add less than 0.5 + a small bias.
        tolerance = 5 * DATASET_CV * mean / math.sqrt(n) + 0.6
        assert abs(sample.mean() - mean) < tolerance, (which, sample.mean(), mean)
        assert sample.std() > 0.5 * DATASET_CV * mean                       # spread, not a constant


def test_lognormal_redraws_into_bounds_and_other_seed_differs():
    rng = np.random.default_rng(0)
    x = lognormal_samples(rng, 296.0, 296.0, 1, 1024, 20000)
    assert x.min() >= 1 and x.max() <= 1024
    assert (x == 1024).mean() < 0.01             # truncated by redrawing, no spike at the bound
    y = lognormal_samples(np.random.default_rng(1), 296.0, 296.0, 1, 1024, 20000)
    assert not np.array_equal(x, y)


# ----------------------------------------------------------------- CSV lengths

def test_csv_rows_cycle_to_the_queue_and_are_hashed(tmp_path):
    (tmp_path / "lens.csv").write_text("id,prompt_tokens,generate_tokens\na,5,2\nb,7,4\n\nc,3,1\n")
    spec = _spec(tmp_path, "  batch_size: 2\n  requests: 7\n  lengths_csv: lens.csv\n")
    assert spec.prompt_tokens == (5, 7, 3, 5, 7, 3, 5)
    assert spec.generate_tokens == (2, 4, 1, 2, 4, 1, 2)
    assert str((tmp_path / "lens.csv").resolve()) in spec.file_hashes
    short = _spec(tmp_path, "  batch_size: 2\n  lengths_csv: lens.csv\n")
    assert short.prompt_tokens == (5, 7)       # truncated to requests (default = batch_size)


def test_csv_bad_rows_are_reported_with_file_and_line(tmp_path):
    (tmp_path / "lens.csv").write_text("prompt_tokens,generate_tokens\n5,2\nx,4\n3,0\n4\n")
    with pytest.raises(ConfigError) as caught:
        _spec(tmp_path, "  batch_size: 2\n  lengths_csv: lens.csv\n")
    where = {(p.line, p.path) for p in caught.value.problems}
    assert where == {(3, "serving.lengths_csv.prompt_tokens"), (4, "serving.lengths_csv.generate_tokens"),
                     (5, "serving.lengths_csv.generate_tokens")}
    assert all(p.file.endswith("lens.csv") for p in caught.value.problems)


def test_csv_header_and_exclusivity_errors(tmp_path):
    (tmp_path / "lens.csv").write_text("prompt,generate_tokens\n5,2\n")
    with pytest.raises(ConfigError) as caught:
        _spec(tmp_path, "  batch_size: 2\n  lengths_csv: lens.csv\n  prompt_tokens: 4\n")
    messages = {p.path: p.message for p in caught.value.problems}
    assert "prompt_tokens" in messages["serving.lengths_csv"]
    assert "not both" in messages["serving.prompt_tokens"]


def test_every_request_must_fit_the_context(tmp_path):
    (tmp_path / "lens.csv").write_text("prompt_tokens,generate_tokens\n5,2\n1000,100\n")
    with pytest.raises(ConfigError) as caught:
        _spec(tmp_path, "  batch_size: 1\n  requests: 2\n  scheduling: continuous\n  lengths_csv: lens.csv\n")
    (problem,) = caught.value.problems
    assert problem.file.endswith("lens.csv") and problem.line == 3 and "1100" in problem.message


# ----------------------------------------------------------------- sub-batch interleaving

def test_two_sub_batches_split_by_position_with_independent_chains(tmp_path):
    spec = _spec(tmp_path, "  batch_size: 5\n  prompt_tokens: 4\n  seed: 2\n"
                           "  generate_tokens: {distribution: uniform, min: 2, max: 4}\n")
    ops = lower(spec, sub_batches=2)
    index = {op.index: op for op in ops}
    for it in iterations(spec):
        half = math.ceil(len(it.slots) / 2)
        parts = [it.slots[:half], it.slots[half:]]
        chains = [[op for op in ops if op.step == it.index and op.sub_batch == n] for n in (1, 2)]
        for slots, chain in zip(parts, chains):
            if not slots:
                assert not chain
                continue
            (score,) = [op for op in chain if op.name.endswith("attn_score")]
            assert score.gemms == tuple((s.queries, s.context, 64) for s in slots for _ in range(12))
            assert score.kind == "attention" and score.group == 12
            lm = next(op for op in chain if op.name.endswith("lm_head"))
            assert lm.gemms[0][0] == len(slots)

        def ancestors(op):
            seen, todo = set(), list(op.deps)
            while todo:
                d = todo.pop()
                if d not in seen:
                    seen.add(d)
                    todo.extend(index[d].deps)
            return {index[d] for d in seen}

        present = [c for c in chains if c]
        for n, chain in enumerate(present):
            same_iteration = {op.sub_batch for op in ancestors(chain[-1]) if op.step == it.index}
            assert same_iteration == {chain[0].sub_batch}       # independent within the iteration
        previous = [op for op in ops if op.step < it.index]
        if previous:
            last = max(op.step for op in previous)
            ends = {max(op.index for op in previous if op.step == last and op.sub_batch == n)
                    for n in {op.sub_batch for op in previous if op.step == last}}
            for chain in present:
                assert set(chain[0].deps) == ends                  # waits for both ends
    assert {op.sub_batch for op in ops} == {1, 2}
    one = lower(spec)
    assert sum(op.flops for op in ops if op.kind == "attention") == sum(op.flops for op in one
                                                                         if op.kind == "attention")


def test_sub_batches_must_be_positive():
    with pytest.raises(ValueError):
        lower(load_workload("gpt2"), sub_batches=0)


# ----------------------------------------------------------------- bad input through the API / CLI

def test_bad_serving_fields_exit_2_with_locations(tmp_path, capsys):
    from accsim.cli import main

    path = tmp_path / "w.yaml"
    text = BASE + ("serving:\n  batch_size: 4\n  requests: 2\n  scheduling: greedy\n  max_iterations: 0\n"
                   "  prompt_tokens: {distribution: lognormal, min: 1, max: 50}\n  generate_tokens: 4\n")
    path.write_text(text)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    lines = text.splitlines()
    for field, needle in (("serving.requests", "requests:"), ("serving.scheduling", "scheduling:"),
                          ("serving.max_iterations", "max_iterations:")):
        assert f"{path}:{lines.index(next(x for x in lines if needle in x)) + 1}: {field}:" in err
    assert "lognormal distribution needs mean and std" in err


@pytest.mark.parametrize("name", ["gpt3-7b-sharegpt", "gpt3-7b-alpaca"])
def test_bundled_dataset_workloads_fit_and_sample_a_steady_window(name):
    spec = load_workload(name)
    assert max(spec.prompt_tokens) <= 512 and max(spec.generate_tokens) <= 1536
    its = iterations(spec)
    assert len(its) == spec.max_iterations and its[0].index == spec.skip_iterations
    assert all(len(it.slots) == spec.batch_size for it in its)       # the queue never runs dry
    assert any(s.joins for it in its for s in it.slots)               # requests are replaced


def test_a_window_past_the_end_is_rejected(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _spec(tmp_path, "  batch_size: 2\n  requests: 4\n  prompt_tokens: 4\n  generate_tokens: 3\n"
                        "  skip_iterations: 6\n")
    (problem,) = caught.value.problems
    lines = (tmp_path / "w.yaml").read_text().splitlines()
    assert problem.path == "serving.skip_iterations" and "in 6" in problem.message
    assert problem.line == 1 + next(i for i, line in enumerate(lines) if "skip_iterations" in line)
    assert len(iterations(_spec(tmp_path, "  batch_size: 2\n  requests: 4\n  prompt_tokens: 4\n"
                                          "  generate_tokens: 3\n  skip_iterations: 5\n"))) == 1


def test_continuous_run_with_sub_batches_through_the_api(tmp_path):
    import accsim

    (tmp_path / "lens.csv").write_text("prompt_tokens,generate_tokens\n6,2\n9,3\n4,1\n5,2\n7,1\n")
    path = tmp_path / "w.yaml"
    path.write_text(BASE + "serving:\n  batch_size: 3\n  requests: 5\n  scheduling: continuous\n"
                           "  lengths_csv: lens.csv\n")
    result = accsim.run("npu", str(path), overrides=["sub_batches=2"])
    ops = result.ops
    spec = load_workload(str(path))
    its = iterations(spec)
    assert sorted(set(ops["step"])) == [it.index for it in its]
    for it in its:
        names = set(ops.loc[ops["step"] == it.index, "name"])
        expected = {1, 2} if len(it.slots) > 1 else {1}
        assert {n for n in (1, 2) if any(f".sb{n}." in name for name in names)} == expected
    assert result.summary["total"]["seconds"] > 0


def test_sub_batches_get_equal_counts_and_balanced_attention_loads():
    from accsim.workload.serving import Slot, split

    rng = np.random.default_rng(3)
    for _ in range(50):
        contexts = rng.lognormal(5, 1, int(rng.integers(2, 300))).astype(int) + 1
        slots = tuple(Slot(i, 1, int(c), False) for i, c in enumerate(contexts))
        parts = split(slots, 2)
        sizes = [len(p) for p in parts]
        loads = [sum(s.context for s in p) for p in parts]
        assert sum(sizes) == len(slots) and max(sizes) - min(sizes) <= 1
        assert abs(loads[0] - loads[1]) <= contexts.max()           # greedy bound: one request's load
        for part in parts:                                            # each part keeps the active order
            assert [s.request for s in part] == sorted(s.request for s in part)
    # oldest (longest) requests first in the active list: halves by position would differ by ~half the load
    slots = tuple(Slot(i, 1, 300 - i, False) for i in range(300))
    loads = [sum(s.context for s in part) for part in split(slots, 2)]
    assert abs(loads[0] - loads[1]) <= 300
