"""Which embedding model a collection is in, and re-embedding it with another on request.

Vectors from two models cannot be compared, so a collection holds one model's vectors only and
refuses another model (see :class:`.store.Collection`). Moving to a new model re-embeds every
stored chunk; the chunks' text is in Chroma, so nothing is read or parsed again.

The new vectors never go into the live collection. They are built into two staging
collections, ``NAME.reembed`` and ``NAME.reembed.docs`` (only committed chunks and pages are
copied, so leftovers of cut-short ingests are dropped on the way); then a metadata flag on
``NAME.reembed`` marks the copy complete — the commit point — and four renames swap the copies
in, the old ones being kept as ``NAME.retired*`` until the end:

1. ``NAME`` → ``NAME.retired``
2. ``NAME.docs`` → ``NAME.retired.docs``
3. ``NAME.reembed.docs`` → ``NAME.docs``
4. ``NAME.reembed`` → ``NAME``, then both retired collections are deleted.

A crash before the flag leaves the old collection untouched and consistent (the staging copies
are discarded by the next attempt). From step 1 on, ``NAME`` is missing until step 4 ends, and
opening a collection that is missing first looks for a completed staging copy and finishes the
swap (:func:`finish`), so a crash anywhere in the swap rolls forward to the new model on the
next open. Every step checks the state first, so finishing twice does no harm.

Writes made to the collection while it is being copied would be lost in the swap, so the copy
compares the manifests before and after, and gives up with a clear error if they changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from h2ogpt_jupyter.errors import H2OGPTError, UnknownCollectionError

from ._names import DOCS_SUFFIX, Place

if TYPE_CHECKING:
    import numpy as np

    from .embeddings import Embedder

STAGING = ".reembed"
RETIRED = ".retired"
STATE = "reembed_state"  # on the staging collection: "copying", then "complete"
READ_PAGE = 1000  # records read per Chroma call while copying
PROGRESS_OVER = 2000  # chunks above which a progress bar appears by default


def companions(name: str) -> tuple[str, ...]:
    """The staging and retired Chroma collections a re-embedding of ``name`` may leave."""
    return (
        name + STAGING,
        name + STAGING + DOCS_SUFFIX,
        name + RETIRED,
        name + RETIRED + DOCS_SUFFIX,
    )


def open_chunks(client: Any, name: str, where: Place, ef: Any) -> Any | None:
    """The chunk collection ``name``, or None if there is none; a re-embedding that stopped
    mid-swap is finished first (see :func:`finish`)."""
    from ._chroma import is_not_found, unreachable

    for attempt in (1, 2):
        try:
            return client.get_collection(name, embedding_function=ef)
        except Exception as exc:
            if not is_not_found(exc):
                if where.url:
                    raise unreachable(where.url, exc) from exc
                raise H2OGPTError(f"cannot open collection '{name}': {exc}") from exc
        if attempt == 2 or not finish(client, name):
            break
    return None


def recorded_model(stored: dict[str, Any]) -> str | None:
    """The model folder recorded with a collection, if it still holds that model here."""
    from pathlib import Path

    from .embeddings import model_id

    hint = str(stored.get("embedding_path", ""))
    if not hint or not Path(hint).is_dir():
        return None
    try:
        return hint if model_id(hint) == stored.get("embedding_model") else None
    except H2OGPTError:  # not a model folder (any more)
        return None


def _ef(embedder: Embedder | None = None) -> Any:
    from ._chroma import LocalEmbeddingFunction

    if embedder is None:
        return LocalEmbeddingFunction()
    return LocalEmbeddingFunction(str(embedder.path), embedder.model_id)


def _get(client: Any, name: str) -> Any | None:
    from ._chroma import is_not_found

    try:
        return client.get_collection(name, embedding_function=_ef())
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def _drop(client: Any, *names: str) -> None:
    from ._chroma import is_not_found

    for name in names:
        try:
            client.delete_collection(name)
        except Exception as exc:
            if not is_not_found(exc):
                raise


def _rename(client: Any, old: str, new: str) -> None:
    """Rename ``old`` to ``new``; a rename another process already made is not an error."""
    found = _get(client, old)
    if found is None:
        return
    try:
        found.modify(name=new)
    except Exception:
        if _get(client, old) is not None:  # still there: a real failure
            raise


def _unit(vector: np.ndarray) -> list[float]:
    import numpy as np

    norm = float(np.linalg.norm(vector))
    unit: list[float] = (vector / norm if norm > 0 else vector).astype(np.float32).tolist()
    return unit


def _versions(docs: Any) -> dict[str, str]:
    """Committed version of every source, from the manifests."""
    got = docs.get(where={"kind": "source"}, include=["metadatas"])
    return {str(m["source"]): str(m.get("version")) for m in got["metadatas"] or []}


def _pages_of(target: Any, where: dict[str, Any] | None) -> Any:
    """Every record of ``target`` (matching ``where``) in slices of :data:`READ_PAGE`."""
    offset = 0
    while True:
        got = target.get(
            where=where,
            include=["documents", "metadatas"],
            limit=READ_PAGE,
            offset=offset,
        )
        if got["ids"]:
            yield got
        if len(got["ids"]) < READ_PAGE:
            return
        offset += READ_PAGE


class _Copier:
    """Copies one collection's committed records into the staging pair with new vectors."""

    def __init__(self, client: Any, embedder: Embedder, versions: dict[str, str]) -> None:
        self.client = client
        self.embedder = embedder
        self.versions = versions
        self.batch = max(1, int(client.get_max_batch_size()))
        # Sums of new chunk vectors per (source, page) and per (source, None): pages and
        # manifests carry the mean of their chunks' vectors, as written at ingest.
        self.sums: dict[tuple[str, int | None], Any] = {}

    def _committed(self, meta: dict[str, Any] | None) -> bool:
        meta = meta or {}  # a record without metadata belongs to no committed source
        version = meta.get("version")
        return version is not None and self.versions.get(str(meta.get("source"))) == version

    def _upsert(
        self, target: Any, ids: list[str], vectors: Any, docs: list[str], metas: Any
    ) -> None:
        from ._chroma import upsert_batches

        upsert_batches(target, self.batch, ids, vectors, docs, metas)

    def chunks(self, old: Any, new: Any, tick: Callable[[int], None]) -> int:
        copied = 0
        for got in _pages_of(old, None):
            rows = [
                (rid, doc or "", meta)
                for rid, doc, meta in zip(
                    got["ids"], got["documents"], got["metadatas"], strict=True
                )
                if self._committed(meta)
            ]
            tick(len(got["ids"]))
            if not rows:
                continue
            ids, docs, metas = (list(column) for column in zip(*rows, strict=True))
            vectors = self.embedder.embed(docs)
            for vector, meta in zip(vectors, metas, strict=True):
                source = str(meta["source"])
                for key in ((source, int(meta.get("page", 0))), (source, None)):
                    if key in self.sums:
                        self.sums[key] = self.sums[key] + vector
                    else:
                        self.sums[key] = vector.astype("float64")
            self._upsert(new, ids, vectors, docs, metas)
            copied += len(ids)
        return copied

    def docs(self, old: Any, new: Any) -> None:
        """Pages and manifests: their chunks' mean vector; anything else: its own text's."""
        for got in _pages_of(old, None):
            ids: list[str] = []
            vectors: list[Any] = []
            docs: list[str] = []
            metas: list[dict[str, Any]] = []
            own: list[int] = []  # rows without chunks to average: embed their text
            for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                meta = meta or {}
                kind, source = meta.get("kind"), str(meta.get("source"))
                if kind in ("page", "source") and not self._committed(meta):
                    continue
                key = (source, int(meta.get("page", 0))) if kind == "page" else (source, None)
                total = self.sums.get(key, self.sums.get((source, None)))
                if kind not in ("page", "source") or total is None:
                    own.append(len(ids))
                    vectors.append(None)
                else:
                    vectors.append(_unit(total))
                if kind == "source":  # the manifest names the model its chunks are in
                    meta = {**meta, "embedding_model": self.embedder.model_id}
                ids.append(rid)
                docs.append(doc or "")
                metas.append(meta)
            if own:
                fresh = self.embedder.embed([docs[row] for row in own])
                for row, vector in zip(own, fresh, strict=True):
                    vectors[row] = _unit(vector)
            if ids:
                self._upsert(new, ids, vectors, docs, metas)


def reembed(client: Any, name: str, embedder: Embedder, *, progress: bool | None = None) -> int:
    """Re-embed the collection ``name`` with ``embedder`` and swap the result in.

    Returns the chunks re-embedded (0 when the collection already uses this model).
    """
    finish(client, name)  # an earlier run that got past its commit point
    copied = build(client, name, embedder, progress=progress)
    finish(client, name)
    return copied


def build(client: Any, name: str, embedder: Embedder, *, progress: bool | None = None) -> int:
    """Copy ``name`` into the staging pair with ``embedder`` 's vectors and mark the copy
    complete; the live collection is not touched. Returns the chunks copied."""
    old = _get(client, name)
    old_docs = _get(client, name + DOCS_SUFFIX)
    if old is None:
        raise UnknownCollectionError(f"no collection named '{name}'")
    stored = dict(old.metadata or {})
    if stored.get("embedding_model") == embedder.model_id:
        return 0
    _drop(client, *companions(name))  # an earlier attempt cut short before its commit
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    meta = {
        **stored,
        "embedding_model": embedder.model_id,
        "embedding_path": str(embedder.path),
        "embedding_dim": int(embedder.dim),
        "reembedded": now,
        "reembedded_from": str(stored.get("embedding_model", "")),
        STATE: "copying",
    }
    staging = client.create_collection(
        name + STAGING,
        embedding_function=_ef(embedder),
        metadata=meta,
        configuration={"hnsw": {"space": "l2"}},
    )
    staging_docs = client.create_collection(
        name + STAGING + DOCS_SUFFIX, embedding_function=_ef(embedder)
    )
    versions = _versions(old_docs) if old_docs is not None else {}
    copier = _Copier(client, embedder, versions)
    total = old.count()
    show = total > PROGRESS_OVER if progress is None else progress
    bar = _bar(total, name) if show and total else None
    try:
        copied = copier.chunks(old, staging, bar.update if bar is not None else _no_tick)
        if old_docs is not None:
            copier.docs(old_docs, staging_docs)
    finally:
        if bar is not None:
            bar.close()
    if old_docs is not None and _versions(old_docs) != versions:
        _drop(client, *companions(name))
        raise H2OGPTError(
            f"collection '{name}' changed while it was being re-embedded (an add or delete "
            "ran at the same time); nothing was changed, run the re-embedding again"
        )
    staging.modify(metadata={**meta, STATE: "complete"})  # the commit point
    return copied


def _no_tick(count: int) -> None:
    return None


def finish(client: Any, name: str, *, steps: int | None = None) -> bool:
    """Swap a completed staging copy of ``name`` in (only the first ``steps`` steps: for
    tests of a crash mid-swap). Returns whether one was waiting."""
    staging = _get(client, name + STAGING)
    if staging is None or (staging.metadata or {}).get(STATE) != "complete":
        return False
    docs, staging_docs = name + DOCS_SUFFIX, name + STAGING + DOCS_SUFFIX

    def retire_chunks() -> None:
        if _get(client, name) is not None:  # while staging exists, NAME is the old one
            _drop(client, name + RETIRED)
            _rename(client, name, name + RETIRED)

    def retire_docs() -> None:
        if _get(client, staging_docs) is not None and _get(client, docs) is not None:
            _drop(client, name + RETIRED + DOCS_SUFFIX)
            _rename(client, docs, name + RETIRED + DOCS_SUFFIX)

    actions: list[Callable[[], None]] = [
        retire_chunks,
        retire_docs,
        lambda: _rename(client, staging_docs, docs),
        lambda: _rename(client, name + STAGING, name),
        lambda: _drop(client, name + RETIRED, name + RETIRED + DOCS_SUFFIX),
    ]
    for action in actions[:steps]:
        action()
    return True


def drop_retired(client: Any, name: str) -> int:
    """Delete the old collections a finished swap left behind (when none is under way);
    returns the records they held."""
    if _get(client, name + STAGING) is not None:  # a copy or swap may be running
        return 0
    removed = 0
    for retired in (name + RETIRED, name + RETIRED + DOCS_SUFFIX):
        found = _get(client, retired)
        if found is not None:
            removed += found.count()
            _drop(client, retired)
    return removed


def _bar(total: int, name: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"re-embed {name}", unit="chunk")
