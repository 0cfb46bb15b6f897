"""Technology tables (configs/tech/*.yaml) and the `technology:` field of an architecture.

A table holds energies and areas at its base node; `Technology` is a table
chosen at a node and supply voltage, with the scale factors that carry base-node
numbers there (Stillmaker & Baas polynomials; see the table's comments).

    technology: {table: horowitz45, node_nm: 22}     # in an architecture file
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import AccsimError, ConfigError, ResolveError
from ..schema import Checker, opt, req
from ..yamlio import LocDict, LocList, load

DEFAULT_TABLE = "horowitz45"

TECHNOLOGY_FIELDS = {
    "table": opt("str", DEFAULT_TABLE, "technology table: a name in configs/tech/ or a YAML path"),
    "node_nm": opt("int", 0, "process node in nm (0: the table's base node); must be in the table's scaling rows",
                   minimum=0),
    "vdd": opt("float", 0.0, "supply voltage in V (0: the node's nominal voltage in the table)", minimum=0),
}

TABLE_FIELDS = {
    "schema_version": req("int", "format version", choices=(1,)),
    "name": req("str", "table name"),
    "description": req("str", "one line"),
    "node_nm": req("int", "base node of the energies and areas", positive=True),
    "vdd": req("float", "supply voltage of the base node", positive=True),
    "operations": req("map", "columns [op, dtype, energy_pj, area_um2]"),
    "registers": req("map", "dff_area_um2"),
    "cells": req("map", "columns [cell, area_um2]: Yosys generic cells"),
    "sram": req("map", "columns [capacity_bytes, read_pj_per_64b] + bitcell, efficiency, banking"),
    "wires": req("map", "pj_per_bit_mm"),
    "leakage": req("map", "logic_w_per_mm2, sram_w_per_mm2"),
    "memory_interfaces": req("map", "columns [interface, pj_per_bit, phy_bytes_per_s, phy_area_mm2]"),
    "pim": req("map", "PIM command energy ratios"),
    "scaling": req("map", "columns [node_nm, vdd, a, b, c, area_factor] + beyond"),
}


class TechTableError(AccsimError):
    """A technology table lacks an entry a component needs."""


@dataclass(frozen=True)
class TechTable:
    name: str
    path: str
    node_nm: int
    vdd: float
    operations: Mapping[tuple[str, str], tuple[float, float]]    # (op, dtype) -> (pJ, um2)
    dff_area_um2: float
    cells: Mapping[str, float]                                   # Yosys cell -> um2
    sram_points: tuple[tuple[float, float], ...]                 # (capacity bytes, pJ per 64-bit read)
    sram: Mapping[str, float]
    wire_pj_per_bit_mm: float
    leakage: Mapping[str, float]
    interfaces: Mapping[str, Mapping[str, Any]]
    pim: Mapping[str, float]
    scaling: Mapping[int, tuple[float, float, float, float, float]]   # node -> (vdd, a, b, c, area factor)
    beyond: Mapping[int, tuple[int, float, float]]                     # node -> (from node, energy, area ratio)

    @property
    def nodes(self) -> tuple[int, ...]:
        return tuple(sorted({*self.scaling, *self.beyond}, reverse=True))


@dataclass(frozen=True)
class Technology:
    """A table at a node: multiply base-node energies by `energy_factor`, areas by
    `area_factor`; leakage power per mm2 scales by energy_factor / area_factor (a
    design's leakage power scales like its switching energy, as in [SB17]-based tools)."""

    table: TechTable
    node_nm: int
    vdd: float
    energy_factor: float
    area_factor: float

    @property
    def leakage_factor(self) -> float:
        return self.energy_factor / self.area_factor

    def describe(self) -> dict:
        return {"table": self.table.name, "file": self.table.path, "node_nm": self.node_nm, "vdd": self.vdd,
                "energy_factor": self.energy_factor, "area_factor": self.area_factor}


def _rows(checker: Checker, section: LocDict, key: str, path: str, columns: list[str]) -> list:
    """The rows of a headed table; each row must have one value per column."""
    if not isinstance(section, LocDict):
        return []
    given = section.get("columns")
    if list(given or []) != columns:
        checker.add(section.location("columns"), f"{path}.columns", f"expected columns {columns}, got {given}")
        return []
    rows = section.get("rows")
    if not isinstance(rows, LocList):
        checker.add(section.origin, f"{path}.rows", "expected a list of rows")
        return []
    good = []
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            checker.add(rows.location(index), f"{path}.rows[{index}]", f"expected {len(columns)} values {columns}")
            continue
        numeric = [v for v in row if not isinstance(v, str)]
        if any(v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))) for v in numeric):
            checker.add(rows.location(index), f"{path}.rows[{index}]", f"expected numbers after the name, got {row}")
            continue
        good.append(row)
    return good


def _numbers(checker: Checker, section: Any, path: str, names: tuple[str, ...]) -> dict[str, float]:
    """Named numbers of a section; a headed table in the same section keeps its own keys."""
    fields = {name: req("float", name, minimum=0) for name in names}
    if not isinstance(section, LocDict):
        return {name: 0.0 for name in names}
    return checker.section(section, path, fields, ignore=("columns", "rows", "beyond"))


def parse_table(path: Path) -> TechTable:
    """Read and validate a technology table; every problem is reported at once."""
    loaded = load(path)
    checker = Checker(loaded.problems)
    top = checker.section(loaded.tree, "", TABLE_FIELDS)
    operations = {(op, dtype): (float(pj), float(um2))
                  for op, dtype, pj, um2 in _rows(checker, top["operations"], "operations", "operations",
                                                  ["op", "dtype", "energy_pj", "area_um2"])}
    registers = _numbers(checker, top["registers"], "registers", ("dff_area_um2",))
    cells = {cell: float(um2) for cell, um2 in _rows(checker, top["cells"], "cells", "cells", ["cell", "area_um2"])}
    sram_rows = _rows(checker, top["sram"], "sram", "sram", ["capacity_bytes", "read_pj_per_64b"])
    sram = _numbers(checker, top["sram"], "sram",
                    ("write_to_read", "max_bank_bytes", "bitcell_um2", "array_efficiency"))
    wires = _numbers(checker, top["wires"], "wires", ("pj_per_bit_mm",))
    leakage = _numbers(checker, top["leakage"], "leakage", ("logic_w_per_mm2", "sram_w_per_mm2"))
    interfaces = {name: MappingProxyType({"pj_per_bit": pj, "phy_bytes_per_s": bw, "phy_area_mm2": area})
                  for name, pj, bw, area in _rows(checker, top["memory_interfaces"], "memory_interfaces",
                                                  "memory_interfaces",
                                                  ["interface", "pj_per_bit", "phy_bytes_per_s", "phy_area_mm2"])}
    pim = _numbers(checker, top["pim"], "pim", ("comp_to_read", "gact_to_act"))
    scaling = {int(node): (float(vdd), a, b, c, float(area))
               for node, vdd, a, b, c, area in _rows(checker, top["scaling"], "scaling", "scaling",
                                                     ["node_nm", "vdd", "a", "b", "c", "area_factor"])}
    beyond = _beyond(checker, top["scaling"], scaling)
    if len(sram_rows) < 2:
        checker.add(loaded.tree.location("sram"), "sram.rows", "needs at least two capacities to interpolate")
    if top["node_nm"] is not None and scaling and top["node_nm"] not in scaling:
        checker.add(loaded.tree.location("node_nm"), "node_nm", "the base node needs a row in scaling")
    checker.raise_if_any()
    return TechTable(top["name"], str(loaded.path), top["node_nm"], top["vdd"], MappingProxyType(operations),
                     registers["dff_area_um2"], MappingProxyType(cells),
                     tuple(sorted((float(c), float(e)) for c, e in sram_rows)), MappingProxyType(sram),
                     wires["pj_per_bit_mm"], MappingProxyType(leakage), MappingProxyType(interfaces),
                     MappingProxyType(pim), MappingProxyType(scaling), MappingProxyType(beyond))


def _beyond(checker: Checker, section: Any, scaling: dict) -> dict:
    steps = {}
    entries = section.get("beyond") if isinstance(section, LocDict) else None
    for index, entry in enumerate(entries or []):
        where = entries.location(index)
        path = f"scaling.beyond[{index}]"
        values = checker.section(entry, path, {"node_nm": req("int", "node", positive=True),
                                               "from_node_nm": req("int", "fitted node", positive=True),
                                               "energy_ratio": req("float", "energy ratio", positive=True),
                                               "area_ratio": req("float", "area ratio", positive=True)}) \
            if isinstance(entry, LocDict) else None
        if values is None:
            checker.add(where, path, "expected a mapping")
        elif values["from_node_nm"] not in scaling:
            checker.add(where, path + ".from_node_nm", f"{values['from_node_nm']} nm has no scaling row")
        else:
            steps[values["node_nm"]] = (values["from_node_nm"], values["energy_ratio"], values["area_ratio"])
    return steps


_TABLES: dict[str, TechTable] = {}


def table_path(name: str) -> Path:
    """A path, or a bundled table name (configs/tech/NAME.yaml)."""
    from ..resolve import bundled_dir

    path = Path(name).expanduser()
    if path.is_file():
        return path.resolve()
    folder = bundled_dir("config")
    stem = name.removeprefix("configs/").removeprefix("tech/").removesuffix(".yaml")
    candidate = folder / "tech" / f"{stem}.yaml" if folder else None
    if candidate is not None and candidate.is_file():
        return candidate.resolve()
    known = sorted(p.stem for p in (folder / "tech").glob("*.yaml")) if folder else []
    raise ResolveError(f"{name}: no such file and no bundled technology table of that name; bundled: "
                       f"{', '.join(known)}")


def load_table(name: str) -> TechTable:
    path = table_path(name)
    key = f"{path}:{path.stat().st_mtime_ns}"
    if key not in _TABLES:
        _TABLES[key] = parse_table(path)
    return _TABLES[key]


def technology(settings: Mapping[str, Any] | None) -> Technology:
    """The table at the node and voltage an architecture asks for (validated values)."""
    settings = dict(settings or {})
    table = load_table(settings.get("table") or DEFAULT_TABLE)
    node = settings.get("node_nm") or table.node_nm
    if node not in table.nodes:
        raise TechTableError(f"{table.path}: node {node} nm is not in the scaling table; "
                             f"supported: {', '.join(map(str, table.nodes))} nm")
    return _at_node(table, node, settings.get("vdd") or None)


def _at_node(table: TechTable, node: int, vdd: float | None) -> Technology:
    base_vdd, *base = table.scaling[table.node_nm][:4]
    base_power = _poly(base, table.vdd)
    if node in table.scaling:
        row = table.scaling[node]
        used = vdd or row[0]
        return Technology(table, node, used, _poly(row[1:4], used) / base_power, row[4])
    source, energy_ratio, area_ratio = table.beyond[node]
    step = _at_node(table, source, vdd)
    return Technology(table, node, step.vdd, step.energy_factor * energy_ratio, step.area_factor * area_ratio)


def _poly(coefficients, vdd: float) -> float:
    a, b, c = coefficients
    return a * vdd * vdd + b * vdd + c


def check_technology(checker: Checker, tree: LocDict | None, where) -> dict:
    """Validate an architecture's `technology:` mapping into plain values; problems go to checker."""
    if tree is None:
        return {name: field.default for name, field in TECHNOLOGY_FIELDS.items()}
    node = checker.mapping(tree, where, "technology")
    if node is None:
        return {name: field.default for name, field in TECHNOLOGY_FIELDS.items()}
    values = checker.section(node, "technology", TECHNOLOGY_FIELDS)
    try:
        table = load_table(values["table"] or DEFAULT_TABLE)
    except ResolveError as exc:
        checker.add(node.location("table"), "technology.table", str(exc).split(": ", 1)[-1])
        return values
    except ConfigError as exc:
        checker.problems.extend(exc.problems)
        return values
    if values["node_nm"] and values["node_nm"] not in table.nodes:
        checker.add(node.location("node_nm"), "technology.node_nm",
                    f"{values['node_nm']} nm is not in {Path(table.path).name}'s scaling table; supported: "
                    f"{', '.join(map(str, table.nodes))} nm")
    if values["vdd"] and not 0.3 <= values["vdd"] <= 1.5:
        # the [SB17] polynomials are fitted over roughly this supply range
        checker.add(node.location("vdd"), "technology.vdd",
                    f"{values['vdd']} V is outside the fitted range of the scaling equations (0.3-1.5 V)")
    return values


def sram_read_pj_per_64b(table: TechTable, bank_bytes: float) -> float:
    """Log-log interpolation between the table's capacities (a power law between
    neighbouring points: energy ~ capacity^k, bit- and word-line length growing with
    the array); outside the range, the nearest segment's law continues."""
    points = table.sram_points
    for lower, upper in zip(points, points[1:]):
        if bank_bytes <= upper[0]:
            break
    (c0, e0), (c1, e1) = lower, upper
    slope = math.log(e1 / e0) / math.log(c1 / c0)
    return e0 * (bank_bytes / c0) ** slope
