"""Results kept on disk between runs, so repeated runs and sweep workers skip work already done.

A result is stored under a SHA-256 of everything that determines it, which
the caller spells out, plus the source code of the modules that compute it
(any change to them is a new key, so a changed model never reads stale
entries). Files go to a temporary name and are renamed, so concurrent
writers (sweep workers) never leave half a file; a file that cannot be read
is treated as absent, and a disk that cannot be written only costs the next
run the work.

Two stores use it: the mapper's search results (accsim.mapping.cache,
$ACCSIM_MAPPING_CACHE) and the DRAM model's per-op playbacks
(accsim.components.dram, $ACCSIM_DRAM_CACHE). Each variable names a
directory, or `off`; unset, the store is ~/.cache/accsim/<folder>.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path


class DiskCache:
    def __init__(self, variable: str, folder: str, sources: Callable[[], Iterable[Path]]):
        self.variable, self.folder, self._sources = variable, folder, sources
        self._code: str | None = None
        self.stats = {"hits": 0, "misses": 0, "writes": 0}
        self.bypassed = False   # True: loads find nothing and stores keep nothing

    @contextmanager
    def bypass(self, active: bool = True):
        """Within the block (when `active`), the store is left alone: every result is computed."""
        before, self.bypassed = self.bypassed, self.bypassed or active
        try:
            yield
        finally:
            self.bypassed = before

    def directory(self) -> Path | None:
        """Where entries live now (the variable is read on every call, so tests and sweep
        workers can move it), or None when the store is off."""
        setting = os.environ.get(self.variable, "")
        if setting.lower() == "off":
            return None
        return Path(setting).expanduser() if setting else Path.home() / ".cache" / "accsim" / self.folder

    def code_version(self) -> str:
        """SHA-256 of the source files that compute the stored results."""
        if self._code is None:
            digest = hashlib.sha256()
            for path in sorted(self._sources()):
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
            self._code = digest.hexdigest()
        return self._code

    def key(self, *parts: bytes | str) -> str:
        """The entry name of a result determined by `parts` (and the code)."""
        digest = hashlib.sha256(self.code_version().encode())
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "little"))       # (so parts cannot run into each other)
            digest.update(data)
        return digest.hexdigest()

    def _path(self, folder: Path, name: str) -> Path:
        return folder / name[:2] / f"{name}.pkl"

    def load(self, name: str | None):
        """The stored result; None when the store is off or bypassed, or (counted as a miss) when
        the entry is absent or unreadable."""
        folder = self.directory()
        if name is None or folder is None or self.bypassed:
            return None
        try:
            with open(self._path(folder, name), "rb") as stream:
                result = pickle.load(stream)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
            self.stats["misses"] += 1
            return None
        self.stats["hits"] += 1
        return result

    def store(self, name: str | None, result) -> None:
        folder = self.directory()
        if name is None or folder is None or self.bypassed:
            return
        target = self._path(folder, name)
        temp = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(result, stream, protocol=4)
            os.replace(temp, target)
            temp = None
            self.stats["writes"] += 1
        except OSError:
            pass            # a read-only or full disk only costs the next run this work
        finally:
            if temp is not None:
                Path(temp).unlink(missing_ok=True)

    def entries(self) -> list[Path]:
        """The files of this store's entries (and of writes cut short) now on disk; nothing else
        in its directory counts, so a directory shared with other files is safe to clear."""
        folder = self.directory()
        if folder is None or not folder.is_dir():
            return []
        return sorted(path for pattern in ("??/*.pkl", "??/.tmp-*") for path in folder.glob(pattern))

    def clear(self) -> int:
        """Remove every entry (and the shard folders left empty); return how many files went."""
        removed = 0
        for path in self.entries():
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass        # (another process removed it first)
        folder = self.directory()
        for shard in folder.glob("??") if removed else ():
            try:
                shard.rmdir()
            except OSError:
                pass        # not empty (written to since, or not ours) or not a folder
        return removed

    def metadata(self, before: dict) -> dict:
        """What a run summary records: the directory and this run's hits, misses and writes
        (`before`: a copy of `stats` taken when the run started)."""
        folder = self.directory()
        return {"directory": str(folder) if folder else "off",
                **{k: self.stats[k] - before[k] for k in ("hits", "misses", "writes")}}
