"""``%h2ogpt panel chat|compare|ingest|settings``: open a widget panel in the cell's output.

The panels need anywidget (the ``lab`` extra). It is imported here only when a panel is
asked for, so ``%load_ext h2ogpt_jupyter`` stays instant and works without it.

``panel chat`` opens on the kernel's chat, so the panel and ``%h2ogpt chat`` share one
history (``--new`` starts a separate one); ``panel settings`` edits that same chat and the
kernel's default generation parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.options import INGEST

from ._args import Parsed, checked

if TYPE_CHECKING:
    from ._commands import Commands

HELP = """
| `panel chat [--model ALIAS] [--collection NAME] [--new]` | a chat panel (streaming, sources, saved chats, settings) |
| `panel compare A B [C D] [--prompt TEXT] [--score-model PATH] [--temperature …]` | models side by side, with speed and an optional reward score |
| `panel ingest [--collection NAME]` · `panel settings` | upload documents; generation settings and models |
"""  # noqa: E501 (rows of the help table)

KINDS = ("chat", "compare", "ingest", "settings")


def _check(p: Parsed, allowed: set[str]) -> None:
    unknown = set(p.options) - allowed - {"out"}
    if unknown:
        raise InvalidOptionError(f"unknown option --{sorted(unknown)[0].replace('_', '-')}")


def _no_words(kind: str, words: list[str]) -> None:
    if words:
        raise InvalidOptionError(f"panel {kind} takes options only, not {' '.join(words)!r}")


def _chat(cmds: Commands, p: Parsed, words: list[str]) -> Any:
    from h2ogpt_jupyter.chat.chat import Chat
    from h2ogpt_jupyter.panels import ChatPanel

    from ._documents import DOC_ALIASES, doc_options

    _check(p, {"model", "new", *DOC_ALIASES})
    _no_words("chat", words)
    docs = doc_options(p.options)
    model = p.options.get("model")
    chat = Chat(params=cmds.params) if p.options.get("new") else cmds.chat
    if docs:
        chat.documents = dataclasses.replace(chat.documents, **docs)
    if model is not None:
        chat.model = str(model)
    cmds._ensure_model(chat.model)  # c.H2OGPT.default_model, as %h2ogpt chat would
    return ChatPanel(chat=chat)


def _compare(cmds: Commands, p: Parsed, words: list[str]) -> Any:
    from h2ogpt_jupyter.panels import ComparePanel

    options = dict(p.options)
    options.pop("out", None)
    prompt = options.pop("prompt", None)
    score_model = options.pop("score_model", None)
    common = {**cmds.params.as_dict(), **options}
    return ComparePanel(
        words,
        prompt=None if prompt is None else str(prompt),
        score_model=None if score_model is None else str(score_model),
        **common,
    )


def _ingest(cmds: Commands, p: Parsed, words: list[str]) -> Any:
    from h2ogpt_jupyter.panels import IngestPanel

    _check(p, {"collection", "langchain_mode", "chunk_size", "chunk_overlap"})
    _no_words("ingest", words)
    name = p.options.get("collection", p.options.get("langchain_mode", "MyData"))
    sizes = checked(INGEST, {k: p.options[k] for k in INGEST if k in p.options})
    return IngestPanel(str(name), **sizes)


def _settings(cmds: Commands, p: Parsed, words: list[str]) -> Any:
    from h2ogpt_jupyter.panels import SettingsPanel

    _check(p, set())
    _no_words("settings", words)
    panel = SettingsPanel(cmds)  # follows cmds.chat, also after `chat --new` replaces it

    def keep_defaults(change: dict[str, Any]) -> None:
        cmds.params = cmds.chat.params  # as `%h2ogpt params --temperature …` does

    panel.observe(keep_defaults, names="params")
    return panel


_BUILDERS: dict[str, Callable[[Commands, Parsed, list[str]], Any]] = {
    "chat": _chat,
    "compare": _compare,
    "ingest": _ingest,
    "settings": _settings,
}


def panel(cmds: Commands, p: Parsed, cell: str | None = None) -> None:
    """Open a panel; ``-o NAME`` also keeps it in a notebook variable."""
    kind = p.words[0].lower() if p.words else ""
    if kind not in _BUILDERS:
        raise H2OGPTError(f"panel takes one of: {', '.join(KINDS)}; e.g. %h2ogpt panel chat")
    try:
        import anywidget  # noqa: F401
    except ImportError:
        raise H2OGPTError("the panels need anywidget: pip install 'h2ogpt-jupyter[lab]'") from None
    widget = _BUILDERS[kind](cmds, p, p.words[1:])
    out = p.options.get("out")
    if out is not None:
        if not str(out).isidentifier():
            raise InvalidOptionError(f"-o needs a variable name, not {out!r}")
        cmds.shell.user_ns[str(out)] = widget
    from IPython.display import display

    display(widget)


COMMANDS: dict[str, Callable[[Commands, Parsed, str | None], None]] = {"panel": panel}
