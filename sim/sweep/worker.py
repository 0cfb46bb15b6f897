"""Sweep worker processes: one child runs one point at a time, for as long as it lives.

A `Runner` starts `python -m accsim.sweep.worker` and talks to it over a pipe
with pickled messages (multiprocessing.connection framing). The child imports
accsim, warms the Numba kernels once, says it is ready, then answers each task
with a result record. A point that hangs is ended by killing the child; the
runner starts a fresh one, so other work is never lost with it. The child exits
when its parent goes away (end of input, or a changed parent process id).

The same Runner serves the local pool (many runners, one parent) and Dask
workers (one runner per worker thread), so both kill hung points the same way.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import OrderedDict
from multiprocessing.connection import Connection

STARTUP_TIMEOUT_S = 900.0       # import + first Numba cache load (a cold cache compiles: minutes)
_SPEC_CACHE_SIZE = 256


class WorkerStartError(RuntimeError):
    """A worker process died or stayed silent before it was ready."""


class Runner:
    """One worker child process with at most one task in flight."""

    def __init__(self, log_path: str | None = None, env: dict | None = None, warm_up: bool = True,
                 dram_threads: int = 1):
        self.log_path = log_path
        # workers run side by side: each gets dram_threads for the DRAM model's channels (the
        # default, all CPUs in every worker, would put workers x CPUs threads on the machine),
        # unless the user set ACCSIM_THREADS
        base = dict(os.environ if env is None else env)
        self.env = {"ACCSIM_THREADS": str(max(1, dram_threads)), **base}
        self.warm_up = warm_up
        self.process: subprocess.Popen | None = None
        self.connection: Connection | None = None
        self.ready = False
        self.task: dict | None = None
        self.deadline: float | None = None
        self.started_at = 0.0
        self.contexts: set[str] = set()

    def start(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else None   # None: inherit our stderr
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "accsim.sweep.worker", str(os.getpid()), "warm" if self.warm_up else "cold"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=self.env, close_fds=True)
        finally:
            if log is not None:
                log.close()
        self.connection = _ParentConnection(self.process)
        self.ready = False
        self.task = None
        self.deadline = None
        self.contexts = set()
        self.started_at = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def fileno(self) -> int:
        return self.connection.fileno()

    def send(self, context: dict, task: dict, timeout_s: float | None) -> None:
        """Give the child a task (and the sweep's context the first time it sees it)."""
        message = {"task": task, "context_id": context["id"]}
        if context["id"] not in self.contexts:
            message["context"] = context
            self.contexts.add(context["id"])
        self.task = task
        self.deadline = time.monotonic() + timeout_s if timeout_s else None
        self.connection.send(message)

    def receive(self):
        """The child's next message; EOFError when it died."""
        return self.connection.recv()

    def exit_code(self) -> int | None:
        """The exit code of a child whose pipe closed (it may take a moment to be reaped)."""
        try:
            return self.process.wait(timeout=5.0) if self.process else None
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
        if self.connection is not None:
            self.connection.close()
        self.process = None
        self.connection = None
        self.ready = False

    def restart(self) -> None:
        self.kill()
        self.start()

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        if self.ready:
            return
        if not self.connection.poll(timeout_s):
            self.kill()
            raise WorkerStartError(f"worker process gave no sign of life within {timeout_s:g} s")
        try:
            message = self.receive()
        except EOFError:
            self.kill()
            raise WorkerStartError(f"worker process exited at start ({_tail(self.log_path)})") from None
        if message != "ready":
            raise WorkerStartError(f"unexpected first message from worker: {message!r}")
        self.ready = True

    def run(self, context: dict, task: dict, timeout_s: float | None) -> dict:
        """Blocking: run one task, killing and replacing the child if it overruns."""
        if not self.alive:
            self.start()
        self.wait_ready()
        self.send(context, task, timeout_s)
        started = time.monotonic()
        if not self.connection.poll(timeout_s):
            self.restart()
            return lost_record(task, "timeout", f"killed after the point timeout of {timeout_s:g} s",
                               time.monotonic() - started)
        try:
            result = self.receive()
        except EOFError:
            code = self.exit_code()
            self.restart()
            return lost_record(task, "crashed", f"worker process died (exit code {code})",
                               time.monotonic() - started)
        self.task = None
        return result


class _ParentConnection(Connection):
    """Sends to the child's stdin, receives from its stdout."""

    def __init__(self, process: subprocess.Popen):
        super().__init__(os.dup(process.stdout.fileno()), readable=True, writable=False)
        self._writer = Connection(os.dup(process.stdin.fileno()), readable=False, writable=True)
        process.stdin.close()
        process.stdout.close()

    def send(self, obj) -> None:
        self._writer.send(obj)

    def close(self) -> None:
        self._writer.close()
        super().close()


def lost_record(task: dict, status: str, message: str, wall_s: float) -> dict:
    return {"key": task["key"], "status": status, "error_type": status, "error": message,
            "traceback": "", "summary": None, "wall_s": wall_s, "host": socket.gethostname(), "pid": None}


def _tail(path: str | None, lines: int = 3) -> str:
    if not path or not os.path.exists(path):
        return "no log"
    with open(path, "rb") as stream:
        text = stream.read()[-4000:].decode("utf-8", "replace").strip().splitlines()
    return " | ".join(text[-lines:]) or "empty log"


# --------------------------------------------------------------------------- the child side


class PointExecutor:
    """Parses (with a small cache: specs are immutable) and simulates one point."""

    def __init__(self):
        self.contexts: dict[str, dict] = {}
        self.specs: OrderedDict = OrderedDict()

    def add_context(self, context: dict) -> None:
        self.contexts[context["id"]] = context

    def run(self, context_id: str, task: dict) -> dict:
        from ..api import run
        from ..errors import AccsimError

        started = time.perf_counter()
        record = {"key": task["key"], "summary": None, "error_type": "", "error": "", "traceback": "",
                  "host": socket.gethostname(), "pid": os.getpid()}
        try:
            bases = self.contexts[context_id]["bases"]
            arch = self._spec(context_id, "arch", bases, task["arch_base"], task["arch_overrides"])
            workload = self._spec(context_id, "workload", bases, task["workload_base"],
                                  task["workload_overrides"])
            result = run(arch, workload, exact=task["exact"])
            record.update(status="ok", summary=result.summary)
        except AccsimError as exc:
            record.update(status="failed", error_type=type(exc).__name__, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a point that raises is recorded and the sweep goes on
            record.update(status="failed", error_type=type(exc).__name__, error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc())
        record["wall_s"] = time.perf_counter() - started
        return record

    def _spec(self, context_id: str, side: str, bases: dict, index: int, overrides: tuple):
        import copy

        from ..arch import parse_arch
        from ..workload.spec import parse_workload
        from ..yamlio import LoadedFile

        base = bases[side][index]
        cache_key = (context_id, side, index, tuple(overrides))
        if cache_key in self.specs:
            self.specs.move_to_end(cache_key)
            return self.specs[cache_key]
        loaded = LoadedFile(base.path, copy.deepcopy(base.tree), base.file_hashes, base.problems)
        spec = (parse_arch if side == "arch" else parse_workload)(loaded, tuple(overrides))
        self.specs[cache_key] = spec
        if len(self.specs) > _SPEC_CACHE_SIZE:
            self.specs.popitem(last=False)
        return spec


def _warm_up() -> None:
    """Load the compiled kernels once, so the first point's timeout does not pay for it
    (only done when points have a timeout: otherwise the first point warms up anyway)."""
    from .. import api

    try:
        api.run("sa32", "gemm-256")
    except Exception:  # noqa: BLE001 - warming up is an optimisation; points report real errors
        pass


def _watch_parent(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(3)
        time.sleep(1.0)


def main(argv: list[str]) -> int:
    # Protocol on the original stdout; anything the simulator prints goes to stderr instead.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    reader = Connection(os.dup(0), readable=True, writable=False)
    writer = Connection(out_fd, readable=False, writable=True)
    parent_pid = int(argv[0]) if argv else os.getppid()
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    executor = PointExecutor()
    if argv[1:2] != ["cold"]:
        _warm_up()
    writer.send("ready")
    while True:
        try:
            message = reader.recv()
        except (EOFError, OSError):
            return 0
        if "context" in message:
            executor.add_context(message["context"])
        writer.send(executor.run(message["context_id"], message["task"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
