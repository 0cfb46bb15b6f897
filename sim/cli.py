"""Command line: a thin layer over accsim.api.

Exit codes: 0 success, 2 bad input (one line per problem, no traceback unless
--debug), 1 internal error (traceback saved to a crash report whose path is
printed).
"""
from __future__ import annotations

import argparse
import datetime
import gc
import os
import sys
import tempfile
import traceback
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accsim", description="Cycle-level simulator for LLM-era accelerators.")
    parser.add_argument("--version", action="version", version=f"accsim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a workload on an architecture")
    run.add_argument("arch", help="architecture YAML: a path or a bundled name (e.g. npu, arch/npu.yaml)")
    run.add_argument("workload", help="workload YAML: a path or a bundled name (e.g. gpt2)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                     help="override a YAML field, e.g. components.sa.rows=64 or serving.batch_size=8 "
                          "(prefix arch. or workload. when ambiguous); repeatable")
    run.add_argument("--out", metavar="DIR", help="write summary.json, ops.csv, energy.csv, area.csv and "
                                                   "trace.json (Perfetto) to DIR")
    run.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    run.add_argument("--exact", action="store_true", help="simulate every op; take no reuse shortcut")
    run.add_argument("--mapping", metavar="FILE", help="mapping rules that pin or constrain the mapper "
                                                       "(see docs/mapping.md)")
    run.add_argument("--functional", action="store_true",
                     help="also compute every GEMM's values through the bit-accurate unit models and check "
                          "them against NumPy (small workloads; docs/rtl.md); exit 1 on a mismatch")
    run.add_argument("--quiet", action="store_true", help="no progress line")
    run.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    lst = sub.add_parser("list", help="list bundled architectures, workloads and component types")
    lst.add_argument("--fields", action="store_true", help="print the reference of every YAML field (Markdown)")
    lst.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    check = sub.add_parser("check", help="validate YAML files without simulating")
    check.add_argument("files", nargs="+", help="architecture or workload files (or bundled names)")
    check.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    mem = sub.add_parser("mem", help="run a DRAM request trace through the cycle-level memory model")
    mem.add_argument("preset", help="DRAM preset: a bundled name (hbm2, ddr4-3200, ...), a preset YAML file, "
                                    "or an architecture with a `type: dram` memory (e.g. npu)")
    mem.add_argument("trace", help="request trace (DRAMsim3: '0xADDR READ|WRITE CYCLE'; Ramulator: '0xADDR R|W' "
                                   "or 'LD|ST 0xADDR')")
    mem.add_argument("--frontend", choices=("inorder", "unlimited"), default="inorder",
                     help="inorder: at most one request per cycle in trace order (DRAMsim3's trace front end); "
                          "unlimited: as many as the queues accept")
    mem.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="controller setting, e.g. page_policy=closed, address_mapping=ro-ba-bg-ra-co-ch, "
                          "row_hit_cap=8, read_queue=64, refresh=per_bank; repeatable")
    mem.add_argument("--threads", type=_at_least_one, default=None, metavar="N",
                     help="threads for the unlimited front end's channels (default: ACCSIM_THREADS, else the "
                          "CPUs available; results do not depend on it)")
    mem.add_argument("--json", action="store_true", help="print the summary as JSON")
    mem.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    for command in _plugin_commands():
        command.add_parser(sub).add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                                             help=argparse.SUPPRESS)
    return parser


def _plugin_commands() -> list:
    """Command modules in accsim.commands: each defines NAME, add_parser(subparsers)
    returning its parser, and main(args) returning an exit code."""
    import importlib
    import pkgutil

    from . import commands

    return [importlib.import_module(f"{commands.__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name)
            if not info.name.startswith("_")]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .errors import AccsimError

    try:
        handlers = {"run": _run, "list": _list, "check": _check, "mem": _mem}
        handlers.update({command.NAME: command.main for command in _plugin_commands()})
        return handlers[args.command](args)
    except AccsimError as exc:
        if args.debug:
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"accsim: error: {line}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("accsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (e.g. `accsim run ... | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception:  # noqa: BLE001 - the one place internal errors become an exit code
        if args.debug:
            raise
        report = _crash_report(argv)
        print(f"accsim: internal error; crash report written to {report}", file=sys.stderr)
        return EXIT_INTERNAL


def _crash_report(argv) -> Path:
    folder = Path(os.environ.get("ACCSIM_CRASH_DIR", tempfile.gettempdir()))
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    handle, name = tempfile.mkstemp(prefix=f"accsim-crash-{stamp}-", suffix=".txt", dir=folder)
    with os.fdopen(handle, "w") as stream:
        stream.write(f"accsim {__version__}\nargv: {sys.argv if argv is None else argv}\n"
                     f"python {sys.version}\n\n{traceback.format_exc()}")
    return Path(name)


class _Progress:
    """One self-overwriting line on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.count = 0

    def __call__(self, op) -> None:
        self.count += 1
        if self.enabled and self.count % 500 == 0:
            print(f"\r  simulating: {self.count} ops ({op.phase} step {op.step})", end="", file=sys.stderr)

    def close(self) -> None:
        if self.enabled and self.count >= 500:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr)


def _run(args) -> int:
    from .api import run
    from .report import format_summary

    if args.functional:
        from .functional import check_functional

        check_functional(args.arch, args.workload, args.overrides)   # refuse before simulating
    progress = _Progress(not args.quiet)
    try:
        result = run(args.arch, args.workload, overrides=args.overrides, exact=args.exact, progress=progress,
                     mapping=args.mapping)
    finally:
        progress.close()
    if args.out:
        saved = result.save(args.out) / "summary.json"
    if args.json:
        # with --out, print exactly what was saved (it adds the ops.csv hash)
        print(saved.read_text().rstrip("\n") if args.out else result.to_json())
    else:
        print(format_summary(result.summary))
    if args.out and not args.json:
        print(f"\nwrote summary.json, ops.csv, energy.csv, area.csv, trace.json to {args.out} "
              f"(accsim report {args.out} renders them)")
    if args.functional:
        from .functional import run_functional

        report = run_functional(args.arch, args.workload, args.overrides)
        print(report.format(), file=sys.stderr if args.json else sys.stdout)
        return EXIT_OK if report.ok else EXIT_INTERNAL
    return EXIT_OK


def _at_least_one(text: str) -> int:
    """An integer of at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer of at least 1, got {text!r}")
    return value


def _mem(args) -> int:
    import json

    from .memory.preset import check_controller, controller_from, parse_controller_overrides
    from .memory.report import format_mem_summary, mem_summary
    from .memory.simulate import simulate_requests
    from .memory.trace import parse_trace

    preset, base = _mem_target(args.preset)
    controller = controller_from({**base, **_given(parse_controller_overrides(args.overrides), args.overrides)})
    check_controller(controller, preset, ("--set", None))
    trace = parse_trace(args.trace)
    result = simulate_requests(preset, controller, trace.arrive_cycle, trace.address, trace.is_write,
                               frontend=args.frontend, threads=args.threads)
    summary = mem_summary(result, trace.format, args.frontend)
    print(json.dumps(summary, indent=2) if args.json else format_mem_summary(summary))
    return EXIT_OK


def _mem_target(name: str):
    """(preset, controller settings) of a DRAM preset name/file, or of the first
    `type: dram` component of an architecture."""
    from .errors import ResolveError
    from .memory.preset import CONTROLLER_FIELDS, load_preset, preset_from_params

    try:
        return load_preset(name), {}
    except ResolveError as not_a_preset:
        from .api import load_arch

        try:
            arch = load_arch(name)
        except ResolveError:
            raise not_a_preset from None
        for component in arch.components:
            if component.type == "dram":
                params = dict(component.params)
                return preset_from_params(params), {k: params[k] for k in CONTROLLER_FIELDS}
        raise ResolveError(f"{name}: architecture {arch.name!r} has no `type: dram` memory") from None


def _given(values: dict, assignments) -> dict:
    """Only the controller settings the user wrote on the command line."""
    written = {a.split("=", 1)[0].strip() for a in assignments}
    return {k: v for k, v in values.items() if k in written}


def _list(args) -> int:
    from .components import REGISTRY
    from .resolve import bundled_dir, bundled_names
    from .yamlio import load

    if args.fields:
        from .schema_doc import field_reference

        print(field_reference())
        return EXIT_OK
    for kind, title in (("arch", "Architectures"), ("workload", "Workloads")):
        print(f"{title} ({bundled_dir(kind)}):")
        for name in bundled_names(kind):
            tree = load(bundled_dir(kind) / f"{name}.yaml").tree
            print(f"  {name:<18} {tree.get('description', '')}")
        print()
    print("Component types:")
    for name in sorted(REGISTRY):
        print(f"  {name:<18} {REGISTRY[name].SUMMARY}")
    return EXIT_OK


def _check(args) -> int:
    from .api import kind_of, load_arch, load_workload
    from .errors import ConfigError, Problem, ResolveError

    problems: list[Problem] = []
    for name in args.files:
        try:
            path = _resolve_any(name)
            is_arch = kind_of(path) == "arch"
            (load_arch if is_arch else load_workload)(str(path))
            print(f"ok: {path} ({'architecture' if is_arch else 'workload'})")
        except ConfigError as exc:
            problems.extend(exc.problems)
        except ResolveError as exc:
            problems.append(Problem(name, None, "", str(exc).split(": ", 1)[-1]))
    if problems:
        raise ConfigError(problems)
    return EXIT_OK


def _resolve_any(name: str) -> Path:
    """A path, or a bundled name tried as the kind its prefix suggests first."""
    from .errors import ResolveError
    from .resolve import resolve

    kinds = ("arch", "workload") if name.startswith("arch/") else ("workload", "arch")
    try:
        return resolve(name, kinds[0])
    except ResolveError:
        return resolve(name, kinds[1])


def console_main() -> int:
    """The `accsim` command: main() after moving what the imports allocated (pandas, numba,
    accsim: about 100k objects) out of the garbage collector's reach, so that its full collections
    during a run do not walk them again and again (about 0.4 s of the GPT-2 main job's 2.4 s).
    main() itself leaves the collector alone: in-process callers keep their process as it was."""
    gc.freeze()
    return main()


if __name__ == "__main__":
    sys.exit(console_main())
