"""Tiling of GEMMs onto a group of systolic arrays with private scratchpads.

Loop nest per GEMM (outer to inner): m-chunk, n-tile, k-chunk. A (m x k) and B
(k x n) sub-tiles are loaded from memory for every k-chunk; the partial sums
stay in the array's accumulators across k-chunks and C is stored once. An
(m-chunk, n-tile) pair is the unit of work given to one array.

The tile (tm, tn, tk) is chosen by a small exhaustive search over multiples of
the array dimensions that fit the scratchpad (operand tiles times the number of
buffer slots, plus one C tile), minimising an analytical time estimate:
max(memory time of all traffic, compute time spread over the arrays that get
work) plus the exposed load of the first tile. Ties go to fewer tiles.
Results are cached per (shape, target).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class ArrayTarget:
    rows: int
    cols: int
    units: int
    buffer_bytes: int          # scratchpad capacity of one unit
    slots: int                 # 2 = double-buffered operand tiles
    memory_bytes_per_cycle: float
    dataflow: str = "ws"       # ws | os | is: which GEMM dimension streams through the array


@dataclass(frozen=True)
class GemmShape:
    m: int
    n: int
    k: int
    a_bytes: float             # bytes per element of A, B, C
    b_bytes: float
    c_bytes: float


@dataclass(frozen=True)
class TileChoice:
    tm: int
    tn: int
    tk: int
    footprint_bytes: int
    estimated_cycles: float
    traffic_bytes: float


@dataclass(frozen=True)
class TileSchedule:
    unit: np.ndarray
    m: np.ndarray
    n: np.ndarray
    k: np.ndarray
    load_bytes: np.ndarray
    store_bytes: np.ndarray
    choices: tuple[TileChoice, ...]


class TilingError(ValueError):
    """No tile of this GEMM fits the scratchpad."""


def _candidates(extent: int, step: int) -> list[int]:
    """Tile sizes: the whole (rounded-up) extent and halvings down to one step."""
    full = math.ceil(extent / step) * step
    sizes = {min(full, extent) if extent < step else full}
    size = full
    while size > step:
        size = max(step, math.ceil(size / 2 / step) * step)
        sizes.add(size)
    return sorted(sizes, reverse=True)


def footprint(shape: GemmShape, tm: int, tn: int, tk: int, slots: int) -> float:
    operands = tm * tk * shape.a_bytes + tk * tn * shape.b_bytes
    return slots * operands + tm * tn * shape.c_bytes


def fold_cycles_estimate(target: ArrayTarget, m: int, n: int, k: int) -> int:
    """Compute cycles of an (m, n, k) tile in the reference fold model
    (docs/systolic.md): folds x (fill + rows + cols + streamed - 2)."""
    rows, cols = target.rows, target.cols
    on_rows, on_cols, stream = {"ws": (k, n, m), "os": (m, n, k), "is": (k, m, n)}[target.dataflow]
    fill = 0 if target.dataflow == "os" else rows
    return math.ceil(on_rows / rows) * math.ceil(on_cols / cols) * (fill + rows + cols + stream - 2)


def _estimate(shape: GemmShape, target: ArrayTarget, tm: int, tn: int, tk: int) -> TileChoice:
    m_chunks = math.ceil(shape.m / tm)
    n_tiles = math.ceil(shape.n / tn)
    k_chunks = math.ceil(shape.k / tk)
    traffic = (shape.m * shape.k * shape.a_bytes * n_tiles
               + shape.k * shape.n * shape.b_bytes * m_chunks
               + shape.m * shape.n * shape.c_bytes)
    work_items = m_chunks * n_tiles
    compute = work_items * k_chunks * fold_cycles_estimate(target, min(tm, shape.m), min(tn, shape.n),
                                                           min(tk, shape.k))
    active_units = min(target.units, work_items)
    first_load = (min(tm, shape.m) * min(tk, shape.k) * shape.a_bytes
                  + min(tk, shape.k) * min(tn, shape.n) * shape.b_bytes)
    bw = target.memory_bytes_per_cycle
    estimate = max(traffic / bw, compute / active_units) + first_load / bw
    size = int(math.ceil(footprint(shape, tm, tn, tk, target.slots)))
    return TileChoice(tm, tn, tk, size, estimate, traffic)


@lru_cache(maxsize=4096)
def choose_tile(shape: GemmShape, target: ArrayTarget) -> TileChoice:
    best: TileChoice | None = None
    m_step = target.cols if target.dataflow == "is" else target.rows
    for tm in _candidates(shape.m, 1 if shape.m < m_step else m_step):
        for tn in _candidates(shape.n, target.cols):
            for tk in _candidates(shape.k, target.rows):
                if footprint(shape, tm, tn, tk, target.slots) > target.buffer_bytes:
                    continue
                choice = _estimate(shape, target, tm, tn, tk)
                if best is None or (choice.estimated_cycles, -choice.tm * choice.tn * choice.tk) < (
                        best.estimated_cycles, -best.tm * best.tn * best.tk):
                    best = choice
    if best is None:
        raise TilingError(
            f"no tile of GEMM m={shape.m} n={shape.n} k={shape.k} fits a {target.buffer_bytes}-byte "
            f"scratchpad with {target.slots} buffer slot(s)")
    return best


@lru_cache(maxsize=4096)
def _work_items(shape: GemmShape, target: ArrayTarget):
    """Per (m-chunk, n-tile): arrays of its k-chunk sub-tiles, and its cycle weight."""
    choice = choose_tile(shape, target)
    items = []
    for m0 in range(0, shape.m, choice.tm):
        tm = min(choice.tm, shape.m - m0)
        for n0 in range(0, shape.n, choice.tn):
            tn = min(choice.tn, shape.n - n0)
            ks = [min(choice.tk, shape.k - k0) for k0 in range(0, shape.k, choice.tk)]
            loads = [tm * tk * shape.a_bytes + tk * tn * shape.b_bytes for tk in ks]
            stores = [0.0] * (len(ks) - 1) + [tm * tn * shape.c_bytes]
            weight = sum(fold_cycles_estimate(target, tm, tn, tk) for tk in ks)
            items.append((tm, tn, tuple(ks), tuple(loads), tuple(stores), weight))
    return choice, tuple(items)


def schedule_gemms(shapes: list[GemmShape], target: ArrayTarget) -> TileSchedule:
    """Tile every GEMM and give each work item to the least-loaded unit (in order)."""
    load = [0.0] * target.units
    columns: dict[str, list] = {"unit": [], "m": [], "n": [], "k": [], "load": [], "store": []}
    choices = []
    for shape in shapes:
        choice, items = _work_items(shape, target)
        choices.append(choice)
        for tm, tn, ks, loads, stores, weight in items:
            unit = min(range(target.units), key=load.__getitem__)
            load[unit] += weight
            count = len(ks)
            columns["unit"].extend([unit] * count)
            columns["m"].extend([tm] * count)
            columns["n"].extend([tn] * count)
            columns["k"].extend(ks)
            columns["load"].extend(loads)
            columns["store"].extend(stores)
    return TileSchedule(
        unit=np.asarray(columns["unit"], np.int64),
        m=np.asarray(columns["m"], np.int64),
        n=np.asarray(columns["n"], np.int64),
        k=np.asarray(columns["k"], np.int64),
        load_bytes=np.asarray(columns["load"], np.float64),
        store_bytes=np.asarray(columns["store"], np.float64),
        choices=tuple(choices),
    )
