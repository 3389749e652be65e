"""Tab completion for ``%h2ogpt`` and ``%%h2ogpt``, through IPython's ``complete_command`` hook.

The first word completes to a command; a word starting with ``-`` to an option (all options
of every command: they are one vocabulary, declared in :mod:`h2ogpt_jupyter.options`); and a
value to what it can be: a loaded model's alias after ``use``, ``unload`` and ``--model``, a
collection after ``--collection``, a packaged model after ``load``, a panel after ``panel``,
and the choices of an option that has them (``--dtype``, ``--document-subset``, ...). Nothing
here loads a model or an embedder; collections are listed without opening one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from h2ogpt_jupyter.options import DOCUMENTS, GENERATION, INGEST, LOAD, flag

from ._args import FLAGS

HOOK = "complete_command"
KEYS = ("%h2ogpt", "%%h2ogpt")
FORMATS = ("markdown", "text", "code")
# Options the magics take beyond the tables and their switches (FLAGS).
_VALUE_OPTIONS = ("as", "out", "format", "model", "name")


def _aliases() -> list[str]:
    from h2ogpt_jupyter.models.manager import get_manager

    return [str(row["alias"]) for row in get_manager().list()]


def _collections() -> list[str]:
    from h2ogpt_jupyter.documents import list_collections

    try:
        names = [str(row["name"]) for row in list_collections()]
    except Exception:  # an unreachable Chroma server: nothing to offer, never an error
        return []
    return [f'"{n}"' if " " in n else n for n in names]


def _packaged() -> list[str]:
    from h2ogpt_jupyter.models.backends.names import PACKAGED

    return sorted(PACKAGED)


def _backends() -> list[str]:
    from h2ogpt_jupyter.models.backends import available_backends

    return ["auto", *available_backends()]


def option_names() -> list[str]:
    """Every ``--option`` the magics take."""
    names = {*GENERATION, *LOAD, *DOCUMENTS, *INGEST, *FLAGS, *_VALUE_OPTIONS}
    return sorted(flag(n) for n in names)


def _fixed(values: tuple[str, ...]) -> Callable[[], list[str]]:
    return lambda: list(values)


def _value_sources() -> dict[str, Callable[[], list[str]]]:
    """What the value after an option can be."""
    sources: dict[str, Callable[[], list[str]]] = {}
    for table in (GENERATION, LOAD, DOCUMENTS, INGEST):
        for option in table.values():
            if option.choices:
                sources[flag(option.name)] = _fixed(option.choices)
    sources.update(
        {
            "--model": _aliases,
            "-m": _aliases,
            "--collection": _collections,
            "--langchain-mode": _collections,
            "--format": _fixed(FORMATS),
            "-f": _fixed(FORMATS),
            "--backend": _backends,
        }
    )
    return sources


def _after_command(command: str) -> Callable[[], list[str]] | None:
    from ._panels import KINDS

    return {
        "use": _aliases,
        "unload": _aliases,
        "load": lambda: _packaged() + _aliases(),
        "panel": _fixed(KINDS),
    }.get(command)


def candidates(text_until_cursor: str, commands: list[str]) -> list[str]:
    """What may come at the cursor, given the line up to it."""
    words = text_until_cursor.split()
    if not words or words[0].lstrip("%") != "h2ogpt":  # %h2ogpt, %%h2ogpt, or automagic
        return []
    current = "" if text_until_cursor[-1:].isspace() else words[-1]
    before = words[1:] if current == "" else words[1:-1]
    if not before:
        return [c for c in commands if c]
    if current.startswith("-"):
        return option_names()
    source = _value_sources().get(before[-1])
    if source is None and len(before) == 1:
        source = _after_command(before[0])
    return source() if source is not None else []


def install(shell: Any, commands: Callable[[], list[str]]) -> None:
    """Complete both magic forms in ``shell``."""

    def complete(_shell: Any, event: Any) -> list[str]:  # IPython binds hooks to the shell
        return candidates(str(event.text_until_cursor), commands())

    uninstall(shell)  # loading the extension again replaces the completer, never adds one
    for key in KEYS:
        shell.set_hook(HOOK, complete, str_key=key)


def uninstall(shell: Any) -> None:
    dispatcher = getattr(shell, "strdispatchers", {}).get(HOOK)
    for key in KEYS:
        if dispatcher is not None:
            dispatcher.strs.pop(key, None)
