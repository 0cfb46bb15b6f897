"""Result of a run: summary dict, per-op DataFrame, JSON and atomic saving."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from .clock import TICKS_PER_SECOND
from .errors import OutputError


@dataclass(frozen=True)
class Result:
    summary: dict
    ops: pd.DataFrame
    energy: pd.DataFrame | None = None      # energy.csv: by component, event and op kind, with leakage rows
    area: pd.DataFrame | None = None        # area.csv: by component
    trace: Callable[[], dict] | None = None   # builds the Chrome trace-event document (trace.json)

    def __getstate__(self) -> dict:
        """Pickle without the trace builder (it holds the simulated system): an unpickled
        Result saves everything but trace.json."""
        return {**self.__dict__, "trace": None}

    def __setstate__(self, state: dict) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

    def to_json(self) -> str:
        return json.dumps(self.summary, indent=2, sort_keys=False)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ops.csv, energy.csv, area.csv and trace.json, then summary.json. All texts
        are made before anything is written, each file appears whole or not at all
        (temporary file + rename), and summary.json, written last, records the SHA-256 of
        every file it belongs to."""
        out = Path(directory)
        texts = {"ops.csv": self.ops.to_csv(index=False)}
        if self.energy is not None:
            texts["energy.csv"] = self.energy.to_csv(index=False)
        if self.area is not None:
            texts["area.csv"] = self.area.to_csv(index=False)
        summary = dict(self.summary)
        metadata = {**summary.get("metadata", {})}
        if self.trace is not None:
            trace = self.trace()
            texts["trace.json"] = json.dumps(trace, separators=(",", ":"))
            metadata["trace"] = trace["otherData"]["accsim"]
        metadata["ops_csv_sha256"] = hashlib.sha256(texts["ops.csv"].encode()).hexdigest()
        metadata["files_sha256"] = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in texts.items()}
        summary["metadata"] = metadata
        summary_text = json.dumps(summary, indent=2) + "\n"
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, text in texts.items():
                _atomic_write(out / name, text)
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
