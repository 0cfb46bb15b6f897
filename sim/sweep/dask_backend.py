"""Cluster execution with Dask distributed.

A user starts `dask scheduler` and `dask worker tcp://HOST:8786` on their
machines (each with accsim installed) and runs `accsim sweep SPEC --scheduler
tcp://HOST:8786`. Each Dask worker thread keeps one accsim worker process
(accsim.sweep.worker.Runner), so a point that overruns its timeout is killed
there exactly as in the local pool. The base YAML trees travel with the
tasks (scattered once), so workers need no shared file system for them.
"""
from __future__ import annotations

import itertools
import logging
import re
import threading
from typing import Callable, Iterable

from .spec import SweepError
from .worker import Runner, lost_record

_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss)://)?([\w.\-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$")
_local = threading.local()


def check_address(address: str) -> str:
    match = _ADDRESS.match(address.strip())
    if match is None:
        raise SweepError(f"--scheduler {address!r}: expected tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)")
    protocol = match.group(1) or "tcp"
    return f"{protocol}://{match.group(2)}:{match.group(3)}"


def connect(address: str, timeout_s: float):
    """A Client of the scheduler at `address`; a clear error (no hang) when unreachable."""
    _import_distributed()
    from distributed import Client

    address = check_address(address)
    try:
        client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SweepError(f"cannot reach the Dask scheduler at {address} within {timeout_s:g} s "
                         f"(--connect-timeout): {reason}") from None
    try:
        client.wait_for_workers(1, timeout=timeout_s)
    except (OSError, TimeoutError):
        client.close()
        raise SweepError(f"the Dask scheduler at {address} has no workers after {timeout_s:g} s; "
                         f"start some with: dask worker {address}") from None
    return client


def local_cluster(workers: int):
    """A Dask LocalCluster on 127.0.0.1 (one single-threaded worker process each) and its Client."""
    _import_distributed()
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster, set_as_default=False), cluster


def _import_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise SweepError("Dask distributed is not installed; pip install 'accsim[cluster]'") from None


def run_dask(client, context: dict, tasks: Iterable[dict], on_result: Callable[[dict], None],
             timeout_s: float | None = None, max_in_flight: int | None = None, batch: int = 1) -> None:
    """Submit tasks in Dask tasks of `batch` points (at most `max_in_flight` points at once)
    and call on_result for each point as its Dask task finishes.

    Clarity-for-speed trade: a Dask task costs tens of ms of scheduling on a busy
    machine, so large sweeps send a few points per task (each still with its own timeout)."""
    from distributed import as_completed

    threads = sum(client.nthreads().values()) or 1
    limit = max(1, (max_in_flight or 2 * threads * batch) // batch)
    shared = client.scatter(context, broadcast=True, hash=False)
    remaining = iter(tasks)
    submitted = {}
    finished = as_completed(loop=client.loop)

    def submit_next() -> None:
        chunk = list(itertools.islice(remaining, batch))
        if chunk:
            future = client.submit(run_tasks, shared, chunk, timeout_s, pure=False)
            submitted[future.key] = (future, chunk)
            finished.add(future)

    try:
        for _ in range(limit):
            submit_next()
        for future in finished:
            chunk = submitted.pop(future.key)[1]
            try:
                records = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost Dask worker costs only its points
                records = [lost_record(task, "crashed", f"Dask: {type(exc).__name__}: {exc}", 0.0)
                           for task in chunk]
            for record in records:
                on_result(record)
            submit_next()
    finally:
        if submitted:   # interrupted: stop what is still queued or running
            client.cancel([future for future, _ in submitted.values()])


def batch_size(points: int, threads: int) -> int:
    """Points per Dask task: 1 for small sweeps, up to 8 when every thread gets many."""
    return max(1, min(8, points // (8 * max(threads, 1))))


def run_tasks(context: dict, tasks: list[dict], timeout_s: float | None) -> list[dict]:
    """Runs inside a Dask worker: one accsim worker process per Dask worker thread."""
    runner = getattr(_local, "runner", None)
    if runner is None:
        runner = _local.runner = Runner(warm_up=timeout_s is not None)
    return [runner.run(context, task, timeout_s) for task in tasks]
