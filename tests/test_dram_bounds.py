"""The DRAM model against physical bounds of HBM2 (docs/validation.md)."""
import numpy as np
import pytest

from accsim.memory.preset import ControllerSpec, load_preset, with_channels
from accsim.memory.simulate import simulate_requests

pytestmark = pytest.mark.golden
HBM2 = load_preset("hbm2")
T = HBM2.timing
N = 100_000


def reads(addresses):
    addresses = np.asarray(addresses, np.int64)
    return simulate_requests(HBM2, ControllerSpec(), np.zeros(addresses.size, np.int64), addresses,
                             np.zeros(addresses.size, bool))


def test_sequential_stream_reaches_the_refresh_bound():
    run = reads(np.arange(N) * 64)
    bound = HBM2.peak_bytes_per_s * (1 - T["tRFC"] / T["tREFI"])
    assert run.bandwidth_bytes_per_s >= 0.97 * bound
    assert run.bandwidth_bytes_per_s <= HBM2.peak_bytes_per_s


def test_sequential_hit_rate_is_one_miss_per_row():
    run = reads(np.arange(N) * 64)
    expected = 1 - 64 / HBM2.org["row_bytes"]
    assert run.row_hit_rate == pytest.approx(expected, abs=0.002)


def test_random_reads_are_activate_bound():
    rng = np.random.default_rng(1)
    run = reads(rng.integers(0, HBM2.capacity_bytes // 64, N) * 64)
    # at most four ACTs per tFAW per channel, one 64-byte read per ACT
    faw_bound = HBM2.org["channels"] * 4 * 64 / (T["tFAW"] * T["tCK_ns"] * 1e-9)
    assert run.bandwidth_bytes_per_s <= faw_bound
    assert run.bandwidth_bytes_per_s >= 0.85 * faw_bound * (1 - T["tRFC"] / T["tREFI"])
    assert run.row_hit_rate < 0.01


def test_same_bank_row_stride_costs_trc_per_request():
    row_stride = HBM2.org["row_bytes"] * HBM2.org["channels"] * HBM2.org["bankgroups"] * HBM2.org["banks_per_group"]
    run = reads(np.arange(2000) * row_stride)
    per_request = run.last_cycle / 2000
    assert T["tRC"] <= per_request <= 1.1 * T["tRC"]
    assert run.row_hits == 0 and run.row_conflicts + run.row_misses == 2000   # refresh turns a few conflicts into misses


def test_read_latency_of_an_idle_row_miss():
    run = reads([0])
    assert run.latency_cycles[0] == T["tRCDRD"] + T["CL"] + HBM2.burst_cycles


@pytest.mark.parametrize("name", __import__("accsim").memory.preset.preset_names())
def test_every_preset_streams_near_its_refresh_bound(name):
    """Sequential reads with bank groups interleaved (so tCCD_L never binds) reach
    at least 85% of peak x (1 - tRFC / tREFI) on every bundled standard."""
    preset = load_preset(name)
    n = 40_000
    run = simulate_requests(preset, ControllerSpec(address_mapping="ro-ra-ba-co-ch-bg"), np.zeros(n, np.int64),
                            np.arange(n, dtype=np.int64) * 64, np.zeros(n, bool))
    bound = preset.peak_bytes_per_s * (1 - preset.timing["tRFC"] / preset.timing["tREFI"])
    assert 0.85 * bound <= run.bandwidth_bytes_per_s <= preset.peak_bytes_per_s


@pytest.mark.parametrize("mapping", ["ro-ra-bg-ba-ch-co", "ro-ch-ra-bg-ba-co", "ch-ro-ra-bg-ba-co"])
def test_a_channel_count_that_is_no_power_of_two_is_a_digit_of_the_address(mapping):
    """40 channels (an A100's five HBM2 stacks): the channel is the address digit of radix 40 at
    its place in the mapping, and every other field keeps its bit field."""
    from accsim.kernels.dram import decode_addresses
    from accsim.memory.preset import compile_dram
    preset = with_channels(HBM2, 40)
    compiled = compile_dram(preset, ControllerSpec(address_mapping=mapping))
    rng = np.random.default_rng(3)
    requests = rng.integers(0, preset.capacity_bytes // 64, 20_000)
    fields = decode_addresses(requests * 64, compiled.mapping, compiled.org, 0, 0)
    sizes = {"ro": preset.org["rows"], "ra": preset.org["ranks"], "bg": preset.org["bankgroups"],
             "ba": preset.org["banks_per_group"], "ch": 40, "co": preset.org["row_bytes"] // 64}
    row = {"ro": 0, "ra": 1, "bg": 2, "ba": 3, "ch": 4, "co": 5}
    rebuilt = np.zeros_like(requests)
    for name in mapping.split("-"):            # most significant first
        assert fields[row[name]].min() >= 0 and fields[row[name]].max() < sizes[name]
        rebuilt = rebuilt * sizes[name] + fields[row[name]]
    assert np.array_equal(rebuilt, requests)
    assert len(np.unique(fields[4])) == 40


def test_forty_channels_stream_at_forty_channels_of_bandwidth():
    preset = with_channels(HBM2, 40)
    assert preset.peak_bytes_per_s == pytest.approx(HBM2.peak_bytes_per_s * 40 / 8)
    n = N * 40 // 8                 # as many requests per channel as the 8-channel test
    run = simulate_requests(preset, ControllerSpec(), np.zeros(n, np.int64), np.arange(n) * 64, np.zeros(n, bool))
    bound = preset.peak_bytes_per_s * (1 - T["tRFC"] / T["tREFI"])
    assert 0.97 * bound <= run.bandwidth_bytes_per_s <= preset.peak_bytes_per_s
    assert np.all(run.bus_busy_cycles > 0)
