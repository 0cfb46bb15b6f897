"""Protocol check of a timed PIM command stream (what the HBM-PIM kernel issues, or a
stream a user brings): every inter-command constraint of docs/neupims.md, per channel.

A stream is rows of (cycle, command, rank, channel) with command names from
accsim.kernels.pim.COMMANDS (rank -1 where the command is channel-wide).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..errors import AccsimError
from ..kernels.pim import COMMANDS, P


class PimProtocolError(AccsimError):
    """A PIM command stream breaks a timing constraint."""


@dataclass(frozen=True)
class Command:
    cycle: int
    name: str
    rank: int
    channel: int
    line: int | None = None     # line of the source file, when read from one


def from_kernel_trace(trace) -> list[Command]:
    return [Command(int(c), COMMANDS[int(k)], int(r), int(ch)) for c, k, r, ch in trace]


def read_stream(path: str | Path) -> list[Command]:
    """CSV with a header cycle,command,rank,channel."""
    commands = []
    with open(path, newline="") as stream:
        reader = csv.DictReader(stream)
        missing = {"cycle", "command", "rank", "channel"} - set(reader.fieldnames or ())
        if missing:
            raise PimProtocolError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            name = row["command"].strip().upper()
            if name not in COMMANDS:
                raise PimProtocolError(f"{path}:{line}: unknown PIM command {row['command']!r}; "
                                       f"commands: {', '.join(COMMANDS)}")
            try:
                commands.append(Command(int(row["cycle"]), name, int(row["rank"]), int(row["channel"]), line))
            except ValueError:
                raise PimProtocolError(f"{path}:{line}: cycle, rank and channel must be integers") from None
    return commands


def violations(commands: list[Command], params, source: str = "stream") -> list[str]:
    """Every broken constraint, one message each (empty: the stream is legal)."""
    t = {name: int(params[i]) for name, i in P.items()}
    found = []
    for channel in sorted({c.channel for c in commands}):
        found += _check_channel([c for c in commands if c.channel == channel], t, source)
    return found


def check(commands: list[Command], params, source: str = "stream") -> None:
    problems = violations(commands, params, source)
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise PimProtocolError("\n".join(shown))


def _check_channel(stream: list[Command], t: dict, source: str) -> list[str]:
    problems = []
    last_gact_rank: dict[int, int] = {}
    last_gact = last_pre = last_compute = refresh_end = None
    first_comp_pending = False

    def bad(cmd: Command, rule: str, earliest: int) -> None:
        where = f"{source}:{cmd.line}" if cmd.line else f"{source}: channel {cmd.channel}"
        problems.append(f"{where}: {cmd.name} at cycle {cmd.cycle} breaks {rule} (earliest legal cycle {earliest})")

    for cmd in sorted(stream, key=lambda c: (c.cycle, c.line or 0)):
        if cmd.name == "REF":
            refresh_end = cmd.cycle + t["tRFC"]
            continue
        if refresh_end is not None and cmd.cycle < refresh_end:
            bad(cmd, "the refresh window tRFC", refresh_end)
        if cmd.name == "G_ACT":
            if cmd.rank in last_gact_rank and cmd.cycle < last_gact_rank[cmd.rank] + t["tFAW"]:
                bad(cmd, "tFAW on its rank (a G_ACT opens four rows)", last_gact_rank[cmd.rank] + t["tFAW"])
            if last_gact is not None and cmd.cycle < last_gact + t["tRRD_S"]:
                bad(cmd, "tRRD_S after the previous G_ACT", last_gact + t["tRRD_S"])
            if last_pre is not None and cmd.cycle < last_pre + t["tRP"]:
                bad(cmd, "tRP after PIM_PRE", last_pre + t["tRP"])
            last_gact_rank[cmd.rank] = last_gact = cmd.cycle
            first_comp_pending = True
        elif cmd.name == "COMP":
            if last_gact is None:
                bad(cmd, "the protocol: COMP before any G_ACT", 0)
            elif first_comp_pending and cmd.cycle < last_gact + t["tRCD"]:
                bad(cmd, "tRCD after the last G_ACT", last_gact + t["tRCD"])
            if last_compute is not None and cmd.cycle < last_compute + t["tCCD_L"]:
                bad(cmd, "tCCD_L after the previous COMP/READRES", last_compute + t["tCCD_L"])
            first_comp_pending = False
            last_compute = cmd.cycle
        elif cmd.name == "READRES":
            drain = max(t["tCCD_L"], t["mac_latency"])
            if last_compute is not None and cmd.cycle < last_compute + drain:
                bad(cmd, "tCCD_L / the MAC pipeline latency after the last COMP", last_compute + drain)
            last_compute = cmd.cycle
        elif cmd.name == "PIM_PRE":
            if last_gact is not None and cmd.cycle < last_gact + t["tRAS"]:
                bad(cmd, "tRAS after the last G_ACT", last_gact + t["tRAS"])
            if not t["dual"] and last_compute is not None and cmd.cycle < last_compute + t["tRTP"]:
                bad(cmd, "tRTP after COMP/READRES (single row buffer)", last_compute + t["tRTP"])
            last_pre = cmd.cycle
    return problems
