"""h2oGPT's private, local LLM toolkit inside Jupyter.

``%load_ext h2ogpt_jupyter`` registers the ``%h2ogpt`` magics and imports nothing heavy;
torch, transformers and llama.cpp load only when a model does.

    import h2ogpt_jupyter as h2o
    h2o.load("smollm2")
    h2o.ask("What is the capital of France?").text

    docs = h2o.get_collection("MyData")
    docs.add(["reports/", "notes.md"])
    answer = h2o.ask("What was the Q3 revenue?", collection="MyData")
    answer.sources                                   # the chunks it was given, best first
    h2o.summarize("MyData", sources="report.pdf")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .chat import Chat, ask, extract, summarize
    from .documents import Collection, get_collection, list_collections
    from .errors import H2OGPTError
    from .models import GenerationParams, LoadedModel, ModelManager, Response
    from .panels import ChatPanel, ComparePanel, IngestPanel, SettingsPanel

__all__ = [
    "Chat",
    "ChatPanel",
    "Collection",
    "ComparePanel",
    "GenerationParams",
    "H2OGPTError",
    "IngestPanel",
    "Response",
    "SettingsPanel",
    "__version__",
    "ask",
    "extract",
    "get_collection",
    "get_manager",
    "list_collections",
    "load",
    "summarize",
    "unload",
]

_LAZY = {
    "Chat": ("chat", "Chat"),
    "ask": ("chat", "ask"),
    "GenerationParams": ("models", "GenerationParams"),
    "H2OGPTError": ("errors", "H2OGPTError"),
    "Response": ("models", "Response"),
    "Collection": ("documents", "Collection"),
    "get_collection": ("documents", "get_collection"),
    "list_collections": ("documents", "list_collections"),
    "summarize": ("chat", "summarize"),
    "extract": ("chat", "extract"),
    "ChatPanel": ("panels", "ChatPanel"),
    "ComparePanel": ("panels", "ComparePanel"),
    "IngestPanel": ("panels", "IngestPanel"),
    "SettingsPanel": ("panels", "SettingsPanel"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_manager() -> ModelManager:
    """The kernel's model manager, shared by magics, widgets and the server."""
    from .models import get_manager as _get

    return _get()


def load(name: str, alias: str | None = None, **options: Any) -> LoadedModel:
    """Load a model into the kernel's manager (see ``%h2ogpt help`` for names and options)."""
    return get_manager().load(name, alias=alias, **options)


def unload(alias: str | None = None) -> None:
    get_manager().unload(alias)


def load_ipython_extension(ipython: Any) -> None:
    from .magics import load as register

    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload as unregister

    unregister(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where JupyterLab finds the lab extension (built from labextension/ by `make setup`)."""
    return [{"src": "labextension", "dest": "h2ogpt-jupyterlab"}]
