"""The result store of a sweep directory.

    DIR/sweep_manifest.json   what the sweep is (spec, parameters, objectives, point keys, state)
    DIR/points.jsonl          append-only log: one JSON record per finished point
    DIR/results.parquet       the table (one row per point), rebuilt from the log
    DIR/results.csv           the same table as CSV
    DIR/workers.log           stderr of the local worker processes

The log is the source of truth. Each record is one write() of one line in
this process only, so a sweep killed at any moment leaves whole records plus
at most one partial last line, which readers ignore and the next writer cuts
off before appending. The manifest and the tables are written to a temporary
file and renamed. Nothing is ever rewritten in place.
"""
from __future__ import annotations

import datetime
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..errors import OutputError
from .spec import SweepError

MANIFEST = "sweep_manifest.json"
LOG = "points.jsonl"
PARQUET = "results.parquet"
CSV = "results.csv"
WORKER_LOG = "workers.log"
FORMAT = "accsim-sweep"
FORMAT_VERSION = 1
FINISHED = ("ok", "failed", "timeout", "crashed")
RETRIED = ("failed", "timeout", "crashed")


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def atomic_write(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read_manifest(directory: Path) -> dict | None:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: not a readable sweep manifest: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise SweepError(f"{path}: not an accsim sweep manifest")
    return manifest


def read_log(directory: Path) -> dict[str, dict]:
    """Finished points by key (a later record of a key replaces an earlier one);
    a partial last line left by a killed sweep is ignored."""
    path = Path(directory) / LOG
    records: dict[str, dict] = {}
    if not path.is_file():
        return records
    with open(path, "rb") as stream:
        for line in stream:
            if not line.endswith(b"\n"):
                break                       # torn tail of an interrupted write
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "key" in record:
                records[record["key"]] = record
    return records


@dataclass
class Store:
    """The writer of one sweep directory (one per directory at a time: it holds a lock)."""

    directory: Path
    manifest: dict
    records: dict[str, dict]
    _log_fd: int = -1
    _lock_fd: int = -1

    @classmethod
    def open(cls, directory: str | os.PathLike, manifest: dict, resume: bool) -> "Store":
        out = Path(directory)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{out}: cannot create the sweep directory: {exc.strerror or exc}") from None
        lock_fd = _lock(out)
        try:
            old = read_manifest(out)
            _check_compatible(out, old, manifest, resume)
            if old is not None:
                manifest = {**manifest, "created_utc": old.get("created_utc", manifest["created_utc"])}
            dropped = _cut_torn_tail(out / LOG)
            records = read_log(out)
            store = cls(out, manifest, records, -1, lock_fd)
            store.manifest["dropped_partial_bytes"] = dropped
            store.write_manifest("running")
            store._log_fd = os.open(out / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except BaseException:
            os.close(lock_fd)
            raise
        return store

    def append(self, record: dict) -> None:
        line = (json.dumps(record, separators=(",", ":"), default=_json_default) + "\n").encode()
        written = os.write(self._log_fd, line)
        while written < len(line):        # a regular file takes it in one go; just in case
            written += os.write(self._log_fd, line[written:])
        self.records[record["key"]] = record

    def write_manifest(self, state: str, **extra: Any) -> None:
        self.manifest.update(state=state, updated_utc=utc_now(), **extra)
        text = json.dumps(self.manifest, indent=1, default=_json_default) + "\n"
        atomic_write(self.directory / MANIFEST, text.encode())

    def close(self) -> None:
        if self._log_fd >= 0:
            os.fsync(self._log_fd)
            os.close(self._log_fd)
            self._log_fd = -1
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _json_default(value: Any):
    if hasattr(value, "item"):
        return value.item()            # numpy scalars
    return str(value)


def _lock(directory: Path) -> int:
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl
    except ImportError:                 # no advisory locks on this platform
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise SweepError(f"{directory}: another accsim sweep is writing to this directory") from None
    return fd


def _check_compatible(out: Path, old: dict | None, new: dict, resume: bool) -> None:
    if old is None:
        if resume:
            raise SweepError(f"{out}: nothing to resume (no {MANIFEST}); run without --resume to start")
        return
    if old.get("format_version") != FORMAT_VERSION:
        raise SweepError(f"{out}: written by another sweep format version ({old.get('format_version')})")
    if set(old.get("keys", ())) != set(new["keys"]) and not resume:
        raise SweepError(f"{out}: holds a different sweep ({old.get('name')!r} from {old.get('spec_path')}); "
                         "use another --out, or --resume to run this spec there "
                         "(points with identical configurations are reused)")


def _cut_torn_tail(path: Path) -> int:
    """Remove a partial last line (a write cut short by a kill); return the bytes removed."""
    if not path.is_file():
        return 0
    with open(path, "rb+") as stream:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        if size == 0:
            return 0
        position = size
        chunk = 4096
        while position > 0:
            start = max(0, position - chunk)
            stream.seek(start)
            block = stream.read(position - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            position = start
        else:
            keep = 0
        if keep < size:
            stream.truncate(keep)
        return size - keep


def export_tables(directory: Path, frame: pd.DataFrame) -> None:
    """results.parquet and results.csv, each written whole or not at all."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(_arrow_safe(frame), preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    atomic_write(directory / PARQUET, sink.getvalue().to_pybytes())
    atomic_write(directory / CSV, frame.to_csv(index=False).encode())


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns mixing types (e.g. 64 and '64 MiB' in one parameter) become text."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            kinds = {type(v) for v in safe[column] if v is not None and not (isinstance(v, float) and v != v)}
            if len(kinds) > 1 or (kinds and not kinds <= {str, bool, int, float}):
                safe[column] = safe[column].map(lambda v: None if v is None else str(v))
    return safe


def new_manifest(plan, fixed_cli: tuple[str, ...]) -> dict:
    spec = plan.spec
    text = Path(spec.path).read_text(encoding="utf-8") if Path(spec.path).is_file() else ""
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "name": spec.name, "description": spec.description,
        "spec_path": spec.path, "spec_sha256": spec.text_sha256, "spec_text": text,
        "cli_overrides": list(fixed_cli), "accsim_version": __version__, "created_utc": utc_now(),
        "archs": list(spec.archs), "workloads": list(spec.workloads), "exact": spec.exact,
        "sampling": {"method": spec.sampling.method, "points": spec.sampling.points, "seed": spec.sampling.seed},
        "parameters": [{"name": p.name, "paths": list(p.paths), "unit": p.unit,
                        "values": list(p.values) if p.values is not None else None}
                       for p in spec.parameters],
        "objectives": [{"name": o.name, "column": o.column, "direction": o.direction} for o in spec.objectives],
        "constraints": [c.text for c in spec.constraints],
        "points": len(plan.points), "keys": [p.key for p in plan.points],
        "files": {"log": LOG, "parquet": PARQUET, "csv": CSV, "worker_log": WORKER_LOG},
    }
