"""The ``%h2ogpt`` line magic and ``%%h2ogpt`` cell magic."""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from ..config import configure
from ..errors import H2OGPTError
from ._commands import Commands


@magics_class
class H2OGPTMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.commands = Commands(shell)

    @no_var_expand
    @line_cell_magic
    def h2ogpt(self, line: str, cell: str | None = None) -> None:
        """Local LLMs in the notebook; ``%h2ogpt help`` lists the commands."""
        try:
            self.commands.run(line, cell)
        except H2OGPTError as exc:
            print(f"h2ogpt: {exc}", file=sys.stderr)


def load(shell: Any) -> None:
    configure(parent=shell)
    shell.register_magics(H2OGPTMagics(shell))
