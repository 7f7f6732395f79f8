"""The `domainserver` command: init, serve, check a permissions file, make keys and credentials.

Each subcommand lives in a module of this package with a `register(sub)` that adds its
parser; add a new one to COMMANDS."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import backup, evidence, feeds, first_run, importing, keys, policy, serve

__all__ = ["main", "build_parser"]

COMMANDS = (first_run, serve, policy, keys, backup, evidence, feeds, importing)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="domainserver", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"domainserver {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("domainserver")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
