"""An OpenAI-compatible HTTP server over the model manager and document collections.

    h2ogpt-jupyter serve --model smollm2 --port 5000
    python -m h2ogpt_jupyter.server serve --model tiny=/models/tiny?dtype=float32 --port 0

Routes: ``GET /v1/models``, ``POST /v1/chat/completions``, ``POST /v1/completions``,
``POST /v1/embeddings``, ``GET /health`` and ``GET /metrics``. Chat requests also take
h2oGPT's extras (``system_prompt``, ``top_k``, ``repetition_penalty``, ``min_new_tokens`` and
the document options ``collection``/``langchain_mode``, ``top_k_docs``, ``document_subset``,
``document_choice``, ``cut_distance``) and then return the ``sources`` they were given.

Modules: :mod:`.app` (the FastAPI app), :mod:`.completions` (chat and text completions,
streaming), :mod:`.routes` (models, embeddings, health, metrics), :mod:`.work` (what runs on a
worker thread), :mod:`.jobs` (worker threads and cancellation), :mod:`.state` (models,
loading, admission), :mod:`.guard` (API keys), :mod:`.errors`, :mod:`.schemas`,
:mod:`.metrics`, :mod:`.runtime` (runtime files), :mod:`.config`, :mod:`.serve` and
:mod:`.process` (start a server process from Python), :mod:`.lifecycle` (servers a kernel
started), :mod:`.proxy` (jupyter-server-proxy's entry) and :mod:`.jupyter_extension` (the
``<base_url>/h2ogpt/`` route in a Jupyter server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .config import ModelArg, ServerConfig
    from .process import ServerProcess, start_server

__all__ = ["ModelArg", "ServerConfig", "ServerProcess", "create_app", "start_server"]

# Lazy, so the command line (and subcommands that never serve) does not import FastAPI.
_LAZY = {
    "create_app": "app",
    "ModelArg": "config",
    "ServerConfig": "config",
    "ServerProcess": "process",
    "start_server": "process",
}


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Jupyter's hook: this package is a server extension (``jupyter_extension``)."""
    return [{"module": "h2ogpt_jupyter.server.jupyter_extension"}]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
