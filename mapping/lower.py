"""A chosen mapping as the tile schedule the simulator executes.

For the simulator's hierarchy (backing memory -> one buffer per unit -> array)
the level-0 loop nest is walked in the mapping's order, the split loop
outermost and dealt round-robin to the units. Each step is one buffer tile:
per operand, the DMA loads its tile only when the operand's indices changed
since the unit's previous tile (the reuse the loop order buys); an output tile
is stored when the unit moves to another output tile or finishes, and read
back first if it already holds partial sums. The byte totals therefore equal
the analytical model's level-0 traffic exactly (tests check it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hierarchy import DATAFLOW_ROLES, Hierarchy
from .nest import Mapping
from .problem import Problem


@dataclass(frozen=True)
class TileSchedule:
    unit: np.ndarray          # compute unit of each tile, tiles of one unit in execution order
    m: np.ndarray             # streamed / column / row extents of each tile as the array sees them
    n: np.ndarray
    k: np.ndarray
    load_bytes: np.ndarray    # bytes the DMA brings in before the tile
    store_bytes: np.ndarray   # bytes written back after the tile
    offsets: dict[str, np.ndarray]   # operand -> element offset of the tile's first element


def lower(problem: Problem, hier: Hierarchy, mapping: Mapping) -> TileSchedule:
    if len(hier.levels) != 2:
        raise ValueError("lowering needs a two-level hierarchy (memory -> buffer -> array)")
    tile = mapping.tile(1)
    order = ([mapping.split] if mapping.split else []) + [d for d in mapping.orders[0] if d != mapping.split]
    counts = [-(-problem.bounds[d] // tile[d]) for d in order]
    coords = dict(zip(order, np.indices(counts).reshape(len(order), -1)))
    extents = {d: np.minimum(tile[d], problem.bounds[d] - coords[d] * tile[d]) for d in order}
    steps = coords[order[0]].size
    unit = coords[mapping.split] % hier.compute.units if mapping.split else np.zeros(steps, np.int64)
    # walk each unit's tiles in order (stable), then put the results back in loop order
    walk = np.argsort(unit, kind="stable")
    first_of_unit = np.ones(steps, bool)
    first_of_unit[1:] = unit[walk][1:] != unit[walk][:-1]
    last_of_unit = np.roll(first_of_unit, -1)
    load = np.zeros(steps)
    store = np.zeros(steps)
    offsets = {}
    for op in problem.operands:
        dims = [d for d in order if d in op.dims]
        key = np.ravel_multi_index([coords[d][walk] for d in dims], [counts[order.index(d)] for d in dims]) \
            if dims else np.zeros(steps, np.int64)
        changed = first_of_unit.copy()
        changed[1:] |= key[1:] != key[:-1]
        elements = _elements(op, extents)[walk]
        if op.output:
            # partial sums (accumulator width) come back for every visit but the first and
            # leave after every visit but the last, which stores the result (output width)
            seen_before = np.ones(steps, bool)
            seen_before[np.unique(key, return_index=True)[1]] = False
            last_visit = np.zeros(steps, bool)
            last_visit[steps - 1 - np.unique(key[::-1], return_index=True)[1]] = True
            load[walk] += np.where(changed & seen_before, elements * op.partial, 0)
            leaving = last_of_unit.copy()
            leaving[:-1] |= changed[1:]
            width = np.where(last_visit, op.bytes_per_element, op.partial)
            store[walk] += np.where(leaving, elements * width, 0)
        else:
            load[walk] += np.where(changed, elements * op.bytes_per_element, 0)
        offsets[op.name] = _offset(op, problem, coords, tile)
    roles = DATAFLOW_ROLES["ws"]   # GEMM view of a tile: m streams, n on columns, k reduces
    m = _product(problem, extents, roles[2], steps)
    n = _product(problem, extents, roles[1], steps)    # batch tiles hold one item each
    k = _product(problem, extents, roles[0], steps)
    return TileSchedule(unit.astype(np.int64), m, n, k, load, store, offsets)


def _elements(op, extents) -> np.ndarray:
    size = 1
    for axis in op.axes:
        size = size * (sum(c * (extents[d] - 1) for d, c in axis) + 1)
    return np.asarray(size, np.float64)


def _offset(op, problem, coords, tile) -> np.ndarray:
    """Row-major element offset of the tile's first element in the operand."""
    offset = 0
    for axis in op.axes:
        start = sum(c * coords[d] * tile[d] for d, c in axis)
        extent = sum(c * (problem.bounds[d] - 1) for d, c in axis) + 1
        offset = offset * extent + start
    return np.asarray(offset, np.int64)


def _product(problem, extents, role, steps) -> np.ndarray:
    total = np.ones(steps, np.int64)
    for d in problem.names:
        if problem.roles[d] == role:
            total = total * extents[d]
    return total


def concat_schedules(schedules: list[TileSchedule], units: int) -> TileSchedule:
    """One op's schedules back to back; each starts on the unit after the previous one's
    last, so the units stay evenly loaded."""
    shift, parts = 0, []
    for schedule in schedules:
        parts.append((schedule.unit + shift) % units)
        shift = (shift + int(schedule.unit.max(initial=-1)) + 1) % units
    join = lambda name: np.concatenate([getattr(s, name) for s in schedules])  # noqa: E731
    return TileSchedule(np.concatenate(parts), join("m"), join("n"), join("k"), join("load_bytes"),
                        join("store_bytes"), {})
