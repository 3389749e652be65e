"""Engines behind one :class:`Backend` seam: transformers, llama.cpp, OpenAI-compatible servers.

Backends are found through the ``h2ogpt_jupyter.backends`` entry-point group, so a plugin
package can add one; the three built-in ones are also known by name so an uninstalled
checkout still works. Each is imported only when a model needs it.
"""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import EntryPoint, entry_points

from h2ogpt_jupyter.errors import BackendUnavailableError, InvalidOptionError

from .base import (
    Backend,
    BackendRequest,
    ChatTemplate,
    LoadOptions,
    Messages,
    ModelSpec,
    StreamEvent,
)
from .names import PACKAGED, packaged_path, resolve

__all__ = [
    "PACKAGED",
    "Backend",
    "BackendRequest",
    "ChatTemplate",
    "LoadOptions",
    "Messages",
    "ModelSpec",
    "StreamEvent",
    "available_backends",
    "backend_class",
    "choose_backend",
    "load_backend",
    "packaged_path",
    "resolve",
]

ENTRY_POINT_GROUP = "h2ogpt_jupyter.backends"

_BUILTIN = {
    "transformers": (
        "h2ogpt_jupyter.models.backends.hf_transformers",
        "TransformersBackend",
        "torch",
    ),
    "llamacpp": ("h2ogpt_jupyter.models.backends.llamacpp", "LlamaCppBackend", "llama_cpp"),
    "openai": ("h2ogpt_jupyter.models.backends.openai_compatible", "OpenAIBackend", "openai"),
}


def _plugins() -> dict[str, EntryPoint]:
    """Entry points of other packages. This package declares its own three as entry points
    too; those are left to ``_BUILTIN``, which checks the engine is installed before importing,
    so a missing engine is reported by name instead of as an ImportError traceback."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in _BUILTIN}


def available_backends() -> list[str]:
    """Backend names usable here: built-ins whose engine is installed, plus plugins."""
    names = {n for n, (_, _, dep) in _BUILTIN.items() if importlib.util.find_spec(dep)}
    return sorted(names | set(_plugins()))


def backend_class(name: str) -> type[Backend]:
    plugin = _plugins().get(name)
    if name in _BUILTIN:
        module, attr, dep = _BUILTIN[name]
        if importlib.util.find_spec(dep) is None:
            raise BackendUnavailableError(
                f"backend '{name}' needs the '{dep}' package, which is not installed"
            )
        cls = getattr(importlib.import_module(module), attr)
    elif plugin is not None:
        try:
            cls = plugin.load()
        except Exception as exc:  # a broken plugin is the user's to fix: say which and why
            raise BackendUnavailableError(
                f"backend plugin '{name}' ({plugin.value}) failed to load: {exc}"
            ) from None
    else:
        known = ", ".join(sorted(set(_BUILTIN) | set(_plugins())))
        raise InvalidOptionError(f"unknown backend '{name}'; choose one of: auto, {known}")
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise InvalidOptionError(f"backend '{name}' does not provide a Backend class")
    return cls


def choose_backend(spec: ModelSpec, options: LoadOptions) -> str:
    """The engine for a model: what the user asked for, else the fastest that can load it."""
    if options.backend != "auto":
        wanted = options.backend
        if spec.kind == "server" and wanted != "openai":
            raise InvalidOptionError(f"'{spec.name}' is a server; it can only use backend 'openai'")
        if spec.kind == "hf" and wanted == "llamacpp":
            raise InvalidOptionError(f"'{spec.name}' is not a GGUF model; llamacpp cannot load it")
        if wanted == "llamacpp" and (
            options.quantization or options.lora_weights or options.rope_scaling
        ):
            raise InvalidOptionError(
                "load_8bit/load_4bit/lora_weights/rope_scaling need backend 'transformers', "
                "not 'llamacpp'"
            )
        return wanted
    if spec.kind == "server":
        return "openai"
    if spec.kind == "gguf":
        needs_hf = options.quantization or options.lora_weights or options.rope_scaling
        if not needs_hf and importlib.util.find_spec("llama_cpp") is not None:
            return "llamacpp"
    return "transformers"


def load_backend(spec: ModelSpec, options: LoadOptions) -> Backend:
    return backend_class(choose_backend(spec, options))(spec, options)
