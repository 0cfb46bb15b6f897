"""Sweep spec files (configs/sweeps/*.yaml): parse and validate -> SweepSpec.

A spec names base architecture(s) and workload(s), parameters as the same
paths as `--set`, how to choose points (grid, random, Latin hypercube),
objectives and constraints. Every problem of the file is collected and
reported as FILE:LINE: path.to.field: message before anything runs.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AccsimError, ConfigError, ResolveError
from ..resolve import bundled_dir
from ..schema import Checker, opt, req
from ..yamlio import LocDict, LocList, parse_text, read_file
from .objectives import Constraint, Objective, parse_constraint, parse_objective

SPEC_FIELDS = {
    "schema_version": opt("int", 1, "format version of this file (1)", choices=(1,)),
    "name": req("str", "sweep name; also the default output folder reports/<name>"),
    "description": opt("str", "", "one line"),
    "arch": req("any", "base architecture: a path or bundled name, or a list of them (a dimension)"),
    "workload": req("any", "base workload: a path or bundled name, or a list of them (a dimension)"),
    "set": opt("map", None, "fixed overrides for every point, path: value (as --set)"),
    "parameters": opt("map", None, "swept fields: path (as --set) -> values list, {values}, or a range"),
    "sampling": opt("any", "grid", "grid (every combination), or {method: random|latin_hypercube, "
                                   "points: N, seed: S}"),
    "objectives": req("list", "latency, throughput, energy, area, edp, perf_per_area, or {summary.path: min|max}"),
    "constraints": opt("list", None, "e.g. 'area <= 800 mm2'; violating points are kept and flagged"),
    "exact": opt("bool", False, "simulate every op (no reuse shortcut), as accsim run --exact"),
}
PARAMETER_FIELDS = {
    "paths": opt("list", None, "several paths set to the same value (e.g. rows and cols)"),
    "values": opt("list", None, "the values, in order"),
    "from": opt("float", None, "range start (inclusive)"),
    "to": opt("float", None, "range end (inclusive)"),
    "step": opt("float", None, "additive step of a range grid", positive=True),
    "factor": opt("float", None, "multiplicative step of a range grid (e.g. 2)", minimum=1.0000001),
    "integer": opt("bool", False, "sampled range values are whole numbers"),
    "log": opt("bool", False, "sample a range uniformly in log space"),
    "unit": opt("str", "", "appended to each range value, e.g. 'GB/s' -> '256 GB/s'"),
}
SAMPLING_FIELDS = {
    "method": req("str", "grid, random or latin_hypercube", choices=("grid", "random", "latin_hypercube")),
    "points": opt("int", None, "number of sampled points (random, latin_hypercube)", positive=True),
    "seed": opt("int", 0, "random seed; the same seed gives the same points"),
}
MAX_GRID_POINTS = 1_000_000


class SweepError(AccsimError):
    """A sweep cannot start or go on for a reason of its input or environment (exit 2)."""


@dataclass(frozen=True)
class Parameter:
    """One swept dimension: a name, the paths it sets, and its values or range."""

    name: str
    paths: tuple[str, ...]
    values: tuple | None                 # discrete values, in order (None for a continuous range)
    low: float | None = None
    high: float | None = None
    integer: bool = False
    log: bool = False
    unit: str = ""
    where: tuple = ("<memory>", None)    # spec file, line of the parameter
    value_lines: tuple = ()              # spec line of each listed value

    def text(self, value: Any) -> Any:
        """The value as written into the YAML (range values get their unit)."""
        if self.unit and isinstance(value, (int, float)) and not isinstance(value, bool):
            return f"{_number_text(value)} {self.unit}"
        return value


@dataclass(frozen=True)
class Sampling:
    method: str = "grid"
    points: int | None = None
    seed: int = 0


@dataclass(frozen=True)
class SweepSpec:
    name: str
    description: str
    path: str
    text_sha256: str
    archs: tuple[str, ...]
    workloads: tuple[str, ...]
    fixed: tuple[str, ...]                # `path=value` overrides for every point
    fixed_lines: tuple                    # spec location of each fixed override
    parameters: tuple[Parameter, ...]
    sampling: Sampling
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    exact: bool
    where: dict                           # spec locations of top-level keys

    def location(self, key: str) -> tuple:
        return self.where.get(key, (self.path, None))


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def load_spec(name: str | Path, extra_overrides: tuple[str, ...] = ()) -> SweepSpec:
    """Read and validate a sweep spec (a path, or a name under configs/sweeps/)."""
    path = _resolve_spec(str(name))
    text = read_file(path)
    tree = parse_text(text, str(path), collect=True)
    return parse_spec(tree, path, text, extra_overrides)


def _resolve_spec(name: str) -> Path:
    path = Path(name).expanduser()
    if path.is_file():
        return path.resolve()
    stem = name.removeprefix("configs/").removeprefix("sweeps/")
    stem = stem[:-5] if stem.endswith(".yaml") else stem
    folder = bundled_dir("config")
    if folder is not None and "/" not in stem and (folder / "sweeps" / f"{stem}.yaml").is_file():
        return (folder / "sweeps" / f"{stem}.yaml").resolve()
    return _missing(name)


def _missing(name: str):
    folder = bundled_dir("config")
    names = sorted(p.stem for p in (folder / "sweeps").glob("*.yaml")) if folder else []
    raise ResolveError(f"{name}: no such sweep spec file and no bundled sweep of that name"
                       f"{'; bundled: ' + ', '.join(names) if names else ''}")


def parse_spec(tree: LocDict, path: Path, text: str, extra_overrides: tuple[str, ...] = ()) -> SweepSpec:
    checker = Checker(tree.problems)
    top = checker.section(tree, "", SPEC_FIELDS)
    file = str(path)
    archs = _names(checker, tree, "arch")
    workloads = _names(checker, tree, "workload")
    fixed, fixed_lines = _fixed(top["set"], tree)
    for item in extra_overrides:
        fixed.append(item)
        fixed_lines.append(("--set", None))
    parameters = _parameters(checker, top["parameters"], tree)
    sampling = _sampling(checker, top["sampling"], tree.location("sampling"))
    _check_sampling_fits(checker, parameters, sampling, tree)
    objectives = _objectives(checker, top["objectives"], tree)
    constraints = _constraints(checker, top["constraints"])
    if not (top["parameters"] or {}) and len(archs) * len(workloads) <= 1:
        checker.add(tree.location("parameters") if "parameters" in tree else tree.origin, "parameters",
                    "empty sweep: no parameters (and one architecture and one workload); "
                    "add at least one parameter with values")
    checker.raise_if_any()
    where = {key: tree.location(key) for key in tree}
    return SweepSpec(name=top["name"], description=top["description"], path=file,
                     text_sha256=hashlib.sha256(text.encode()).hexdigest(), archs=archs,
                     workloads=workloads, fixed=tuple(fixed), fixed_lines=tuple(fixed_lines),
                     parameters=parameters, sampling=sampling, objectives=objectives,
                     constraints=constraints, exact=top["exact"], where=where)


def _names(checker: Checker, tree: LocDict, key: str) -> tuple[str, ...]:
    raw = tree.get(key)
    where = tree.location(key)
    if raw is None:
        return ()
    items = list(raw) if isinstance(raw, LocList) else [raw]
    if not items:
        checker.add(where, key, "empty list; name at least one file")
    for item in items:
        if not isinstance(item, str):
            checker.add(where, key, f"expected a file path or bundled name, got {item!r}")
    return tuple(str(item) for item in items if isinstance(item, str))


def _fixed(raw: LocDict | None, tree: LocDict) -> tuple[list[str], list[tuple]]:
    if raw is None:
        return [], []
    items, lines = [], []
    for key, value in raw.items():
        items.append(f"{key}={_yaml_text(value)}")
        lines.append(raw.location(key))
    return items, lines


def _yaml_text(value: Any) -> str:
    """A value as the text after `=` of an override, read back as the same YAML value."""
    import yaml

    if isinstance(value, str):
        dumped = yaml.safe_dump(value, default_flow_style=True, width=1 << 20)
    else:
        dumped = yaml.safe_dump(_plain(value), default_flow_style=True, width=1 << 20)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _parameters(checker: Checker, raw: LocDict | None, tree: LocDict) -> tuple[Parameter, ...]:
    if raw is None:
        return ()
    result = []
    seen_paths: dict[str, str] = {}
    for name, body in raw.items():
        where = raw.location(name)
        field = f"parameters.{name}"
        parameter = _parameter(checker, name, body, where, field)
        if parameter is None:
            continue
        for path in parameter.paths:
            if path in seen_paths:
                checker.add(where, field, f"path {path} is already swept by parameters.{seen_paths[path]}")
            seen_paths[path] = name
        result.append(parameter)
    return tuple(result)


def _parameter(checker: Checker, name: str, body: Any, where: tuple, field: str) -> Parameter | None:
    if isinstance(body, LocList):
        return _discrete(checker, name, (name,), body, where, field, "")
    if not isinstance(body, LocDict):
        checker.add(where, field, "expected a list of values, {values: [...]}, or a range "
                                  "{from, to, step|factor}")
        return None
    before = len(checker.problems)
    values = checker.section(body, field, PARAMETER_FIELDS)
    paths = _paths(checker, name, values["paths"], body.location("paths"), field)
    if len(checker.problems) > before:
        return None
    unit = values["unit"]
    if values["values"] is not None:
        if values["from"] is not None or values["to"] is not None:
            checker.add(where, field, "give either values or a range (from, to), not both")
            return None
        return _discrete(checker, name, paths, values["values"], where, field, unit)
    low, high = values["from"], values["to"]
    if low is None or high is None:
        checker.add(where, field, "a parameter needs values: [...] or a range from: ... to: ...")
        return None
    if high < low:
        checker.add(body.location("to"), f"{field}.to", f"range end {high:g} is below its start {low:g}")
        return None
    if values["log"] and low <= 0:
        checker.add(body.location("from"), f"{field}.from", "a log range must start above zero")
        return None
    if values["step"] is not None and values["factor"] is not None:
        checker.add(where, field, "give step or factor, not both")
        return None
    if values["factor"] is not None and low <= 0:
        checker.add(body.location("from"), f"{field}.from", "a range with a factor must start above zero")
        return None
    grid = _range_values(low, high, values["step"], values["factor"])
    if grid is not None:
        grid = tuple(int(v) if _all_integral(grid) else v for v in grid)
    return Parameter(name, paths, grid, low, high, values["integer"], values["log"], unit, where)


def _paths(checker: Checker, name: str, raw: LocList | None, where: tuple, field: str) -> tuple[str, ...]:
    if raw is None:
        return (name,)
    if not raw or not all(isinstance(p, str) and p for p in raw):
        checker.add(where, f"{field}.paths", "expected a non-empty list of field paths")
        return ()
    return tuple(raw)


def _discrete(checker, name, paths, raw: LocList, where, field, unit) -> Parameter | None:
    if not raw:
        checker.add(where, field, "empty sweep: no values")
        return None
    values = tuple(_plain(v) for v in raw)
    for index, value in enumerate(values):
        if values.index(value) != index:
            checker.add(raw.location(index), f"{field}[{index}]", f"duplicate value {value!r}")
    lines = tuple(raw.location(i) for i in range(len(raw)))
    return Parameter(name, paths, values, unit=unit, where=where, value_lines=lines)


def _range_values(low: float, high: float, step: float | None, factor: float | None) -> tuple | None:
    values = []
    if step is not None:
        count = int((high - low) / step + 1e-9) + 1
        values = [low + i * step for i in range(count)]
    elif factor is not None:
        value = low
        while value <= high * (1 + 1e-9):
            values.append(value)
            value *= factor
    else:
        return None
    return tuple(round(v, 12) for v in values)


def _all_integral(values) -> bool:
    return all(float(v).is_integer() for v in values)


def _sampling(checker: Checker, raw: Any, where: tuple) -> Sampling:
    if raw == "grid" or raw is None:
        return Sampling()
    if isinstance(raw, str):
        checker.add(where, "sampling", f"{raw!r}: expected grid, or a mapping {{method: random|latin_hypercube, "
                                       "points: N, seed: S}")
        return Sampling()
    node = checker.mapping(raw, where, "sampling")
    if node is None:
        return Sampling()
    values = checker.section(node, "sampling", SAMPLING_FIELDS)
    if values["method"] in ("random", "latin_hypercube") and values["points"] is None:
        checker.add(where, "sampling.points", f"{values['method']} sampling needs points: N")
    return Sampling(values["method"] or "grid", values["points"], values["seed"])


def _check_sampling_fits(checker: Checker, parameters, sampling: Sampling, tree: LocDict) -> None:
    if sampling.method != "grid":
        return
    size = 1
    for parameter in parameters:
        if parameter.values is None:
            checker.add(parameter.where, f"parameters.{parameter.name}",
                        "a range needs step or factor for a grid (or use sampling: random / latin_hypercube)")
            return
        size *= len(parameter.values)
    if size > MAX_GRID_POINTS:
        checker.add(tree.location("parameters"), "parameters",
                    f"the grid has {size:,} points (more than {MAX_GRID_POINTS:,}); sample it instead")


def _objectives(checker: Checker, raw: LocList | None, tree: LocDict) -> tuple[Objective, ...]:
    if raw is None:
        return ()
    if not raw:
        checker.add(tree.location("objectives"), "objectives", "name at least one objective")
    result = []
    for index, item in enumerate(raw):
        where = raw.location(index)
        try:
            objective = parse_objective(item, where, f"objectives[{index}]")
        except ConfigError as exc:
            checker.problems.extend(exc.problems)
            continue
        if any(o.column == objective.column for o in result):
            checker.add(where, f"objectives[{index}]", f"{objective.name} is listed twice")
            continue
        result.append(objective)
    return tuple(result)


def _constraints(checker: Checker, raw: LocList | None) -> tuple[Constraint, ...]:
    if raw is None:
        return ()
    result = []
    for index, item in enumerate(raw):
        try:
            result.append(parse_constraint(item, raw.location(index), f"constraints[{index}]"))
        except ConfigError as exc:
            checker.problems.extend(exc.problems)
    return tuple(result)
