"""`accsim pimcheck ARCH STREAM.csv`: check a timed PIM command stream against the
timing of an architecture's HBM-PIM unit (accsim.memory.pim_protocol)."""
from __future__ import annotations

NAME = "pimcheck"


def add_parser(sub):
    parser = sub.add_parser(NAME, help="check a PIM command stream (CSV: cycle,command,rank,channel) "
                                       "against an architecture's PIM timing")
    parser.add_argument("arch", help="architecture with a `type: hbm_pim` unit, e.g. neupims")
    parser.add_argument("stream", help="CSV with columns cycle,command,rank,channel")
    return parser


def main(args) -> int:
    from ..api import load_arch
    from ..errors import AccsimError
    from ..memory.pim_protocol import check, read_stream
    from ..system import System

    system = System(load_arch(args.arch))
    units = [c for c in system.components.values() if c.TYPE == "hbm_pim"]
    if not units:
        raise AccsimError(f"{args.arch}: no `type: hbm_pim` unit to take the timing from")
    commands = read_stream(args.stream)
    check(commands, units[0].kernel_params(), args.stream)
    print(f"ok: {len(commands)} commands on {len({c.channel for c in commands})} channel(s) respect "
          f"the timing of {units[0].name!r} ({units[0].params['row_buffers']} row buffers)")
    return 0
