"""Result of a run: summary dict, per-op DataFrame, JSON and atomic saving."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .clock import TICKS_PER_SECOND


@dataclass(frozen=True)
class Result:
    summary: dict
    ops: pd.DataFrame

    def to_json(self) -> str:
        return json.dumps(self.summary, indent=2, sort_keys=False)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write summary.json and ops.csv; each file appears whole or not at all."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        _atomic_write(out / "ops.csv", self.ops.to_csv(index=False))
        _atomic_write(out / "summary.json", self.to_json() + "\n")
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
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def seconds(ticks: float) -> float:
    return ticks / TICKS_PER_SECOND
