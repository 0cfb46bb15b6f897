"""Search results kept on disk, so repeated runs and sweep workers skip the search.

A result is stored under a SHA-256 of everything that determines it: the
problem, the hierarchy, the objective, the constraints, the search options and
the source code of this package (any change to the mapper is a new key). Units
with their own per-tile cycle function are not cached (a function has no
stable identity across processes). The store itself (atomic writes, unreadable
files treated as absent) is accsim.diskcache.

Location: $ACCSIM_MAPPING_CACHE (a directory, or `off`), else
~/.cache/accsim/mappings.
"""
from __future__ import annotations

from pathlib import Path

from ..diskcache import DiskCache

STORE = DiskCache("ACCSIM_MAPPING_CACHE", "mappings", lambda: Path(__file__).parent.glob("*.py"))
STATS, directory, load, store = STORE.stats, STORE.directory, STORE.load, STORE.store


def key(arguments: tuple) -> str | None:
    """The file key of a search call, or None when it must not be cached."""
    hier = arguments[1]
    if hier.compute.tile_cycles is not None:
        return None
    # repr: the dataclasses' fields only (a pickle would also carry cached properties)
    return STORE.key(repr(arguments))
