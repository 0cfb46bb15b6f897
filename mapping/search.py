"""Mapping search: exhaustive with exact pruning where the space is small, seeded
random sampling with a victory condition and a timeout where it is not.

Two-level hierarchies (backing memory + one buffer per unit, what accsim's
simulator executes) are searched exhaustively over tile sizes, every loop order
and every split. Tile candidates per dimension are pruned exactly: two tile
sizes with the same number of tiles and the same number of array folds have
the same traffic and compute, so only the smaller (less buffer, less exposed
load) is kept. Dimensions up to EXHAUSTIVE_BOUND try every size; larger ones
try a geometric selection of tile counts plus array-aligned sizes.

Deeper hierarchies sample (tiles, orders, split, bypass) at random with a seed
and stop after `patience` batches without improvement (the victory condition)
or at the timeout, whichever comes first; the result says which.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from . import cache
from .cost import Costs, _held_bytes, evaluate_variants
from .hierarchy import DATAFLOW_ROLES, Hierarchy
from .nest import Mapping
from .problem import Problem

OBJECTIVES = ("latency", "energy", "edp")
EXHAUSTIVE_BOUND = 64
MAX_CANDIDATES = 40


class MappingError(ValueError):
    """No mapping satisfies the constraints; the message names the one that fails."""


@dataclass(frozen=True)
class Constraints:
    """User constraints (Timeloop-style): fixed tiles per level, fixed orders, split, bypass."""

    tiles: tuple[tuple[int, str, int], ...] = ()        # (level, dim, tile size)
    orders: tuple[tuple[int, tuple[str, ...]], ...] = ()
    split: str | None = None
    no_split: bool = False
    bypass: frozenset[tuple[str, str]] = frozenset()

    def fixed_tile(self, level: int, dim: str) -> int | None:
        return next((size for lv, d, size in self.tiles if lv == level and d == dim), None)

    def fixed_order(self, level: int) -> tuple[str, ...] | None:
        return next((order for lv, order in self.orders if lv == level), None)


@dataclass(frozen=True)
class Candidate:
    mapping: Mapping
    latency_cycles: float
    energy_pj: float
    compute_cycles: float
    memory_cycles: float
    exposed_cycles: float
    footprint_bytes: tuple[tuple[str, float], ...]

    @property
    def edp(self) -> float:
        return self.latency_cycles * self.energy_pj


@dataclass(frozen=True)
class SearchResult:
    problem: Problem
    best: Candidate
    top: tuple[Candidate, ...]
    evaluated: int
    seconds: float
    method: str                      # exhaustive | random: victory | random: timeout
    objective: str
    alternatives: int = 0            # valid mappings seen
    notes: tuple[str, ...] = field(default=())
    cached: bool = False             # read from the on-disk cache (mapping/cache.py); `seconds` is the original search


def objective_values(costs: Costs, objective: str) -> np.ndarray:
    if objective == "latency":
        return costs.latency_cycles
    if objective == "energy":
        return costs.energy_pj
    return costs.latency_cycles * costs.energy_pj


def search(problem: Problem, hier: Hierarchy, objective: str = "latency",
           constraints: Constraints = Constraints(), top_k: int = 5, seed: int = 0,
           timeout_s: float = 10.0, patience: int = 20) -> SearchResult:
    """Best mapping of `problem` on `hier` (cached per problem, hardware and options)."""
    if objective not in OBJECTIVES:
        raise MappingError(f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    return _search(problem, hier, objective, constraints, top_k, seed, timeout_s, patience)


@lru_cache(maxsize=4096)
def _search(*arguments) -> SearchResult:
    """In-process cache over the on-disk cache over the search itself."""
    name = cache.key(arguments)
    found = cache.load(name)
    if found is not None:
        return replace(found, cached=True)
    result = _run_search(*arguments)
    cache.store(name, result)
    return result


def _run_search(problem, hier, objective, constraints, top_k, seed, timeout_s, patience) -> SearchResult:
    started = time.perf_counter()
    _check_constraints(problem, hier, constraints)
    pool = _Pool(problem, hier, objective, top_k)
    if len(hier.levels) <= 2:
        _exhaustive(problem, hier, constraints, pool)
        method = "exhaustive"
    else:
        method = _random(problem, hier, constraints, pool, seed, timeout_s, patience, started)
    if not pool.top:
        raise MappingError(_why_infeasible(problem, hier, constraints))
    return SearchResult(problem, pool.top[0], tuple(pool.top), pool.evaluated,
                        time.perf_counter() - started, method, objective, pool.valid)


class _Pool:
    """The K best distinct candidates seen so far."""

    def __init__(self, problem, hier, objective, top_k):
        self.problem, self.hier, self.objective, self.top_k = problem, hier, objective, top_k
        self.top: list[Candidate] = []
        self.evaluated = 0
        self.valid = 0

    def offer(self, tiles, variants, bypass) -> bool:
        """Evaluate a batch of tiles under each (orders, split); True when the best improved."""
        before = self._key(self.top[0]) if self.top else None
        for (orders, split), costs in zip(variants, evaluate_variants(self.problem, self.hier, tiles, variants,
                                                                      bypass)):
            self._take(costs, tiles, orders, split, bypass)
        return before is None or self._key(self.top[0]) < before

    def _take(self, costs, tiles, orders, split, bypass) -> None:
        batch = costs.latency_cycles.shape[0]
        self.evaluated += batch
        ok = np.flatnonzero(costs.valid)
        self.valid += ok.size
        if ok.size == 0:
            return
        primary = objective_values(costs, self.objective)[ok]
        secondary = (costs.energy_pj if self.objective == "latency" else costs.latency_cycles)[ok]
        footprint = sum(costs.footprint_bytes.values())
        footprint = footprint[ok] if isinstance(footprint, np.ndarray) else np.zeros(ok.size)
        chosen = ok[np.lexsort((footprint, secondary, primary))[:self.top_k]]
        for i in chosen:
            self.top.append(self._candidate(costs, i, tiles, orders, split, bypass))
        self.top.sort(key=self._key)
        unique, seen = [], set()
        for cand in self.top:
            # loop orders that differ only in one-trip loops are the same mapping in effect
            effect = (cand.mapping.tiles, cand.mapping.split, cand.latency_cycles, cand.energy_pj)
            if effect not in seen:
                seen.add(effect)
                unique.append(cand)
        self.top = unique[:self.top_k]

    def _key(self, cand: Candidate):
        primary = {"latency": cand.latency_cycles, "energy": cand.energy_pj, "edp": cand.edp}[self.objective]
        secondary = cand.energy_pj if self.objective == "latency" else cand.latency_cycles
        return (primary, secondary, sum(v for _, v in cand.footprint_bytes))

    def _candidate(self, costs, i, tiles, orders, split, bypass) -> Candidate:
        nlev = len(self.hier.levels)
        held = []
        parent = dict(self.problem.dims)
        for level in range(1, nlev):
            tile = {d: int(min(parent[d], tiles[d][level - 1][i])) for d in self.problem.names}
            held.append(tuple(tile.items()))
            parent = tile
        mapping = Mapping(tuple(held), orders, split, bypass)
        return Candidate(mapping, float(costs.latency_cycles[i]), float(costs.energy_pj[i]),
                         float(costs.compute_cycles[i]), float(costs.memory_cycles[i]),
                         float(costs.exposed_cycles[i]),
                         tuple((k, float(v[i])) for k, v in costs.footprint_bytes.items()))


# ---------------------------------------------------------------- candidates
def _array_step(problem: Problem, hier: Hierarchy, dim: str) -> tuple[int, bool]:
    """(array extent this dim folds over, whether it is alone in its array group)."""
    compute = hier.compute
    if compute.kind == "vector":
        return compute.rows, len(problem.names) == 1
    rows_role, cols_role, _ = DATAFLOW_ROLES[compute.dataflow]
    role = problem.roles[dim]
    if role not in (rows_role, cols_role):
        return 1, True
    group = [d for d in problem.names if problem.roles[d] == role]
    return (compute.rows if role == rows_role else compute.cols), len(group) == 1


def tile_candidates(problem: Problem, hier: Hierarchy, dim: str) -> list[int]:
    """Tile sizes worth trying for one dimension at the innermost buffer, pruned exactly."""
    bound = problem.bounds[dim]
    if problem.roles[dim] == "batch" and hier.compute.kind == "systolic":
        return [1]
    step, alone = _array_step(problem, hier, dim)
    if bound <= EXHAUSTIVE_BOUND:
        sizes = range(1, bound + 1)
    else:
        counts = sorted({max(1, round(x)) for x in np.geomspace(1, bound, MAX_CANDIDATES)})
        sizes = {-(-bound // c) for c in counts}
        aligned = [step * 2 ** i for i in range(int(math.log2(max(bound // step, 1))) + 1)]
        sizes |= {s for s in aligned if s <= bound} | {-(-bound // step) * step if step > 1 else bound}
        sizes |= {t for t in _divisors(bound) if t >= step or step == 1}   # even tiles, no edge
        sizes = sorted(min(s, bound) for s in sizes)
    best: dict[tuple, int] = {}
    for size in sizes:
        count = -(-bound // size)
        edge = bound - (count - 1) * size
        if step == 1:
            signature = (count,)                 # cost depends on the tile count only
        elif alone:
            signature = (count, (count - 1) * -(-size // step) + -(-edge // step))   # + array folds
        else:
            signature = (count, size)            # folds depend on the other dims of the group
        best.setdefault(signature, size)
    return sorted(best.values())


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in small]


def _exhaustive(problem: Problem, hier: Hierarchy, constraints: Constraints, pool: _Pool) -> None:
    names = problem.names
    per_dim = []
    for d in names:
        fixed = constraints.fixed_tile(1, d)
        per_dim.append([fixed] if fixed else tile_candidates(problem, hier, d))
    grids = np.meshgrid(*[np.asarray(c, np.int64) for c in per_dim], indexing="ij")
    flat = {d: g.ravel() for d, g in zip(names, grids)}
    flat = _prefilter(problem, hier, flat, constraints)
    if flat[names[0]].size == 0:
        return
    tiles = {d: [flat[d]] for d in names}
    # a dimension whose tiles always span it has a one-trip loop: its place in the order
    # does not matter, nor does the split dimension's (it is outermost anyway)
    moving = [d for d in names if (flat[d] < problem.bounds[d]).any()]
    variants = [((order,), split) for split in _splits(problem, hier, constraints, moving)
                for order in _orders(problem, constraints, 0, [d for d in moving if d != split])]
    pool.offer(tiles, variants, constraints.bypass)


def _prefilter(problem, hier, flat, constraints):
    """Drop tile combinations that overflow the buffer before costing them."""
    level = hier.levels[1]
    if level.capacity_bytes is None:
        return flat
    size = np.zeros(flat[problem.names[0]].size)
    for op in problem.operands:
        if (op.name, level.name) in constraints.bypass or (level.keeps is not None and op.name not in level.keeps):
            continue
        elems = 1
        for axis in op.axes:
            elems = elems * (sum(c * (flat[d] - 1) for d, c in axis) + 1)
        size += elems * _held_bytes(op, level)
    keep = size <= level.capacity_bytes
    return {d: v[keep] for d, v in flat.items()}


def _orders(problem: Problem, constraints: Constraints, level: int, moving=None):
    """Loop orders to try; with `moving`, only those dims are permuted (the others,
    one-trip loops, go outermost where they cannot change reuse)."""
    fixed = constraints.fixed_order(level)
    if fixed:
        return [fixed]
    moving = list(problem.names) if moving is None else moving
    still = tuple(d for d in problem.names if d not in moving)
    return [still + perm for perm in itertools.permutations(moving)]


def _splits(problem: Problem, hier: Hierarchy, constraints: Constraints, moving=None):
    """Dimensions to spread over the units: output dimensions with more than one tile."""
    if constraints.split:
        return [constraints.split]
    if hier.compute.units == 1 or constraints.no_split:
        return [None]
    options = [d for d in problem.names if problem.roles[d] != "reduce" and (moving is None or d in moving)]
    return options or [None]


def _random(problem, hier, constraints, pool, seed, timeout_s, patience, started) -> str:
    rng = np.random.default_rng(seed)
    names = problem.names
    nlev = len(hier.levels)
    candidates = {d: np.asarray(tile_candidates(problem, hier, d)) for d in names}
    stale = 0
    batch = 512
    bypassable = [(op.name, lv.name) for op in problem.operands for lv in hier.levels[1:-1]]
    while stale < patience:
        if time.perf_counter() - started > timeout_s:
            return "random: timeout"
        orders = tuple(constraints.fixed_order(lv) or tuple(rng.permutation(names)) for lv in range(nlev - 1))
        splits = _splits(problem, hier, constraints)
        split = splits[rng.integers(len(splits))]
        bypass = constraints.bypass | frozenset(b for b in bypassable if rng.random() < 0.2)
        tiles = {}
        for d in names:
            inner = candidates[d][rng.integers(len(candidates[d]), size=batch)]
            chain = [inner]
            for level in range(nlev - 2, 0, -1):   # outer tiles: multiples of the inner ones
                factor = rng.integers(1, max(2, -(-problem.bounds[d] // chain[0].min())) + 1, size=batch)
                chain.insert(0, np.minimum(chain[0] * factor, problem.bounds[d]))
            for level in range(1, nlev):
                fixed = constraints.fixed_tile(level, d)
                if fixed:
                    chain[level - 1] = np.full(batch, fixed)
            tiles[d] = chain
        stale = 0 if pool.offer(tiles, [(orders, split)], bypass) else stale + 1
    return "random: victory"


# ---------------------------------------------------------------- diagnostics
def _check_constraints(problem: Problem, hier: Hierarchy, constraints: Constraints) -> None:
    names = set(problem.names)
    level_names = [lv.name for lv in hier.levels]
    for level, dim, size in constraints.tiles:
        if dim not in names:
            raise MappingError(f"tile constraint on {dim!r}: {problem.kind} has dimensions {', '.join(problem.names)}")
        if not 1 <= level < len(hier.levels):
            raise MappingError(f"tile constraint for level {level}: levels 1..{len(hier.levels) - 1} hold tiles")
        if not 1 <= size <= problem.bounds[dim]:
            raise MappingError(f"tile {dim}={size} does not cover the loop bound: {dim} runs over "
                               f"1..{problem.bounds[dim]}")
    for level, order in constraints.orders:
        if sorted(order) != sorted(problem.names):
            raise MappingError(f"loop order {list(order)} at {level_names[level]} must list each of "
                               f"{', '.join(problem.names)} once")
    if constraints.split and (constraints.split not in names or problem.roles[constraints.split] == "reduce"):
        raise MappingError(f"split over {constraints.split!r}: only output dimensions "
                           f"({', '.join(d for d in problem.names if problem.roles[d] != 'reduce')}) "
                           f"can be spread over units")
    for operand, level in constraints.bypass:
        if level not in level_names[1:]:
            raise MappingError(f"bypass {operand}@{level}: no buffer level {level!r} "
                               f"(levels: {', '.join(level_names[1:])})")
        if level == level_names[-1] and hier.compute.kind == "systolic":
            raise MappingError(f"bypass {operand}@{level}: the array reads every operand from {level}")


def _why_infeasible(problem: Problem, hier: Hierarchy, constraints: Constraints) -> str:
    """Name the capacity that the smallest allowed tile still overflows."""
    for index, level in enumerate(hier.levels[1:], start=1):
        if level.capacity_bytes is None:
            continue
        tile = {d: constraints.fixed_tile(index, d) or min(tile_candidates(problem, hier, d)) for d in problem.names}
        parts = []
        for op in problem.operands:
            if (op.name, level.name) in constraints.bypass:
                continue
            elems = 1
            for axis in op.axes:
                elems *= sum(c * (tile[d] - 1) for d, c in axis) + 1
            parts.append((op.name, elems * _held_bytes(op, level)))
        need = sum(b for _, b in parts)
        if need > level.capacity_bytes:
            shown = ", ".join(f"{d}={tile[d]}" for d in problem.names)
            detail = ", ".join(f"{name} {_fmt(b)}" for name, b in parts)
            return (f"{problem.label()}: tile {shown} needs {_fmt(need)} of {level.name} ({detail}; "
                    f"x{level.slots} slots for inputs), {_fmt(level.capacity_bytes)} available")
    return f"{problem.label()}: no mapping satisfies the constraints"


def _fmt(nbytes: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.4g} {unit}"
    return f"{nbytes:.0f} B"
