"""PDF, Word, PowerPoint and Excel parsers (pypdf, python-docx, python-pptx, openpyxl).

Kept apart from :mod:`.parsers` so their libraries load only when such a file shows up. Each
takes the file's bytes and returns :class:`~.parsers.Parsed`; a file the library cannot open
is a :class:`~.parsers.ParseError` naming what is wrong, never the library's traceback.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from typing import Any

from .parsers import Parsed, ParseError, Record, _rows_as_text

_local = threading.local()


class _Collect(logging.Filter):
    """Routes pypdf's log warnings into the current file's report instead of stderr.

    pypdf logs recoverable problems ("EOF marker not found", bad xref entries) on its logger;
    in a notebook those would appear as stray lines with no file name. Parsing runs in worker
    threads, so the collector is per thread.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        sink = getattr(_local, "sink", None)
        if sink is None:
            return True
        if record.levelno >= logging.WARNING and len(sink) < 5:
            sink.append(f"pypdf: {record.getMessage()}")
        return False


_filter = _Collect()


def _collect_pypdf_logs() -> None:
    logger = logging.getLogger("pypdf")
    if _filter not in logger.filters:
        logger.addFilter(_filter)


def pdf(data: bytes) -> Parsed:
    """One record per page with text, numbered from 1; a truncated file is an error.

    pypdf can often half-read a cut-off PDF; ingesting a fraction of a document silently would
    be worse than telling the user the file is damaged.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PdfStreamError

    if b"%PDF-" not in data[:1024]:
        raise ParseError("not a PDF (no %PDF header)")
    if b"%%EOF" not in data[-8192:]:
        raise ParseError("truncated or corrupt PDF (no %%EOF marker at the end)")
    _collect_pypdf_logs()
    warnings: list[str] = []
    _local.sink = warnings
    try:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ParseError("encrypted PDF: remove the password first")
            pages = list(reader.pages)
        except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError) as exc:
            raise ParseError(f"corrupt PDF: {exc}") from None
        except NotImplementedError as exc:  # unsupported encryption algorithm
            raise ParseError(f"encrypted PDF: {exc}") from None
        records = []
        for number, page in enumerate(pages, 1):
            try:
                text = page.extract_text() or ""
            except Exception as exc:  # one bad page must not lose the others
                warnings.append(f"page {number}: no text extracted ({type(exc).__name__})")
                continue
            if text.strip():
                records.append(Record(text, {"page": number}))
    finally:
        _local.sink = None
    if not records and pages:
        raise ParseError(f"no text layer in {len(pages)} page(s) (scanned PDF? OCR is not done)")
    return Parsed(records, "pypdf", warnings=warnings)


def _table_rows(table: Any) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def docx(data: bytes) -> Parsed:
    """Paragraphs and tables in document order; headings become Markdown headings."""
    import docx as python_docx
    from docx.table import Table

    try:
        document = python_docx.Document(io.BytesIO(data))
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors...
        raise ParseError(f"corrupt or not a .docx file ({type(exc).__name__})") from None
    parts: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            rows = _table_rows(block)
            parts.append("\n".join(" | ".join(c.strip() for c in row) for row in rows))
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        if text and style.startswith("Heading"):
            level = style.removeprefix("Heading").strip()
            text = "#" * (int(level) if level.isdigit() else 1) + " " + text
        elif text and style == "Title":
            text = "# " + text
        if text:
            parts.append(text)
    return Parsed([Record("\n\n".join(parts), {"page": 0})], "python-docx", "markdown")


def _shape_texts(shapes: Any) -> Iterator[str]:
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shape_texts(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = _table_rows(shape.table)
            yield "\n".join(" | ".join(c.strip() for c in row) for row in rows)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text


def pptx(data: bytes) -> Parsed:
    """One record per slide (page = slide number), speaker notes included."""
    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
    except Exception as exc:
        raise ParseError(f"corrupt or not a .pptx file ({type(exc).__name__})") from None
    records = []
    for number, slide in enumerate(deck.slides, 1):
        texts = [t.strip() for t in _shape_texts(slide.shapes) if t.strip()]
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                texts.append("Notes: " + notes.text.strip())
        if texts:
            records.append(Record("\n\n".join(texts), {"page": number}))
    return Parsed(records, "python-pptx")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx(data: bytes) -> Parsed:
    """One record per non-empty sheet (page = sheet number), rows as ``header: value``."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ParseError(f"corrupt or not an .xlsx file ({type(exc).__name__})") from None
    records = []
    try:
        for number, sheet in enumerate(book.worksheets, 1):
            rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            text = _rows_as_text(rows)
            if text.strip():
                records.append(Record(text, {"page": number, "sheet": sheet.title}))
    finally:
        book.close()
    return Parsed(records, "openpyxl")
