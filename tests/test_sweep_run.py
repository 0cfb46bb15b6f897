"""Sweeps that really run: local worker pool, failures, timeouts and crashes, resume,
a sweep killed with SIGKILL and resumed, bad input at the command line, and Dask
on a LocalCluster bound to 127.0.0.1 (through --scheduler).

Faults are injected without touching accsim: a `sitecustomize.py` on the worker
processes' PYTHONPATH wraps accsim.api.run so that a point with `vu.lanes` 7
hangs, 9 kills its process and 11 raises (when its memory holds at least
1 MiB). Every other point runs for real, and its figures are compared with
`accsim.run` of the same overrides.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import accsim
from accsim.sweep import run_sweep
from accsim.sweep.store import LOG, MANIFEST, read_log

CLI = [sys.executable, "-m", "accsim.cli"]
FAULTS = """\
import os, time
if os.environ.get("ACCSIM_TEST_FAULTS") == "1":
    import accsim.api as _api
    _real = _api.run
    def run(arch, workload, overrides=(), **kwargs):
        lanes = None if isinstance(arch, str) else arch.component("vu").params["lanes"]
        if lanes is not None and arch.component("dram").params["capacity"] < 2**20:
            lanes = None
        if lanes == 7:
            time.sleep(3600)
        if lanes == 9:
            os._exit(9)
        if lanes == 11:
            raise RuntimeError("injected fault")
        return _real(arch, workload, overrides, **kwargs)
    _api.run = run
"""


@pytest.fixture
def faults(tmp_path, monkeypatch):
    """Worker processes started from now on load the fault injector."""
    folder = tmp_path / "faults"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(FAULTS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("ACCSIM_TEST_FAULTS", "1")


def write_spec(folder: Path, parameters: str, objectives="[latency, {components.sa.utilization: max}]",
               extra="") -> Path:
    path = folder / "spec.yaml"
    path.write_text("schema_version: 1\nname: t\narch: sa32\nworkload: gemm-256\nparameters:\n"
                    + textwrap.indent(textwrap.dedent(parameters), "  ") + f"objectives: {objectives}\n" + extra)
    return path


def cli(cwd: Path, *argv, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "ACCSIM_CRASH_DIR": str(cwd / "crash")}
    return subprocess.run([*CLI, *map(str, argv)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def expected_seconds(overrides) -> float:
    return accsim.run("sa32", "gemm-256", overrides=list(overrides)).summary["total"]["seconds"]


@pytest.mark.slow
def test_local_pool_records_ok_failed_timeout_crashed_and_skips_on_rerun(tmp_path, faults):
    spec = write_spec(tmp_path, """\
        components.vu.lanes: [16, 7, 9, 11]
        components.dram.capacity: [1 GiB, 1 KiB]
        """, extra="constraints: ['components.sa.utilization >= 0.9']\n")
    out = tmp_path / "sweep"
    outcome = run_sweep(spec, out, jobs=2, point_timeout=3, outcome=True)
    frame = outcome.frame.set_index(["components.vu.lanes", "components.dram.capacity"])
    assert len(frame) == 8 and outcome.ran == 8
    ok = frame.loc[(16, "1 GiB")]
    assert ok["status"] == "ok"
    overrides = ["components.vu.lanes=16", "components.dram.capacity=1 GiB"]
    assert ok["latency_s"] == expected_seconds(overrides)
    assert ok["overrides"] == "; ".join(overrides)
    for lanes in (16, 7, 9, 11):                      # a real error of the simulator, at run time
        tiny = frame.loc[(lanes, "1 KiB")]
        assert tiny["status"] == "failed" and tiny["error_type"] == "CapacityError", lanes
        assert "1 KiB" not in tiny["error"] or "capacity" in tiny["error"].lower()
    assert frame.loc[(7, "1 GiB"), "status"] == "timeout"
    assert "point timeout of 3 s" in frame.loc[(7, "1 GiB"), "error"]
    assert frame.loc[(9, "1 GiB"), "status"] == "crashed"
    assert "exit code 9" in frame.loc[(9, "1 GiB"), "error"]
    assert frame.loc[(11, "1 GiB"), "status"] == "failed"
    assert frame.loc[(11, "1 GiB"), "error"] == "RuntimeError: injected fault"
    utilization = frame["summary.components.sa.utilization"]
    assert (frame["feasible"] == ((frame["status"] == "ok") & (utilization >= 0.9))).all()
    assert frame["accsim_version"].eq(accsim.__version__).all()
    assert all(name.endswith(("sa32.yaml", "gemm-256.yaml")) for name in json.loads(frame["inputs"].iloc[0]))
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["state"] == "complete" and manifest["points"] == 8
    assert (out / "results.parquet").is_file() and (out / "results.csv").is_file()
    again = run_sweep(spec, out, jobs=2, point_timeout=3, outcome=True)
    assert (again.ran, again.skipped) == (0, 8)
    assert len((out / LOG).read_bytes().splitlines()) == 8      # nothing ran twice


@pytest.mark.slow
def test_retry_failed_runs_only_points_that_did_not_finish_ok(tmp_path):
    from accsim.sweep.points import plan_sweep
    from accsim.sweep.spec import load_spec
    from accsim.sweep.store import Store, new_manifest

    spec = write_spec(tmp_path, "components.vu.lanes: [16, 32]\n")
    plan = plan_sweep(load_spec(spec))
    out = tmp_path / "sweep"
    store = Store.open(out, new_manifest(plan, ()), resume=False)     # as left by an earlier run
    store.append({"key": plan.points[0].key, "status": "ok", "params": {"components.vu.lanes": 16},
                  "metrics": {"total.seconds": 1.0, "components.sa.utilization": 0.5}})
    store.append({"key": plan.points[1].key, "status": "timeout", "params": {"components.vu.lanes": 32}})
    store.close()
    again = run_sweep(spec, out, jobs=1, outcome=True)
    assert (again.ran, again.skipped) == (0, 2)
    retried = run_sweep(spec, out, jobs=1, retry_failed=True, outcome=True)
    assert (retried.ran, retried.skipped) == (1, 1)
    frame = retried.frame.set_index("components.vu.lanes")
    assert frame.loc[32, "status"] == "ok" and frame.loc[16, "latency_s"] == 1.0
    assert frame.loc[32, "latency_s"] == expected_seconds(["components.vu.lanes=32"])


def _wait_for(predicate, timeout=180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.slow
@pytest.mark.cli
@pytest.mark.parametrize("kill_after", [0, 4])
def test_sigkill_at_any_moment_then_resume(tmp_path, kill_after):
    spec = write_spec(tmp_path, "components.dram.latency: {from: 0, to: 310, step: 10, unit: ns}\n")
    out = tmp_path / "sweep"
    env = {**os.environ, "ACCSIM_CRASH_DIR": str(tmp_path / "crash")}
    process = subprocess.Popen([*CLI, "sweep", spec, "--out", out, "-j", "2", "--quiet"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    log = out / LOG
    try:
        assert _wait_for(lambda: log.is_file() and log.read_bytes().count(b"\n") >= kill_after)
    finally:
        os.killpg(process.pid, signal.SIGKILL)           # the sweep and its workers, at once
        process.wait()
    before = log.read_bytes()
    whole = before[: before.rfind(b"\n") + 1]
    finished = read_log(out)
    assert len(finished) == whole.count(b"\n") and len(finished) < 32
    assert json.loads((out / MANIFEST).read_text())["state"] == "running"
    with open(log, "ab") as stream:                      # as if the kill had cut a write short
        stream.write(b'{"key": "0123", "status": "o')
    resumed = cli(tmp_path, "sweep", spec, "--out", out, "-j", "2", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"skipped {len(finished)} already stored" in resumed.stdout
    after = log.read_bytes()
    assert after.startswith(whole)                       # finished points kept, byte for byte
    keys = [json.loads(line)["key"] for line in after.splitlines()]
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(keys) == sorted(manifest["keys"]) and len(keys) == 32   # each point exactly once
    assert all(record["status"] == "ok" for record in read_log(out).values())
    assert manifest["state"] == "complete"


@pytest.mark.cli
def test_bad_input_exits_2_before_anything_runs(tmp_path):
    spec = write_spec(tmp_path, "components.sa.rows: [16, 0]\ncomponents.spad.capacityy: [1 MiB]\n")
    proc = cli(tmp_path, "sweep", spec, "--out", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert f"accsim: error: {spec}:6: parameters.components.sa.rows: 0: components.sa.rows: must be greater " \
           "than zero, got 0" in lines
    assert any(line.startswith(f"accsim: error: {spec}:7: parameters.components.spad.capacityy: 1 MiB: "
                               "components.spad.capacityy: unknown key") for line in lines)
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()
    with socket.socket() as probe:                       # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    good = write_spec(tmp_path, "components.sa.rows: [16]\n")
    proc = cli(tmp_path, "sweep", good, "--out", tmp_path / "out", "--scheduler", f"tcp://127.0.0.1:{port}",
               "--connect-timeout", "1", timeout=120)
    assert proc.returncode == 2
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 1 s" in proc.stderr
    assert not (tmp_path / "out").exists()
    proc = cli(tmp_path, "sweep", good, "--scheduler", "nowhere")
    assert proc.returncode == 2 and "expected tcp://HOST:PORT" in proc.stderr


@pytest.mark.cli
def test_an_objective_the_run_cannot_provide_stops_the_sweep_with_exit_2(tmp_path):
    spec = write_spec(tmp_path, "components.sa.rows: [16, 32]\n", objectives="[{no.such.metric: min}]")
    proc = cli(tmp_path, "sweep", spec, "--out", tmp_path / "out", "-j", "1")
    assert proc.returncode == 2, proc.stderr
    assert f"accsim: error: {spec}:7: objectives[0]: no.such.metric: no numeric summary field no.such.metric" \
           in proc.stderr
    assert json.loads((tmp_path / "out" / MANIFEST).read_text())["state"] == "aborted"


@pytest.mark.slow
def test_dask_scheduler_runs_points_and_kills_hung_ones(tmp_path, faults):
    pytest.importorskip("distributed")
    from accsim.sweep.dask_backend import local_cluster

    spec = write_spec(tmp_path, "components.vu.lanes: [16, 7, 9]\n")
    client, cluster = local_cluster(1)                 # what --dask-local 1 starts
    try:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        frame = run_sweep(spec, tmp_path / "sweep", scheduler=cluster.scheduler_address, point_timeout=5)
    finally:
        client.close()
        cluster.close()
    status = dict(zip(frame["components.vu.lanes"], frame["status"]))
    assert status == {16: "ok", 7: "timeout", 9: "crashed"}
    ok = frame[frame["status"] == "ok"].iloc[0]
    assert ok["latency_s"] == expected_seconds(["components.vu.lanes=16"])


def test_workers_share_the_cpus_for_the_dram_threads(monkeypatch):
    """Each sweep worker process runs the DRAM model's channels on its share of the CPUs, not on
    all of them (workers x CPUs threads), unless the user set ACCSIM_THREADS."""
    from accsim.sweep.worker import Runner

    monkeypatch.delenv("ACCSIM_THREADS", raising=False)
    assert Runner(dram_threads=3).env["ACCSIM_THREADS"] == "3"
    assert Runner(dram_threads=0).env["ACCSIM_THREADS"] == "1"
    assert Runner(env={"PATH": "/bin"}).env == {"PATH": "/bin", "ACCSIM_THREADS": "1"}
    monkeypatch.setenv("ACCSIM_THREADS", "7")
    assert Runner(dram_threads=3).env["ACCSIM_THREADS"] == "7"
