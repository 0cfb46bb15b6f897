"""Declarative field checks for YAML sections.

A section is described by a dict name -> Field. `Checker.section` reads a
LocDict against it, converts units, and records every problem it finds (unknown
keys with the list of valid ones, missing fields, wrong types, out-of-range
values) instead of stopping at the first. `Checker.raise_if_any` raises them
together as one ConfigError.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

from . import units
from .errors import ConfigError, Problem, UnitError
from .yamlio import LocDict, LocList

_MISSING = object()


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnitError(f"expected a whole number, got {value!r}")
    return value


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnitError(f"expected a number, got {value!r}")
    return float(value)


def _as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise UnitError(f"expected text, got {value!r}")
    return value


def _as_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise UnitError(f"expected true or false, got {value!r}")
    return value


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "int": _as_int,
    "float": _as_float,
    "str": _as_str,
    "bool": _as_bool,
    "frequency_hz": units.frequency_hz,
    "size_bytes": units.size_bytes,
    "bandwidth_bytes_per_s": units.bandwidth_bytes_per_s,
    "time_s": units.time_s,
    "energy_pj": units.energy_pj,
    "energy_pj_per_bit": units.energy_pj_per_bit,
}


@dataclass(frozen=True)
class Field:
    """One YAML key: its kind (a CONVERTERS name, 'map', 'list' or 'any'), whether it
    is required, its default, bounds, allowed choices and a one-line doc."""

    kind: str
    doc: str = ""
    required: bool = True
    default: Any = None
    positive: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()

    def optional(self, default: Any = None) -> "Field":
        return Field(self.kind, self.doc, False, default, self.positive, self.minimum,
                     self.maximum, self.choices)


def req(kind: str, doc: str = "", **kw) -> Field:
    return Field(kind, doc, **kw)


def opt(kind: str, default: Any, doc: str = "", **kw) -> Field:
    return Field(kind, doc, required=False, default=default, **kw)


class Checker:
    """Collects problems over a whole file (or several) before raising."""

    def __init__(self, problems=()) -> None:
        self.problems: list[Problem] = list(problems)

    def add(self, where: tuple, path: str, message: str) -> None:
        self.problems.append(Problem(where[0], where[1], path, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def mapping(self, value: Any, where: tuple, path: str) -> LocDict | None:
        if isinstance(value, LocDict):
            return value
        self.add(where, path, f"expected a mapping of keys, got {type(value).__name__}")
        return None

    def section(self, tree: LocDict, path: str, fields: dict[str, Field],
                ignore: tuple[str, ...] = ()) -> dict[str, Any]:
        """Validate `tree` against `fields`; return converted values (defaults filled)."""
        prefix = f"{path}." if path else ""
        self._unknown_keys(tree, prefix, fields, ignore)
        values: dict[str, Any] = {}
        for name, field in fields.items():
            raw = tree.get(name, _MISSING)
            where = tree.location(name)
            if raw is _MISSING or raw is None:
                if field.required:
                    self.add(tree.origin, prefix + name, f"missing required field ({field.doc or field.kind})")
                values[name] = field.default
                continue
            values[name] = self.value(raw, where, prefix + name, field)
        return values

    def _unknown_keys(self, tree: LocDict, prefix: str, fields: dict, ignore: tuple) -> None:
        valid = sorted(fields)
        for key in tree:
            if key in fields or key in ignore:
                continue
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.add(tree.location(key), prefix + key,
                     f"unknown key{hint}; valid keys: {', '.join(valid + list(ignore))}")

    def value(self, raw: Any, where: tuple, path: str, field: Field) -> Any:
        if field.kind == "any":
            return raw
        if field.kind in ("map", "list"):
            expected = LocDict if field.kind == "map" else LocList
            if not isinstance(raw, expected):
                self.add(where, path, f"expected a {'mapping' if field.kind == 'map' else 'list'}")
                return field.default
            return raw
        try:
            value = CONVERTERS[field.kind](raw)
        except UnitError as exc:
            self.add(where, path, str(exc))
            return field.default
        return self._bounded(value, where, path, field)

    def _bounded(self, value: Any, where: tuple, path: str, field: Field) -> Any:
        if field.choices and value not in field.choices:
            self.add(where, path, f"{value!r} is not one of: {', '.join(map(str, field.choices))}")
            return field.default
        if field.positive and value <= 0:
            self.add(where, path, f"must be greater than zero, got {value!r}")
            return field.default
        if field.minimum is not None and value < field.minimum:
            self.add(where, path, f"must be at least {field.minimum}, got {value!r}")
            return field.default
        if field.maximum is not None and value > field.maximum:
            self.add(where, path, f"must be at most {field.maximum}, got {value!r}")
            return field.default
        return value
