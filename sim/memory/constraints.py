"""Inter-command timing constraints as data.

Each record says: after command FROM is issued to some bank, command TO may
not issue before DELAY cycles have passed, for the banks within SCOPE of the
issuing bank. DELAY is an expression over the preset's timing names (plus
tBURST = burst_length / 2, the data-bus cycles of one burst). The kernel
keeps an "earliest allowed" tick per (bank, bank group, rank, channel) and
command; issuing a command raises the entries its records name. The tFAW
window (at most four ACTs per rank in any tFAW) is the one rule that is not a
pairwise delay; the kernel enforces it with a four-entry history per rank.

Sources: the JEDEC DDR4 (JESD79-4) and HBM2 (JESD235) command timing rules,
as implemented by DRAMsim3 and Ramulator 2; read-to-write turnaround
RL + BL/2 - WL + 2 tCK is JESD79-4's tRTW.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

COMMANDS = ("ACT", "PRE", "PREA", "RD", "WR", "RDA", "WRA", "REF", "REFPB")
CMD = {name: code for code, name in enumerate(COMMANDS)}
SCOPES = ("bank", "bankgroup", "rank", "channel", "other_ranks")
SCOPE = {name: code for code, name in enumerate(SCOPES)}

READS, WRITES = ("RD", "RDA"), ("WR", "WRA")
COLUMN = READS + WRITES


@dataclass(frozen=True)
class Constraint:
    before: str
    after: str
    scope: str
    delay: str


def _rules() -> list[Constraint]:
    rules: list[Constraint] = []

    def add(befores, afters, scope, delay):
        for before in (befores if isinstance(befores, tuple) else (befores,)):
            for after in (afters if isinstance(afters, tuple) else (afters,)):
                rules.append(Constraint(before, after, scope, delay))

    # Row commands
    add("ACT", "ACT", "bank", "tRC")
    add("ACT", "ACT", "bankgroup", "tRRD_L")
    add("ACT", "ACT", "rank", "tRRD_S")
    add("ACT", READS, "bank", "tRCDRD")
    add("ACT", WRITES, "bank", "tRCDWR")
    add("ACT", ("PRE", "PREA"), "bank", "tRAS")
    add("ACT", "PREA", "rank", "tRAS")
    add("PRE", ("ACT", "REFPB"), "bank", "tRP")
    add("PRE", "REF", "rank", "tRP")
    add("PREA", ("ACT", "REF", "REFPB"), "rank", "tRP")
    # Reads
    add(READS, READS, "bankgroup", "max(tCCD_L, tBURST)")
    add(READS, READS, "rank", "max(tCCD_S, tBURST)")
    add(READS, READS, "channel", "tBURST")
    add(READS, READS, "other_ranks", "tBURST + tRTRS")
    add(READS, WRITES, "channel", "CL + tBURST + 2 - CWL")
    add("RD", ("PRE", "PREA"), "bank", "tRTP")
    add("RD", "PREA", "rank", "tRTP")
    add("RDA", ("ACT", "REFPB"), "bank", "tRTP + tRP")
    add("RDA", "REF", "rank", "tRTP + tRP")
    # Writes
    add(WRITES, WRITES, "bankgroup", "max(tCCD_L, tBURST)")
    add(WRITES, WRITES, "rank", "max(tCCD_S, tBURST)")
    add(WRITES, WRITES, "channel", "tBURST")
    add(WRITES, WRITES, "other_ranks", "tBURST + tRTRS")
    add(WRITES, READS, "bankgroup", "CWL + tBURST + tWTR_L")
    add(WRITES, READS, "rank", "CWL + tBURST + tWTR_S")
    add(WRITES, READS, "other_ranks", "max(CWL + tBURST + tRTRS - CL, tBURST)")
    add("WR", ("PRE", "PREA"), "bank", "CWL + tBURST + tWR")
    add("WR", "PREA", "rank", "CWL + tBURST + tWR")
    add("WRA", ("ACT", "REFPB"), "bank", "CWL + tBURST + tWR + tRP")
    add("WRA", "REF", "rank", "CWL + tBURST + tWR + tRP")
    # Refresh
    add("REF", ("ACT", "REF", "REFPB"), "rank", "tRFC")
    add("REFPB", ("ACT", "REFPB"), "bank", "tRFCpb")
    add("REFPB", "REFPB", "rank", "tRRD_S")
    add("REFPB", "ACT", "rank", "tRRD_S")
    add("ACT", "REFPB", "rank", "tRRD_S")
    return rules


CONSTRAINTS: tuple[Constraint, ...] = tuple(_rules())


def evaluate(expression: str, names: dict[str, int]) -> int:
    """Value of a delay expression: integers, timing names, + - *, //, max, min.
    Parsed with ast (never eval)."""
    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise KeyError(node.id)
            return names[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)):
            left, right = walk(node.left), walk(node.right)
            return {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right,
                    ast.FloorDiv: left // right if right else 0}[type(node.op)]
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("max", "min")
                and node.args and not node.keywords):
            values = [walk(arg) for arg in node.args]
            return max(values) if node.func.id == "max" else min(values)
        raise ValueError(f"unsupported expression element {ast.dump(node)}")

    return walk(ast.parse(expression, mode="eval"))
