"""Architecture YAML: parse + validate into a frozen ArchSpec.

    schema_version: 1
    name: npu
    description: one line shown by `accsim list`
    clock: 1 GHz                # default clock of components without their own
    components:
      NAME: {type: REGISTERED_TYPE, count: N, ...fields of that type...}
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .components import REGISTRY
from .schema import Checker, opt, req
from .yamlio import LoadedFile, LocDict, apply_override

SCHEMA_VERSIONS = (1,)
ARCH_FIELDS = {
    "schema_version": req("int", "format version of this file", choices=SCHEMA_VERSIONS),
    "name": req("str", "short name"),
    "description": req("str", "one line shown by `accsim list`"),
    "clock": req("frequency_hz", "default clock of the components, e.g. 1 GHz", positive=True),
    "components": req("map", "NAME: {type: ..., ...} for every hardware block"),
    "notes": opt("str", "", "free text"),
    "sub_batches": opt("int", 1, "sub-batch interleaving (NeuPIMs): each iteration's requests split into "
                                 "this many independent halves so GEMMs of one overlap attention of the other",
                       choices=(1, 2)),
    "technology": opt("map", None, "{table: NAME or path (default horowitz45, configs/tech/), node_nm: N "
                                   "(default: the table's base node), vdd: V}: prices energy and area"),
}


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    type: str
    count: int
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ArchSpec:
    name: str
    description: str
    path: str
    clock_hz: float
    components: tuple[ComponentSpec, ...]
    file_hashes: Mapping[str, str]
    overrides: tuple[str, ...]
    technology: Mapping[str, Any] = field(default_factory=dict)   # validated `technology:` values
    sub_batches: int = 1

    def component(self, name: str) -> ComponentSpec:
        for spec in self.components:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _component(checker: Checker, name: str, tree: Any, where) -> tuple[type, dict] | None:
    path = f"components.{name}"
    node = checker.mapping(tree, where, path)
    if node is None:
        return None
    type_name = node.get("type")
    if not isinstance(type_name, str):
        checker.add(node.origin, f"{path}.type", "missing component type")
        return None
    cls = REGISTRY.get(type_name)
    if cls is None:
        close = difflib.get_close_matches(type_name, sorted(REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        checker.add(node.location("type"), f"{path}.type",
                    f"unknown component type {type_name!r}{hint}; valid types: {', '.join(sorted(REGISTRY))}")
        return None
    return cls, checker.section(node, path, cls.all_fields())


def _check_references(checker: Checker, built: dict, trees: LocDict) -> None:
    for name, (cls, params) in built.items():
        for ref, role in cls.REFERENCES.items():
            target = params.get(ref)
            if target is None:
                continue
            where = trees[name].location(ref)
            if target not in built:
                checker.add(where, f"components.{name}.{ref}",
                            f"no component named {target!r}; components: {', '.join(built)}")
            elif built[target][0].ROLE != role:
                checker.add(where, f"components.{name}.{ref}",
                            f"{target!r} is a {built[target][0].TYPE}, expected a {role} component")


def parse_arch(loaded: LoadedFile, overrides: tuple[str, ...] = ()) -> ArchSpec:
    tree = loaded.tree
    for assignment in overrides:
        apply_override(tree, assignment)
    checker = Checker(loaded.problems)
    top = checker.section(tree, "", ARCH_FIELDS)
    from .energy.tech import check_technology

    technology = check_technology(checker, top["technology"], tree.location("technology"))
    built: dict[str, tuple[type, dict]] = {}
    clean: set[str] = set()           # components whose own fields are all valid
    components = top["components"] or LocDict()
    for name, subtree in components.items():
        before = len(checker.problems)
        result = _component(checker, name, subtree, components.location(name))
        if result is not None:
            built[name] = result
            if len(checker.problems) == before:
                clean.add(name)
    _check_references(checker, built, components)
    for name, (cls, params) in built.items():
        involved = [name] + [params.get(field) for field in cls.REFERENCES]
        if all(other in clean for other in involved):
            cls.cross_check(name, params, built, checker, components[name])
    if components and not any(cls.ROLE == "memory" for cls, _ in built.values()) and built:
        checker.add(tree.location("components"), "components", "no memory component (e.g. type: ideal_memory)")
    checker.raise_if_any()
    specs = tuple(ComponentSpec(name, cls.TYPE, params["count"], MappingProxyType(dict(params)))
                  for name, (cls, params) in built.items())
    return ArchSpec(top["name"], top["description"], str(loaded.path), top["clock"], specs,
                    MappingProxyType(dict(loaded.file_hashes)), tuple(overrides), MappingProxyType(technology),
                    top["sub_batches"])
