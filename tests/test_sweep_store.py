"""The sweep store: append-only log, torn tails, manifests, tables (no simulation)."""
from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from accsim.sweep.results import build_frame, load_results
from accsim.sweep.spec import SweepError
from accsim.sweep.store import LOG, MANIFEST, Store, export_tables, read_log


def manifest(keys, **extra) -> dict:
    return {"format": "accsim-sweep", "format_version": 1, "name": "t", "spec_path": "t.yaml",
            "created_utc": "now", "points": len(keys), "keys": list(keys),
            "parameters": [{"name": "rows", "paths": ["components.sa.rows"], "unit": "", "values": [1, 2, 3]}],
            "objectives": [{"name": "latency", "column": "latency_s", "direction": "min"},
                           {"name": "energy", "column": "energy_pj", "direction": "min"}],
            "constraints": ["latency <= 3 s"], **extra}


def record(key, rows, seconds, energy, status="ok") -> dict:
    metrics = {"total.seconds": seconds, "energy.total_pj": energy} if status == "ok" else {}
    return {"key": key, "arch": "a", "workload": "w", "params": {"rows": rows}, "status": status,
            "error": "" if status == "ok" else "boom", "metrics": metrics, "wall_s": 0.1}


@pytest.mark.unit
def test_torn_last_line_is_ignored_and_cut_before_appending(tmp_path):
    store = Store.open(tmp_path, manifest(["a", "b"]), resume=False)
    store.append(record("a", 1, 1.0, 5.0))
    store.close()
    with open(tmp_path / LOG, "ab") as stream:
        stream.write(b'{"key": "b", "status": "o')           # a write cut short by SIGKILL
    assert list(read_log(tmp_path)) == ["a"]
    store = Store.open(tmp_path, manifest(["a", "b"]), resume=False)
    assert store.manifest["dropped_partial_bytes"] == len(b'{"key": "b", "status": "o')
    store.append(record("b", 2, 2.0, 4.0))
    store.close()
    lines = (tmp_path / LOG).read_bytes().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b"]


@pytest.mark.unit
def test_directory_of_another_sweep_needs_resume_and_is_locked(tmp_path):
    Store.open(tmp_path, manifest(["a"]), resume=False).close()
    with pytest.raises(SweepError, match="holds a different sweep"):
        Store.open(tmp_path, manifest(["a", "b"]), resume=False)
    Store.open(tmp_path, manifest(["a", "b"]), resume=True).close()
    with pytest.raises(SweepError, match="nothing to resume"):
        Store.open(tmp_path / "new", manifest(["a"]), resume=True)
    first = Store.open(tmp_path, manifest(["a", "b"]), resume=False)
    with pytest.raises(SweepError, match="another accsim sweep is writing"):
        Store.open(tmp_path, manifest(["a", "b"]), resume=False)
    first.close()


@pytest.mark.unit
def test_table_flags_constraints_pareto_and_failures(tmp_path):
    keys = ["a", "b", "c", "d", "e"]
    store = Store.open(tmp_path, manifest(keys), resume=False)
    for item in (record("a", 1, 1.0, 5.0), record("b", 2, 2.0, 4.0), record("c", 3, 2.5, 4.5),
                 record("d", 4, 4.0, 1.0), record("e", 5, 0, 0, status="failed")):
        store.append(item)
    store.close()
    frame = load_results(tmp_path)
    assert frame["key"].tolist() == keys
    assert frame["feasible"].tolist() == [True, True, True, False, False]
    assert "latency_s = 4 violates latency <= 3 s" in frame.loc[3, "violations"]
    assert frame["pareto"].tolist() == [True, True, False, False, False]   # c is dominated by b
    assert frame.loc[4, "status"] == "failed" and pd.isna(frame.loc[4, "latency_s"])
    export_tables(tmp_path, frame)
    table = pq.read_table(tmp_path / "results.parquet").to_pandas()
    assert table["key"].tolist() == keys and table["pareto"].tolist() == frame["pareto"].tolist()
    assert pd.read_csv(tmp_path / "results.csv")["rows"].tolist() == [1, 2, 3, 4, 5]
    assert json.loads((tmp_path / MANIFEST).read_text())["state"] == "running"


@pytest.mark.unit
def test_mixed_parameter_types_still_export(tmp_path):
    frame = build_frame(manifest(["a", "b"]), [record("a", 64, 1.0, 1.0), record("b", "64 MiB", 1.0, 1.0)])
    export_tables(tmp_path, frame)
    assert pq.read_table(tmp_path / "results.parquet").column("rows").to_pylist() == ["64", "64 MiB"]
