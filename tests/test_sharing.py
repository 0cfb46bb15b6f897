"""Memory bandwidth shared by overlapping ops (accsim.sharing)."""
import pytest
import simpy
from accsim.sharing import SharedMemories, max_min_shares

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("demands, shares", [
    ([0.3, 0.4], [0.3, 0.4]),                  # they fit: everyone gets what it asks
    ([0.8, 0.8], [0.5, 0.5]),                  # equal split
    ([0.2, 0.9, 0.9], [0.2, 0.4, 0.4]),        # the small demand is met, the rest split
    ([1.0], [1.0]),
])
def test_max_min_shares(demands, shares):
    assert max_min_shares(demands) == pytest.approx(shares)
    assert sum(max_min_shares(demands)) <= 1.0 + 1e-12


def _finish_times(ops, memories=("hbm",)):
    """ops: (start tick, isolated ticks, busy ticks per memory) -> finish tick of each."""
    env = simpy.Environment()
    shared = SharedMemories(env, list(memories))
    finish = [None] * len(ops)

    def op(i, start, ticks, busy):
        yield env.timeout(start)
        yield from shared.run(ticks, busy)
        finish[i] = env.now

    for i, spec in enumerate(ops):
        env.process(op(i, *spec))
    env.run()
    return finish


def test_an_op_alone_takes_its_own_ticks():
    assert _finish_times([(5, 1000, {"hbm": 1000})]) == [1005]


def test_demands_that_fit_do_not_stretch():
    assert _finish_times([(0, 1000, {"hbm": 500}), (0, 800, {"hbm": 400})]) == [1000, 800]


def test_oversubscribed_ops_stretch_by_their_share():
    # two ops asking 0.8 each get 0.5 each: they progress at 0.5 / 0.8 = 0.625 of their speed
    assert _finish_times([(0, 1000, {"hbm": 800}), (0, 1000, {"hbm": 800})]) == [1600, 1600]


def test_a_late_op_slows_only_the_overlap():
    # A (demand 1) runs alone for 500 ticks, then shares with B (demand 1) at half speed;
    # A's last 500 ticks of work take 1000: done at 1500; B then runs alone: 500 left -> 2000
    assert _finish_times([(0, 1000, {"hbm": 1000}), (500, 1000, {"hbm": 1000})]) == [1500, 2000]


def test_compute_only_ops_and_other_memories_are_not_slowed():
    finish = _finish_times([(0, 1000, {"hbm": 1000}), (0, 1000, {}), (0, 1000, {"pim": 1000}),
                            (0, 1000, {"hbm": 1000})], memories=("hbm", "pim"))
    assert finish == [2000, 1000, 1000, 2000]


def test_small_demand_keeps_its_speed_beside_a_memory_bound_op():
    # 0.2 + 1.0 > 1: the small one gets its 0.2, the big one 0.8: after 1000 ticks it has done
    # 800 of its 1000 ticks of work, and the last 200 run alone
    assert _finish_times([(0, 1000, {"hbm": 200}), (0, 1000, {"hbm": 1000})]) == [1000, 1200]


@pytest.mark.golden
def test_overlapping_sub_batches_share_the_memory():
    """NeuPIMs' interleaved sub-batches run GEMMs and vector ops side by side: whenever an op
    ran longer than its own cost, another op using the same memory ran beside it, and no op
    ever ran shorter than its cost."""
    import accsim

    result = accsim.run("neupims", "gpt3-7b-sharegpt",
                        overrides=["model.layers=2", "serving.max_iterations=2", "serving.batch_size=64"])
    ops = result.ops
    sharing = result.summary["metadata"]["memory_sharing"]
    assert sharing and sharing["ops_slowed"] > 0
    start, end = ops["start_seconds"].to_numpy(), (ops["start_seconds"] + ops["seconds"]).to_numpy()
    uses_hbm = (ops["bytes_read"] + ops["bytes_written"] > 0).to_numpy() & (ops["unit"] != "pim").to_numpy()
    added = 0.0
    for i in range(len(ops)):
        stretch = ops["memory_sharing_seconds"].iat[i]
        assert stretch >= -1e-15
        if stretch > 1e-15:
            added += stretch
            others = uses_hbm & (start < end[i]) & (end > start[i])
            others[i] = False
            assert uses_hbm[i] and others.any(), ops["name"].iat[i]
    assert added == pytest.approx(sharing["added_op_seconds"], rel=1e-6)
