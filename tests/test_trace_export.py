"""trace.json: Chrome trace-event format for Perfetto, one track per unit, counters, bounded size."""
import json

import pytest

import accsim
from accsim import trace_export

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "tiny.yaml"
    path.write_text("schema_version: 1\nname: tiny\ndescription: d\nkind: llm\n"
                    "model: {layers: 2, d_model: 128, heads: 4, ffn: 512, ffn_kind: gelu, vocab: 512, "
                    "context: 64, norm: layernorm}\nserving: {batch_size: 2, prompt_tokens: 8, generate_tokens: 3}\n")
    return accsim.run("npu", str(path))


def _threads(trace):
    return {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e.get("name") == "thread_name"}


def test_one_track_per_unit_and_one_slice_per_op(result):
    trace = json.loads(json.dumps(result.trace()))         # plain JSON all the way down
    threads = _threads(trace)
    assert {name.split(" ")[0] for name in threads.values()} == {"hbm", "dma", "spad", "sa", "vu"}
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    names = {tid: threads[tid].split(" ")[0] for tid in threads}
    ops = [e for e in slices if names[e["tid"]] in ("sa", "vu")]
    assert len(ops) == len(result.ops)
    assert sorted(e["name"] for e in ops) == sorted(result.ops["name"])
    assert any(names[e["tid"]] == "dma" for e in slices)
    # slices of one unit never overlap (the unit group runs one op at a time)
    for tid in {e["tid"] for e in ops}:
        mine = sorted((e["ts"], e["ts"] + e["dur"]) for e in ops if e["tid"] == tid)
        assert all(end <= nxt + 1e-6 for (_, end), (nxt, _) in zip(mine, mine[1:]))
    last = max(e["ts"] + e["dur"] for e in ops)
    assert last == pytest.approx(result.total_seconds * 1e6, rel=1e-6)      # microseconds
    assert trace["otherData"]["accsim"]["aggregated"] is False


def test_counter_tracks_for_bandwidth_and_occupancy(result):
    trace = result.trace()
    counters = {}
    for event in trace["traceEvents"]:
        if event["ph"] == "C":
            counters.setdefault(event["name"], []).append(event["args"]["value"])
    assert "hbm bandwidth (GB/s)" in counters and "spad occupancy per instance (MB)" in counters
    assert all(len(values) <= trace_export.COUNTER_POINTS for values in counters.values())
    # the bandwidth track integrates to the bytes the memory moved
    values = counters["hbm bandwidth (GB/s)"]
    bucket_s = result.total_seconds / len(values)
    moved = result.summary["memory_levels"]["hbm"]
    assert sum(values) * 1e9 * bucket_s == pytest.approx(moved["bytes_read"] + moved["bytes_written"], rel=1e-6)
    assert max(values) <= 1024 * 1.0001        # never above the port's 1024 GB/s


def test_large_runs_are_aggregated_and_say_so(result, monkeypatch):
    monkeypatch.setattr(trace_export, "MAX_BYTES", 20 * trace_export.SLICE_BYTES)
    trace = result.trace()
    info = trace["otherData"]["accsim"]
    assert info["aggregated"] is True and info["ops_per_slice"] > 1 and "merge" in info["note"]
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] != "dma"]
    assert len(slices) < len(result.ops)
    assert any(e["args"].get("aggregated") for e in slices)


def test_saved_trace_and_metadata(result, tmp_path):
    result.save(tmp_path)
    trace = json.loads((tmp_path / "trace.json").read_text())
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["metadata"]["trace"] == trace["otherData"]["accsim"]
    assert set(summary["metadata"]["files_sha256"]) == {"ops.csv", "energy.csv", "area.csv", "trace.json"}
    assert (tmp_path / "trace.json").stat().st_size < trace_export.MAX_BYTES


def test_result_pickles_without_its_trace_builder(result, tmp_path):
    import pickle

    copy = pickle.loads(pickle.dumps(result))
    assert copy.summary == result.summary and copy.trace is None
    copy.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area.csv", "energy.csv", "ops.csv", "summary.json"]
