"""The collections that exist, here and in the shared place; deleting one.

Listing opens no embedding model and creates no folder or server database, so it is cheap to
call from a magic. The same code serves local folders and a Chroma server: only the places
differ (see :mod:`._names`).
"""

from __future__ import annotations

from typing import Any

from h2ogpt_jupyter.errors import H2OGPTError, UnknownCollectionError

from ._names import (
    DOCS_SUFFIX,
    USERDATA,
    Place,
    check_name,
    check_writable,
    chroma_key,
    personal_place,
    place,
    shared_place,
)


def list_collections() -> list[dict[str, Any]]:
    """Every collection here and in the shared place: name, scope, documents, chunks,
    embedding model and path (a folder, or ``<server>/<tenant>/<database>``). Opens no
    embedding model and creates nothing."""
    from . import _chroma

    rows = []
    for scope, where in (("personal", personal_place()), ("shared", shared_place())):
        client = _chroma.client(where, create=False)
        if client is None:
            continue
        for col in _listed(client, where):
            key = getattr(col, "name", col)
            # Dotted keys are parts of a collection (KEY.docs, re-embedding copies).
            if "." in key or (scope == "shared") != (key == USERDATA):
                continue
            try:
                chunks = client.get_collection(key, embedding_function=_ef())
            except Exception as exc:
                if _chroma.is_not_found(exc):  # deleted or being swapped since the listing
                    continue
                raise
            documents, count = _stats(client, key)
            rows.append(
                {
                    "name": (chunks.metadata or {}).get("name") or key,
                    "scope": scope,
                    "documents": documents,
                    "chunks": count,
                    "embedding_model": (chunks.metadata or {}).get("embedding_model", ""),
                    "path": where.label,
                }
            )
    return sorted(rows, key=lambda r: (r["scope"] != "shared", r["name"]))


def _listed(client: Any, where: Place) -> list[Any]:
    from . import _chroma

    try:
        return list(client.list_collections())
    except Exception as exc:
        if where.url:
            raise _chroma.unreachable(where.url, exc) from exc
        raise


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
    """Delete the collection ``name`` and everything in it (with any half-finished
    re-embedding copies)."""
    from . import _chroma
    from ._migrate import companions, finish

    name = check_name(name)
    check_writable(name)
    key = chroma_key(name)
    client = _chroma.client(place(name), create=False)
    if client is None:
        raise UnknownCollectionError(f"no collection named '{name}'")
    finish(client, key)  # a swap cut short: the collection exists, under its staging name
    try:
        client.delete_collection(key)
    except Exception as exc:
        if _chroma.is_not_found(exc):
            raise UnknownCollectionError(f"no collection named '{name}'") from None
        raise H2OGPTError(f"cannot delete collection '{name}': {exc}") from exc
    for other in (key + DOCS_SUFFIX, *companions(key)):
        try:
            client.delete_collection(other)
        except Exception as exc:
            if not _chroma.is_not_found(exc):
                raise
