import pytest

from accsim import units
from accsim.errors import UnitError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, hz", [("1 GHz", 1e9), ("800 MHz", 8e8), ("1.41GHz", 1.41e9), (5e8, 5e8)])
def test_frequency(text, hz):
    assert units.frequency_hz(text) == pytest.approx(hz)


@pytest.mark.parametrize("text, nbytes", [("32 MiB", 32 * 2**20), ("64 KB", 64_000), ("64 kB", 64_000),
                                          ("1 GiB", 2**30), ("2 GB", 2 * 10**9), (4096, 4096)])
def test_sizes(text, nbytes):
    assert units.size_bytes(text) == nbytes


@pytest.mark.parametrize("text, rate", [("1.8 TB/s", 1.8e12), ("32 GB/s", 32e9), ("1 GiB/s", 2**30),
                                        ("8 Gb/s", 1e9)])
def test_bandwidth(text, rate):
    assert units.bandwidth_bytes_per_s(text) == pytest.approx(rate)


def test_time_and_energy():
    assert units.time_s("100 ns") == pytest.approx(1e-7)
    assert units.energy_pj_per_bit("3.9 pJ/bit") == pytest.approx(3.9)
    assert units.energy_pj("1.1 pJ") == pytest.approx(1.1)
    assert units.energy_pj(0.2) == pytest.approx(0.2)


@pytest.mark.parametrize("parser, bad", [(units.frequency_hz, "1 GB"), (units.size_bytes, "1 Gb"),
                                         (units.size_bytes, "fast"), (units.size_bytes, "1.5 B"),
                                         (units.bandwidth_bytes_per_s, "3 GHz"), (units.frequency_hz, True),
                                         (units.size_bytes, [1])])
def test_rejects(parser, bad):
    with pytest.raises(UnitError):
        parser(bad)
