"""Generation settings and models, as a panel of their own or the Expert part of a chat.

Every generation parameter is shown with the range h2oGPT allows and its help, read from
:data:`h2ogpt_jupyter.options.GENERATION`, so the sliders can never disagree with the checks.
Values typed in the front end are validated here: a bad one is refused in the errors area and
the control snaps back to the value in force. The models part lists what the kernel holds
(with memory) and loads, unloads or picks the default model through the shared manager.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

import traitlets as t

from h2ogpt_jupyter.chat.chat import Chat
from h2ogpt_jupyter.errors import InvalidOptionError
from h2ogpt_jupyter.models.backends import LoadOptions, available_backends
from h2ogpt_jupyter.models.manager import TEMPLATE, ModelManager, with_settings
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.options import DOCUMENTS, DTYPES, GENERATION, SUBSETS, control

from ._base import Panel, panel_esm

CHAT_FIELDS = ("system_prompt", "context", "iinput", "top_k_docs", "document_subset")


def param_specs() -> list[dict[str, Any]]:
    """One control description per generation parameter, from the options table."""
    return [control(option) for option in GENERATION.values()]


def load_choices() -> dict[str, list[str]]:
    from h2ogpt_jupyter.prompts import PROMPT_TYPES

    return {
        "backends": ["auto", *available_backends()],
        "dtypes": list(DTYPES),
        "prompt_types": ["", TEMPLATE, *PROMPT_TYPES],
        "subsets": list(SUBSETS),
    }


def _memory(value: Any) -> str:
    return f"{value / 2**20:.0f} MiB" if value else "-"


class SettingsBase(Panel):
    """The settings state and handlers; subclasses say which chat they edit."""

    param_specs = t.List(t.Dict()).tag(sync=True)
    params = t.Dict().tag(sync=True)
    chat_options = t.Dict().tag(sync=True)
    models = t.List(t.Dict()).tag(sync=True)
    default_model = t.Unicode("").tag(sync=True)
    choices = t.Dict().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handlers.update(
            settings=self._on_settings,
            reset_params=self._on_reset_params,
            load_model=self._on_load_model,
            unload_model=self._on_unload_model,
            use_model=self._on_use_model,
            refresh_models=lambda content, buffers: self.refresh_models(),
        )
        self.update(param_specs=param_specs(), choices=load_choices())

    @property
    def chat(self) -> Chat:
        raise NotImplementedError

    @property
    def manager(self) -> ModelManager:
        return self.chat.manager

    # --- generation settings ----------------------------------------------------------------
    def sync_settings(self) -> None:
        """Push the chat's settings to the front end."""
        chat = self.chat
        system = chat.system_prompt
        options = {
            "system_prompt": "" if system is None else system,
            "context": chat.context,
            "iinput": chat.iinput,
            "top_k_docs": chat.documents.top_k_docs,
            "document_subset": chat.documents.document_subset,
        }
        self.update(params=chat.params.as_dict(), chat_options=options)

    def apply_settings(self, values: dict[str, Any]) -> None:
        """Check every value first, then change the chat: a refused value changes nothing."""
        chat = self.chat
        names = set(GenerationParams.names())
        unknown = set(values) - names - set(CHAT_FIELDS)
        if unknown:
            raise InvalidOptionError(f"unknown setting '{sorted(unknown)[0]}'")
        gen = {k: v for k, v in values.items() if k in names}
        if "stop" in gen and isinstance(gen["stop"], str):
            gen["stop"] = [s for s in gen["stop"].splitlines() if s]
        params = GenerationParams.from_options(chat.params, **gen)
        docs = {k: values[k] for k in ("top_k_docs", "document_subset") if k in values}
        if "top_k_docs" in docs:
            docs["top_k_docs"] = DOCUMENTS["top_k_docs"].parse(docs["top_k_docs"])
        documents = dataclasses.replace(chat.documents, **docs) if docs else chat.documents
        texts = {k: values[k] for k in ("system_prompt", "context", "iinput") if k in values}
        for key, value in texts.items():
            if value is not None and not isinstance(value, str):
                raise InvalidOptionError(f"{key} must be text, not {value!r}")
        chat.params, chat.documents = params, documents
        for key, value in texts.items():
            setattr(chat, key, (value or None) if key == "system_prompt" else (value or ""))

    def _on_settings(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        values = content.get("values")
        if not isinstance(values, dict):
            raise InvalidOptionError("settings message needs 'values': {name: value}")
        try:
            self.apply_settings(values)
        finally:
            self.sync_settings()
            # the edited control may hold a refused value the synced state never had
            self.emit(type="redraw_settings")
        self.settings_changed()

    def _on_reset_params(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self.chat.params = GenerationParams()
        self.sync_settings()
        self.settings_changed()

    def settings_changed(self) -> None:
        """Hook for subclasses (the chat recounts its tokens)."""

    # --- models -----------------------------------------------------------------------------
    def refresh_models(self) -> None:
        rows = [
            {
                "alias": r["alias"],
                "model": r["model"],
                "backend": r.get("backend", ""),
                "dtype": r.get("dtype", ""),
                "quantization": r.get("quantization") or "",
                "context_length": r.get("context_length"),
                "memory": _memory(r.get("memory_bytes")),
                "prompt_type": r.get("prompt_type", ""),
                "default": r["default"],
            }
            for r in self.manager.list()
        ]
        self.update(models=rows, default_model=self.manager.default or "")

    def _on_load_model(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        name = str(content.get("name") or "").strip()
        if not name:
            raise InvalidOptionError("which model? e.g. smollm2, a .gguf, a folder or a URL")
        alias = str(content.get("alias") or "").strip() or None
        options: dict[str, Any] = {}
        for key in ("backend", "dtype", "lora_weights", "prompt_type"):
            value = str(content.get(key) or "").strip()
            if value and value != "auto":
                options[key] = value
        quantization = str(content.get("quantization") or "")
        if quantization not in ("", "8bit", "4bit"):
            raise InvalidOptionError(f"quantization is 8bit, 4bit or empty, not {quantization!r}")
        if quantization:
            options[f"load_{quantization}"] = True
        options = with_settings(options)
        LoadOptions(**options)  # a bad combination is refused before the job is queued
        self.update(status=f"Loading {name}…")
        self.background(self._load, name, alias, options)

    def _load(self, name: str, alias: str | None, options: dict[str, Any]) -> None:
        self.update(busy=True)
        try:
            model = self.manager.load(name, alias=alias, **options)
        except Exception:
            self.update(status=f"Could not load {name}.")
            raise
        finally:
            self.update(busy=False)
            self.refresh_models()
        self.update(status=f"Loaded {name} as '{model.alias}' in {model.load_seconds:.1f} s.")
        self.models_changed()

    def _on_unload_model(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        alias = str(content.get("alias") or "")
        self.manager.get(alias or None)  # an unknown alias is refused now, not later
        self.background(self._unload, alias)

    def _unload(self, alias: str) -> None:
        try:
            self.manager.unload(alias or None)
        finally:
            self.refresh_models()
        self.update(status=f"Unloaded '{alias}'.")
        self.models_changed()

    def _on_use_model(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        model = self.manager.use(str(content.get("alias") or ""))
        self.refresh_models()
        self.update(status=f"Default model: '{model.alias}'.")
        self.models_changed()

    def models_changed(self) -> None:
        """Hook for subclasses (the chat's model selector)."""


class HasChat(Protocol):
    """Anything whose ``chat`` may be replaced (a ChatPanel, the magics' state)."""

    @property
    def chat(self) -> Chat: ...


class SettingsPanel(SettingsBase):
    """Generation parameters, prompt fields, document options and models of one chat.

    ``chat`` is a :class:`~h2ogpt_jupyter.chat.chat.Chat`, or an object holding one in ``.chat``
    such as a :class:`ChatPanel` (followed when it opens another chat); without one a new
    chat is made, and ``panel.chat.params`` holds what was set.
    """

    _esm = panel_esm("settings")

    def __init__(
        self,
        chat: Chat | HasChat | None = None,
        *,
        manager: ModelManager | None = None,
        **kwargs: Any,
    ) -> None:
        self._target: Callable[[], Chat]
        if chat is None:
            own = Chat(manager=manager)
            self._target = lambda: own
        elif isinstance(chat, Chat):
            self._target = lambda: chat
        else:
            self._target = lambda: chat.chat
        super().__init__(**kwargs)
        self.handlers["refresh"] = lambda content, buffers: self.refresh()
        self.refresh()

    @property
    def chat(self) -> Chat:
        return self._target()

    def refresh(self) -> None:
        self.sync_settings()
        self.refresh_models()
