"""Compiler wrapper for Verilator's OBJCACHE hook: reuse the objects of Verilator's runtime.

Speed, not clarity: every Verilator build compiles the same runtime sources
(verilated.cpp, verilated_vpi.cpp, ...; about 40 s of CPU) next to the few seconds of the
design's own C++. Verilator's makefile prefixes each compile with $(OBJCACHE); the RTL
harness points OBJCACHE at this script (unless the user set one, e.g. ccache). A compile
whose source lives in $VERILATOR_ROOT/include is keyed by the compiler command line and
the source's content and served from $ACCSIM_OBJCACHE_DIR when seen before; anything else
(the design's files, which include its generated headers) is compiled as usual.

    python objcache.py CXX [flags] -c -o OUT.o SOURCE.cpp
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path


def _cacheable_source(args: list[str]) -> Path | None:
    root = os.environ.get("VERILATOR_ROOT")
    if not root or "-c" not in args:
        return None
    include = Path(root).resolve() / "include"
    sources = [Path(a) for a in args if a.endswith((".cpp", ".cc"))]
    if len(sources) != 1 or not sources[0].resolve().is_relative_to(include):
        return None
    return sources[0]


def _output(args: list[str], source: Path) -> Path:
    if "-o" in args:
        return Path(args[args.index("-o") + 1])
    return Path(source.stem + ".o")


def main(args: list[str]) -> int:
    source = _cacheable_source(args)
    cache = os.environ.get("ACCSIM_OBJCACHE_DIR")
    if source is None or not cache:
        return subprocess.call(args)
    output = _output(args, source)
    key_args = [a for a in args if a != str(output)]
    digest = hashlib.sha256("\0".join(key_args).encode() + source.read_bytes()).hexdigest()[:24]
    cached = Path(cache) / f"{source.stem}-{digest}.o"
    if cached.is_file():
        shutil.copyfile(cached, output)
        return 0
    status = subprocess.call(args)
    if status == 0:
        Path(cache).mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(output, partial)
        os.replace(partial, cached)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
