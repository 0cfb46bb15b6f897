"""Analytical cost of mappings, evaluated for a whole batch of tile choices at once.

All tile sizes arrive as arrays (one entry per candidate mapping) that share
loop orders, split and bypass; every quantity below is a NumPy expression over
that batch, so the exhaustive search and the cost of one user mapping are the
same code.

Tiles that do not divide their parent are exact, not padded: each dimension's
tiles at level i are a short histogram of (extent, multiplicity), two entries
per level (full tiles and the edge), so data volumes, fold counts and the
number of tiles are those of the real loop nest.

Reuse (Timeloop-style): an operand tile held at level i is refetched from its
parent every time a loop outside level i that the operand depends on moves; the
loops it does not depend on that lie inside the innermost such loop reuse it.
Outputs written back before their reduction finishes are read again as partial
sums. Units: each has private levels 1..; the split loop is outermost and every
unit fetches its own copy of what it needs.

Latency: the compute of the busiest unit (fold model of the array, equal to the
simulator's systolic kernel), the traffic over each level's bandwidth (level 0
shared by all units), overlapped when the innermost level double-buffers, plus
the exposed first load and last store.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .hierarchy import DATAFLOW_ROLES, Hierarchy
from .problem import Operand, Problem


@dataclass
class Costs:
    """Per-candidate arrays (length = batch)."""

    latency_cycles: np.ndarray
    compute_cycles: np.ndarray          # busiest unit
    memory_cycles: np.ndarray           # slowest level boundary
    exposed_cycles: np.ndarray
    energy_pj: np.ndarray
    footprint_bytes: dict[str, np.ndarray]           # level -> bytes held per unit
    valid: np.ndarray
    traffic_bytes: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)   # level -> "X read/write"
    units_used: np.ndarray | None = None
    tiles_innermost: np.ndarray | None = None


def _histograms(bound: int, tiles: list[np.ndarray], batch: int):
    """hist[i] = list of (extent, multiplicity) arrays of the tiles held at level i."""
    hist = [[(np.full(batch, bound, np.int64), np.ones(batch, np.int64))]]
    for size in tiles:
        entries = []
        for extent, mult in hist[-1]:
            tile = np.minimum(size, np.maximum(extent, 1))
            full = extent // tile
            rem = extent - full * tile
            entries.append((tile, mult * full))
            entries.append((rem, mult * (rem > 0)))
        hist.append(entries)
    return hist


def _count(entries) -> np.ndarray:
    return sum(m for _, m in entries)


def _combos(dims, hist, level):
    """All combinations of the dims' tile entries at `level`: list of (extents dict, mult)."""
    combos = [({}, 1)]
    for d in dims:
        combos = [({**ext, d: e}, mult * m) for ext, mult in combos for e, m in hist[d][level]]
    return combos


def _operand_sum(op: Operand, hist, level, counts) -> np.ndarray:
    """Sum over all level-`level` tiles of the operand's tile size (elements)."""
    total = 1
    for axis in op.axes:
        # sum over tile combinations of (sum_d c_d (e_d - 1) + 1): linear in each dim
        n_all = _prod(counts[d][level] for d, _ in axis)
        acc = n_all
        for d, c in axis:
            others = n_all // np.maximum(counts[d][level], 1)
            acc = acc + c * sum(m * (e - 1) for e, m in hist[d][level]) * others
        total = total * acc
    return total


def _held_bytes(op: Operand, level) -> float:
    """Buffer bytes per element held: inputs in every slot, outputs once as partial sums."""
    return op.partial if op.output else op.bytes_per_element * level.slots


def _tile_size(op: Operand, tile: dict[str, np.ndarray]) -> np.ndarray:
    size = 1
    for axis in op.axes:
        size = size * (sum(c * (tile[d] - 1) for d, c in axis) + 1)
    return size


class _Tiling:
    """What a batch of tile choices costs whatever the loop order and split: tile
    histograms, operand volumes, array accesses, compute cycles, buffer footprint."""

    def __init__(self, problem: Problem, hier: Hierarchy, tiles: dict[str, list[np.ndarray]], bypass):
        self.problem, self.hier, self.bypass = problem, hier, bypass
        levels = hier.levels
        nlev = len(levels)
        self.batch = batch = len(next(iter(tiles.values()))[0]) if tiles and nlev > 1 else 1
        self.hist = {d: _histograms(b, [np.asarray(t, np.int64) for t in tiles.get(d, [])], batch)
                     for d, b in problem.dims}
        self.counts = {d: [_count(h) for h in self.hist[d]] for d in problem.names}
        self.held = [{d: np.full(batch, b, np.int64) for d, b in problem.dims}]
        for i in range(1, nlev):
            self.held.append({d: np.minimum(self.held[-1][d], np.asarray(tiles[d][i - 1], np.int64))
                              for d in problem.names})
        self.keepers = {op.name: [0] + [i for i in range(1, nlev) if (op.name, levels[i].name) not in bypass
                                        and (levels[i].keeps is None or op.name in levels[i].keeps)]
                        for op in problem.operands}
        self._sums: dict[tuple[str, int], np.ndarray] = {}
        self.array_reads = {lv.name: {} for lv in levels}
        self.array_writes = {lv.name: {} for lv in levels}
        for op in problem.operands:
            _array_accesses(problem, hier, op, self.keepers[op.name][-1], self.hist, self.counts,
                            self.array_reads, self.array_writes)
        self.compute_total = _compute_cycles(problem, hier, self.hist, self.counts, nlev - 1)
        self.tiles_innermost = _tiles(problem, self.counts, nlev - 1)
        self.footprint, self.valid = self._footprint()

    def operand_sum(self, op: Operand, level: int) -> np.ndarray:
        key = (op.name, level)
        if key not in self._sums:
            self._sums[key] = _operand_sum(op, self.hist, level, self.counts)
        return self._sums[key]

    def _footprint(self):
        footprint, valid = {}, np.ones(self.batch, bool)
        for i, level in enumerate(self.hier.levels[1:], start=1):
            held = np.zeros(self.batch)
            for op in self.problem.operands:
                if i in self.keepers[op.name]:
                    held = held + _tile_size(op, self.held[i]) * _held_bytes(op, level)
            footprint[level.name] = held
            if level.capacity_bytes is not None:
                valid &= held <= level.capacity_bytes
        return footprint, valid


def evaluate(problem: Problem, hier: Hierarchy, tiles: dict[str, list[np.ndarray]],
             orders: tuple[tuple[str, ...], ...], split: str | None = None,
             bypass: frozenset = frozenset(), detail: bool = False) -> Costs:
    """Cost of every candidate: tiles[d][i] = tile of dim d held at level i+1."""
    return evaluate_variants(problem, hier, tiles, [(orders, split)], bypass, detail)[0]


def evaluate_variants(problem: Problem, hier: Hierarchy, tiles: dict[str, list[np.ndarray]],
                      variants, bypass: frozenset = frozenset(), detail: bool = False) -> list[Costs]:
    """evaluate() for several (orders, split) over the same tiles, sharing the work."""
    tiling = _Tiling(problem, hier, tiles, bypass)
    return [_variant(tiling, orders, split, detail) for orders, split in variants]


def _variant(t: _Tiling, orders, split, detail: bool) -> Costs:
    problem, levels, batch, counts = t.problem, t.hier.levels, t.batch, t.counts
    nlev = len(levels)
    units = t.hier.compute.units
    n_split = counts[split][1] if split else np.ones(batch, np.int64)
    units_used = np.minimum(units, n_split) if split else np.ones(batch, np.int64)
    share = np.ceil(n_split / units) / n_split if split else np.ones(batch)

    positions = _positions(problem, orders, split, nlev)
    nontrivial = np.array([counts[d][lv + 1] > counts[d][lv] for lv, d in positions]).reshape(len(positions), batch) \
        if positions else np.zeros((0, batch), bool)

    reads = {name: dict(v) for name, v in t.array_reads.items()}
    writes = {name: dict(v) for name, v in t.array_writes.items()}
    crossing = [np.zeros(batch) for _ in levels]     # bytes over each level's port towards the array
    for op in problem.operands:
        keepers = t.keepers[op.name]
        for parent, child in zip(keepers, keepers[1:]):
            fills = _fills(t, op, child, positions, nontrivial, split, units_used)
            size = t.operand_sum(op, child)
            nb = op.bytes_per_element
            if op.output:
                # each tile leaves once finished (output width); earlier departures are
                # partial sums that go out and come back (accumulator width)
                spilled = (fills - size) * op.partial
                _add(writes, levels[parent].name, op.name, size * nb + spilled)
                _add(reads, levels[parent].name, op.name, spilled)
                _add(writes, levels[child].name, op.name, spilled)
                _add(reads, levels[child].name, op.name, size * nb + spilled)
                crossing[parent] = crossing[parent] + size * nb + 2 * spilled
            else:
                _add(reads, levels[parent].name, op.name, fills * nb)
                _add(writes, levels[child].name, op.name, fills * nb)
                crossing[parent] = crossing[parent] + fills * nb

    compute_unit = t.compute_total * share
    boundary = np.zeros(batch)
    for i, level in enumerate(levels[:-1]):
        per_unit = crossing[i] if i == 0 else crossing[i] * share   # level 0 is shared by all units
        boundary = np.maximum(boundary, per_unit / level.bandwidth_bytes_per_cycle)

    inner = t.held[-1]
    # Start-up: every unit asks at once for as many tiles as it has buffer slots and they
    # share level 0, so the last unit starts computing once the others' prefetches and
    # its own first tile went through. The last store drains after the compute.
    tiles_per_unit = np.ceil(t.tiles_innermost / units_used)
    prefetched = (units_used - 1) * np.minimum(levels[-1].slots, tiles_per_unit) + 1
    first = prefetched * sum(_tile_size(op, inner) * op.bytes_per_element for op in problem.inputs)
    last = _tile_size(problem.output, inner) * problem.output.bytes_per_element
    exposed = (first + last) / levels[0].bandwidth_bytes_per_cycle if nlev > 1 else np.zeros(batch)
    # double-buffered: the start-up and the last store are exposed, the rest of the
    # traffic hides behind compute (or compute behind it); single-buffered: no overlap
    if nlev > 1 and levels[-1].slots >= 2:
        latency = np.maximum(compute_unit, np.maximum(boundary - exposed, 0)) + exposed
    else:
        latency = compute_unit + boundary

    energy = problem.macs * t.hier.compute.mac_pj + sum(
        _sum(reads[lv.name]) * lv.read_pj_per_byte + _sum(writes[lv.name]) * lv.write_pj_per_byte for lv in levels)
    costs = Costs(latency, compute_unit, boundary, exposed, np.asarray(energy, float) + np.zeros(batch),
                  t.footprint, t.valid, units_used=units_used, tiles_innermost=t.tiles_innermost)
    if detail:
        costs.traffic_bytes = {lv.name: {**{f"{k} read": v for k, v in reads[lv.name].items()},
                                         **{f"{k} write": v for k, v in writes[lv.name].items()}}
                               for lv in levels}
    return costs


def _positions(problem: Problem, orders, split, nlev) -> list[tuple[int, str]]:
    """Loops outer to inner as (level, dim); the split loop first."""
    positions = [(0, split)] if split else []
    for level in range(nlev - 1):
        positions += [(level, d) for d in orders[level] if not (level == 0 and d == split)]
    return positions


def _fills(t: _Tiling, op: Operand, child: int, positions, nontrivial, split, units_used):
    """How many elements of the operand are loaded into level `child` over the whole nest."""
    outside = [p for p, (lv, _) in enumerate(positions) if lv < child]
    size = t.operand_sum(op, child)
    if not outside:
        return size
    relevant = np.array([positions[p][1] in op.dims for p in outside])[:, None] & nontrivial[outside]
    has = relevant.any(axis=0)
    last = len(outside) - 1 - np.argmax(relevant[::-1], axis=0)
    multiplier = np.ones(t.batch)
    for dim in {d for _, d in positions} - op.dims:
        # granularity reached by the loops of `dim` at or outside the innermost relevant loop
        seen = np.cumsum([positions[p][1] == dim for p in outside])
        table = np.stack(t.counts[dim])
        moved = np.take_along_axis(table, seen[last][None, :], axis=0)[0]
        # no relevant loop moves: the tile stays (one copy per unit when split)
        moved = np.where(has, moved, units_used if dim == split else 1)
        multiplier = multiplier * moved
    return size * multiplier


def _array_accesses(problem, hier, op, level, hist, counts, reads, writes) -> None:
    """Reads of the innermost keeping level by the array (and output updates)."""
    name = hier.levels[level].name
    size = _operand_sum(op, hist, level, counts) * (op.partial if op.output else op.bytes_per_element)
    compute = hier.compute
    if compute.kind != "systolic" or level == 0:
        _add(writes if op.output else reads, name, op.name, size)
        return
    rows_role, cols_role, _ = DATAFLOW_ROLES[compute.dataflow]
    on_rows = [d for d in problem.names if problem.roles[d] == rows_role]
    on_cols = [d for d in problem.names if problem.roles[d] == cols_role]
    # an operand re-enters the array once per fold of the array dimension it does not span
    group, step = ((on_cols, compute.cols) if not (set(on_cols) & op.dims) else
                   (on_rows, compute.rows) if not (set(on_rows) & op.dims) else ([], 1))
    if not group:
        _add(writes if op.output else reads, name, op.name, size)
        return
    folds = _fold_sum(group, step, hist, level)
    others = 1
    for d in problem.names:
        if d not in op.dims and d not in group:
            others = others * counts[d][level]
    passes = size * folds * others
    if op.output:
        _add(writes, name, op.name, passes)
        _add(reads, name, op.name, passes - size)
    else:
        _add(reads, name, op.name, passes)


def _fold_sum(dims, step, hist, level):
    """Sum over tile combos of ceil(product of extents / step)."""
    return sum(mult * -(-_prod(ext.values()) // step) for ext, mult in _combos(dims, hist, level))


def _stream_sum(dims, floor, hist, level):
    """Sum over tile combos of max(product of extents, floor)."""
    return sum(mult * np.maximum(_prod(ext.values()), floor) for ext, mult in _combos(dims, hist, level))


def _custom_cycles(problem, compute, hist, level):
    """Sum of compute.tile_cycles(m, n, k) over every tile (exact for any per-tile cost):
    m = product of the stream dims' extents, n = of the column dims', k = of the reduced
    dims'; batch items run one after another."""
    view = {role: [d for d in problem.names if problem.roles[d] == role] for role in ("stream", "cols", "reduce")}
    batch = _prod(problem.bounds[d] for d in problem.names if problem.roles[d] == "batch")
    total = 0
    for ext, mult in _combos(view["stream"] + view["cols"] + view["reduce"], hist, level):
        m, n, k = (_prod(ext[d] for d in view[role]) * np.ones(1, np.int64) for role in ("stream", "cols", "reduce"))
        total = total + mult * np.where(mult > 0, compute.tile_cycles(m, n, k), 0)
    return np.asarray(total * batch, float)


def _compute_cycles(problem, hier, hist, counts, level):
    compute = hier.compute
    if compute.tile_cycles is not None:
        return _custom_cycles(problem, compute, hist, level)
    if compute.kind == "vector":
        return _fold_sum(problem.names, compute.rows, hist, level).astype(float)
    rows_role, cols_role, stream_role = DATAFLOW_ROLES[compute.dataflow]
    group = {r: [d for d in problem.names if problem.roles[d] == r] for r in (rows_role, cols_role, stream_role)}
    batch_dims = [d for d in problem.names if problem.roles[d] == "batch"]
    f_rows = _fold_sum(group[rows_role], compute.rows, hist, level)
    f_cols = _fold_sum(group[cols_role], compute.cols, hist, level)
    n_stream = _prod(counts[d][level] for d in group[stream_role])
    stream = _prod(problem.bounds[d] for d in group[stream_role])
    batch_sum = _prod(problem.bounds[d] for d in batch_dims)   # batch tiles hold one item each
    if compute.pipelined_folds and compute.dataflow != "os":
        # each fold holds the array for max(stream, rows); each tile adds one fill and one skew + drain
        streams = _stream_sum(group[stream_role], compute.rows, hist, level)
        latency = compute.fill_cycles + compute.rows + compute.cols - 2
        return np.asarray(batch_sum * f_rows * f_cols * streams + latency * _tiles(problem, counts, level), float)
    per_fold = compute.fill_cycles + compute.rows + compute.cols - 2
    cycles = batch_sum * f_rows * f_cols * (per_fold * n_stream + stream)
    if compute.preload_overlap and compute.dataflow != "os":
        folds = batch_sum * f_rows * f_cols * n_stream
        cycles = cycles - compute.rows * (folds - _tiles(problem, counts, level))
    return np.asarray(cycles, float)


def _tiles(problem, counts, level):
    return _prod(counts[d][level] for d in problem.names)


def _prod(values):
    total = 1
    for v in values:
        total = total * v
    return total


def _add(table, level, operand, value) -> None:
    table[level][operand] = table[level].get(operand, 0) + value


def _sum(entries: dict) -> np.ndarray:
    return sum(entries.values()) if entries else 0.0


def evaluate_mapping(problem: Problem, hier: Hierarchy, mapping) -> Costs:
    """Cost of one mapping (accsim.mapping.nest.Mapping), with the traffic breakdown."""
    tiles = {d: [np.array([mapping.tile(level)[d]]) for level in range(1, len(hier.levels))]
             for d in problem.names}
    return evaluate(problem, hier, tiles, mapping.orders, mapping.split, mapping.bypass, detail=True)
