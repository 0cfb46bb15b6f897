"""Request traces: DRAMsim3's and Ramulator's text formats.

    DRAMsim3:       0x1f2e3d40 READ 120        (address, READ|WRITE, arrival cycle)
    Ramulator:      0x1f2e3d40 R               (address, R|W; no arrival time)
    Ramulator 2:    LD 0x1f2e3d40              (LD|ST, address; no arrival time)

Blank lines and lines starting with '#' are skipped. The format is taken from
the first request line and every other line must follow it. Requests without
an arrival time arrive at cycle 0, so the front end (--frontend) alone paces
them. Malformed lines are reported as FILE:LINE: message (all of them, up to
50), never silently skipped.

A clean file (one request per line, fields separated by spaces or tabs, plain
hexadecimal addresses and decimal cycles) is read by a compiled scan of its
bytes (accsim.kernels.trace_parse.scan_trace); anything else by the line-by-line
parser here, which gives the same result on clean files and reports the errors.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, Problem, ResolveError
from ..kernels.trace_parse import FAILED, FORMAT_NAMES, scan_trace

MAX_REPORTED = 50
LIMIT = 1 << 63         # addresses and cycles are int64
_READ = {"READ": False, "WRITE": True, "R": False, "W": True, "LD": False, "ST": True}


@dataclass(frozen=True)
class Trace:
    path: str
    format: str
    arrive_cycle: np.ndarray
    address: np.ndarray
    is_write: np.ndarray


def _detect(fields: list[str]) -> str | None:
    if len(fields) == 3 and fields[1] in ("READ", "WRITE"):
        return "dramsim3"
    if len(fields) == 2 and fields[1] in ("R", "W"):
        return "ramulator"
    if len(fields) == 2 and fields[0] in ("LD", "ST"):
        return "ramulator2"
    return None


def _address(text: str) -> int:
    """Hexadecimal byte address, with or without 0x."""
    try:
        value = int(text, 16)
    except ValueError:
        raise ValueError(f"{text!r} is not a hexadecimal address") from None
    if value < 0:
        raise ValueError(f"negative address {text!r}")
    if value >= LIMIT:
        raise ValueError(f"address {text!r} does not fit in 63 bits")
    return value


def _fast(data: bytes, name: str) -> Trace | None:
    """Whole-file compiled scan of a clean trace (one request per line, one format,
    plain fields; accsim.kernels.trace_parse); None when anything is unusual, so
    the line-by-line parser reports it or reads it."""
    fmt, address, is_write, arrive = scan_trace(np.frombuffer(data, np.uint8))
    if fmt == FAILED:
        return None
    return Trace(name, FORMAT_NAMES[fmt], arrive, address, is_write)


def parse_trace(path: str | Path) -> Trace:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ResolveError(f"{path}: no such file") from None
    except OSError as exc:
        raise ResolveError(f"{path}: cannot read: {exc}") from None
    fast = _fast(data, str(path))
    if fast is not None:
        return fast
    try:            # as read_text(encoding="ascii") would: \r\n and \r end lines
        text = data.decode("ascii").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise ResolveError(f"{path}: cannot read: {exc}") from None
    problems: list[Problem] = []
    fmt = None
    addresses, writes, arrivals = [], [], []
    name = str(path)
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if fmt is None:
            fmt = _detect(fields)
            if fmt is None:
                problems.append(Problem(name, number, "", "not a DRAMsim3 ('0xADDR READ|WRITE CYCLE'), Ramulator "
                                                         "('0xADDR R|W') or Ramulator 2 ('LD|ST 0xADDR') request"))
                break
        try:
            if fmt == "dramsim3":
                if len(fields) != 3 or fields[1] not in ("READ", "WRITE"):
                    raise ValueError("expected '0xADDR READ|WRITE CYCLE'")
                address, kind, cycle = _address(fields[0]), fields[1], int(fields[2])
                if cycle < 0:
                    raise ValueError("negative cycle")
                if cycle >= LIMIT:
                    raise ValueError(f"cycle {cycle} does not fit in 63 bits")
                if arrivals and cycle < arrivals[-1]:
                    raise ValueError(f"cycle {cycle} is before the previous request's {arrivals[-1]}")
                arrivals.append(cycle)
            elif fmt == "ramulator":
                if len(fields) != 2 or fields[1] not in ("R", "W"):
                    raise ValueError("expected '0xADDR R|W'")
                address, kind = _address(fields[0]), fields[1]
            else:
                if len(fields) != 2 or fields[0] not in ("LD", "ST"):
                    raise ValueError("expected 'LD|ST 0xADDR'")
                kind, address = fields[0], _address(fields[1])
            addresses.append(address)
            writes.append(_READ[kind])
        except ValueError as exc:
            reason = str(exc) if str(exc) and "invalid literal" not in str(exc) else f"cannot read {line.strip()!r}"
            problems.append(Problem(name, number, "", reason))
            if len(problems) >= MAX_REPORTED:
                problems.append(Problem(name, None, "", f"stopped after {MAX_REPORTED} problems"))
                break
    if problems:
        raise ConfigError(problems)
    if not addresses:
        raise ConfigError([Problem(name, None, "", "no requests in the trace")])
    count = len(addresses)
    arrive = np.asarray(arrivals, np.int64) if fmt == "dramsim3" else np.zeros(count, np.int64)
    return Trace(name, fmt, arrive, np.asarray(addresses, np.int64), np.asarray(writes, np.bool_))
