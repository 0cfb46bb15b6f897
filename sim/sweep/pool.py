"""Local execution: a pool of worker processes with a timeout per point.

Each worker holds at most one point, so a sweep killed at any moment loses at
most `jobs` points, and a point that overruns its timeout is ended by killing
only its own worker (a fresh one takes its place; the other workers go on).
"""
from __future__ import annotations

import os
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Callable, Iterable

from .worker import STARTUP_TIMEOUT_S, Runner, WorkerStartError, lost_record


def run_local(context: dict, tasks: Iterable[dict], on_result: Callable[[dict], None], jobs: int,
              timeout_s: float | None = None, log_path: str | None = None, env: dict | None = None) -> None:
    """Run every task on `jobs` worker processes; call `on_result(record)` in this process
    as each finishes (also for failed, timed-out and crashed points)."""
    pending = deque(tasks)
    workers = max(1, min(jobs, len(pending)))
    dram_threads = len(os.sched_getaffinity(0)) // workers     # the CPUs shared out among the workers
    runners = [Runner(log_path, env, warm_up=timeout_s is not None, dram_threads=dram_threads) for _ in range(workers)]
    try:
        for runner in runners:
            runner.start()
        while pending or any(r.task is not None for r in runners):
            _dispatch(runners, pending, context, timeout_s)
            ready = wait(runners, _wait_time(runners))
            for runner in ready:
                _receive(runner, on_result)
            _expire(runners, on_result, timeout_s)
    finally:
        for runner in runners:
            runner.kill()


def _dispatch(runners, pending, context, timeout_s) -> None:
    for runner in runners:
        if runner.ready and runner.task is None and pending:
            runner.send(context, pending.popleft(), timeout_s)


def _wait_time(runners) -> float:
    now = time.monotonic()
    limits = [r.deadline for r in runners if r.deadline is not None]
    limits += [r.started_at + STARTUP_TIMEOUT_S for r in runners if not r.ready]
    return max(0.0, min(limits) - now) if limits else 60.0


def _receive(runner: Runner, on_result) -> None:
    try:
        message = runner.receive()
    except EOFError:
        task, code = runner.task, runner.exit_code()
        if task is None:
            log = runner.log_path or "stderr"
            runner.kill()
            raise WorkerStartError(f"a worker process exited before it was ready (exit code {code}; see {log})") \
                from None
        elapsed = time.monotonic() - (runner.deadline or time.monotonic())
        runner.restart()
        on_result(lost_record(task, "crashed", f"worker process died (exit code {code})", max(elapsed, 0.0)))
        return
    if message == "ready":
        runner.ready = True
        return
    runner.task = None
    runner.deadline = None
    on_result(message)


def _expire(runners, on_result, timeout_s) -> None:
    now = time.monotonic()
    for runner in runners:
        if runner.task is not None and runner.deadline is not None and now >= runner.deadline:
            task = runner.task
            runner.restart()
            on_result(lost_record(task, "timeout", f"killed after the point timeout of {timeout_s:g} s", timeout_s))
        elif not runner.ready and now >= runner.started_at + STARTUP_TIMEOUT_S:
            runner.kill()
            raise WorkerStartError(f"a worker process was not ready after {STARTUP_TIMEOUT_S:g} s")
