"""User mapping files (`accsim run --mapping FILE`, `accsim map --mapping FILE`).

    schema_version: 1
    objective: latency            # latency | energy | edp (default latency)
    rules:                        # first rule whose pattern matches an op's name applies
      - ops: "prefill.*.ffn_*"    # shell-style pattern on op names (default "*")
        tile: {M: 256, K: 512}    # fixed tile sizes in the buffer (the rest is searched)
        order: [N, M, K]          # fixed loop order over buffer tiles, outer to inner
        split: N                  # dimension spread over the units, or "none"
        bypass: [B@gbuf]          # operands not stored at a buffer level (hierarchies that allow it)

A rule that fixes every tile, the order and the split pins the mapping; one
that fixes some of them constrains the search. Either way the result is checked
against capacity and loop bounds, and a violation names the rule's line.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from .errors import ConfigError, Problem
from .mapping.search import OBJECTIVES, Constraints
from .schema import Checker, opt
from .yamlio import load

RULE_FIELDS = {
    "ops": opt("str", "*", "shell-style pattern on op names (e.g. 'decode.*.attn_*')"),
    "tile": opt("map", None, "fixed buffer tile sizes by dimension name (GEMM: M, N, K; batched: B too)"),
    "order": opt("list", None, "loop order over buffer tiles, outer to inner (every dimension once)"),
    "split": opt("str", None, "dimension spread over the compute units, or 'none'"),
    "bypass": opt("list", None, "OPERAND@LEVEL entries: the operand is not stored at that buffer level"),
}
FILE_FIELDS = {
    "schema_version": opt("int", 1, "format version of the file (1)"),
    "objective": opt("str", "latency", "what the search minimises", choices=OBJECTIVES),
    "rules": opt("list", [], "mapping rules, first match wins"),
}


@dataclass(frozen=True)
class Rule:
    pattern: str
    constraints: Constraints
    where: str                 # file:line of the rule, for error messages


@dataclass(frozen=True)
class MappingRules:
    objective: str = "latency"
    rules: tuple[Rule, ...] = ()

    def match(self, op_name: str) -> Rule | None:
        return next((r for r in self.rules if fnmatch.fnmatchcase(op_name, r.pattern)), None)


def load_rules(path: str) -> MappingRules:
    """Parse and validate a mapping-rules file: a path, or a bundled
    `configs/mappings/NAME.yaml` from any directory."""
    from pathlib import Path

    from .resolve import bundled_file

    file = Path(path).expanduser()
    if not file.is_file() and path.startswith("configs/"):
        file = bundled_file("config", path[len("configs/"):])
    document = load(file)
    checker = Checker(document.problems)
    top = checker.section(document.tree, "", FILE_FIELDS)
    rules = []
    listing = top.get("rules") or []
    for index, node in enumerate(listing):
        path_ = f"rules[{index}]"
        entry = checker.mapping(node, listing.location(index), path_)
        if entry is None:
            continue
        values = checker.section(entry, path_, RULE_FIELDS)
        constraints = _constraints(values, checker, entry, path_)
        file, line = listing.location(index)
        rules.append(Rule(values["ops"], constraints, f"{file}:{line}"))
    checker.raise_if_any()
    return MappingRules(top["objective"], tuple(rules))


def _constraints(values: dict, checker: Checker, node, path: str) -> Constraints:
    tiles = []
    for dim, size in (values.get("tile") or {}).items():
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            checker.add(node.location("tile"), f"{path}.tile.{dim}", f"must be a positive integer, got {size!r}")
            continue
        tiles.append((1, str(dim), size))
    order = values.get("order")
    if order is not None and not all(isinstance(d, str) for d in order):
        checker.add(node.location("order"), f"{path}.order", "must be a list of dimension names")
        order = None
    split = values.get("split")
    bypass = []
    for entry in values.get("bypass") or []:
        if not isinstance(entry, str) or entry.count("@") != 1:
            checker.add(node.location("bypass"), f"{path}.bypass", f"expected OPERAND@LEVEL (e.g. B@spad), got {entry!r}")
            continue
        bypass.append(tuple(entry.split("@")))
    return Constraints(tiles=tuple(tiles), orders=((0, tuple(order)),) if order else (),
                       split=None if split in (None, "none") else split, no_split=split == "none",
                       bypass=frozenset(bypass))


def rule_problem(rule: Rule, message: str) -> ConfigError:
    file, _, line = rule.where.rpartition(":")
    return ConfigError([Problem(file, int(line), f"rule {rule.pattern!r}", message)])


def plan_problems(op_name: str, problems, hier, rules: MappingRules | None, top_k: int = 1,
                  default=None, context: str = "") -> list:
    """(problem, search result) for each problem of an op under the system's mapping
    rules: the first rule matching the op name constrains the search, else
    `default(problem)` (or no constraint). A mapping that cannot be found is an input
    error naming the rule's line, or the op and `context` (e.g. the buffer)."""
    from .errors import CapacityError
    from .mapping import MappingError, search

    rule = rules.match(op_name) if rules else None
    objective = rules.objective if rules else "latency"
    plans = []
    for problem in problems:
        constraints = rule.constraints if rule else (default(problem) if default else Constraints())
        try:
            plans.append((problem, search(problem, hier, objective, constraints, top_k=top_k)))
        except MappingError as exc:
            if rule is not None:
                raise rule_problem(rule, f"{op_name}: {exc}") from None
            raise CapacityError(f"{op_name}: {exc}{context}") from None
    return plans
