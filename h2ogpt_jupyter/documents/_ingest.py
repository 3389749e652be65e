"""The ingest pipeline behind ``Collection.add``.

Worker threads read, hash, parse and chunk files while the calling thread embeds and writes:
torch releases the GIL while it computes, so parsing hides behind embedding, the slow part.
Chunks from several small files are embedded in one batch, which is then stored in three
steps — chunks, pages, and last the manifests that commit them — and the chunks of a replaced
version are deleted only after its new manifest is in (see :mod:`.store`).

An unchanged source (same bytes, same chunking) is recognised from its hash before parsing,
so re-adding a folder costs one read per file.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from h2ogpt_jupyter.errors import InvalidOptionError

from ._names import manifest_id, source_key
from .chunking import Chunk, check_sizes, split
from .inputs import Input, Item, expand, read_item
from .parsers import DEFAULT_MAX_FILE_MB, Parsed, ParseError, parse_bytes
from .report import FileResult, IngestReport

if TYPE_CHECKING:
    import numpy as np

    from .store import Collection

EMBED_BATCH = 256  # chunks gathered across files before one encode call
PROGRESS_OVER = 20  # inputs above which a progress bar appears by default

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Prepared:
    """A parsed, chunked source waiting for its vectors."""

    item: Item
    digest: str
    parsed: Parsed
    chunks: list[Chunk]
    size: int
    replaced: bool
    extra: dict[str, Any]
    version: str  # content hash + chunking: what the manifest commits


def _max_file_mb(value: float | None) -> float:
    if value is None:
        value = float(os.environ.get("H2OGPT_MAX_FILE_MB", DEFAULT_MAX_FILE_MB))
    if value <= 0:
        raise InvalidOptionError(f"max_file_mb must be positive: {value}")
    return float(value)


def _ordered(pool: Executor, fn: Callable[[T], R], items: Iterable[T], window: int) -> Iterator[R]:
    """``pool.map`` that keeps at most ``window`` results in flight, so memory stays bounded."""
    pending: deque[Any] = deque()
    source = iter(items)
    for item in source:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            break
    while pending:
        result = pending.popleft().result()
        nxt = next(source, None)
        if nxt is not None:
            pending.append(pool.submit(fn, nxt))
        yield result


def _extra(metadata: dict[str, Any]) -> dict[str, Any]:
    """A record's own metadata (title, sheet...) in the types Chroma stores."""
    own = {k: v for k, v in metadata.items() if k not in ("source", "page", "parser")}
    return {k: v for k, v in own.items() if isinstance(v, (str, int, float, bool))}


def _unit_mean(vectors: np.ndarray) -> list[float]:
    import numpy as np

    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    unit: list[float] = (mean / norm if norm > 0 else mean).astype(np.float32).tolist()
    return unit


class _Writer:
    """Embeds batches of prepared sources and commits each one to the collection."""

    def __init__(self, collection: Collection, chunk_size: int, chunk_overlap: int) -> None:
        self.col = collection
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.batch = max(1, int(collection._client.get_max_batch_size()))
        self.date = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def _upsert(
        self, target: Any, ids: list[str], vectors: Any, docs: list[str], metas: Any
    ) -> None:
        from ._chroma import upsert_batches

        upsert_batches(target, self.batch, ids, vectors, docs, metas)

    def write(self, batch: list[Prepared]) -> list[FileResult]:
        """Embed and store ``batch`` (see :meth:`store`)."""
        texts = [c.text for p in batch for c in p.chunks]
        return self.store(batch, self.col.embedder.embed(texts))

    def store(self, batch: list[Prepared], vectors: np.ndarray) -> list[FileResult]:
        """Store ``batch`` with its chunks' ``vectors`` (in order): chunks, then pages, then
        the manifests that commit them.

        Each step is one Chroma call for the whole batch (a call costs milliseconds whatever
        its size), so many small files cost little more than one big one.
        """
        texts = [c.text for p in batch for c in p.chunks]
        ids: list[str] = []
        metas: list[dict[str, Any]] = []
        for p in batch:
            key = f"{source_key(p.item.source)}-{p.version}"
            base = {"source": p.item.source, "hash": p.digest, "version": p.version,
                    "parser": p.parsed.parser, "date": self.date, **p.extra}  # fmt: skip
            extras = {int(r.metadata.get("page", 0)): _extra(r.metadata) for r in p.parsed.records}
            ids.extend(f"{key}-{c.index}" for c in p.chunks)
            metas.extend(
                {**base, **extras.get(c.page, {}), "page": c.page, "chunk": c.index}
                for c in p.chunks
            )
        self._upsert(self.col._chunks, ids, vectors, texts, metas)
        pages: list[list[Any]] = [[], [], [], []]  # ids, vectors, documents, metadatas
        manifests: list[list[Any]] = [[], [], [], []]
        offset = 0
        for p in batch:
            own = vectors[offset : offset + len(p.chunks)]
            offset += len(p.chunks)
            for column, values in zip(pages, self._pages(p, own), strict=True):
                column.extend(values)
            for column, value in zip(manifests, self._manifest(p, own), strict=True):
                column.append(value)
        self._upsert(self.col._docs, *pages)
        self._commit(*manifests)
        results = []
        for p in batch:
            warnings = list(p.parsed.warnings)
            if p.replaced:  # only now: until its manifest moved, readers used the old version
                try:
                    self._drop_old(p)
                except Exception as exc:
                    warnings.append(f"old version left behind, run vacuum() ({exc})")
            status = "replaced" if p.replaced else "added"
            results.append(FileResult(p.item.source, status, len(p.chunks), p.parsed.pages,
                                      p.parsed.parser, "; ".join(warnings)))  # fmt: skip
        return results

    def _pages(self, p: Prepared, vectors: np.ndarray) -> list[list[Any]]:
        """Whole pages, each with the mean vector of its chunks."""
        key = f"{source_key(p.item.source)}-{p.version}"
        ids, page_vectors, docs, metas = [], [], [], []
        by_page: dict[int, list[int]] = {}
        for row, chunk in enumerate(p.chunks):
            by_page.setdefault(chunk.page, []).append(row)
        for ordinal, record in enumerate(p.parsed.records):
            page = int(record.metadata.get("page", 0))
            rows = by_page.get(page, [])
            ids.append(f"{key}-p{ordinal}")
            page_vectors.append(_unit_mean(vectors[rows] if rows else vectors))
            docs.append(record.text)
            own = {"kind": "page", "source": p.item.source, "hash": p.digest,
                   "version": p.version, "page": page, "ordinal": ordinal,
                   "parser": p.parsed.parser}  # fmt: skip
            metas.append({**_extra(record.metadata), **own})
        return [ids, page_vectors, docs, metas]

    def _manifest(self, p: Prepared, vectors: np.ndarray) -> list[Any]:
        """The source's commit record: id, vector, document, metadata."""
        meta = {
            "kind": "source", "source": p.item.source, "hash": p.digest, "version": p.version,
            "chunks": len(p.chunks), "pages": p.parsed.pages, "parser": p.parsed.parser,
            "date": self.date, "bytes": p.size, "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap, "embedding_model": self.col.embedder.model_id,
            "warnings": "; ".join(p.parsed.warnings)[:1000],
        }  # fmt: skip
        return [manifest_id(p.item.source), _unit_mean(vectors), p.item.source, meta]

    def _commit(
        self, ids: list[str], vectors: list[Any], docs: list[str], metas: list[dict[str, Any]]
    ) -> None:
        """Write the manifests: from here on readers see the new versions."""
        self._upsert(self.col._docs, ids, vectors, docs, metas)

    def _drop_old(self, p: Prepared) -> None:
        stale = {"$and": [{"source": p.item.source}, {"version": {"$ne": p.version}}]}
        self.col._chunks.delete(where=stale)
        self.col._docs.delete(where={"$and": [stale, {"kind": "page"}]})


def ingest(
    collection: Collection,
    inputs: Input | Iterable[Input],
    *,
    chunk_size: int,
    chunk_overlap: int,
    max_file_mb: float | None = None,
    progress: bool | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Add ``inputs`` to ``collection``; one result per source, in input order."""
    started = time.perf_counter()
    chunk_size, chunk_overlap = check_sizes(chunk_size, chunk_overlap)
    max_bytes = int(_max_file_mb(max_file_mb) * 1e6)
    items = expand(inputs)
    report = IngestReport(collection.name)
    results: dict[str, FileResult] = {}
    todo = []
    for item in items:
        if item.kind in ("error", "skipped"):
            results[item.source] = FileResult(item.source, item.kind, message=item.message)
        else:
            todo.append(item)
    known = collection._manifests([i.source for i in todo])

    def prepare(item: Item) -> Prepared | FileResult:
        try:
            data, name, extra = read_item(item, max_bytes)
            digest = hashlib.sha256(data).hexdigest()
            version = f"{digest[:16]}-{chunk_size}-{chunk_overlap}"
            old = known.get(item.source)
            if old is not None and old.get("version") == version:
                return FileResult(item.source, "unchanged", int(old.get("chunks", 0)),
                                  int(old.get("pages", 0)), str(old.get("parser", "")))  # fmt: skip
            parsed = parse_bytes(data, name, source=item.source)
            chunks = split(
                parsed.records,
                chunk_size=chunk_size,
                chunk_overlap=chunk_overlap,
                language=parsed.language,
            )
            if not chunks:
                raise ParseError("no text found")
            return Prepared(
                item, digest, parsed, chunks, len(data), old is not None, extra, version
            )
        except ParseError as exc:
            return FileResult(item.source, "error", message=str(exc))
        except Exception as exc:  # a parser bug or odd file must not stop the batch
            return FileResult(item.source, "error", message=f"{type(exc).__name__}: {exc}")

    load = getattr(collection.embedder, "load", None)
    if todo and load is not None:
        load()  # a missing or broken model stops here, once, with its own message
    show = len(items) > PROGRESS_OVER if progress is None else progress
    bar = _bar(len(todo), collection.name) if show and todo else None
    writer = _Writer(collection, chunk_size, chunk_overlap)
    pending: list[Prepared] = []

    def flush() -> None:
        if not pending:
            return
        try:
            done = writer.write(pending)
        except Exception as exc:  # storage failed: these files are not in, say so
            message = f"could not store: {type(exc).__name__}: {exc}"
            done = [FileResult(p.item.source, "error", message=message) for p in pending]
        for result in done:
            results[result.source] = result
        if bar is not None:
            bar.update(len(pending))
        pending.clear()

    count = workers or min(2, os.cpu_count() or 1)  # pypdf & co. hold the GIL: more rarely help
    try:
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="h2ogpt-parse") as pool:
            for outcome in _ordered(pool, prepare, todo, window=2 * count + 2):
                if isinstance(outcome, FileResult):
                    results[outcome.source] = outcome
                    if bar is not None:
                        bar.update(1)
                    continue
                pending.append(outcome)
                if sum(len(p.chunks) for p in pending) >= EMBED_BATCH:
                    flush()
            flush()
    finally:  # also on KeyboardInterrupt: what was committed stays, a re-run does the rest
        if bar is not None:
            bar.close()
    report.files = [results[item.source] for item in items]
    report.seconds = time.perf_counter() - started
    return report


def _bar(total: int, name: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"ingest {name}", unit="file")
