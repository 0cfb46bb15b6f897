"""Result of a run: summary dict, per-op DataFrame, JSON and atomic saving."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .clock import TICKS_PER_SECOND
from .errors import OutputError


@dataclass(frozen=True)
class Result:
    summary: dict
    ops: pd.DataFrame

    def to_json(self) -> str:
        return json.dumps(self.summary, indent=2, sort_keys=False)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ops.csv, then summary.json. Both texts are made before anything is
        written, each file appears whole or not at all (temporary file + rename), and
        summary.json, written last, records the SHA-256 of the ops.csv it belongs to."""
        out = Path(directory)
        ops_text = self.ops.to_csv(index=False)
        summary = dict(self.summary)
        summary["metadata"] = {**summary.get("metadata", {}),
                               "ops_csv_sha256": hashlib.sha256(ops_text.encode()).hexdigest()}
        summary_text = json.dumps(summary, indent=2) + "\n"
        try:
            out.mkdir(parents=True, exist_ok=True)
            _atomic_write(out / "ops.csv", ops_text)
            _atomic_write(out / "summary.json", summary_text)
        except OSError as exc:
            raise OutputError(f"{out}: cannot write results: {exc.strerror or exc}") from None
        return out

    @property
    def total_seconds(self) -> float:
        return self.summary["total"]["seconds"]


def _atomic_write(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def seconds(ticks: float) -> float:
    return ticks / TICKS_PER_SECOND


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
