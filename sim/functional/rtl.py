"""Where the reference Verilog lives: rtl/ of the source checkout, else the installed
package's bundled copy (accsim/_bundled/rtl)."""
from __future__ import annotations

from pathlib import Path

from ..errors import ResolveError


def rtl_dir() -> Path:
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "rtl"
    if (package.parent / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    bundled = package / "_bundled" / "rtl"
    if bundled.is_dir():
        return bundled
    raise ResolveError("rtl/: the reference Verilog is missing from this installation")


def rtl_file(name: str) -> Path:
    path = rtl_dir() / name
    if not path.is_file():
        raise ResolveError(f"rtl/{name}: no such reference Verilog file")
    return path
