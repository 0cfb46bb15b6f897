"""Source ids on DRAM requests: per-source latency and bandwidth of a shared run."""
import numpy as np
import pytest

from accsim.memory.preset import ControllerSpec, load_preset
from accsim.memory.simulate import simulate_requests

pytestmark = pytest.mark.unit
HBM2 = load_preset("hbm2")


def _two_sources(n=20_000, seed=5):
    """Source 0 streams sequentially, source 1 reads at random; they alternate, one request a cycle."""
    rng = np.random.default_rng(seed)
    stream = np.arange(n // 2, dtype=np.int64) * 64
    scattered = rng.integers(0, HBM2.capacity_bytes // 64, n // 2) * 64
    address = np.empty(n, np.int64)
    address[0::2], address[1::2] = stream, scattered
    source = np.tile([0, 1], n // 2)
    return address, source


def test_sources_split_the_shared_run():
    address, source = _two_sources()
    n = address.size
    writes = np.zeros(n, bool)
    writes[1::8] = True                           # some of source 1's requests write
    # one request every 4 cycles: no queueing, so latency is the row's state
    run = simulate_requests(HBM2, ControllerSpec(), np.arange(n) * 4, address, writes, source=source)
    split = run.by_source()
    assert sorted(split) == [0, 1]
    assert sum(s["requests"] for s in split.values()) == n
    assert split[0]["writes"] == 0 and split[1]["writes"] == int(writes.sum())
    assert split[0]["reads"] + split[1]["reads"] == int((~writes).sum())
    # the stream hits open rows (CL + burst), the scattered reads need an ACT (+ tRCD) and mostly a
    # PRE first (+ tRP)
    t = HBM2.timing
    hit = t["CL"] + HBM2.burst_cycles
    assert split[0]["read_latency_cycles"]["p50"] == hit
    assert split[1]["read_latency_cycles"]["p50"] == hit + t["tRCDRD"] + t["tRP"]
    for s in split.values():
        assert 0 < s["bandwidth_bytes_per_s"] <= HBM2.peak_bytes_per_s
        assert s["span_cycles"] <= run.last_cycle


def test_without_sources_everything_is_source_zero():
    address, _ = _two_sources(4000)
    n = address.size
    run = simulate_requests(HBM2, ControllerSpec(), np.arange(n), address, np.zeros(n, bool))
    only = run.by_source()
    assert list(only) == [0]
    assert only[0]["requests"] == n
    assert only[0]["read_latency_cycles"]["mean"] == pytest.approx(run.latency_cycles.mean())
    assert only[0]["read_latency_cycles"]["max"] == run.latency_cycles.max()


def test_sources_follow_their_requests_when_arrivals_are_sorted():
    n = 3000
    arrive = np.arange(n)[::-1].copy()            # given latest first
    address = np.arange(n, dtype=np.int64) * 64
    writes = np.arange(n) % 3 == 0
    source = np.where(writes, 7, 2)               # source 7 writes, source 2 reads
    split = simulate_requests(HBM2, ControllerSpec(), arrive, address, writes, source=source).by_source()
    assert split[7]["writes"] == split[7]["requests"] == int(writes.sum())
    assert split[2]["reads"] == split[2]["requests"] == n - int(writes.sum())
    assert split[7]["read_latency_cycles"] is None


def test_a_source_array_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="one id per request"):
        simulate_requests(HBM2, ControllerSpec(), np.arange(4), np.arange(4) * 64, np.zeros(4, bool),
                          source=np.zeros(3, np.int64))
