"""The ``h2ogpt-jupyter`` command: one subcommand per registered function.

A subcommand is a function taking the parsed arguments and returning an exit code, registered
with :func:`command` together with a function that adds its arguments. Modules in
:data:`COMMAND_MODULES` register theirs when imported, so a new subcommand (``install-kernel``)
is one module with a decorated function, plus its name in that list.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Run = Callable[[argparse.Namespace], int]
Arguments = Callable[[argparse.ArgumentParser], None]

COMMAND_MODULES = ["h2ogpt_jupyter.server.serve", "h2ogpt_jupyter.kernelspec"]


@dataclass
class Command:
    name: str
    help: str
    arguments: Arguments
    run: Run


_COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, arguments: Arguments) -> Callable[[Run], Run]:
    """Register the decorated function as subcommand ``name``."""

    def register(run: Run) -> Run:
        _COMMANDS[name] = Command(name, help, arguments, run)
        return run

    return register


def commands() -> list[str]:
    """Names of the registered subcommands (importing the modules that register them)."""
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    return list(_COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    commands()
    parser = argparse.ArgumentParser(
        prog="h2ogpt-jupyter", description="h2oGPT's local LLM toolkit for Jupyter."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in _COMMANDS.values():
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
