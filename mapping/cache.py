"""Search results kept on disk, so repeated runs and sweep workers skip the search.

A result is stored under a SHA-256 of everything that determines it: the
problem, the hierarchy, the objective, the constraints, the search options and
the source code of this package (any change to the mapper is a new key). Units
with their own per-tile cycle function are not cached (a function has no
stable identity across processes). Files are written to a temporary name and
renamed; a file that cannot be read is treated as absent.

Location: $ACCSIM_MAPPING_CACHE (a directory, or `off`), else
~/.cache/accsim/mappings.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

STATS = {"hits": 0, "misses": 0, "writes": 0}


def directory() -> Path | None:
    setting = os.environ.get("ACCSIM_MAPPING_CACHE", "")
    if setting.lower() == "off":
        return None
    return Path(setting).expanduser() if setting else Path.home() / ".cache" / "accsim" / "mappings"


@lru_cache(maxsize=1)
def _code_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def key(arguments: tuple) -> str | None:
    """The file key of a search call, or None when it must not be cached."""
    hier = arguments[1]
    if hier.compute.tile_cycles is not None:
        return None
    # repr: the dataclasses' fields only (a pickle would also carry cached properties)
    return hashlib.sha256(f"{_code_version()}|{arguments!r}".encode()).hexdigest()


def load(name: str | None):
    folder = directory()
    if name is None or folder is None:
        return None
    try:
        with open(folder / name[:2] / f"{name}.pkl", "rb") as stream:
            result = pickle.load(stream)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        STATS["misses"] += 1
        return None
    STATS["hits"] += 1
    return result


def store(name: str | None, result) -> None:
    folder = directory()
    if name is None or folder is None:
        return
    target = folder / name[:2] / f"{name}.pkl"
    temp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(result, stream, protocol=4)
        os.replace(temp, target)
        temp = None
        STATS["writes"] += 1
    except OSError:
        pass            # a read-only or full disk only costs the next run its search
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
