"""`accsim sweep SPEC`: run a design-space sweep (local processes or a Dask cluster)."""
from __future__ import annotations

import argparse
import sys

NAME = "sweep"


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help="run a design-space sweep from a spec file (configs/sweeps/*.yaml)",
        description="Run every point of a sweep spec, store one row per point under --out, "
                    "skip points already stored, and print the best points and the Pareto set.")
    parser.add_argument("spec", help="sweep spec YAML: a path or a bundled name (e.g. npu_array_sram)")
    parser.add_argument("--out", metavar="DIR", help="sweep directory (default: reports/<spec name>)")
    parser.add_argument("--jobs", "-j", type=int, metavar="N",
                        help="local worker processes (default: the usable cores); with Dask, points in flight")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on a Dask cluster (start `dask scheduler` and `dask worker` first)")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="run on a Dask LocalCluster of N worker processes on 127.0.0.1")
    parser.add_argument("--resume", action="store_true",
                        help="continue the sweep in --out (also after the spec changed); finished points are kept")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run failed, timed-out and crashed points again")
    parser.add_argument("--point-timeout", type=float, metavar="SECONDS",
                        help="kill a point that runs longer and record it as timed out")
    parser.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="give up reaching the Dask scheduler after this long (default 10)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="fixed override for every point, as in accsim run; repeatable")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="run only N points spread evenly over the sweep (a small run, e.g. in CI)")
    parser.add_argument("--dry-run", action="store_true", help="validate the spec and list the points; run nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(args) -> int:
    from ..sweep.driver import run_sweep
    from ..sweep.spec import load_spec
    from ..sweep.summary import format_outcome, format_plan

    spec = load_spec(args.spec, tuple(args.overrides))
    if args.dry_run:
        from ..sweep.points import plan_sweep

        print(format_plan(plan_sweep(spec, args.limit)))
        return 0
    outcome = run_sweep(spec, args.out, jobs=args.jobs, scheduler=args.scheduler, dask_local=args.dask_local,
                        resume=args.resume, retry_failed=args.retry_failed, point_timeout=args.point_timeout,
                        connect_timeout=args.connect_timeout, overrides=tuple(args.overrides), limit=args.limit,
                        progress=not args.quiet and sys.stderr.isatty(), outcome=True)
    print(format_outcome(outcome))
    return 0
