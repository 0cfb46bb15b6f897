"""The DRAM playbacks kept on disk (accsim.components.dram, accsim.diskcache): a run that reads
them back gives the same results as the one that simulated them, anything that changes a
playback changes its key, and a damaged or unwritable store only costs the work."""
import json

import pytest

import accsim
from accsim.components.dram import PLAYBACK_CACHE
from accsim.diskcache import DiskCache

SMALL = ("schema_version: 1\nname: small\ndescription: d\nkind: llm\n"
         "model: {layers: 2, d_model: 128, heads: 4, ffn: 512, ffn_kind: gelu, vocab: 512, context: 64,"
         " norm: layernorm}\nserving: {batch_size: 2, prompt_tokens: 8, generate_tokens: 3}\n")


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return str(path)


@pytest.fixture
def store(tmp_path, monkeypatch):
    folder = tmp_path / "dram-cache"
    monkeypatch.setenv("ACCSIM_DRAM_CACHE", str(folder))
    return folder


def _without_cache_metadata(result):
    summary = json.loads(result.to_json())
    for key in ("wall_seconds", "mapping_cache", "dram_cache"):
        summary["metadata"].pop(key)
    return summary


@pytest.mark.golden
def test_a_run_read_back_equals_the_simulated_one(small, store, tmp_path):
    first = accsim.run("npu", small)
    made = first.summary["metadata"]["dram_cache"]
    assert made["directory"] == str(store) and made["hits"] == 0 and made["writes"] == made["misses"] > 0
    assert len(list(store.rglob("*.pkl"))) == made["writes"]
    again = accsim.run("npu", small)
    read = again.summary["metadata"]["dram_cache"]
    assert (read["hits"], read["misses"], read["writes"]) == (made["writes"], 0, 0)
    assert _without_cache_metadata(again) == _without_cache_metadata(first)
    first.save(tmp_path / "a")
    again.save(tmp_path / "b")
    for name in ("ops.csv", "energy.csv", "area.csv", "trace.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.golden
def test_a_changed_controller_or_stream_is_simulated_again(small, store):
    base = accsim.run("npu", small)
    closed = accsim.run("npu", small, overrides=["components.hbm.page_policy=closed"])
    assert closed.summary["metadata"]["dram_cache"]["hits"] == 0          # another controller: new keys
    commands = [run.summary["components"]["hbm"]["commands"] for run in (base, closed)]
    assert commands[0]["RDA"] == 0 < commands[1]["RDA"]                    # and really simulated again
    longer = accsim.run("npu", small, overrides=["serving.prompt_tokens=9"])
    assert longer.summary["metadata"]["dram_cache"]["misses"] > 0          # other streams: new keys


@pytest.mark.golden
def test_damaged_entries_are_simulated_again_and_off_writes_nothing(small, store, monkeypatch):
    first = accsim.run("npu", small)
    for path in store.rglob("*.pkl"):
        path.write_bytes(b"not a pickle")
    again = accsim.run("npu", small)
    cache = again.summary["metadata"]["dram_cache"]
    assert cache["hits"] == 0 and cache["misses"] == cache["writes"] > 0
    assert _without_cache_metadata(again) == _without_cache_metadata(first)
    monkeypatch.setenv("ACCSIM_DRAM_CACHE", "off")
    off = accsim.run("npu", small)
    assert off.summary["metadata"]["dram_cache"] == {"directory": "off", "hits": 0, "misses": 0, "writes": 0}
    assert _without_cache_metadata(off) == _without_cache_metadata(first)


@pytest.mark.unit
def test_disk_cache_keys_cover_every_part_and_the_code(tmp_path, monkeypatch):
    source = tmp_path / "model.py"
    source.write_text("x = 1\n")
    monkeypatch.setenv("ACCSIM_TEST_CACHE", str(tmp_path / "store"))
    cache = DiskCache("ACCSIM_TEST_CACHE", "test", lambda: [source])
    name = cache.key(b"ab", "c")
    assert name != cache.key(b"a", "bc")          # parts do not run into each other
    assert cache.load(name) is None and cache.stats["misses"] == 1
    cache.store(name, {"value": 3})
    assert cache.load(name) == {"value": 3} and cache.stats == {"hits": 1, "misses": 1, "writes": 1}
    source.write_text("x = 2\n")
    changed = DiskCache("ACCSIM_TEST_CACHE", "test", lambda: [source])
    assert changed.key(b"ab", "c") != name        # a changed model never reads old entries


@pytest.mark.unit
def test_an_unwritable_store_only_costs_the_work(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ACCSIM_TEST_CACHE", str(blocker / "sub"))    # a path under a file: cannot be made
    cache = DiskCache("ACCSIM_TEST_CACHE", "test", list)
    name = cache.key("k")
    cache.store(name, 1)
    assert cache.stats["writes"] == 0 and cache.load(name) is None


@pytest.mark.unit
def test_the_playback_store_covers_the_dram_model_sources():
    names = {path.name for path in PLAYBACK_CACHE._sources()}
    assert {"dram.py", "simulate.py", "preset.py", "constraints.py", "clock.py"} <= names


@pytest.mark.cli
def test_cache_command_shows_and_clears_only_its_entries(small, store, tmp_path):
    import subprocess
    import sys

    accsim.run("npu", small)
    entries = len(list(store.rglob("*.pkl")))
    (store / "notes.txt").write_text("not ours")
    cli = [sys.executable, "-m", "accsim.cli", "cache"]
    shown = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    assert f"dram      {store}: {entries:,} entries" in shown.stdout and "mappings" in shown.stdout
    cleared = subprocess.run([*cli, "clear", "dram"], capture_output=True, text=True, check=False)
    assert cleared.returncode == 0 and f"removed {entries:,} entries" in cleared.stdout
    assert "mappings" not in cleared.stdout                     # only the store asked for
    assert not list(store.rglob("*.pkl")) and (store / "notes.txt").read_text() == "not ours"
    assert [p.name for p in store.iterdir()] == ["notes.txt"]   # the emptied shard folders went too


@pytest.mark.golden
def test_exact_mode_simulates_every_playback_even_with_the_cache_full(small, store):
    fast = accsim.run("npu", small)
    exact = accsim.run("npu", small, exact=True)
    cache = exact.summary["metadata"]["dram_cache"]
    assert (cache["hits"], cache["misses"], cache["writes"]) == (0, 0, 0)    # left alone, though full
    assert exact.summary["total"] == fast.summary["total"]
    assert accsim.run("npu", small).summary["metadata"]["dram_cache"]["misses"] == 0    # reading is back on
