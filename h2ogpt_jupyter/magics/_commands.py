"""What each ``%h2ogpt`` subcommand does. Parsing is in ``_args``, output in ``_display``."""

from __future__ import annotations

import dataclasses
import keyword
import sys
from collections.abc import Callable
from typing import Any

from h2ogpt_jupyter.chat import saved
from h2ogpt_jupyter.chat.chat import Chat
from h2ogpt_jupyter.chat.retrieval import DocQuery
from h2ogpt_jupyter.config import settings
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.models.backends import PACKAGED, LoadOptions
from h2ogpt_jupyter.models.manager import TEMPLATE, ModelManager, get_manager, with_settings
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.models.response import Response
from h2ogpt_jupyter.options import (
    LOAD,
)

from . import _documents, _panels, _server
from ._args import Parsed, checked, expand, parse
from ._complete import FORMATS
from ._display import (
    StreamDisplay,
    can_update,
    embedder_ready,
    history_markdown,
    show_markdown,
    transient,
)
from ._help import HELP, options_help

# Subcommands defined in their own modules, called with (commands, parsed line, cell).
_EXTRA = {**_documents.COMMANDS, **_panels.COMMANDS, **_server.COMMANDS}

_TURN_KEYS = {
    "model",
    "out",
    "format",
    "system_prompt",
    "context",
    "iinput",
    "new",
    "no_stream",
    *_documents.DOC_ALIASES,
}


_DOC_KEYS = {f.name for f in dataclasses.fields(DocQuery)}


class Commands:
    """One per shell: the kernel's chat, the default generation parameters, the last answer."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.params = _configured_params()
        self.chat = Chat(params=self.params)
        self.last: Response | None = None
        self._table: dict[str, Callable[[Parsed], Any]] = {
            "load": self.load,
            "unload": self.unload,
            "models": self.models,
            "use": self.use,
            "ask": self.ask,
            "chat": self.chat_turn,
            "reset": self.reset,
            "history": self.history,
            "undo": self.undo,
            "regenerate": self.regenerate,
            "chats": self.chats,
            "params": self.set_params,
            "prompt-types": self.prompt_types,
            "info": self.info,
            "help": self.help,
            "": self.help,
        }

    def names(self) -> list[str]:
        """Every command, in help order."""
        return list(dict.fromkeys([*self._table, *_EXTRA]))

    @property
    def manager(self) -> ModelManager:
        """Looked up on every use, so a replaced kernel manager is always the one in use."""
        return get_manager()

    def run(self, line: str, cell: str | None = None) -> Any:
        parsed = parse(line, self.shell.user_ns)
        if parsed.command in _EXTRA:
            if cell is not None and cell.strip() and parsed.command != "ingest":
                body = expand(cell, self.shell.user_ns).strip()
                parsed.text = f"{parsed.text}\n{body}".strip() if parsed.text else body
            return _EXTRA[parsed.command](self, parsed, cell)
        if cell is not None and cell.strip():
            body = expand(cell, self.shell.user_ns).strip()
            parsed.text = f"{parsed.text}\n{body}".strip() if parsed.text else body
        handler = self._table.get(parsed.command)
        if handler is None:
            raise H2OGPTError(f"unknown command '{parsed.command}'; try: %h2ogpt help")
        return handler(parsed)

    # --- models --------------------------------------------------------------------------
    def load(self, p: Parsed) -> None:
        if not p.text:
            raise H2OGPTError("which model? e.g. %h2ogpt load smollm2")
        options = dict(p.options)
        alias = options.pop("as", None)
        unknown = set(options) - set(LoadOptions.names())
        if unknown:
            raise InvalidOptionError(
                f"unknown load option --{sorted(unknown)[0].replace('_', '-')}"
            )
        options = checked(LOAD, options)
        _check_prompt_type(options.get("prompt_type"))
        self._load(p.text, alias, **options)

    def _load(self, name: str, alias: str | None = None, **options: Any) -> None:
        options = with_settings(options)
        with transient(self.shell, f"Loading {name}…"):
            model = self.manager.load(name, alias=None if alias is None else str(alias), **options)
        info = model.info()
        print(
            f"Loaded {name} as '{model.alias}': {info['backend']}, {info['dtype']}"
            f"{', ' + info['quantization'] if info['quantization'] else ''}, "
            f"{info['context_length']} tokens of context, prompt type {model.prompt_type}, "
            f"{model.load_seconds:.1f} s"
        )

    def unload(self, p: Parsed) -> None:
        if p.options.get("all"):
            self.manager.unload_all()
            print("Unloaded all models.")
            return
        alias = p.text or None
        target = self.manager.get(alias).alias
        self.manager.unload(target)
        print(f"Unloaded '{target}'.")

    def use(self, p: Parsed) -> None:
        model = self.manager.use(p.text)
        print(f"Default model: '{model.alias}'.")

    def models(self, p: Parsed) -> None:
        rows = self.manager.list()
        lines = [
            "| | alias | model | backend | dtype | quant | context | memory | prompt type |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            mem = f"{r['memory_bytes'] / 2**20:.0f} MiB" if r["memory_bytes"] else "-"
            lines.append(
                f"| {'★' if r['default'] else ''} | {r['alias']} | {r['model']} | {r['backend']} "
                f"| {r['dtype']} | {r['quantization'] or '-'} | {r['context_length']} | {mem} "
                f"| {r['prompt_type']} |"
            )
        if not rows:
            lines = ["No model loaded."]
        lines.append(f"\nPackaged models: {', '.join(sorted(PACKAGED))}")
        show_markdown("\n".join(lines))

    def _ensure_model(self, alias: str | None) -> None:
        if alias is None and len(self.manager) == 0 and settings().default_model:
            self._load(settings().default_model)

    # --- turns ---------------------------------------------------------------------------
    def ask(self, p: Parsed) -> None:
        chat_opts, gen_opts, fmt, out = self._turn_options(p)
        chat = Chat(_alias(p.options.get("model")), params=self.params, **chat_opts)
        self._turn(chat, p, gen_opts, fmt, out)

    def chat_turn(self, p: Parsed) -> None:
        chat_opts, gen_opts, fmt, out = self._turn_options(p)
        if not p.text.strip():  # before --new or --model change the chat
            raise H2OGPTError("no message given; e.g. %h2ogpt chat Hello!")
        if p.options.get("new"):
            self.chat = Chat(params=self.params)
        self._adjust_chat(p, chat_opts)
        self._turn(self.chat, p, gen_opts, fmt, out)

    def _adjust_chat(self, p: Parsed, chat_opts: dict[str, Any]) -> None:
        """``--model`` and ``--system-prompt``/``--context``/``--iinput`` stick to the chat."""
        if "model" in p.options:
            self.chat.model = _alias(p.options["model"])
        docs = {k: v for k, v in chat_opts.items() if k in _DOC_KEYS}
        if docs:
            self.chat.documents = dataclasses.replace(self.chat.documents, **docs)
        for key, value in chat_opts.items():
            if key not in _DOC_KEYS:
                setattr(self.chat, key, value)

    def _turn_options(self, p: Parsed) -> tuple[dict[str, Any], dict[str, Any], str, str | None]:
        """Split a turn's options and refuse every bad one before anything runs."""
        known = set(GenerationParams.names()) | _TURN_KEYS | {"max_tokens"}
        unknown = set(p.options) - known
        if unknown:
            raise InvalidOptionError(f"unknown option --{sorted(unknown)[0].replace('_', '-')}")
        # Text fields are text even when written as 5 or true; a None system prompt means none.
        chat_opts: dict[str, Any] = {
            k: (None if k == "system_prompt" else "") if v is None else str(v)
            for k, v in p.options.items()
            if k in ("system_prompt", "context", "iinput")
        }
        chat_opts.update(_documents.doc_options(p.options))
        Chat(**{k: v for k, v in chat_opts.items() if k in _DOC_KEYS})  # refuse bad values now
        gen_opts = {k: v for k, v in p.options.items() if k not in _TURN_KEYS}
        GenerationParams.from_options(self.params, **gen_opts)  # refuse bad values up front
        fmt = str(p.options.get("format") or settings().output)
        if fmt not in FORMATS:
            raise InvalidOptionError(f"--format must be markdown, text or code, not {fmt!r}")
        out = p.options.get("out")
        if out is not None and (not str(out).isidentifier() or keyword.iskeyword(str(out))):
            raise InvalidOptionError(f"-o needs a variable name, not {out!r}")
        return chat_opts, gen_opts, fmt, None if out is None else str(out)

    def _turn(self, chat: Chat, p: Parsed, gen: dict[str, Any], fmt: str, out: str | None) -> None:
        if not p.text.strip():
            raise H2OGPTError("no message given; e.g. %h2ogpt ask What is the capital of France?")
        self._ensure_model(chat.model)
        if chat.documents.active:
            embedder_ready(self.shell, chat.documents.open())
        shown = self._display(p, fmt)
        response = chat.send(p.text, on_text=shown, **gen)
        shown.finish(response, self.shell)
        self._publish(response, out)

    def _display(self, p: Parsed, fmt: str) -> StreamDisplay:
        live = not p.options.get("no_stream") and (fmt == "text" or can_update(self.shell))
        return StreamDisplay(fmt, live=live)

    def _publish(self, response: Response, out: str | None) -> None:
        self.last = response
        self.shell.user_ns["_h2ogpt"] = response
        if out:
            self.shell.user_ns[out] = response

    def reset(self, p: Parsed) -> None:
        self.chat.reset()
        print("Chat cleared.")

    def history(self, p: Parsed) -> None:
        if not self.chat.history:
            print("The chat is empty.")
            return
        show_markdown(history_markdown(self.chat.history))

    def undo(self, p: Parsed) -> None:
        turn = self.chat.undo()
        print("Nothing to undo." if turn is None else f"Removed: {turn[0][:60]}")

    def regenerate(self, p: Parsed) -> None:
        chat_opts, gen_opts, fmt, out = self._turn_options(p)
        if not self.chat.history:
            raise H2OGPTError("nothing to regenerate: the chat is empty")
        # Chat.regenerate drops the last turn first: a missing model must not cost it.
        self.manager.get(_alias(p.options["model"]) if "model" in p.options else self.chat.model)
        self._adjust_chat(p, chat_opts)
        shown = self._display(p, fmt)
        response = self.chat.regenerate(**gen_opts).run(shown)
        shown.finish(response, self.shell)
        self._publish(response, out)

    def chats(self, p: Parsed) -> None:
        action, _, arg = p.text.partition(" ")
        arg = arg.strip()
        if action in ("", "list"):
            rows = saved.list_saved()
            if not rows:
                print("No saved chats.")
            for r in rows:
                if r.get("error"):
                    print(f"{r['name']}: unreadable ({r['error']})")
                else:
                    print(
                        f"{r['name']}: {_turns(r['turns'])}, {r['model'] or '-'}, {r['modified']}"
                    )
        elif action == "save":
            print(f"Saved chat '{saved.save(self.chat, arg or None)}'.")
        elif action == "load":
            self.chat = saved.load(arg)
            print(f"Loaded chat '{arg}' ({_turns(len(self.chat.history))}).")
        elif action == "delete":
            saved.delete(arg)
            print(f"Deleted chat '{arg}'.")
        elif action == "export":
            print(f"Exported to {saved.export(arg or 'chats.json')}.")
        elif action == "import":
            print(f"Imported: {', '.join(saved.import_file(arg))}.")
        else:
            raise H2OGPTError(
                "chats takes: list, save NAME, load NAME, delete NAME, export PATH, import PATH"
            )

    # --- settings and info ---------------------------------------------------------------
    def set_params(self, p: Parsed) -> None:
        if p.options:
            self.params = GenerationParams.from_options(self.params, **p.options)
            self.chat.params = self.params
        print(", ".join(f"{k}={v!r}" for k, v in self.params.as_dict().items()))

    def prompt_types(self, p: Parsed) -> None:
        from h2ogpt_jupyter import prompts

        print(", ".join((*prompts.PROMPT_TYPES, "template")))

    def info(self, p: Parsed) -> None:
        from h2ogpt_jupyter.models.sysinfo import system_info

        info = system_info()
        gpus = (
            ", ".join(
                f"{g['name']} ({g['memory_free_gb']}/{g['memory_total_gb']} GB free)"
                for g in info["gpus"]
            )
            or "none"
        )
        print(
            f"Python {info['python']}, {info['cpu_count']} CPUs, "
            f"{info['memory_available_gb']}/{info['memory_total_gb']} GB RAM free, "
            f"this kernel uses {info['process_rss_gb']} GB; GPUs: {gpus}"
        )
        self.models(p)

    def help(self, p: Parsed) -> None:
        topic = p.text.strip().lower()
        if topic == "options":
            show_markdown(options_help())
        elif topic:
            raise H2OGPTError(f"help takes nothing or 'options', not {topic!r}")
        else:
            show_markdown(HELP)


def _configured_params() -> GenerationParams:
    """``c.H2OGPT.generation``; a bad value is reported, not fatal to ``%load_ext``."""
    try:
        return GenerationParams.from_options(**settings().generation)
    except H2OGPTError as exc:
        print(f"h2ogpt: c.H2OGPT.generation ignored: {exc}", file=sys.stderr)
        return GenerationParams()


def _alias(value: Any) -> str | None:
    return None if value is None else str(value)


def _turns(n: int) -> str:
    return f"{n} turn" if n == 1 else f"{n} turns"


def _check_prompt_type(prompt_type: Any) -> None:
    """Before any weights load: the manager checks only afterwards, and a failed reload under
    the same alias would already have unloaded the working model."""
    if not prompt_type:
        return
    from h2ogpt_jupyter import prompts

    if prompt_type not in (*prompts.PROMPT_TYPES, TEMPLATE):
        raise InvalidOptionError(
            f"unknown prompt_type '{prompt_type}'; %h2ogpt prompt-types lists them"
        )
