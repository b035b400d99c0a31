"""The ``asp`` command: one module per verb group, each driving its layer; flags are argparse's.

``main(argv)`` runs one command line and returns its exit status (2 with ``error: ...`` on bad input).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from asp.cli import dataset, effects, eval, infer, proxy, quickstart, synths, train
from asp.cli.common import _notes, read_settings

__all__ = ["_notes", "build_parser", "main"]

GROUPS = (synths, dataset, train, infer, eval, effects, proxy, quickstart)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="asp", description="Automatic synthesizer programming.")
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from asp.jobs import MissingExtra

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "settings_file", None) is not None:  # --config: the file's settings, then the flags again
            args.settings_parser.set_defaults(**read_settings(args.settings_file, args.settings_parser))
            args = parser.parse_args(argv)
        args.asp = main  # for commands that run other asp command lines (asp reproduce)
        return int(args.fn(args) or 0)
    except (KeyError, ValueError, FileNotFoundError, RuntimeError, MissingExtra) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        print(f"error: {msg}", file=sys.stderr)
        return 2
