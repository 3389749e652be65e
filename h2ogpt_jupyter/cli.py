"""The ``h2ogpt-jupyter`` command: one subcommand per front-end module.

A subcommand lives beside the feature it runs (``serve`` in :mod:`h2ogpt_jupyter.server.serve`,
``install-kernel`` in :mod:`h2ogpt_jupyter.magics.kernelspec`); the module has ``arguments``,
which adds the subcommand's options to a parser, and ``run``, which takes the parsed arguments
and returns an exit code. :data:`SUBCOMMANDS` names them, so this module sits above every front
end and none of them imports it: a new subcommand is one such module and one row here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

Run = Callable[[argparse.Namespace], int]
Arguments = Callable[[argparse.ArgumentParser], None]

#: subcommand -> (module with ``arguments`` and ``run``, one line of help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("h2ogpt_jupyter.server.serve", "Serve models over an OpenAI-compatible HTTP API."),
    "install-kernel": (
        "h2ogpt_jupyter.magics.kernelspec",
        "Install the 'Python 3 (h2oGPT)' Jupyter kernel.",
    ),
}


@dataclass
class Command:
    name: str
    help: str
    arguments: Arguments
    run: Run


def command(name: str) -> Command:
    """Subcommand ``name``, its module imported."""
    module_name, help_text = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    return Command(name, help_text, cast(Arguments, module.arguments), cast(Run, module.run))


def commands() -> list[str]:
    """Names of the subcommands."""
    return list(SUBCOMMANDS)


def build_parser() -> argparse.ArgumentParser:
    from h2ogpt_jupyter._version import __version__

    parser = argparse.ArgumentParser(
        prog="h2ogpt-jupyter", description="h2oGPT's local LLM toolkit for Jupyter."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        cmd = command(name)
        child = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.arguments(child)
        child.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args._run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
