"""Running a sweep: plan, open the store, skip finished points, run the rest, summarise."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import __version__
from .objectives import MetricUnavailable
from .points import Plan, plan_sweep
from .results import build_frame, flatten_summary, objectives_of
from .spec import SweepError, SweepSpec, load_spec
from .store import FINISHED, RETRIED, WORKER_LOG, Store, export_tables, new_manifest, utc_now


@dataclass
class Outcome:
    """What a sweep did: the table of its points and counts for the summary."""

    directory: Path
    frame: pd.DataFrame
    manifest: dict
    skipped: int = 0
    ran: int = 0
    wall_s: float = 0.0
    overhead: dict = field(default_factory=dict)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run_sweep(spec: str | os.PathLike | SweepSpec, out: str | os.PathLike | None = None, *,
              jobs: int | None = None, scheduler: str | None = None, dask_local: int | None = None,
              resume: bool = False, retry_failed: bool = False, point_timeout: float | None = None,
              connect_timeout: float = 10.0, overrides: tuple[str, ...] = (), limit: int | None = None,
              progress: bool = False, outcome: bool = False):
    """Run a sweep and return its results table (a DataFrame, one row per point).

    `spec` is a spec file or bundled sweep name; `out` the sweep directory
    (default reports/<name>). Points already in the directory's store are
    skipped (`retry_failed` runs failed, timed-out and crashed ones again).
    Local worker processes by default (`jobs`, default: the usable cores);
    `scheduler` (tcp://HOST:PORT) runs on a Dask cluster, `dask_local` on a
    Dask LocalCluster of that many workers on 127.0.0.1. `limit` runs only that
    many points spread over the sweep (a small run). With `outcome`, an
    Outcome (table, counts, timings) is returned instead of the table."""
    if jobs is not None and jobs < 1:
        raise SweepError(f"--jobs must be at least 1, got {jobs}")
    if point_timeout is not None and point_timeout <= 0:
        raise SweepError(f"--point-timeout must be above zero, got {point_timeout:g}")
    if scheduler and dask_local:
        raise SweepError("give --scheduler or --dask-local, not both")
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec, tuple(overrides))
    if limit is not None and limit < 1:
        raise SweepError(f"--limit must be at least 1, got {limit}")
    plan = plan_sweep(spec, limit)
    directory = Path(out) if out is not None else Path("reports") / spec.name
    client = cluster = None
    if scheduler:
        from .dask_backend import connect

        client = connect(scheduler, connect_timeout)     # fails fast, before any point runs
    try:
        store = Store.open(directory, new_manifest(plan, tuple(overrides)), resume)
    except BaseException:
        if client is not None:
            client.close()
        raise
    try:
        if dask_local:
            from .dask_backend import local_cluster

            client, cluster = local_cluster(dask_local)
        result = _execute(plan, store, client, jobs, point_timeout, retry_failed, progress)
    finally:
        store.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    return result if outcome else result.frame


def _execute(plan: Plan, store: Store, client, jobs: int | None, timeout_s, retry_failed: bool,
             progress: bool) -> Outcome:
    skip = set(FINISHED) - (set(RETRIED) if retry_failed else set())
    todo = [p for p in plan.points if store.records.get(p.key, {}).get("status") not in skip]
    recorder = _Recorder(plan, store, len(plan.points) - len(todo), len(todo), progress)
    started = time.perf_counter()
    state = "interrupted"
    workers = 1
    try:
        tasks = (p.task(plan.spec.exact) for p in todo)
        if todo and client is not None:
            from .dask_backend import batch_size, run_dask

            workers = sum(client.nthreads().values())
            run_dask(client, plan.context(), tasks, recorder, timeout_s, max_in_flight=jobs,
                     batch=batch_size(len(todo), workers))
        elif todo:
            from .pool import run_local

            workers = jobs or default_jobs()
            run_local(plan.context(), tasks, recorder, workers, timeout_s, str(store.directory / WORKER_LOG))
        state = "complete"
    except MetricUnavailable:
        state = "aborted"
        raise recorder.unavailable_error() from None
    finally:
        recorder.close()
        wall = time.perf_counter() - started
        frame = build_frame(store.manifest, [store.records[p.key] for p in plan.points if p.key in store.records])
        export_tables(store.directory, frame)
        store.write_manifest(state, counts=frame["status"].value_counts().to_dict() if len(frame) else {},
                             last_run={"ran": recorder.done, "skipped": recorder.skipped, "wall_s": wall,
                                       "finished_utc": utc_now()})
    return Outcome(store.directory, frame, store.manifest, recorder.skipped, recorder.done, wall,
                   recorder.overhead(wall, workers))


class _Recorder:
    """Called in the parent for every finished point: store it, check objectives, show progress."""

    def __init__(self, plan: Plan, store: Store, skipped: int, total: int, progress: bool):
        self.plan, self.store = plan, store
        self.points = {p.key: p for p in plan.points}
        self.skipped, self.total = skipped, total
        self.done = self.failed = 0
        self.point_seconds = 0.0
        self.parent_seconds = 0.0
        self.last_result: dict = {}          # worker (host, pid) -> when its last result arrived
        self.gaps: list[float] = []
        self.missing: tuple | None = None
        self.objectives = objectives_of(store.manifest)
        self.bar = _bar(total, progress)

    def __call__(self, result: dict) -> None:
        started = time.perf_counter()
        self._gap(result, started)
        point = self.points[result["key"]]
        summary = result.get("summary")
        metrics = flatten_summary(summary) if summary else {}
        self.store.append({
            "key": point.key, "arch": point.arch, "workload": point.workload, "params": dict(point.values),
            "overrides": [*point.arch_overrides, *point.workload_overrides], "status": result["status"],
            "error_type": result.get("error_type", ""), "error": result.get("error", ""),
            "traceback": result.get("traceback", ""), "wall_s": result.get("wall_s"),
            "accsim_version": __version__,
            "inputs": {**self.plan.input_hashes[("arch", point.arch_base)],
                       **self.plan.input_hashes[("workload", point.workload_base)]},
            "finished_utc": utc_now(), "host": result.get("host"), "metrics": metrics})
        self.done += 1
        self.failed += result["status"] != "ok"
        self.point_seconds += result.get("wall_s") or 0.0
        if self.bar is not None:
            self.bar.set_postfix_str(f"failed={self.failed} remaining={self.total - self.done}", refresh=False)
            self.bar.update(1)
        self.parent_seconds += time.perf_counter() - started
        if result["status"] == "ok":
            self._check_objectives(point, metrics)

    def _gap(self, result: dict, now: float) -> None:
        """Time between two results of one worker beyond the second point's own run:
        dispatch, transfer, parsing and storing, i.e. the steady-state cost of a point."""
        worker = (result.get("host"), result.get("pid"))
        if worker[1] is not None and worker in self.last_result:
            self.gaps.append(max(0.0, now - self.last_result[worker] - (result.get("wall_s") or 0.0)))
        self.last_result[worker] = now

    def _check_objectives(self, point, metrics: dict) -> None:
        """An objective the run cannot provide (no energy model, no tokens) stops the sweep."""
        for index, objective in enumerate(self.plan.spec.objectives):
            try:
                objective.value(metrics)
            except MetricUnavailable as exc:
                self.missing = (index, objective, str(exc), point)
                raise
        for index, constraint in enumerate(self.plan.spec.constraints):
            try:
                constraint.value(metrics)
            except MetricUnavailable as exc:
                self.missing = (index, constraint, str(exc), point)
                raise

    def unavailable_error(self) -> SweepError:
        index, item, reason, point = self.missing
        field = f"objectives[{index}]" if hasattr(item, "direction") else f"constraints[{index}]"
        where = item.where
        location = f"{where[0]}:{where[1]}" if where[1] else where[0]
        return SweepError(f"{location}: {field}: {getattr(item, 'name', None) or item.metric}: {reason} "
                          f"(first seen on {point.arch} x {point.workload}; sweep stopped, "
                          f"finished points are kept)")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def overhead(self, wall: float, jobs: int) -> dict:
        """Per-point time not spent simulating: parent-side storing, and all time
        (scheduling, transfer, idle workers) beyond the simulations themselves."""
        if not self.done:
            return {}
        gaps = sorted(self.gaps)
        return {"parent_ms_per_point": 1e3 * self.parent_seconds / self.done,
                "steady_ms_per_point": 1e3 * sum(gaps) / len(gaps) if gaps else float("nan"),
                "steady_ms_per_point_p90": 1e3 * gaps[int(0.9 * (len(gaps) - 1))] if gaps else float("nan"),
                "overhead_ms_per_point": 1e3 * max(0.0, wall * jobs - self.point_seconds) / self.done,
                "simulation_ms_per_point": 1e3 * self.point_seconds / self.done}


def _bar(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    import tqdm

    tqdm.tqdm.monitor_interval = 0     # no monitor thread
    return tqdm.tqdm(total=total, unit="pt", desc="sweep", dynamic_ncols=True, mininterval=0.5,
                     postfix=f"failed=0 remaining={total}")
