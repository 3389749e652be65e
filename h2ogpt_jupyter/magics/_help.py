"""``%h2ogpt help`` and ``%h2ogpt help options``: the commands, and every option with its range,
default and help as the options tables declare them."""

from __future__ import annotations

from h2ogpt_jupyter.options import (
    DOCUMENTS,
    GENERATION,
    INGEST,
    LOAD,
    Option,
    flags_list,
    number_text,
)

from . import _documents, _panels, _server

HELP = """\
**%h2ogpt** — local LLMs in the notebook

| command | what it does |
|---|---|
| `load NAME [--as ALIAS] [--load-4bit] [--backend llamacpp] …` | load a model (`smollm2`, a `.gguf`, a directory, `vllm:host:port`, a `/v1` URL) |
| `unload [ALIAS] [--all]` · `models` · `use ALIAS` | manage loaded models |
| `ask [options] QUESTION` | one turn, no history |
| `chat [options] MESSAGE` | a turn of the kernel's chat (keeps history) |
| `reset` · `history` · `undo` · `regenerate` | the kernel's chat |
| `chats list\\|save NAME\\|load NAME\\|delete NAME\\|export PATH\\|import PATH` | saved chats |
| `params [--temperature 0.7 …]` | show or set default generation parameters |
| `prompt-types` · `info` · `help` | prompt formats, system and models, this help |
| `help options` | every generation, load and document option: range, default, what it does |
{documents}{panels}{server}
Options for `ask`/`chat` come before the message (`--` ends them): any generation
parameter ({generation}), `--model ALIAS`,
`--system-prompt TEXT`, `--context TEXT`, `--iinput TEXT`, `--format markdown|text|code`,
`--no-stream` (show only the finished answer), `-o VAR` (store the Response in VAR);
`chat --new` starts a fresh chat.
{doc_options}
In `%%h2ogpt ask` / `%%h2ogpt chat` cells the cell body is the message. `{{var}}` inserts a
notebook variable; `{{{{` is a literal brace. The last Response is also in `_h2ogpt`.
""".format(
    documents=_documents.HELP.strip("\n") + "\n",
    panels=_panels.HELP.strip("\n") + "\n",
    server=_server.HELP.strip("\n") + "\n",
    doc_options=_documents.HELP_OPTIONS.strip(),
    generation=flags_list(GENERATION.values()),
)


def options_help() -> str:
    """Every option the magics take, from the options tables."""
    parts = []
    for title, table in (
        ("Generation (`ask`, `chat`, `params`)", GENERATION),
        ("Loading (`load`)", LOAD),
        ("Documents (`ask`, `chat`)", DOCUMENTS),
        ("Ingest (`ingest`)", INGEST),
    ):
        rows = [
            f"**{title}**",
            "",
            "| option | range | default | what it does |",
            "|---|---|---|---|",
        ]
        rows += [f"| `{o.flag}` | {_span(o)} | {_shown(o)} | {o.help} |" for o in table.values()]
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def _span(option: Option) -> str:
    if option.choices:
        return " · ".join(option.choices)
    if option.switch:
        return "switch"
    if option.kind == "bool":
        return "true · false"
    low, high = option.low, option.high
    if low is None and high is None:
        return option.kind
    if high is None:
        return f"≥ {number_text(low or 0)}"
    if low is None:
        return f"≤ {number_text(high)}"
    return f"{number_text(low)} … {number_text(high)}"


def _shown(option: Option) -> str:
    value = option.default
    if value is None or value == "" or value == ():
        return "-"
    return f"`{value}`"
