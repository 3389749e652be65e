"""Chroma clients and the embedding function every collection is opened with.

Imported only when a collection is used, since ``import chromadb`` takes seconds.

Chroma falls back to its own default embedding function — which downloads an ONNX model —
whenever a collection is opened without one, and even when it is created with ``None`` and
later asked to embed text. So every collection is created and opened with
:class:`LocalEmbeddingFunction`, registered under its own name: Chroma persists that name, a
process that opens the collection without this package gets an error instead of a download,
and one with it embeds with the local sentence-transformers folder. Our own code always
passes vectors, so this function is a guard more than a path.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings
from chromadb.utils.embedding_functions import register_embedding_function

from ..errors import H2OGPTError

EF_NAME = "h2ogpt-jupyter-local"


@register_embedding_function
class LocalEmbeddingFunction(EmbeddingFunction[Documents]):
    """Embeds with a local sentence-transformers folder; never downloads anything."""

    def __init__(self, model_path: str = "", model_id: str = "") -> None:
        self.model_path = model_path
        self.model_id = model_id

    def __call__(self, input: Documents) -> Embeddings:
        from .embeddings import get_embedder

        if not self.model_path or not Path(self.model_path).is_dir():
            raise H2OGPTError(
                f"embedding model {self.model_id or '?'} is not on this machine "
                f"({self.model_path or 'no path recorded'})"
            )
        return list(get_embedder(self.model_path).embed(list(input)))

    @staticmethod
    def name() -> str:
        return EF_NAME

    def get_config(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "model_id": self.model_id}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LocalEmbeddingFunction:
        return LocalEmbeddingFunction(config.get("model_path", ""), config.get("model_id", ""))

    def default_space(self) -> Any:
        return "l2"

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        return None


_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(path: Path) -> Any:
    """One ``PersistentClient`` per folder in this process, telemetry off."""
    key = str(path.expanduser().resolve())
    with _lock:
        if key not in _clients:
            try:
                Path(key).mkdir(parents=True, exist_ok=True)
                _clients[key] = chromadb.PersistentClient(
                    path=key, settings=Settings(anonymized_telemetry=False, allow_reset=False)
                )
            except PermissionError:
                raise H2OGPTError(f"cannot open collections at {key}: permission denied") from None
            except Exception as exc:
                raise H2OGPTError(f"cannot open collections at {key}: {exc}") from exc
        return _clients[key]


def forget(path: Path) -> None:
    """Drop a cached client (e.g. after its folder was removed)."""
    with _lock:
        _clients.pop(str(path.expanduser().resolve()), None)


def is_not_found(exc: Exception) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError) or "does not exist" in str(exc)
