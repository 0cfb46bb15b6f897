"""Objectives, constraints and the Pareto set of a sweep.

Objectives and constraints read a point's flattened run summary
(`total.seconds`, `energy.total_pj`, ...). Each named objective has a fixed
column name with its unit and a direction; any numeric summary field can be an
objective too, written `{components.sa.utilization: max}`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import units
from ..errors import ConfigError, Problem, UnitError


class MetricUnavailable(Exception):
    """The run summary lacks what an objective or constraint needs."""


def _get(flat: dict, key: str, why: str) -> float:
    value = flat.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise MetricUnavailable(f"{why} (its summary has no {key})")
    return float(value)


def _latency(flat: dict) -> float:
    return _get(flat, "total.seconds", "no total time in this run")


def _throughput(flat: dict) -> float:
    return _get(flat, "tokens.per_second", "throughput needs an LLM workload (kind: llm)")


def _energy(flat: dict) -> float:
    return _get(flat, "energy.total_pj", "the energy model is not available for this run")


def _area(flat: dict) -> float:
    return _get(flat, "area.total_mm2", "the area model is not available for this run")


def _edp(flat: dict) -> float:
    return _energy(flat) * _latency(flat)


def _perf_per_area(flat: dict) -> float:
    """tokens/s per mm2 for LLM workloads, runs/s (1/latency) per mm2 otherwise."""
    area = _area(flat)
    if flat.get("tokens.per_second") is not None:
        return _throughput(flat) / area
    return 1.0 / _latency(flat) / area


_AREA = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zµ^0-9]*)\s*$")


def _mm2(value: Any) -> float:
    match = _AREA.match(str(value))
    if match is None:
        raise UnitError(f"cannot read {value!r} as an area (e.g. 800 mm2)")
    number, unit = float(match.group(1)), match.group(2)
    scale = {"": 1.0, "mm2": 1.0, "mm^2": 1.0, "um2": 1e-6, "µm2": 1e-6, "um^2": 1e-6, "cm2": 100.0,
             "cm^2": 100.0}.get(unit)
    if scale is None:
        raise UnitError(f"unknown unit {unit!r} in {value!r}; expected an area (e.g. 800 mm2)")
    return number * scale


def _plain(unit_word: str) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        number, unit = units._split(value, "a number")
        if unit not in ("", unit_word):
            raise UnitError(f"unknown unit {unit!r} in {value!r}; write a plain number"
                            + (f" or {unit_word}" if unit_word else ""))
        return number
    return convert


@dataclass(frozen=True)
class MetricKind:
    column: str
    direction: str
    compute: Callable[[dict], float]
    convert: Callable[[Any], float]      # a bound written in a constraint -> the column's unit
    what: str


METRICS: dict[str, MetricKind] = {
    "latency": MetricKind("latency_s", "min", _latency, units.time_s, "total simulated time (s)"),
    "throughput": MetricKind("throughput_tokens_per_s", "max", _throughput, _plain("tokens/s"),
                             "generated tokens per second (LLM workloads)"),
    "energy": MetricKind("energy_pj", "min", _energy, units.energy_pj, "total energy (pJ)"),
    "area": MetricKind("area_mm2", "min", _area, _mm2, "total area (mm2)"),
    "edp": MetricKind("edp_pj_s", "min", _edp, _plain(""), "energy x latency (pJ s)"),
    "perf_per_area": MetricKind("perf_per_mm2", "max", _perf_per_area, _plain(""),
                                "throughput (or 1/latency) per mm2"),
}


@dataclass(frozen=True)
class Objective:
    name: str                 # latency, energy, ... or a summary path
    column: str               # result column, unit in the name (latency_s) or summary.<path>
    direction: str            # min or max
    where: tuple = ("<memory>", None)

    def value(self, flat: dict) -> float:
        if self.name in METRICS:
            return METRICS[self.name].compute(flat)
        return _get(flat, self.name, f"no numeric summary field {self.name} in this run")

    @property
    def sign(self) -> float:
        """+1 for minimised, -1 for maximised objectives (Pareto and 'best' use sign * value)."""
        return 1.0 if self.direction == "min" else -1.0


def parse_objective(item: Any, where: tuple, field: str) -> Objective:
    if isinstance(item, str):
        if item not in METRICS:
            raise ConfigError([Problem(where[0], where[1], field,
                                       f"unknown objective {item!r}; valid: {', '.join(METRICS)}, "
                                       "or {summary.path: min|max}")])
        kind = METRICS[item]
        return Objective(item, kind.column, kind.direction, where)
    if isinstance(item, dict) and len(item) == 1:
        (name, direction), = item.items()
        if direction not in ("min", "max"):
            raise ConfigError([Problem(where[0], where[1], f"{field}.{name}",
                                       f"direction must be min or max, got {direction!r}")])
        if name in METRICS:
            return Objective(name, METRICS[name].column, direction, where)
        return Objective(name, f"summary.{name}", direction, where)
    raise ConfigError([Problem(where[0], where[1], field,
                               f"expected an objective name ({', '.join(METRICS)}) or {{summary.path: min|max}}, "
                               f"got {item!r}")])


_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.\[\]-]*)\s*(<=|>=|<|>|==)\s*(.+?)\s*$")
_OPERATORS = {"<=": np.less_equal, ">=": np.greater_equal, "<": np.less, ">": np.greater, "==": np.equal}


@dataclass(frozen=True)
class Constraint:
    text: str
    metric: str               # objective name or summary path
    column: str
    operator: str
    bound: float              # in the column's unit
    where: tuple = ("<memory>", None)

    def value(self, flat: dict) -> float:
        if self.metric in METRICS:
            return METRICS[self.metric].compute(flat)
        return _get(flat, self.metric, f"no numeric summary field {self.metric} in this run")

    def holds(self, value: float) -> bool:
        return bool(_OPERATORS[self.operator](value, self.bound))


def parse_constraint(item: Any, where: tuple, field: str) -> Constraint:
    match = _CONSTRAINT.match(item) if isinstance(item, str) else None
    if match is None:
        raise ConfigError([Problem(where[0], where[1], field,
                                   f"expected 'METRIC OP VALUE [UNIT]' (e.g. 'area <= 800 mm2'), got {item!r}")])
    metric, operator, bound_text = match.groups()
    kind = METRICS.get(metric)
    try:
        bound = kind.convert(bound_text) if kind else _plain("")(bound_text)
    except UnitError as exc:
        raise ConfigError([Problem(where[0], where[1], field, f"{metric}: {exc}")]) from None
    column = kind.column if kind else f"summary.{metric}"
    return Constraint(item, metric, column, operator, bound, where)


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """Rows of `values` (points x objectives, all minimised) that no other row dominates.

    A row dominates another when it is no worse in every objective and better in one.
    Duplicated rows are all kept."""
    count = len(values)
    keep = np.ones(count, dtype=bool)
    for index in range(count):
        if not keep[index]:
            continue
        others = values[keep]
        dominated = np.all(others <= values[index], axis=1) & np.any(others < values[index], axis=1)
        if dominated.any():
            keep[index] = False
            continue
        # clarity-for-speed trade: drop everything this row dominates now, so later rows test fewer
        beaten = np.all(values[index] <= values, axis=1) & np.any(values[index] < values, axis=1)
        keep &= ~beaten
    return keep
