"""CLI commands beyond the core ones in accsim.cli, one module each.

A module here defines NAME (the subcommand), add_parser(subparsers) returning
its argparse parser, and main(args) returning an exit code; accsim.cli finds
it by itself. Input errors are raised as AccsimError subclasses (exit 2).
"""
