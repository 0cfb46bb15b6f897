"""Compiler wrapper for Verilator's OBJCACHE hook: reuse the objects of Verilator's runtime.

Speed, not clarity: every Verilator build compiles the same runtime sources
(verilated.cpp, verilated_vpi.cpp, ...; about 40 s of CPU) and cocotb's main
(verilator.cpp, 5 s) next to the few seconds of the design's own C++. Verilator's makefile
prefixes each compile with $(OBJCACHE); the RTL harness points OBJCACHE at this script
(unless the user set one, e.g. ccache). A compile of a source in $VERILATOR_ROOT/include is
keyed by the compiler command line and the content of every file the preprocessor reads
(the compiler's own -M dependency list), so cocotb's main, which includes the design's
generated Vtop.h, is shared by designs with the same ports. Hits are served from $ACCSIM_OBJCACHE_DIR; the design's own generated C++ is compiled as
usual.

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
    """The source of a compile worth caching (Verilator's runtime, cocotb's main), else None."""
    if not os.environ.get("VERILATOR_ROOT") or "-c" not in args:
        return None
    sources = [Path(a) for a in args if a.endswith((".cpp", ".cc"))]
    if len(sources) != 1 or sources[0].resolve().parent == Path.cwd().resolve():
        return None                           # the design's own generated C++
    return sources[0]


def _included_files(args: list[str], output: Path) -> list[Path]:
    """Every file the compile reads, from the preprocessor's dependency list (-M)."""
    skip = {"-c", "-MMD", "-MP", "-o", str(output)}
    command = [a for a in args if a not in skip] + ["-M"]
    listing = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    names = listing.replace("\\\n", " ").split(":", 1)[1].split()
    return [Path(name) for name in names]


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
    # key: the command line and the content of every file the preprocessor reads (cocotb's
    # main includes the design's generated Vtop.h: designs with the same ports share it)
    key = hashlib.sha256("\0".join(a for a in args if a != str(output)).encode())
    try:
        for path in _included_files(args, output):
            key.update(str(path).encode() + b"\0" + path.read_bytes())
    except (subprocess.CalledProcessError, OSError):
        return subprocess.call(args)
    digest = key.hexdigest()[:24]
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
