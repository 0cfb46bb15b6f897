"""Quantities written as strings in YAML: '1 GHz', '32 MiB', '1.8 TB/s', '3.9 pJ/bit'.

Every parser returns a plain number in the unit its name states. Plain numbers
are accepted as-is (the unit is then the one of the key name, e.g. capacity_bytes).
Decimal prefixes (k, M, G, T) are powers of 1000, binary prefixes (Ki, Mi, Gi, Ti)
powers of 1024, as in IEC 60027-2; 'KB' is accepted as 1000 bytes like 'kB'.
"""
from __future__ import annotations

import re

from .errors import UnitError

_DECIMAL = {"": 1.0, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3,
            "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµ/]*)\s*$")


def _split(value: object, what: str) -> tuple[float, str]:
    if isinstance(value, bool):
        raise UnitError(f"expected {what}, got a boolean")
    if isinstance(value, (int, float)):
        return float(value), ""
    if not isinstance(value, str):
        raise UnitError(f"expected {what}, got {type(value).__name__}")
    match = _QUANTITY.match(value)
    if not match:
        raise UnitError(f"cannot read {value!r} as {what}")
    return float(match.group(1)), match.group(2)


def _scale(prefix: str, allow_binary: bool) -> float | None:
    if allow_binary and prefix in _BINARY:
        return _BINARY[prefix]
    return _DECIMAL.get(prefix)


def _parse(value: object, what: str, base_units: tuple[str, ...], allow_binary: bool) -> float:
    number, unit = _split(value, what)
    if unit == "":
        return number
    for base in base_units:
        if unit.endswith(base):
            factor = _scale(unit[: -len(base)], allow_binary)
            if factor is not None:
                return number * factor
    raise UnitError(f"unknown unit {unit!r} in {value!r}; expected {what} "
                    f"(e.g. {', '.join(_EXAMPLES[what])})")


_EXAMPLES = {
    "a frequency": ("1 GHz", "800 MHz"),
    "a size in bytes": ("64 KB", "32 MiB", "1 GiB"),
    "a bandwidth": ("1.8 TB/s", "32 GB/s", "25.6 GB/s"),
    "a time": ("100 ns", "1.5 us"),
    "an energy per bit": ("3.9 pJ/bit",),
    "an energy": ("0.2 pJ", "1.1 pJ"),
}


def frequency_hz(value: object) -> float:
    return _parse(value, "a frequency", ("Hz",), allow_binary=False)


def size_bytes(value: object) -> int:
    """Bytes; 'b' (bits) is rejected to avoid the classic GB/Gb confusion."""
    number, unit = _split(value, "a size in bytes")
    if unit.endswith("b") and not unit.endswith("B"):
        raise UnitError(f"{value!r} is in bits; write the size in bytes (B)")
    result = _parse(value, "a size in bytes", ("B",), allow_binary=True)
    if result != int(result):
        raise UnitError(f"{value!r} is not a whole number of bytes")
    return int(result)


def bandwidth_bytes_per_s(value: object) -> float:
    number, unit = _split(value, "a bandwidth")
    if unit.endswith("b/s"):
        return _parse(value.replace("b/s", "B/s"), "a bandwidth", ("B/s",), True) / 8.0
    return _parse(value, "a bandwidth", ("B/s",), allow_binary=True)


def time_s(value: object) -> float:
    return _parse(value, "a time", ("s",), allow_binary=False)


def energy_pj(value: object) -> float:
    """Picojoules; a plain number is already in pJ."""
    number, unit = _split(value, "an energy")
    if unit == "":
        return number
    return _parse(value, "an energy", ("J",), allow_binary=False) * 1e12


def energy_pj_per_bit(value: object) -> float:
    number, unit = _split(value, "an energy per bit")
    if unit == "":
        return number
    if not unit.endswith("J/bit"):
        raise UnitError(f"unknown unit {unit!r} in {value!r}; expected an energy per bit (e.g. 3.9 pJ/bit)")
    factor = _scale(unit[: -len("J/bit")], allow_binary=False)
    if factor is None:
        raise UnitError(f"unknown prefix in {value!r}")
    return number * factor * 1e12
