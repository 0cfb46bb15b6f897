"""Exact command timing of the DRAM model, one constraint at a time.

The controller issues every command as soon as all constraints allow it, so a
command logged at cycle t was blocked at t - 1 and allowed at t. Each test
builds a preset whose timings are distinct, so the cycle at which a command
issues identifies the constraint that held it, and checks it against the
formula of that constraint."""
import numpy as np
import pytest

from accsim.memory.constraints import CMD
from accsim.memory.preset import ControllerSpec, parse_preset
from accsim.memory.simulate import simulate_requests
from accsim.yamlio import load

pytestmark = pytest.mark.timing

TIMING = dict(tCK_ns=1.0, CL=11, CWL=5, tRCDRD=13, tRCDWR=9, tRP=15, tRAS=37, tRC=53, tCCD_S=3, tCCD_L=7,
              tRRD_S=4, tRRD_L=6, tFAW=29, tWR=17, tWTR_S=2, tWTR_L=8, tRTP=5, tRTRS=2, tREFI=100000,
              tRFC=120)
# mapping (most significant first) ro-ra-bg-ba-co-ch with 1 channel: address = fields packed below
MAPPING = "ro-ra-bg-ba-co-ch"


def preset(tmp_path, ranks=1, **timing):
    values = {**TIMING, **timing}
    text = ("schema_version: 1\nname: T\ndescription: test preset\n"
            f"organization: {{channels: 1, ranks: {ranks}, bankgroups: 4, banks_per_group: 4, rows: 1024,"
            " row_bytes: 1024, bus_bits: 64, burst_length: 8}\n"
            "timing: {" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}\n")
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return parse_preset(load(path))


def address(row=0, rank=0, bg=0, bank=0, column=0, ranks=1):
    """Byte address for the test organisation (16 columns of 64 B per 1 KiB row)."""
    value = row
    value = value * ranks + rank
    value = value * 4 + bg
    value = value * 4 + bank
    value = value * 16 + column
    return value * 64


def run(p, requests, controller=None, frontend="unlimited"):
    """requests: (arrival cycle, address, is_write). Returns [(cycle, command name, bank)]."""
    arrive = [r[0] for r in requests]
    addr = [r[1] for r in requests]
    writes = [r[2] for r in requests]
    controller = controller or ControllerSpec(address_mapping=MAPPING, refresh="none")
    result = simulate_requests(p, controller, arrive, addr, writes, frontend=frontend, trace_commands=64)
    names = {code: name for name, code in CMD.items()}
    return [(int(c), names[int(k)], int(b)) for c, k, _, b in result.commands], result


def first(log, name, bank=None, after=-1):
    return next(c for c, k, b in log if k == name and (bank is None or b == bank) and c > after)


def test_read_waits_trcd_and_completes_after_cl_plus_burst(tmp_path):
    p = preset(tmp_path)
    log, result = run(p, [(0, address(), False)])
    assert log == [(0, "ACT", 0), (13, "RD", 0)]
    assert result.done_cycle[0] == 13 + 11 + 4          # CL + BL8 / 2


def test_write_waits_trcdwr(tmp_path):
    log, result = run(preset(tmp_path), [(0, address(), True)])
    assert log == [(0, "ACT", 0), (9, "WR", 0)]
    assert result.done_cycle[0] == 9 + 5 + 4            # CWL + burst


@pytest.mark.parametrize("tras", [37, 45])
def test_row_conflict_respects_tras_trp_trc(tmp_path, tras):
    p = preset(tmp_path, tRAS=tras, tRC=tras + 15)
    log, _ = run(p, [(0, address(row=0), False), (0, address(row=1), False)])
    pre = first(log, "PRE")
    assert pre == max(tras, 13 + 5)                     # ACT->PRE tRAS, RD->PRE tRTP
    assert first(log, "ACT", after=0) == max(pre + 15, tras + 15)   # PRE->ACT tRP, ACT->ACT tRC


def test_read_to_precharge_trtp_binds_when_tras_is_short(tmp_path):
    p = preset(tmp_path, tRAS=10, tRC=25, tRTP=9)
    log, _ = run(p, [(0, address(row=0), False), (0, address(row=1), False)])
    assert first(log, "PRE") == 13 + 9


@pytest.mark.parametrize("same_group, gap", [(True, 6), (False, 4)])
def test_act_to_act_trrd(tmp_path, same_group, gap):
    second = address(bg=0, bank=1) if same_group else address(bg=1, bank=0)
    log, _ = run(preset(tmp_path), [(0, address(), False), (0, second, False)])
    acts = [c for c, k, _ in log if k == "ACT"]
    assert acts == [0, gap]


def test_tfaw_limits_a_fifth_activate(tmp_path):
    requests = [(0, address(bg=i % 4, bank=i // 4), False) for i in range(5)]
    log, _ = run(preset(tmp_path), requests)
    acts = [c for c, k, _ in log if k == "ACT"]
    assert acts[:4] == [0, 4, 8, 12]                     # tRRD_S apart
    assert acts[4] == 29                                 # first ACT + tFAW, not 16


@pytest.mark.parametrize("same_group, gap", [(True, 7), (False, 4)])
def test_read_to_read_tccd_and_burst(tmp_path, same_group, gap):
    """Two row hits in different banks: column commands tCCD_L (same group) or
    max(tCCD_S, burst) apart."""
    second = address(bg=0, bank=1) if same_group else address(bg=1, bank=0)
    p = preset(tmp_path)
    log, _ = run(p, [(0, address(), False), (0, second, False), (100, address(column=1), False),
                     (100, address(column=1, bg=0 if same_group else 1, bank=1 if same_group else 0), False)])
    reads = [c for c, k, _ in log if k == "RD" and c >= 100]
    assert reads == [100, 100 + gap]


def test_write_to_read_twtr(tmp_path):
    p = preset(tmp_path)
    controller = ControllerSpec(address_mapping=MAPPING, refresh="none", write_high_watermark=0.05,
                                write_low_watermark=0.0)
    log, _ = run(p, [(0, address(), True), (10, address(column=1), False)], controller)
    write = first(log, "WR")
    read = first(log, "RD")
    assert read == write + 5 + 4 + 8                    # CWL + burst + tWTR_L (same bank group)


def test_read_to_write_turnaround(tmp_path):
    p = preset(tmp_path)
    log, _ = run(p, [(0, address(), False), (20, address(column=1), True)])
    assert first(log, "WR") == 13 + 11 + 4 + 2 - 5      # CL + burst + 2 - CWL after the read


def test_write_recovery_before_precharge(tmp_path):
    p = preset(tmp_path, tRAS=10, tRC=25)
    controller = ControllerSpec(address_mapping=MAPPING, refresh="none", write_high_watermark=0.05,
                                write_low_watermark=0.0)
    log, _ = run(p, [(0, address(row=0), True), (0, address(row=1), True)], controller)
    assert first(log, "PRE") == 9 + 5 + 4 + 17         # WR + CWL + burst + tWR


def test_rank_switch_costs_trtrs(tmp_path):
    p = preset(tmp_path, ranks=2)
    a, b = address(rank=0, ranks=2), address(rank=1, ranks=2)
    log, _ = run(p, [(0, a, False), (0, b, False), (100, a + 64, False), (100, b + 64, False)])
    reads = [c for c, k, _ in log if k == "RD" and c >= 100]
    assert reads == [100, 100 + 4 + 2]                  # burst + tRTRS


def test_closed_page_auto_precharges(tmp_path):
    p = preset(tmp_path, tRAS=10, tRC=25)
    controller = ControllerSpec(address_mapping=MAPPING, refresh="none", page_policy="closed")
    log, result = run(p, [(0, address(row=0), False), (200, address(row=0, column=1), False)], controller)
    assert [k for _, k, _ in log] == ["ACT", "RDA", "ACT", "RDA"]
    assert result.row_misses == 2 and result.row_hits == 0


def test_refresh_closes_rank_and_blocks_for_trfc(tmp_path):
    p = preset(tmp_path, tREFI=200)
    controller = ControllerSpec(address_mapping=MAPPING, refresh="all_bank")
    log, _ = run(p, [(0, address(), False), (300, address(row=1), False)], controller)
    ref = first(log, "REF")
    assert ref >= 200 and first(log, "PREA") < ref
    assert first(log, "ACT", after=ref) >= ref + 120


def test_row_hit_cap_lets_a_waiting_conflict_through(tmp_path):
    p = preset(tmp_path)
    hits = [(0, address(row=0, column=c), False) for c in range(1, 10)]
    controller = ControllerSpec(address_mapping=MAPPING, refresh="none", row_hit_cap=3)
    log, _ = run(p, [(0, address(row=0), False), (0, address(row=1), False)] + hits, controller)
    kinds = [k for _, k, _ in log]
    # after the miss and 3 hits (cap), the waiting conflict gets its PRE before the other hits
    assert kinds[:6] == ["ACT", "RD", "RD", "RD", "PRE", "ACT"]


def test_hit_cap_with_a_younger_conflict_does_not_deadlock(tmp_path):
    """The waiting conflict is younger than the capped hits; it must still get its PRE
    (regression: the scheduler once let the capped hit speak for the whole bank)."""
    p = preset(tmp_path)
    hits = [(0, address(row=0, column=c), False) for c in range(8)]
    controller = ControllerSpec(address_mapping=MAPPING, refresh="none", row_hit_cap=2)
    log, result = run(p, hits + [(1, address(row=1), False)] + [(2, address(row=0, column=9), False)], controller)
    assert (result.done_cycle > 0).all()
    kinds = [k for _, k, _ in log]
    assert kinds.index("PRE") < len(kinds) - 2


def test_write_drain_is_not_held_by_read_hits(tmp_path):
    """While draining writes, a read hit on an open row does not keep a conflicting
    write waiting forever (regression: the deadlock needed refresh to break it)."""
    p = preset(tmp_path)
    controller = ControllerSpec(address_mapping=MAPPING, refresh="none", write_high_watermark=0.1,
                                write_low_watermark=0.0, read_queue=4, write_queue=8)
    requests = [(0, address(row=0, column=c), False) for c in range(4)]
    requests += [(1, address(row=1, column=c), True) for c in range(8)]
    _, result = run(p, requests, controller)
    assert (result.done_cycle > 0).all()


@pytest.mark.parametrize("seed", range(12))
def test_random_mixes_always_complete(tmp_path, seed):
    """Random read/write mixes on few banks and rows, small queues, every policy:
    every request completes, reads never before CL + burst after their arrival."""
    rng = np.random.default_rng(seed)
    p = preset(tmp_path, ranks=int(rng.choice([1, 2])))
    ranks = p.org["ranks"]
    n = 300
    requests = sorted((int(rng.integers(0, 400)),
                       address(row=int(rng.integers(0, 3)), rank=int(rng.integers(0, ranks)), bg=int(rng.integers(0, 2)),
                               bank=int(rng.integers(0, 2)), column=int(rng.integers(0, 16)), ranks=ranks),
                       bool(rng.random() < 0.4)) for _ in range(n))
    controller = ControllerSpec(address_mapping=MAPPING, read_queue=int(rng.integers(2, 9)),
                                write_queue=int(rng.integers(2, 9)), write_high_watermark=0.6, write_low_watermark=0.2,
                                row_hit_cap=int(rng.integers(1, 5)), page_policy=str(rng.choice(["open", "closed"])),
                                refresh=str(rng.choice(["none", "all_bank"])))
    _, result = run(p, requests, controller, frontend=str(rng.choice(["inorder", "unlimited"])))
    latency = result.latency_cycles
    assert (latency[~result.is_write] >= 11 + 4).all() and (latency[result.is_write] >= 5 + 4).all()
