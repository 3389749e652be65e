"""The kernel's model manager: models loaded once, under aliases, shared by magics, widgets
and the server.

One manager lives in each kernel (:func:`get_manager`). Loading resolves a name to weights on
this machine, picks the engine, and settles the prompt format once; unloading drops every
reference and collects garbage so the memory really comes back.
"""

from __future__ import annotations

import gc
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError, ModelNotLoadedError

from .backends import Backend, LoadOptions, ModelSpec, choose_backend, load_backend, resolve
from .params import GenerationParams

TEMPLATE = "template"  # prompt type meaning "the model's own chat template"


@dataclass
class LoadedModel:
    alias: str
    spec: ModelSpec
    backend: Backend
    options: LoadOptions
    prompt_type: str
    load_seconds: float
    params: GenerationParams = field(default_factory=GenerationParams)

    @property
    def name(self) -> str:
        return self.spec.name

    def info(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "model": self.spec.name,
            "prompt_type": self.prompt_type,
            "load_seconds": round(self.load_seconds, 2),
            **self.backend.describe(),
        }


def _check_prompt_type(options: LoadOptions) -> None:
    """Refuse a bad prompt type before any weights load."""
    from h2ogpt_jupyter import prompts

    if not options.prompt_type:
        return
    if options.prompt_type not in (*prompts.PROMPT_TYPES, TEMPLATE):
        known = ", ".join((*prompts.PROMPT_TYPES, TEMPLATE))
        raise InvalidOptionError(
            f"unknown prompt_type '{options.prompt_type}'; choose one of: {known}"
        )
    if options.prompt_type == "custom":
        if not options.prompt_dict:
            raise InvalidOptionError("prompt_type 'custom' needs a prompt_dict")
        try:
            prompts.get_prompt_format("custom", options.prompt_dict)
        except ValueError as exc:
            raise InvalidOptionError(str(exc)) from None


def _pick_prompt_type(spec: ModelSpec, options: LoadOptions, backend: Backend) -> str:
    """h2oGPT's order: what the user said, the model name, the model's template, plain."""
    from h2ogpt_jupyter import prompts

    if options.prompt_type:
        if options.prompt_type == TEMPLATE and backend.chat_template() is None:
            raise InvalidOptionError(f"'{spec.name}' has no chat template; choose a prompt_type")
        return options.prompt_type
    if backend.accepts_messages and spec.api == "chat":
        return "openai_chat"
    if spec.kind == "server":
        return prompts.prompt_type_for_model(spec.server_model) or "plain"
    found = prompts.prompt_type_for_model(spec.hf_name or spec.name)
    if found:
        return found
    if backend.chat_template() is not None:
        return TEMPLATE
    return "plain"


class ModelManager:
    def __init__(self) -> None:
        self._models: dict[str, LoadedModel] = {}
        self.default: str | None = None
        self._lock = threading.RLock()

    def load(self, name: str, alias: str | None = None, **options: Any) -> LoadedModel:
        """Load ``name`` (see :mod:`h2ogpt_jupyter.models.backends`) with h2oGPT's load options."""
        opts = _load_options(options)
        alias = alias or _default_alias(name, opts)
        if not re.fullmatch(r"[\w.\-]+", alias):
            raise InvalidOptionError(f"alias '{alias}' may use letters, digits, '.', '-', '_'")
        _check_prompt_type(opts)
        spec = resolve(name, opts)
        choose_backend(spec, opts)  # refuse impossible combinations before any heavy import
        with self._lock:
            # Everything checkable is checked: only now make room for the new copy.
            if alias in self._models:
                self.unload(alias)
            start = time.perf_counter()
            backend = load_backend(spec, opts)
            try:
                prompt_type = _pick_prompt_type(spec, opts, backend)
            except H2OGPTError:
                backend.close()
                raise
            model = LoadedModel(
                alias, spec, backend, opts, prompt_type, time.perf_counter() - start
            )
            self._models[alias] = model
            if self.default is None:
                self.default = alias
            return model

    def unload(self, alias: str | None = None) -> None:
        with self._lock:
            model = self.get(alias)
            del self._models[model.alias]
            if self.default == model.alias:
                self.default = next(iter(self._models), None)
            model.backend.close()
            del model
            gc.collect()
            torch = sys.modules.get("torch")
            if torch is not None and torch.cuda.is_available():
                torch.cuda.empty_cache()

    def unload_all(self) -> None:
        for alias in list(self._models):
            self.unload(alias)

    def use(self, alias: str) -> LoadedModel:
        model = self.get(alias)
        self.default = model.alias
        return model

    def get(self, alias: str | None = None) -> LoadedModel:
        key = alias or self.default
        if key is None:
            raise ModelNotLoadedError("no model is loaded; try: %h2ogpt load smollm2")
        if key not in self._models:
            loaded = ", ".join(self._models) or "none"
            raise ModelNotLoadedError(f"no model loaded as '{key}' (loaded: {loaded})")
        return self._models[key]

    def __contains__(self, alias: object) -> bool:
        return alias in self._models

    def __len__(self) -> int:
        return len(self._models)

    def list(self) -> list[dict[str, Any]]:
        return [{**m.info(), "default": a == self.default} for a, m in self._models.items()]


def with_settings(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with the configured ``allow_download`` and ``backend`` (``c.H2OGPT.*`` or
    ``H2OGPT_*``) where they say nothing, as the magics and panels load models."""
    from h2ogpt_jupyter.config import settings

    s = settings()
    out = {"allow_download": s.allow_download, **options}
    if s.backend and s.backend != "auto":
        out.setdefault("backend", s.backend)
    return out


def _load_options(options: dict[str, Any]) -> LoadOptions:
    known = set(LoadOptions.names())
    clean = {}
    for key, value in options.items():
        name = key.replace("-", "_")
        if name not in known:
            raise InvalidOptionError(
                f"unknown load option '{key}'; known: {', '.join(sorted(known))}"
            )
        clean[name] = value
    return LoadOptions(**clean)


def _default_alias(name: str, opts: LoadOptions) -> str:
    base = re.sub(r"[^\w.\-]+", "-", name.rstrip("/").split("/")[-1]).strip("-") or "model"
    base = base.removesuffix(".gguf")
    return f"{base}-{opts.quantization}" if opts.quantization else base


_manager: ModelManager | None = None
_manager_lock = threading.Lock()


def get_manager() -> ModelManager:
    """The kernel's one manager."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = ModelManager()
        return _manager
