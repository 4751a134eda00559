"""The `tandem` command line.

Each area owns its own subcommands in `bot/<area>/cli.py`, which exposes
`register(subparsers)`; a subcommand sets `func(args) -> int` as its default.
This module only stitches them together, so adding a command never touches
another area's code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bot.errors import ConfigError

__all__ = ["main", "build_parser"]

# Areas that contribute subcommands, in the order `tandem --help` lists them.
_AREAS = (
    "bot.runner",  # tandem run
    "bot.sandbox.cli",  # tandem sandbox
    "bot.llm.cli",  # tandem llm serve
    "bot.routing.cli",  # tandem route eval
    "bot.tuning.cli",  # tandem export / tune / stats / report
    "bot.kb.cli",  # tandem kb ...
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _AREAS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # An area whose optional extra is not installed still lists the rest.
            if exc.name and exc.name.startswith("bot."):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except ConfigError as exc:
        print(f"tandem: {exc}", file=sys.stderr)  # noqa: T201
        return 2
