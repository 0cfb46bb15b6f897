"""Invariants the DRAM kernel's fast paths must keep (see accsim.kernels.dram: channels
sleep until a bound on their next command, arrivals only wake them when they may add a
command, the scheduler visits per-bank lists instead of the queues).

Each check compares a result with a closed formula or with another run that must agree,
so a wake-up bound that is too late (a command issued after the cycle it was allowed), a
channel that sleeps through an arrival, or a bank list that loses a request shows up."""
import multiprocessing

import numpy as np
import pytest

from accsim.memory.preset import ControllerSpec, parse_preset
from accsim.memory.simulate import simulate_requests
from accsim.yamlio import load

pytestmark = pytest.mark.timing

# distinct timings (as tests/test_dram_timing.py), tCK = 1 ns
T = dict(tCK_ns=1.0, CL=11, CWL=5, tRCDRD=13, tRCDWR=9, tRP=15, tRAS=37, tRC=53, tCCD_S=3, tCCD_L=7,
         tRRD_S=4, tRRD_L=6, tFAW=29, tWR=17, tWTR_S=2, tWTR_L=8, tRTP=5, tRTRS=2, tREFI=1000, tRFC=120,
         tRFCpb=40, tREFIpb=120)
BURST = 4                                   # BL8 / 2
MAPPING = "ro-ra-bg-ba-co-ch"               # most significant first


def preset(tmp_path, channels=1, ranks=1):
    text = ("schema_version: 1\nname: T\ndescription: test preset\n"
            f"organization: {{channels: {channels}, ranks: {ranks}, bankgroups: 2, banks_per_group: 2, rows: 64,"
            " row_bytes: 1024, bus_bits: 64, burst_length: 8}\n"
            "timing: {" + ", ".join(f"{k}: {v}" for k, v in T.items()) + "}\n")
    path = tmp_path / f"t{channels}{ranks}.yaml"
    path.write_text(text)
    return parse_preset(load(path))


def address(p, row, rank, bank, column=0, channel=0):
    """Byte address (bank counts bank group x banks per group); 16 columns of 64 B per row."""
    o = p.org
    value = ((row * o["ranks"] + rank) * o["bankgroups"] * o["banks_per_group"] + bank) * 16 + column
    return (value * o["channels"] + channel) * 64


def run(p, controller, arrive, addr, writes, frontend="unlimited", **kw):
    return simulate_requests(p, controller, np.asarray(arrive, np.int64), np.asarray(addr, np.int64),
                             np.asarray(writes, bool), frontend=frontend, trace_commands=100_000, **kw)


def random_traffic(p, rng, n, gap_max, rows=4, write_share=0.3):
    """n requests over all channels, ranks and banks, few rows (hits and conflicts), sorted arrivals."""
    o = p.org
    arrive = np.cumsum(rng.integers(0, gap_max + 1, n))
    addr = [address(p, int(rng.integers(0, rows)), int(rng.integers(0, o["ranks"])),
                    int(rng.integers(0, o["bankgroups"] * o["banks_per_group"])), int(rng.integers(0, 16)),
                    int(rng.integers(0, o["channels"]))) for _ in range(n)]
    return arrive, np.asarray(addr, np.int64), rng.random(n) < write_share


@pytest.mark.parametrize("frontend", ["inorder", "unlimited"])
@pytest.mark.parametrize("ranks", [1, 2])
def test_requests_far_apart_get_the_idle_latency(tmp_path, frontend, ranks):
    """With every earlier constraint expired, each request waits exactly its own chain:
    hit CL/CWL + burst, closed bank + tRCD, other row open + tRP. A channel that wakes late
    for an arrival, an ACT, a PRE or the hit after the ACT adds cycles."""
    p = preset(tmp_path, ranks=ranks)
    rng = np.random.default_rng(ranks)
    n, gap = 300, 400
    open_row = {}
    arrive, addr, writes, expected = [], [], [], []
    for i in range(n):
        rank, bank, row = int(rng.integers(0, ranks)), int(rng.integers(0, 4)), int(rng.integers(0, 3))
        write = bool(rng.random() < 0.4)
        arrive.append(i * gap + int(rng.integers(0, 7)))
        addr.append(address(p, row, rank, bank, int(rng.integers(0, 16))))
        writes.append(write)
        latency = (T["CWL"] if write else T["CL"]) + BURST
        state = open_row.get((rank, bank))
        if state != row:
            latency += T["tRCDWR"] if write else T["tRCDRD"]
            if state is not None:
                latency += T["tRP"]
        open_row[(rank, bank)] = row
        expected.append(latency)
    result = run(p, ControllerSpec(address_mapping=MAPPING, refresh="none"), arrive, addr, writes, frontend)
    assert result.latency_cycles.tolist() == expected


@pytest.mark.parametrize("refresh", ["all_bank", "per_bank"])
def test_channels_do_not_interact_with_the_unlimited_front_end(tmp_path, refresh):
    """Each channel has its own queues and the unlimited front end fills them independently:
    a channel's requests complete at the same cycles, with the same commands, whatever the
    other channels do (here: a channel alone, then with busy neighbours)."""
    p = preset(tmp_path, channels=4, ranks=2)
    rng = np.random.default_rng(7)
    arrive, addr, writes = random_traffic(p, rng, 3000, 3)
    controller = ControllerSpec(address_mapping=MAPPING, read_queue=6, write_queue=6, write_high_watermark=0.7,
                                write_low_watermark=0.3, row_hit_cap=2, refresh=refresh)
    full = run(p, controller, arrive, addr, writes)
    channel = (addr // 64) % 4
    for c in range(4):
        mine = channel == c
        alone = run(p, controller, arrive[mine], addr[mine], writes[mine])
        assert np.array_equal(alone.done_cycle, full.done_cycle[mine])
        # (idle channels still refresh; the full run refreshes this one until every channel is done)
        own = alone.commands[alone.commands[:, 2] == c]
        assert np.array_equal(own, full.commands[(full.commands[:, 2] == c) & (full.commands[:, 0] <= own[-1, 0])])


@pytest.mark.parametrize("threads", [2, 3, 5])
def test_threads_change_nothing(tmp_path, threads):
    """The unlimited front end's channels run on several threads: every result (completion
    cycles, commands, counters, bus and queue figures) is that of one thread."""
    p = preset(tmp_path, channels=5, ranks=2)
    rng = np.random.default_rng(5)
    arrive, addr, writes = random_traffic(p, rng, 4000, 5)
    controller = ControllerSpec(address_mapping=MAPPING, read_queue=6, write_queue=6, row_hit_cap=2)
    one = simulate_requests(p, controller, arrive, addr, writes, trace_commands=500, threads=1)
    many = simulate_requests(p, controller, arrive, addr, writes, trace_commands=500, threads=threads)
    assert np.array_equal(one.done_cycle, many.done_cycle)
    assert np.array_equal(one.commands, many.commands)
    assert one.command_counts == many.command_counts and one.last_cycle == many.last_cycle
    assert (one.row_hits, one.row_misses, one.row_conflicts) == (many.row_hits, many.row_misses, many.row_conflicts)
    assert np.array_equal(one.bus_busy_cycles, many.bus_busy_cycles)
    assert (one.read_queue_occupancy, one.write_queue_occupancy, one.active_rank_cycles) == (
        many.read_queue_occupancy, many.write_queue_occupancy, many.active_rank_cycles)


def _threaded_run(p, controller, arrive, addr, writes, out):
    out.put(int(simulate_requests(p, controller, arrive, addr, writes, threads=2).last_cycle))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_threads_work_in_a_forked_child(tmp_path):
    """A process forked after a threaded run still runs threaded (its copy of the thread pool would
    otherwise take the work and never run it)."""
    p = preset(tmp_path, channels=4)
    arrive, addr, writes = random_traffic(p, np.random.default_rng(9), 500, 3)
    controller = ControllerSpec(address_mapping=MAPPING)
    expected = simulate_requests(p, controller, arrive, addr, writes, threads=2).last_cycle
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_threaded_run, args=(p, controller, arrive, addr, writes, out))
    child.start()
    child.join(120)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and child.exitcode == 0 and out.get(timeout=5) == expected


@pytest.mark.parametrize("frontend", ["inorder", "unlimited"])
def test_a_later_request_changes_nothing_before_it(tmp_path, frontend):
    """A request that arrives after everything else completed leaves the earlier requests'
    completion cycles and commands unchanged."""
    p = preset(tmp_path, channels=2, ranks=2)
    rng = np.random.default_rng(3)
    arrive, addr, writes = random_traffic(p, rng, 2000, 2)
    controller = ControllerSpec(address_mapping=MAPPING, read_queue=8, write_queue=8, page_policy="closed")
    base = run(p, controller, arrive, addr, writes, frontend)
    late = int(base.done_cycle.max()) + 5000
    more = run(p, controller, np.append(arrive, late), np.append(addr, addr[0]), np.append(writes, False), frontend)
    assert np.array_equal(more.done_cycle[:-1], base.done_cycle)
    # (refresh goes on until the late request arrives)
    assert np.array_equal(more.commands[more.commands[:, 0] <= base.commands[-1, 0]], base.commands)


@pytest.mark.parametrize("refresh", ["none", "all_bank", "per_bank"])
def test_front_ends_agree_when_no_queue_fills(tmp_path, refresh):
    """Arrivals on distinct cycles and queues that cannot fill: the in-order front end then
    admits every request on its arrival cycle, as the unlimited one does."""
    p = preset(tmp_path, channels=2, ranks=2)
    rng = np.random.default_rng(11)
    arrive, addr, writes = random_traffic(p, rng, 1500, 4)
    arrive = arrive + np.arange(arrive.size)          # strictly increasing
    controller = ControllerSpec(address_mapping=MAPPING, read_queue=1500, write_queue=1500, refresh=refresh)
    inorder = run(p, controller, arrive, addr, writes, "inorder")
    unlimited = run(p, controller, arrive, addr, writes, "unlimited")
    assert np.array_equal(inorder.done_cycle, unlimited.done_cycle)
    assert np.array_equal(inorder.commands, unlimited.commands)


def test_a_cycle_limit_only_cuts_the_run(tmp_path):
    """Stopping at a cycle limit keeps every command before it and the completions they give."""
    p = preset(tmp_path, channels=2, ranks=2)
    rng = np.random.default_rng(5)
    arrive, addr, writes = random_traffic(p, rng, 2000, 3)
    controller = ControllerSpec(address_mapping=MAPPING, read_queue=8, write_queue=8, refresh="per_bank")
    full = run(p, controller, arrive, addr, writes)
    limit = int(full.last_cycle) // 2
    cut = run(p, controller, arrive, addr, writes, cycle_limit=limit)
    assert np.array_equal(cut.commands, full.commands[full.commands[:, 0] < limit])
    column = full.done_cycle - np.where(writes, T["CWL"], T["CL"]) - BURST
    assert np.array_equal(cut.done_cycle, np.where(column < limit, full.done_cycle, -1))


def test_write_drain_ends_the_cycle_after_the_low_watermark(tmp_path):
    """Draining stops on the cycle after a WR leaves the write buffer at the low watermark,
    even when a write arrives right after (the drain flag must be looked at on that cycle,
    not on the next cycle the channel happens to wake)."""
    p = preset(tmp_path)
    controller = ControllerSpec(address_mapping=MAPPING, refresh="none", read_queue=8, write_queue=4,
                                write_high_watermark=0.75, write_low_watermark=0.25)   # drain at 3, stop at 1
    arrive = [0] * 7
    addr = [address(p, 0, 0, 0, k) for k in range(4)] + [address(p, 0, 0, b) for b in (1, 2, 3)]
    writes = [False] * 4 + [True] * 3
    first = run(p, controller, arrive, addr, writes)
    wr = first.commands[first.commands[:, 1] == 4, 0]
    assert wr.size == 3 and first.commands[first.commands[:, 1] == 3, 0].min() > wr[1]
    # a fourth write (a hit on bank 1) two cycles after the second WR: the reads go first
    more = run(p, controller, arrive + [int(wr[1]) + 2], addr + [address(p, 0, 0, 1, 5)], writes + [True])
    columns = more.commands[np.isin(more.commands[:, 1], (3, 4))]
    after = columns[columns[:, 0] > wr[1]]
    assert after[:4, 1].tolist() == [3, 3, 3, 3]


@pytest.mark.parametrize("frontend", ["inorder", "unlimited"])
def test_no_precharge_while_a_hit_for_the_open_row_waits(tmp_path, frontend):
    """Reads only, a hit cap that never binds: a bank is never precharged while a queued read
    wants its open row (an arrival that adds such a hit must hold a PRE that was allowed)."""
    p = preset(tmp_path, channels=1, ranks=2)
    rng = np.random.default_rng(13)
    n = 3000
    arrive, addr, _ = random_traffic(p, rng, n, 6, rows=3, write_share=0)
    arrive = arrive + np.arange(n)                      # the in-order front end takes each on arrival
    controller = ControllerSpec(address_mapping=MAPPING, refresh="none", read_queue=n, row_hit_cap=10_000)
    result = run(p, controller, arrive, addr, np.zeros(n, bool), frontend)
    bank = (addr // (64 * 16)) % 8                        # rank x bank (one channel)
    row = addr // (64 * 16 * 8)
    served = result.done_cycle - T["CL"] - BURST
    commands = result.commands
    for b in range(8):
        mine = np.nonzero(bank == b)[0]
        for cycle in commands[(commands[:, 3] == b) & (commands[:, 1] == 1), 0]:
            before = mine[served[mine] < cycle]
            open_row = row[before[np.argmax(served[before])]]          # row of the last read before the PRE
            waiting = mine[(arrive[mine] <= cycle) & (served[mine] > cycle)]
            assert not np.any(row[waiting] == open_row), (b, cycle)


def test_organisations_the_request_records_cannot_hold_are_rejected(tmp_path):
    """Counts beyond what the kernel's packed request records hold are input errors, reported with
    their field, not wrong addresses."""
    from accsim.errors import ConfigError

    for field, value in (("channels", 40000), ("ranks", 32), ("banks_per_group", 128)):
        valid = preset(tmp_path).org    # a valid organisation, then one count too large
        org = {**valid, field: value}
        path = tmp_path / f"big_{field}.yaml"
        path.write_text("schema_version: 1\nname: B\ndescription: too large\norganization: {"
                        + ", ".join(f"{k}: {v}" for k, v in org.items()) + "}\ntiming: {"
                        + ", ".join(f"{k}: {v}" for k, v in T.items()) + "}\n")
        with pytest.raises(ConfigError, match=f"organization.{field}: must be at most"):
            parse_preset(load(path))
