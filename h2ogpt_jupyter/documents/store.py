"""Document collections in Chroma, as in h2oGPT: ``UserData`` (shared), ``MyData`` and named
ones (personal); see :mod:`._names` for where each lives (local folders, or a Chroma server).

Each collection is two Chroma collections: ``NAME`` holds the chunks and their vectors,
``NAME.docs`` holds whole parsed pages (for summaries) and one manifest record per source.
The manifest is written last and names the version (content hash + chunking) of the source's
current chunks, so it is the commit: queries only return chunks of that version. A
half-written ingest, a replacement in progress or a delete cut short is therefore never
visible, and running the same ``add`` again finishes it (ids are deterministic, writes are
upserts).

A collection holds one embedding model's vectors; :meth:`Collection.reembed` moves it to
another model without a window in which it is half one and half the other (see
:mod:`._migrate`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError, UnknownCollectionError

from ._names import (
    DOCS_SUFFIX,
    MYDATA,
    USERDATA,
    check_name,
    check_writable,
    chroma_key,
    manifest_id,
    place,
)
from .catalog import delete_collection, list_collections
from .chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from .hits import Hit, Page, make_hit

__all__ = ["Collection", "delete_collection", "get_collection", "list_collections"]

if TYPE_CHECKING:
    from .embeddings import Embedder
    from .inputs import Input
    from .report import IngestReport

ALL_LIMIT = 1000  # k=-1 ("fill the context") returns at most this many chunks


F = TypeVar("F", bound=Callable[..., Any])


def _reads(method: F) -> F:
    """Reading methods first take new handles if another process wrote meanwhile."""

    @functools.wraps(method)
    def wrapper(self: Collection, *args: Any, **kwargs: Any) -> Any:
        self._fresh()
        return method(self, *args, **kwargs)

    return cast(F, wrapper)


def _writes(method: F) -> F:
    """Writing methods are refused on a read-only UserData, start from fresh handles, and
    record their own writes so that they do not look like another process's."""

    @functools.wraps(method)
    def wrapper(self: Collection, *args: Any, **kwargs: Any) -> Any:
        check_writable(self.name)
        self._fresh()
        try:
            return method(self, *args, **kwargs)
        finally:
            self._wrote()

    return cast(F, wrapper)


class Collection:
    """A document collection: ``add`` files, folders, URLs or text; ``query`` it; list and
    delete its sources. Opening one never loads the embedding model; adding or querying does.

    ``hf_embedding_model`` names a local sentence-transformers folder (default: the model the
    collection was built with if it is on this machine, else the configured or packaged one).
    Asking for a different model than the collection's is refused, as its vectors would not
    be comparable, unless ``reembed=True``: then every stored chunk is re-embedded with the
    new model first (see :meth:`reembed`).
    """

    def __init__(
        self,
        name: str = MYDATA,
        *,
        hf_embedding_model: str | os.PathLike[str] | None = None,
        embedder: Embedder | None = None,
        create: bool = True,
        reembed: bool = False,
    ) -> None:
        from . import _chroma, _migrate
        from .embeddings import get_embedder, resolve_model_path

        self.name = check_name(name)
        self.key = chroma_key(self.name)  # what Chroma calls it (see ._names)
        self.place = place(self.name)
        self.path: Path | None = self.place.folder  # None on a Chroma server
        client = _chroma.client(self.place, create=create)
        if client is None:
            raise UnknownCollectionError(f"no collection named '{self.name}'")
        # A cached client that missed another process's writes is replaced first.
        self._generation = _chroma.reopened(self.path)
        self._client = _chroma.client(self.place)
        self._ef = _chroma.LocalEmbeddingFunction()
        found = _migrate.open_chunks(self._client, self.key, self.place, self._ef)
        if found is None and not create:
            raise UnknownCollectionError(f"no collection named '{self.name}'")
        existed = found is not None
        stored = (found.metadata or {}) if found is not None else {}
        stored_id = stored.get("embedding_model", "")
        if embedder is None and hf_embedding_model is None and stored_id:
            hf_embedding_model = _migrate.recorded_model(stored)
        if embedder is None:
            embedder = get_embedder(resolve_model_path(hf_embedding_model))
        self.embedder = embedder
        preload = getattr(embedder, "prepare_in_background", None)
        if preload is not None:
            preload()  # a collection opened is about to be used: its imports run meanwhile
        self._ef.model_path, self._ef.model_id = str(embedder.path), embedder.model_id
        self._chunks: Any = found
        if found is None:
            self._chunks = self._client.get_or_create_collection(
                self.key,
                embedding_function=self._ef,
                metadata=self._model_metadata(),
                configuration={"hnsw": {"space": "l2"}},
            )
        self._docs = self._client.get_or_create_collection(
            self.key + DOCS_SUFFIX, embedding_function=self._ef
        )
        if existed and stored_id != embedder.model_id:
            self._adopt_or_refuse(stored, reembed)

    def _fresh(self) -> None:
        """Take new handles if the folder was reopened because another process wrote to it
        (see :mod:`._chroma`); a no-op on a Chroma server, which is always current."""
        from . import _chroma

        generation = _chroma.reopened(self.path)
        if generation == self._generation:
            return
        self._client = _chroma.client(self.place)
        self._chunks = self._client.get_collection(self.key, embedding_function=self._ef)
        self._docs = self._client.get_collection(
            self.key + DOCS_SUFFIX, embedding_function=self._ef
        )
        self._generation = generation

    def _wrote(self) -> None:
        from . import _chroma

        _chroma.wrote(self.path)

    def __repr__(self) -> str:
        where = self.place.label
        return f"Collection({self.name!r}, model={self.embedder.model_id!r}, path='{where}')"

    def _model_metadata(self, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        from datetime import datetime, timezone

        meta = dict(previous or {})
        meta.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        meta.update(
            app="h2ogpt-jupyter",
            schema=1,
            embedding_model=self.embedder.model_id,
            embedding_path=str(self.embedder.path),
            embedding_dim=self.embedder.dim,
            name=self.name,  # as typed; Chroma knows it by its key
        )
        return meta

    def _adopt_or_refuse(self, stored: dict[str, Any], reembed: bool) -> None:
        """An empty collection takes the new model; one with chunks is re-embedded when asked
        to, and refuses the model otherwise."""
        if self._chunks.count() == 0:
            self._chunks.modify(metadata=self._model_metadata(stored))
            return
        if reembed:
            self.reembed(embedder=self.embedder)
            return
        built, where = stored.get("embedding_model", "?"), stored.get("embedding_path", "")
        raise H2OGPTError(
            f"collection '{self.name}' was built with embedding model {built}, not "
            f"{self.embedder.model_id}: vectors from different models cannot be compared. Use "
            f"hf_embedding_model={where or '<the folder of ' + built + '>'!r}, or re-embed "
            "the collection with the new model: get_collection(..., reembed=True) or "
            ".reembed(hf_embedding_model=...)."
        )

    @_writes
    def reembed(
        self,
        hf_embedding_model: str | os.PathLike[str] | None = None,
        *,
        embedder: Embedder | None = None,
        progress: bool | None = None,
    ) -> int:
        """Re-embed every stored chunk with another model and make it the collection's model.

        The chunks' text is in the collection, so no file is read again. The new vectors are
        built beside the old ones and swapped in at the end: the collection stays usable with
        the old model until then, and a crash mid-way leaves it whole with one model or the
        other. Do not add to or delete from it meanwhile, and open it again in other kernels
        (and other ``Collection`` objects of it) afterwards: their handles point to the old
        copy, which is deleted. Returns the chunks re-embedded (0 if already in that model).
        """
        from . import _chroma, _migrate
        from .embeddings import get_embedder, resolve_model_path

        if embedder is None:
            embedder = get_embedder(resolve_model_path(hf_embedding_model))
        load = getattr(embedder, "load", None)
        if load is not None:
            load()  # a missing or broken model fails here, before anything is copied
        done = _migrate.reembed(self._client, self.key, embedder, progress=progress)
        self.embedder = embedder
        self._ef = _chroma.LocalEmbeddingFunction(str(embedder.path), embedder.model_id)
        self._chunks = self._client.get_collection(self.key, embedding_function=self._ef)
        self._docs = self._client.get_collection(
            self.key + DOCS_SUFFIX, embedding_function=self._ef
        )
        return done

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    # -- writing ---------------------------------------------------------------------------

    @_writes
    def add(
        self,
        paths_or_texts: Input | Iterable[Input],
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
        *,
        max_file_mb: float | None = None,
        progress: bool | None = None,
        workers: int | None = None,
    ) -> IngestReport:
        """Ingest files, folders (recursive), globs, URLs and text; never raises for one bad
        file — see the returned report. Unchanged sources are skipped; changed ones replaced.

        ``max_file_mb`` (default ``H2OGPT_MAX_FILE_MB`` or 50) refuses larger inputs;
        ``progress`` shows a bar (default: for more than 20 inputs).
        """
        from ._ingest import ingest

        return ingest(
            self,
            paths_or_texts,
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            max_file_mb=max_file_mb,
            progress=progress,
            workers=workers,
        )

    @_writes
    def delete(self, source: str | Sequence[str]) -> int:
        """Remove sources (full path, URL, or a unique file name); returns chunks removed."""
        names = [source] if isinstance(source, str) else list(source)
        manifests = self._resolve(names)
        removed = 0
        for name in manifests:
            # The manifest goes first: from then on the chunks are invisible, even if the
            # process dies before they are deleted.
            self._docs.delete(ids=[manifest_id(name)])
            removed += int(manifests[name].get("chunks", 0))
            self._chunks.delete(where={"source": name})
            self._docs.delete(where={"source": name})
        return removed

    # -- reading ---------------------------------------------------------------------------

    def _manifests(self, sources: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        if sources is None:
            metas = self._docs.get(where={"kind": "source"}, include=["metadatas"])["metadatas"]
        else:
            ids, metas = sorted({manifest_id(s) for s in sources}), []
            for start in range(0, len(ids), 1000):  # keep each lookup well inside SQLite limits
                got = self._docs.get(ids=ids[start : start + 1000], include=["metadatas"])
                metas.extend(got["metadatas"] or [])
        return {str(m["source"]): dict(m) for m in metas or []}

    def _resolve(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored sources (with their manifests) for what the user typed: the exact name, the
        real path of a relative or ``../`` path, the name given to a pasted text, or a unique
        tail such as a file name."""
        wanted = {name: [name] for name in names}
        for name, candidates in wanted.items():
            if not name.startswith(("text:", "http://", "https://", "arxiv:")):
                candidates.append(str(Path(name).expanduser().resolve()))
                candidates.append(f"text:{name}")
        known = self._manifests([c for cs in wanted.values() for c in cs])  # by id: cheap
        everything: dict[str, dict[str, Any]] | None = None
        found: dict[str, dict[str, Any]] = {}
        for name, candidates in wanted.items():
            exact = [c for c in candidates if c in known]
            if exact:
                found[exact[0]] = known[exact[0]]
                continue
            if everything is None:
                everything = self._manifests()
            tail = [s for s in everything if s.endswith("/" + name.lstrip("/"))]
            if len(tail) == 1:
                found[tail[0]] = everything[tail[0]]
            elif tail:
                raise H2OGPTError(f"'{name}' matches several sources: " + ", ".join(sorted(tail)))
            else:
                raise H2OGPTError(
                    f"no source '{name}' in collection '{self.name}' (see .sources())"
                )
        return found

    def _where(self, sources: str | Sequence[str] | None) -> dict[str, Any] | None:
        if sources is None:
            return None
        names = [sources] if isinstance(sources, str) else list(sources)
        if not names:
            return None
        return {"source": {"$in": list(self._resolve(names))}}

    def _committed(self, hits: list[Hit]) -> list[Hit]:
        manifests = self._manifests({h.source for h in hits})
        return [
            h
            for h in hits
            if manifests.get(h.source, {}).get("version") == h.metadata.get("version")
        ]

    @_reads
    def query(
        self,
        text: str,
        k: int = 4,
        cut_distance: float | None = None,
        sources: str | Sequence[str] | None = None,
    ) -> list[Hit]:
        """The ``k`` chunks nearest to ``text``, best first (``k=-1``: all, up to 1000).

        ``cut_distance`` drops hits farther than it (h2oGPT's default is 1.64);
        ``sources`` limits the search to some documents (h2oGPT's ``document_choice``).
        """
        if not isinstance(text, str) or not text.strip():
            raise InvalidOptionError("query text is empty")
        if not isinstance(k, int) or k == 0 or k < -1:
            raise InvalidOptionError(f"k must be a positive integer or -1 (all): {k!r}")
        where = self._where(sources)
        # Is there anything at all? (So that an empty collection never loads the model.) A
        # one-result search with a zero vector answers that in about a millisecond, where
        # count() reads every chunk: ~10 ms at 100k chunks.
        probe = [[0.0] * self.embedder.dim]
        if not self._chunks.query(query_embeddings=probe, n_results=1, include=[])["ids"][0]:
            return []
        want = ALL_LIMIT if k == -1 else k
        vector = self.embedder.embed([text])
        asked = want + 8
        while True:
            got = self._chunks.query(
                query_embeddings=vector,
                n_results=asked,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            raw = [
                make_hit(i, d or "", m or {}, dist)
                for i, d, m, dist in zip(
                    got["ids"][0],
                    got["documents"][0],
                    got["metadatas"][0],
                    got["distances"][0],
                    strict=True,
                )
            ]
            hits = self._committed(raw)
            if len(hits) >= want or len(raw) < asked:  # enough, or every candidate seen
                break
            asked *= 4  # uncommitted leftovers took places: look deeper
        if cut_distance is not None:
            hits = [h for h in hits if h.distance is not None and h.distance <= cut_distance]
        return hits[:want]

    @_reads
    def first_chunks(self, k: int = 4, sources: str | Sequence[str] | None = None) -> list[Hit]:
        """The first ``k`` chunks of each source in document order, no similarity search
        (h2oGPT's ``TopKSources``)."""
        condition: dict[str, Any] = {"chunk": {"$lt": k}}
        where = self._where(sources)
        got = self._chunks.get(
            where={"$and": [condition, where]} if where else condition,
            include=["documents", "metadatas"],
        )
        hits = [
            make_hit(i, d or "", m or {}, None)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(self._committed(hits), key=lambda h: (h.source, h.chunk))

    @_reads
    def pages(self, sources: str | Sequence[str] | None = None) -> list[Page]:
        """Whole parsed pages, in order, for summarizing or extracting over documents."""
        condition: dict[str, Any] = {"kind": "page"}
        where = self._where(sources)
        got = self._docs.get(
            where={"$and": [condition, where]} if where else condition,
            include=["documents", "metadatas"],
        )
        manifests = self._manifests({str(m["source"]) for m in got["metadatas"] or []})
        pages = []
        for text, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
            source = str(meta["source"])
            if manifests.get(source, {}).get("version") != meta.get("version"):
                continue
            number = int(meta.get("page", 0)) or None
            page = Page(source, number, text or "", str(meta.get("parser", "")))
            pages.append((source, int(meta.get("ordinal", 0)), page))
        return [p for _, _, p in sorted(pages, key=lambda x: (x[0], x[1]))]

    @_reads
    def sources(self) -> list[dict[str, Any]]:
        """One row per document: source, chunks, pages, parser, date, bytes, hash."""
        keys = ("source", "chunks", "pages", "parser", "date", "bytes", "hash", "warnings")
        rows = [{k: m.get(k, "") for k in keys} for m in self._manifests().values()]
        return sorted(rows, key=lambda r: str(r["source"]))

    @_writes
    def vacuum(self) -> int:
        """Delete leftovers no manifest points to (from an ingest or delete that was cut
        short) and the old copy a cut-short re-embedding left; they are already invisible,
        this only frees the space. Returns records removed."""
        from ._migrate import drop_retired

        manifests = self._manifests()
        removed = drop_retired(self._client, self.key)
        for target, where in ((self._chunks, None), (self._docs, {"kind": "page"})):
            stale: list[str] = []
            offset, page = 0, 5000
            while True:
                got = target.get(where=where, include=["metadatas"], limit=page, offset=offset)
                for rid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                    current = manifests.get(str(meta.get("source")), {}).get("version")
                    if current is None or current != meta.get("version"):
                        stale.append(rid)
                if len(got["ids"]) < page:
                    break
                offset += page
            for start in range(0, len(stale), page):
                target.delete(ids=stale[start : start + page])
            removed += len(stale)
        return removed

    @_reads
    def count(self) -> int:
        """Chunks of all committed sources."""
        return sum(int(m.get("chunks", 0)) for m in self._manifests().values())

    @_reads
    def info(self) -> dict[str, Any]:
        manifests = self._manifests()
        return {
            "name": self.name,
            "scope": "shared" if self.name == USERDATA else "personal",
            "documents": len(manifests),
            "chunks": sum(int(m.get("chunks", 0)) for m in manifests.values()),
            "embedding_model": self.embedder.model_id,
            "path": self.place.label,
        }


def get_collection(name: str = MYDATA, *, create: bool = True, **options: Any) -> Collection:
    """Open (by default creating) the collection ``name``; options as for :class:`Collection`,
    e.g. ``hf_embedding_model=..., reembed=True`` to move it to another embedding model."""
    return Collection(name, create=create, **options)
