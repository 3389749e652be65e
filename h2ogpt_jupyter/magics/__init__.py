"""The ``%h2ogpt`` line magic and ``%%h2ogpt`` cell magic."""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from h2ogpt_jupyter.config import H2OGPT, configure
from h2ogpt_jupyter.errors import H2OGPTError

from . import _complete
from ._commands import Commands
from ._input import install as install_input_transformer
from ._input import uninstall as uninstall_input_transformer


@magics_class
class H2OGPTMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.commands = Commands(shell)

    # IPython's own $var/{var} expansion is off: ours runs after the line is split, so a
    # value with spaces stays one option and unknown names stay as written.
    @no_var_expand
    @line_cell_magic
    def h2ogpt(self, line: str, cell: str | None = None) -> None:
        """Local LLMs in the notebook; ``%h2ogpt help`` lists the commands."""
        try:
            self.commands.run(line, cell)
        except H2OGPTError as exc:
            print(f"h2ogpt: {exc}", file=sys.stderr)


def load(shell: Any) -> None:
    """Read settings with the shell's config and register the magics.

    Also installs the input transformer that keeps questions ending in ``?`` away from
    IPython's help syntax (see ``_input``), and tab completion (``_complete``).

    The settings object joins ``shell.configurables`` so ``%config H2OGPT`` lists the options
    and ``%config H2OGPT.default_model = "smollm2"`` takes effect at once.
    """
    settings = configure(parent=shell)
    configurables = getattr(shell, "configurables", None)
    if configurables is not None:
        configurables[:] = [c for c in configurables if not isinstance(c, H2OGPT)]
        configurables.append(settings)
    install_input_transformer(shell)
    magics = H2OGPTMagics(shell)
    shell.register_magics(magics)
    _complete.install(shell, magics.commands.names)


def unload(shell: Any) -> None:
    """Undo :func:`load`: ``%unload_ext h2ogpt_jupyter`` leaves no magic or hook behind."""
    shell.magics_manager.registry.pop("H2OGPTMagics", None)
    for kind in ("line", "cell"):
        shell.magics_manager.magics[kind].pop("h2ogpt", None)
    uninstall_input_transformer(shell)
    _complete.uninstall(shell)
    configurables = getattr(shell, "configurables", None)
    if configurables is not None:
        configurables[:] = [c for c in configurables if not isinstance(c, H2OGPT)]
