"""The hardware as the mapper sees it: memory levels over a compute array.

Levels go from the outermost (DRAM, unbounded) inwards. Every level below the
first exists once per compute unit (private buffers); the first level's loops
can spread one dimension over the units. The compute array is a systolic
array (rows x cols, dataflow ws/os/is fixes which dimension roles sit on rows,
on columns and which stream) or a vector unit (lanes over every dimension).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# which problem roles (mapping.problem) go on array rows / columns / stream, per dataflow
DATAFLOW_ROLES = {
    "ws": ("reduce", "cols", "stream"),
    "os": ("stream", "cols", "reduce"),
    "is": ("reduce", "stream", "cols"),
}


@dataclass(frozen=True)
class Level:
    name: str
    capacity_bytes: float | None           # None: unbounded (backing memory)
    bandwidth_bytes_per_cycle: float       # towards the next inner level (reads + writes)
    slots: int = 1                         # 2: input tiles double-buffered
    keeps: frozenset[str] | None = None    # operands it may hold (None: all; others bypass it)
    read_pj_per_byte: float = 0.0
    write_pj_per_byte: float = 0.0


@dataclass(frozen=True)
class Compute:
    """The compute array. Built-in cycle models: `systolic` (the fold model of
    docs/systolic.md) and `vector` (one element per lane per cycle). Other units
    give `tile_cycles(m, n, k) -> cycles`, vectorised over NumPy arrays of tile
    extents (m: stream dims, n: column dims, k: reduced dims), and the mapper
    sums it exactly over the tiles of each candidate; `rows`/`cols` then set
    the array-aligned tile candidates and the fold counts of operand re-reads."""

    kind: str                  # systolic | vector | any name with tile_cycles
    rows: int                  # vector: lanes in rows, cols = 1
    cols: int
    dataflow: str = "ws"
    units: int = 1
    preload_overlap: bool = False
    pipelined_folds: bool = False     # folds stream back to back (accsim.kernels.systolic, overlap 2)
    mac_pj: float = 0.0
    tile_cycles: Callable | None = None

    @property
    def fill_cycles(self) -> int:
        """Cycles to load a fold's stationary block (none for output-stationary)."""
        return 0 if self.kind == "vector" or self.dataflow == "os" else self.rows

    @property
    def overlap(self) -> int:
        """The fold overlap mode of accsim.kernels.systolic (0, 1 or 2)."""
        return 2 if self.pipelined_folds else int(self.preload_overlap)


@dataclass(frozen=True)
class Hierarchy:
    levels: tuple[Level, ...]
    compute: Compute

    def describe(self) -> str:
        c = self.compute
        if c.kind == "systolic":
            array = f"{c.units} x {c.rows}x{c.cols} {c.dataflow} array"
        elif c.kind == "vector":
            array = f"{c.units} x {c.rows}-lane vector unit"
        else:
            array = f"{c.units} x {c.rows}x{c.cols} {c.kind}"
        parts = [f"{lv.name} ({_size(lv.capacity_bytes)}, {lv.bandwidth_bytes_per_cycle:g} B/cycle"
                 + (f", x{lv.slots} slots" if lv.slots > 1 else "") + ")" for lv in self.levels]
        return " -> ".join(parts) + f" -> {array}"


def _size(nbytes: float | None) -> str:
    if nbytes is None:
        return "unbounded"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:g} {unit}"
    return f"{nbytes:g} B"
