"""Add documents to a collection from the browser: uploads, URLs and pasted text.

Uploaded files arrive as binary buffers of one widget message. They are written under
``<data_dir>/uploads/<collection>/`` and ingested from there: the path is the document's
source, so uploading the same file again is recognised as unchanged and an edited one
replaces its old version, as when a folder is re-ingested. Deleting the source also removes
the uploaded copy.

Ingesting runs on the panel's worker thread one input at a time, so the front end sees
progress and each input's result (added, replaced, unchanged, error with the reason) as it
comes; a bad file never stops the rest.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import traitlets as t

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError

from ._base import Panel, panel_esm

DEFAULT_COLLECTION = "MyData"


def uploads_dir(collection: str) -> Path:
    from h2ogpt_jupyter.config import settings

    return settings().data_path / "uploads" / collection


def safe_name(name: str) -> str:
    """A browser's file name as a plain file name in the uploads folder."""
    base = Path(str(name).replace("\\", "/")).name.strip()
    base = "".join(c if c.isprintable() and c not in '<>:"|?*' else "-" for c in base)
    if base.strip(".") == "":
        return "upload"
    if base.startswith("."):  # hidden files would be easy to lose track of
        base = "upload" + base
    return base[:200]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class IngestPanel(Panel):
    """Upload files, add URLs or paste text into a collection; list and delete its sources.

    ``chunk_size`` and ``chunk_overlap`` are passed to
    :meth:`~h2ogpt_jupyter.documents.Collection.add` when given.
    """

    _esm = panel_esm("ingest")

    collection = t.Unicode(DEFAULT_COLLECTION).tag(sync=True)
    collections = t.List(t.Unicode()).tag(sync=True)
    progress = t.Dict().tag(sync=True)
    results = t.List(t.Dict()).tag(sync=True)
    summary = t.Unicode("").tag(sync=True)
    sources = t.List(t.Dict()).tag(sync=True)

    def __init__(
        self,
        collection: str = DEFAULT_COLLECTION,
        *,
        chunk_size: int | None = None,
        chunk_overlap: int | None = None,
    ) -> None:
        from h2ogpt_jupyter.documents import check_name

        self._sizes: dict[str, Any] = {
            k: v
            for k, v in (("chunk_size", chunk_size), ("chunk_overlap", chunk_overlap))
            if v is not None
        }
        super().__init__(collection=check_name(collection))
        self.handlers.update(
            upload=self._on_upload,
            url=self._on_url,
            paste=self._on_paste,
            delete=self._on_delete,
            refresh=lambda content, buffers: self.background(self._refresh),
        )
        self.update(progress={"done": 0, "total": 0, "current": ""})
        self.background(self._refresh)

    @t.observe("collection")
    def _collection_changed(self, change: dict[str, Any]) -> None:
        from h2ogpt_jupyter.documents import check_name

        if not hasattr(self, "_pool"):  # during construction: checked already
            return
        try:
            check_name(change["new"])
        except H2OGPTError as exc:
            self.report(exc)
            self.collection = change["old"]
            return
        self.background(self._refresh)

    # --- inputs -----------------------------------------------------------------------------
    def _on_upload(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        names = [str(n) for n in content.get("names") or []]
        if not buffers:
            raise H2OGPTError("no file received")
        if len(names) != len(buffers):
            raise H2OGPTError(f"{len(buffers)} files arrived with {len(names)} names")
        files = [(safe_name(n), data) for n, data in zip(names, buffers, strict=True)]
        self.background(self._ingest_uploads, self.collection, files)

    def _ingest_uploads(self, collection: str, files: list[tuple[str, bytes]]) -> None:
        folder = uploads_dir(collection)
        items: list[tuple[str, Any]] = []
        for name, data in files:
            path = folder / name
            _write(path, data)
            items.append((name, str(path)))
        self._ingest(collection, items)

    def _on_url(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        text = str(content.get("url") or "")
        urls = [u.strip() for u in text.split() if u.strip()]
        if not urls:
            raise InvalidOptionError("which URL? e.g. https://example.com/page or arxiv:2301.00001")
        for url in urls:
            if not url.startswith(("http://", "https://", "arxiv:")):
                raise InvalidOptionError(f"not a URL: {url!r} (http://, https:// or arxiv:ID)")
        self.background(self._ingest, self.collection, [(u, u) for u in urls])

    def _on_paste(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        from h2ogpt_jupyter.documents import Text

        text = str(content.get("text") or "")
        if not text.strip():
            raise InvalidOptionError("nothing to add: the text is empty")
        name = str(content.get("name") or "").strip() or None
        item = Text(text, name=name)
        self.background(self._ingest, self.collection, [(item.source, item)])

    def _ingest(self, name: str, items: list[tuple[str, Any]]) -> None:
        from h2ogpt_jupyter.documents import get_collection

        total = len(items)
        results: list[dict[str, Any]] = []
        self.update(busy=True, results=[], summary="", progress=_progress(0, total, items[0][0]))
        try:
            collection = get_collection(name)
            if not collection.embedder.loaded:  # seconds on a kernel's first ingest: say so
                what = f"loading the embedding model {collection.embedder.model_id}…"
                self.update(progress=_progress(0, total, what))
                collection.embedder.load()
            for done, (label, item) in enumerate(items):
                self.update(progress=_progress(done, total, label))
                try:
                    report = collection.add([item], **self._sizes)
                    rows = [f.to_dict() for f in report.files]
                except H2OGPTError as exc:
                    rows = [{"source": label, "status": "error", "message": str(exc)}]
                except Exception as exc:  # a bug: the row says so, the errors area has details
                    rows = [{"source": label, "status": "error", "message": repr(exc)}]
                    self.report(exc)
                results.extend(rows)
                self.update(results=list(results), progress=_progress(done + 1, total, ""))
        finally:
            self.update(busy=False, summary=_summary(name, results))
            self._refresh()

    # --- sources ----------------------------------------------------------------------------
    def _on_delete(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        sources = [str(s) for s in content.get("sources") or []]
        if not sources:
            raise InvalidOptionError("which sources? none were given")
        self.background(self._delete, self.collection, sources)

    def _delete(self, name: str, sources: list[str]) -> None:
        from h2ogpt_jupyter.documents import get_collection

        try:
            removed = get_collection(name, create=False).delete(sources)
        finally:
            self._refresh()
        folder = uploads_dir(name).resolve()
        for source in sources:
            path = Path(source)
            if path.is_absolute() and path.resolve().parent == folder:
                path.unlink(missing_ok=True)  # the uploaded copy goes with its document
        self.update(status=f"Removed {len(sources)} source(s), {removed} chunks, from {name}.")

    def _refresh(self) -> None:
        from h2ogpt_jupyter.documents import MYDATA, USERDATA, get_collection, list_collections

        name = self.collection
        names = {USERDATA, MYDATA, name, *(row["name"] for row in list_collections())}
        try:
            rows = get_collection(name, create=False).sources()
        except H2OGPTError:
            rows = []  # not created yet: the first ingest creates it
        shown = [
            {
                "source": str(r["source"]),
                "name": _short(str(r["source"])),
                "chunks": r.get("chunks", 0),
                "pages": r.get("pages", 0),
                "parser": r.get("parser", ""),
                "date": str(r.get("date", ""))[:19],
                "bytes": r.get("bytes", 0),
                "warnings": r.get("warnings", ""),
            }
            for r in rows
        ]
        self.update(collections=sorted(names), sources=shown)


def _short(source: str) -> str:
    """A file's name (its folder is the uploads folder or on the user's disk); URLs and
    pasted texts as they are."""
    path = Path(source)
    return path.name if path.is_absolute() and path.name else source


def _progress(done: int, total: int, current: str) -> dict[str, Any]:
    return {"done": done, "total": total, "current": current}


def _summary(name: str, results: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for row in results:
        counts[row.get("status", "?")] = counts.get(row.get("status", "?"), 0) + 1
    written = [r for r in results if r.get("status") in ("added", "replaced")]
    chunks = sum(int(r.get("chunks") or 0) for r in written)
    parts = ", ".join(f"{n} {s}" for s, n in counts.items()) or "nothing to do"
    return f"{name}: {parts}; {chunks} chunks"
