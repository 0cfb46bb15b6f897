"""From a SweepSpec to the list of points to simulate, all validated up front.

Each point is a base architecture, a base workload and the overrides of its
parameter values. Every distinct (base file, overrides) pair is parsed and
validated once, here in the parent process, so a bad path or value stops the
sweep (exit 2) before anything runs, with the spec's file and line. A point's
key is the SHA-256 of its resolved configuration: both YAML trees after
`extends:` and overrides, the `exact` flag and the accsim version.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..api import split_overrides
from ..arch import parse_arch
from ..errors import ConfigError, Problem, ResolveError
from ..resolve import resolve
from ..workload.spec import parse_workload
from ..yamlio import LoadedFile, LocDict, load
from .sampling import SAMPLERS
from .spec import SweepSpec, _yaml_text

MAX_PROBLEMS_SHOWN = 25
SIDES = ("arch", "workload")


@dataclass(frozen=True)
class Point:
    key: str
    arch: str                         # as named in the spec
    workload: str
    values: tuple[tuple[str, Any], ...]   # (parameter name, value) in spec order
    arch_base: int                    # index into Plan.bases["arch"]
    workload_base: int
    arch_overrides: tuple[str, ...]
    workload_overrides: tuple[str, ...]

    def task(self, exact: bool) -> dict:
        """What a worker needs (with the plan's bases) to simulate this point."""
        return {"key": self.key, "arch_base": self.arch_base, "workload_base": self.workload_base,
                "arch_overrides": self.arch_overrides, "workload_overrides": self.workload_overrides,
                "exact": exact}


@dataclass
class Plan:
    spec: SweepSpec
    points: list[Point]
    bases: dict[str, list[LoadedFile]]
    requested: int                     # points the sampler produced (before removing duplicates)
    context_id: str = ""
    input_hashes: dict = field(default_factory=dict)   # (side, base index) -> {file: sha256}

    def context(self) -> dict:
        """Shared by every task: the base YAML trees (sent to each worker once)."""
        return {"id": self.context_id, "bases": self.bases}


@dataclass(frozen=True)
class _Override:
    text: str                         # path=value, path relative to its file
    path: str
    where: tuple                      # spec file and line it came from
    field: str                        # spec field it came from


def plan_sweep(spec: SweepSpec, limit: int | None = None) -> Plan:
    """Resolve bases, choose points, validate every distinct configuration, key the points.

    `limit` keeps that many points spread evenly over the list (a small run of a big
    sweep, e.g. in CI); only those are validated."""
    problems: list[Problem] = []
    bases = {"arch": _load_bases(spec, "arch", spec.archs, problems),
             "workload": _load_bases(spec, "workload", spec.workloads, problems)}
    fixed = _route_fixed(spec, problems)
    routes = _route_parameters(spec, problems)
    _check_objectives_fit(spec, bases["workload"], problems)
    if problems:
        raise ConfigError(problems)
    bad = _check_paths_exist(spec, bases, routes, fixed, problems)
    # keep validating the rest: a parameter with a missing path is left out of the points
    routes = [[] if f"parameters.{p.name}" in bad else sides for p, sides in zip(spec.parameters, routes)]
    fixed = [(side, o) for side, o in fixed if o.field not in bad]
    rows = SAMPLERS[spec.sampling.method](spec.parameters, spec.sampling)
    combos = [(a, w, values) for a in range(len(spec.archs)) for w in range(len(spec.workloads)) for values in rows]
    if limit is not None:
        combos = spread(combos, limit)
    checked: dict[tuple, str | None] = {}
    points: dict[str, Point] = {}
    for arch_index, workload_index, values in combos:
        point = _point(spec, bases, fixed, routes, arch_index, workload_index, values, checked, problems)
        if point is not None and point.key not in points:
            points[point.key] = point
    if problems:
        raise ConfigError(_capped(problems))
    plan = Plan(spec, list(points.values()), bases, len(combos))
    plan.context_id = _digest([[_tree_text(b.tree) for b in bases[side]] for side in SIDES])
    plan.input_hashes = {(side, i): dict(b.file_hashes) for side in SIDES for i, b in enumerate(bases[side])}
    return plan


def spread(items: list, count: int) -> list:
    """`count` items evenly spaced over `items` (first and last included)."""
    if count >= len(items):
        return list(items)
    if count <= 1:
        return items[:max(count, 0)]
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def _load_bases(spec: SweepSpec, side: str, names: tuple[str, ...], problems: list) -> list[LoadedFile]:
    where = spec.location(side)
    loaded = []
    for name in names:
        try:
            loaded.append(load(resolve(name, side), lambda n, s=side: resolve(n, s)))
        except ResolveError as exc:
            problems.append(Problem(where[0], where[1], side, str(exc)))
        except ConfigError as exc:
            problems.extend(exc.problems)
    return loaded


def _check_objectives_fit(spec: SweepSpec, workloads: list[LoadedFile], problems: list) -> None:
    """Throughput exists only for LLM workloads: known from the files, so checked now."""
    for index, objective in enumerate(spec.objectives):
        if objective.name != "throughput":
            continue
        for name, base in zip(spec.workloads, workloads):
            kind = base.tree.get("kind")
            if kind != "llm":
                problems.append(Problem(objective.where[0], objective.where[1], f"objectives[{index}]",
                                        f"throughput needs an LLM workload (kind: llm); {name} is kind: {kind}"))


def _route(assignment: str, where: tuple, field: str, problems: list) -> tuple[str, _Override] | None:
    """Which file an override goes to, and its path inside that file."""
    try:
        arch, workload = split_overrides([assignment])
    except ConfigError as exc:
        for problem in exc.problems:
            problems.append(Problem(where[0], where[1], field, problem.message))
        return None
    side, text = ("arch", arch[0]) if arch else ("workload", workload[0])
    return side, _Override(text, text.split("=", 1)[0].strip(), where, field)


def _route_fixed(spec: SweepSpec, problems: list) -> list[tuple[str, _Override]]:
    routed = []
    for text, where in zip(spec.fixed, spec.fixed_lines):
        path = text.split("=", 1)[0].strip()
        field = f"set.{path}" if where[0] != "--set" else path
        result = _route(text, where, field, problems)
        if result is not None:
            routed.append(result)
    return routed


def _route_parameters(spec: SweepSpec, problems: list) -> list[list[tuple[str, str]]]:
    """Per parameter, (side, path in that file) for each of its paths."""
    routes = []
    for parameter in spec.parameters:
        sides = []
        for path in parameter.paths:
            result = _route(f"{path}=0", parameter.where, f"parameters.{parameter.name}", problems)
            if result is not None:
                sides.append((result[0], result[1].path))
        routes.append(sides)
    return routes


def _check_paths_exist(spec, bases, routes, fixed, problems: list) -> set[str]:
    """Every level above the last key must exist in each base file (the last key may be
    an optional field the base leaves at its default; validation judges it). Returns
    the spec fields with a missing path."""
    bad = set()
    targets = [(side, path, p.where, f"parameters.{p.name}")
               for p, sides in zip(spec.parameters, routes) for side, path in sides]
    targets += [(side, o.path, o.where, o.field) for side, o in fixed]
    for side, path, where, spec_field in targets:
        for base in bases[side]:
            message = _missing_level(base.tree, path)
            if message:
                problems.append(Problem(where[0], where[1], spec_field, f"{path}: {message} in {base.path}"))
                bad.add(spec_field)
    return bad


def _missing_level(tree: LocDict, path: str) -> str | None:
    keys = path.split(".")
    node = tree
    for depth, key in enumerate(keys[:-1]):
        child = node.get(key) if isinstance(node, dict) else None
        if child is None:
            above = ".".join(keys[:depth]) or "the top level"
            there = ", ".join(node) if isinstance(node, dict) else ""
            return f"no key {key!r} under {above}" + (f" (keys there: {there})" if there else "")
        node = child
    if not isinstance(node, dict):
        return f"{'.'.join(keys[:-1])} is not a mapping"
    return None


def _point(spec, bases, fixed, routes, arch_index, workload_index, values, checked, problems) -> Point | None:
    overrides: dict[str, list[_Override]] = {"arch": [], "workload": []}
    for side, override in fixed:
        overrides[side].append(override)
    for parameter_index, (parameter, value) in enumerate(zip(spec.parameters, values)):
        where = _value_location(parameter, value)
        for side, path in routes[parameter_index]:
            text = f"{path}={_yaml_text(parameter.text(value))}"
            overrides[side].append(_Override(text, path, where, f"parameters.{parameter.name}"))
    digests = []
    for side, base_index in (("arch", arch_index), ("workload", workload_index)):
        digest = _check_side(side, bases[side][base_index], base_index, overrides[side], checked, problems)
        if digest is None:
            return None
        digests.append(digest)
    key = _digest([digests, spec.exact, __version__])
    return Point(key, spec.archs[arch_index], spec.workloads[workload_index],
                 tuple((p.name, v) for p, v in zip(spec.parameters, values)), arch_index, workload_index,
                 tuple(o.text for o in overrides["arch"]), tuple(o.text for o in overrides["workload"]))


def _value_location(parameter, value) -> tuple:
    if parameter.values is not None and parameter.value_lines:
        return parameter.value_lines[parameter.values.index(value)]
    return parameter.where


def _check_side(side: str, base: LoadedFile, base_index: int, overrides: list[_Override],
                checked: dict, problems: list) -> str | None:
    """Validate one file with its overrides (once per distinct combination); return the
    digest of its resolved tree, or None (problems recorded) when it is invalid."""
    memo_key = (side, base_index, tuple(o.text for o in overrides))
    if memo_key in checked:
        return checked[memo_key]
    loaded = LoadedFile(base.path, copy.deepcopy(base.tree), base.file_hashes, base.problems)
    parse = parse_arch if side == "arch" else parse_workload
    try:
        parse(loaded, memo_key[2])
        digest = _digest(_tree_text(loaded.tree))
    except ConfigError as exc:
        problems.extend(_located(exc.problems, overrides))
        digest = None
    checked[memo_key] = digest
    return digest


def _located(found: list[Problem], overrides: list[_Override]) -> list[Problem]:
    """Problems of an override point at the spec line that made it; others name the point."""
    located = []
    point = ", ".join(o.text for o in overrides)
    for problem in found:
        source = next((o for o in overrides if problem.file == "--set" and _related(o.path, problem.path)), None)
        if source is not None:
            value = source.text.split("=", 1)[1]
            located.append(Problem(source.where[0], source.where[1], source.field,
                                   f"{value}: {problem.path}: {problem.message}"))
        else:
            located.append(Problem(problem.file, problem.line, problem.path,
                                   f"{problem.message} (sweep point: {point})"))
    return located


def _related(override_path: str, problem_path: str) -> bool:
    return (problem_path == override_path or problem_path.startswith(override_path + ".")
            or override_path.startswith(problem_path + ".") or not problem_path)


def _capped(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    if len(unique) <= MAX_PROBLEMS_SHOWN:
        return unique
    rest = len(unique) - MAX_PROBLEMS_SHOWN
    last = unique[MAX_PROBLEMS_SHOWN - 1]
    return unique[:MAX_PROBLEMS_SHOWN] + [Problem(last.file, None, "", f"... and {rest} more problems")]


def _tree_text(tree: Any) -> str:
    return json.dumps(tree, sort_keys=True, default=str, separators=(",", ":"))


def _digest(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
