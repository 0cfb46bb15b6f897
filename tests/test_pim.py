"""HBM-PIM: the command kernel against its protocol and hand-counted command streams,
the component's mapping of attention, blocked vs concurrent memory, bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

import accsim
from accsim.kernels.pim import COMMANDS, P_NAMES, simulate_pim
from accsim.memory.pim_protocol import Command, from_kernel_trace, violations
from accsim.system import System

pytestmark = pytest.mark.unit
HBM2 = dict(tRCD=14, tRP=14, tRAS=34, tRRD_S=4, tFAW=30, tRTP=6, tCCD_L=2, tREFI=3900, tRFC=260, banks=32,
            ranks=2, row_elems=512, macs=16, gwrite_cycles=96, dual=1, readres_cycles=2, mac_latency=3)


def params(**changes):
    values = {**HBM2, **changes}
    return np.array([values[name] for name in P_NAMES], np.int64)


def run(jobs, channels=1, trace=0, **changes):
    columns = [np.asarray(c, np.int64) for c in zip(*jobs)]
    return simulate_pim(*columns, channels, params(**changes), trace)


@pytest.mark.parametrize("dual", [1, 0])
def test_every_issued_command_respects_the_protocol(dual):
    jobs = [(0, 8, 128, 1500), (0, 8, 1500, 128), (1, 4, 64, 40), (1, 1, 4000, 64)]
    finish, counts, stalls, _, trace = run(jobs, 2, trace=1 << 20, dual=dual)
    assert len(trace) == counts.sum()          # every issued command is in the trace
    assert violations(from_kernel_trace(trace), params(dual=dual)) == []
    assert counts[:, COMMANDS.index("REF")].sum() >= finish.max() // HBM2["tREFI"] - 1


def test_the_checker_catches_each_kind_of_violation():
    p = params(dual=0)
    legal = [Command(0, "G_ACT", 0, 0), Command(30, "G_ACT", 0, 0), Command(44, "COMP", -1, 0),
             Command(47, "READRES", -1, 0), Command(64, "PIM_PRE", -1, 0), Command(78, "G_ACT", 1, 0)]
    assert violations(legal, p) == []
    broken = {
        "tFAW": [Command(0, "G_ACT", 0, 0), Command(29, "G_ACT", 0, 0)],
        "tRRD_S": [Command(0, "G_ACT", 0, 0), Command(3, "G_ACT", 1, 0)],
        "tRCD": [Command(0, "G_ACT", 0, 0), Command(13, "COMP", -1, 0)],
        "tCCD_L": [Command(0, "G_ACT", 0, 0), Command(14, "COMP", -1, 0), Command(15, "COMP", -1, 0)],
        "tRAS": [Command(0, "G_ACT", 0, 0), Command(33, "PIM_PRE", -1, 0)],
        "tRTP": [Command(0, "G_ACT", 0, 0), Command(40, "COMP", -1, 0), Command(45, "PIM_PRE", -1, 0)],
        "tRP": [Command(0, "G_ACT", 0, 0), Command(40, "PIM_PRE", -1, 0), Command(53, "G_ACT", 1, 0)],
        "refresh": [Command(0, "REF", -1, 0), Command(259, "G_ACT", 0, 0)],
        "MAC pipeline": [Command(0, "G_ACT", 0, 0), Command(14, "COMP", -1, 0), Command(16, "READRES", -1, 0)],
    }
    for rule, stream in broken.items():
        found = violations(stream, p)
        assert len(found) == 1 and (rule in found[0] or rule == "refresh" and "tRFC" in found[0]), (rule, found)
    # tRTP is a single-row-buffer rule only
    assert violations(broken["tRTP"], params(dual=1)) == []


def test_command_counts_match_the_layout_by_hand():
    # score: 8 heads x 128 reduction -> 1024 outputs. 512/128 = 4 heads per chunk: 2 chunks,
    # ceil(1024/32) = 32 rounds each, 8 G_ACTs per round, 8 COMPs + 1 READRES per head
    _, counts, _, _, _ = run([(0, 8, 128, 1024)])
    c = dict(zip(COMMANDS, counts[0]))
    assert (c["HEADER"], c["GWRITE"], c["G_ACT"]) == (2, 2, 2 * 32 * 8)
    assert (c["COMP"], c["READRES"], c["PIM_PRE"]) == (2 * 32 * 4 * 8, 2 * 32 * 4, 2 * 32)
    # value: 2 heads x 1300 reduction (tokens) -> 128 outputs: per head 3 row-sized pieces
    # (512, 512, 276), ceil(128/32) = 4 rounds each, COMPs 32, 32, 18 per round
    _, counts, _, _, _ = run([(0, 2, 1300, 128)])
    c = dict(zip(COMMANDS, counts[0]))
    assert (c["HEADER"], c["G_ACT"], c["READRES"]) == (6, 6 * 4 * 8, 6 * 4)
    assert c["COMP"] == 2 * 4 * (32 + 32 + math.ceil(276 / 16))


def test_round_time_is_bounded_by_tfaw_and_the_compute():
    """8 G_ACTs alternating over 2 ranks, one per tFAW per rank: the last (rank 1) issues
    3 x tFAW after the rank's first, which came tRRD_S after rank 0's first."""
    finish, _, _, _, trace = run([(0, 1, 16, 32)], trace=100)
    gacts = [c for c, k, _, _ in trace if COMMANDS[k] == "G_ACT"]
    assert gacts[-1] - gacts[0] == 3 * HBM2["tFAW"] + HBM2["tRRD_S"]
    comps = [c for c, k, _, _ in trace if COMMANDS[k] == "COMP"]
    assert comps[0] - gacts[-1] == HBM2["tRCD"]


def test_single_row_buffer_costs_more_than_dual():
    jobs = [(0, 32, 128, 512), (0, 32, 512, 128)]
    dual = run(jobs)[0][0]
    single = run(jobs, dual=0)[0][0]
    assert single > dual


def test_refresh_never_overlaps_pim_work():
    finish, counts, stalls, _, trace = run([(0, 64, 128, 4096)], trace=1 << 21)
    assert counts[0, COMMANDS.index("REF")] >= 2 and stalls[0] > 0
    assert violations(from_kernel_trace(trace), params()) == []


def test_attention_goes_to_pim_and_channels_balance():
    system = System(accsim.load_arch("neupims"))
    from accsim.workload.ops import Op

    gemms = tuple((1, c, 128) for c in (100, 900, 400, 300) for _ in range(8))
    op = Op(0, "decode1.L0.attn_score", "attention", "decode", 0, 1, (), gemms=gemms, group=8)
    unit = system.executor(op)
    assert unit.TYPE == "hbm_pim"
    cost = unit.execute(op, system)
    assert cost.detail["pim_channels_used"] == 4 and cost.ticks > 0
    assert cost.events[(unit.name, "COMP")] > 0 and (unit.name, "HEADER") not in cost.events


def test_prefill_rows_of_attention_run_on_the_npu():
    system = System(accsim.load_arch("neupims"))
    from accsim.workload.ops import Op

    gemms = ((1, 300, 128),) * 4 + ((64, 64, 128),) * 4      # one decoding request, one joining prompt
    op = Op(0, "decode2.L0.attn_score", "attention", "decode", 0, 2, (), gemms=gemms, group=4)
    cost = system.executor(op).execute(op, system)
    assert cost.detail["npu_cycles"] > 0 and cost.busy_ticks.get("sa", 0) > 0


def test_blocked_memory_keeps_npu_and_pim_apart():
    result = accsim.run("npu_pim", "gpt2", overrides=["model.layers=2", "serving.batch_size=4",
                                                      "serving.prompt_tokens=16", "serving.generate_tokens=3"])
    ops = result.ops
    pim = ops[ops["unit"] == "pim"]
    npu = ops[ops["unit"] != "pim"]
    assert len(pim) > 0
    for _, p in pim.iterrows():
        # cycles are rounded to 1/1000 in the table: allow that much at the edges
        start, end = p["start_cycle"] + 0.01, p["start_cycle"] + p["cycles"] - 0.01
        overlap = npu[(npu["start_cycle"] < end) & (npu["start_cycle"] + npu["cycles"] > start)]
        assert overlap.empty


def test_kv_cache_that_cannot_fit_a_channel_is_an_input_error(tmp_path):
    from test_cli import accsim_cli

    # GPT-3 13B unsharded: 40 layers x 2 x 40 heads x 128 x 2 bytes = 800 KiB per token;
    # 2,000 tokens need 1.56 GiB, a 1 GiB PIM channel cannot hold them
    out = accsim_cli(tmp_path, "run", "neupims", "gpt3-7b", "--set", "model.base=gpt3-13b",
                     "--set", "serving.batch_size=1", "--set", "parallel.tensor=1",
                     "--set", "serving.prompt_tokens=1900", "--set", "serving.generate_tokens=100")
    assert out.returncode == 2 and "KV cache" in out.stderr and "PIM channel" in out.stderr, out.stderr


def test_pimcheck_command_rejects_a_bad_stream(tmp_path):
    from test_cli import accsim_cli

    stream = tmp_path / "stream.csv"
    stream.write_text("cycle,command,rank,channel\n0,G_ACT,0,0\n10,COMP,-1,0\n")
    out = accsim_cli(tmp_path, "pimcheck", "neupims", stream)
    assert out.returncode == 2 and "stream.csv:3: COMP at cycle 10 breaks tRCD" in out.stderr
    stream.write_text("cycle,command,rank,channel\n0,G_ACT,0,0\n14,COMP,-1,0\n")
    out = accsim_cli(tmp_path, "pimcheck", "neupims", stream)
    assert out.returncode == 0 and "ok: 2 commands" in out.stdout


@pytest.mark.golden
@pytest.mark.parametrize("arch", ["neupims", "npu_pim"])
def test_exact_mode_agrees_with_the_reuse_shortcut(arch):
    overrides = ["model.layers=2", "serving.batch_size=6", "serving.prompt_tokens=24", "serving.generate_tokens=4"]
    fast = accsim.run(arch, "gpt2", overrides=overrides)
    exact = accsim.run(arch, "gpt2", overrides=overrides, exact=True)
    assert fast.summary["total"]["cycles"] == pytest.approx(exact.summary["total"]["cycles"], rel=0.01)
    assert "identical_op_reuse" in fast.summary["metadata"]["shortcuts"]
