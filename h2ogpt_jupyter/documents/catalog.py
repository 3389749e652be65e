"""The collections that exist, here and in the shared folder; deleting one.

Listing opens no embedding model and creates no folder, so it is cheap to call from a magic.
"""

from __future__ import annotations

from typing import Any

from ..errors import H2OGPTError
from ._names import DOCS_SUFFIX, USERDATA, check_name, location, personal_path, userdata_path


def list_collections() -> list[dict[str, Any]]:
    """Every collection here and in the shared folder: name, scope, documents, chunks,
    embedding model and path. Opens no embedding model and creates nothing."""
    from . import _chroma

    rows = []
    for scope, path in (("personal", personal_path()), ("shared", userdata_path())):
        if not (path / "chroma.sqlite3").exists():
            continue
        client = _chroma.client(path)
        for col in client.list_collections():
            name = getattr(col, "name", col)
            if name.endswith(DOCS_SUFFIX) or (scope == "shared") != (name == USERDATA):
                continue
            chunks = client.get_collection(name, embedding_function=_ef())
            documents, count = _stats(client, name)
            rows.append(
                {
                    "name": name,
                    "scope": scope,
                    "documents": documents,
                    "chunks": count,
                    "embedding_model": (chunks.metadata or {}).get("embedding_model", ""),
                    "path": str(path),
                }
            )
    return sorted(rows, key=lambda r: (r["scope"] != "shared", r["name"]))


def _ef() -> Any:
    from ._chroma import LocalEmbeddingFunction

    return LocalEmbeddingFunction()


def _stats(client: Any, name: str) -> tuple[int, int]:
    try:
        docs = client.get_collection(name + DOCS_SUFFIX, embedding_function=_ef())
    except Exception:
        return 0, 0
    got = docs.get(where={"kind": "source"}, include=["metadatas"])
    metas = got["metadatas"] or []
    return len(metas), sum(int(m.get("chunks", 0)) for m in metas)


def delete_collection(name: str) -> None:
    """Delete the collection ``name`` and everything in it."""
    from . import _chroma

    name = check_name(name)
    path = location(name)
    if not (path / "chroma.sqlite3").exists():
        raise H2OGPTError(f"no collection named '{name}'")
    client = _chroma.client(path)
    try:
        client.delete_collection(name)
    except Exception as exc:
        if _chroma.is_not_found(exc):
            raise H2OGPTError(f"no collection named '{name}'") from None
        raise H2OGPTError(f"cannot delete collection '{name}': {exc}") from exc
    try:
        client.delete_collection(name + DOCS_SUFFIX)
    except Exception as exc:
        if not _chroma.is_not_found(exc):
            raise
