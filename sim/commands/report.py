"""`accsim report DIR [DIR ...]`: report.md + report.html with figures of saved runs,
a side-by-side comparison of several, or the report of a sweep directory."""
from __future__ import annotations

from pathlib import Path

from ..errors import AccsimError

NAME = "report"


class SweepReportUnavailable(AccsimError):
    """A sweep directory, but accsim.sweep.report is not installed."""


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="render report.md / report.html with plots of result directories")
    parser.add_argument("dirs", nargs="+", metavar="DIR",
                        help="result directory of `accsim run --out` (several: side-by-side comparison), "
                             "or a sweep directory (with sweep_manifest.json)")
    parser.add_argument("--out", metavar="DIR",
                        help="where to write the report (default: the result directory; for several, "
                             "./report-comparison)")
    return parser


def main(args) -> int:
    from ..energy.report import NotAResultError, render_comparison, render_run

    sweeps = [d for d in args.dirs if (Path(d) / "sweep_manifest.json").is_file()]
    if sweeps:
        if len(args.dirs) > 1:
            raise NotAResultError(f"{sweeps[0]}: a sweep directory is reported on its own; "
                                  "give it alone to `accsim report`")
        try:
            from ..sweep.report import render_sweep
        except ImportError as exc:
            raise SweepReportUnavailable(f"{sweeps[0]}: is a sweep directory, but sweep reports need "
                                         f"accsim.sweep.report, which this installation lacks ({exc})") from None
        written = render_sweep(sweeps[0])
    elif len(args.dirs) == 1:
        written = render_run(args.dirs[0], args.out)
    else:
        written = render_comparison(args.dirs, args.out or "report-comparison")
    print(f"wrote {written}" if written else "wrote the sweep report")
    return 0
