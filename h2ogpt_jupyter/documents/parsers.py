"""Text out of files: one ``(text, metadata)`` record per page, slide or sheet.

Every parser works on the file's bytes (read once, hashed once by the caller) and returns a
:class:`Parsed`; anything wrong with one file — empty, binary, truncated PDF, too large, bad
JSON — raises :class:`ParseError` with a message meant for the ingest report, so a batch can
record it and go on. Recoverable oddities (text that is not UTF-8, an unreadable PDF page)
become ``warnings`` on an otherwise good result: the user should know, but the text goes in.

Page numbers are 1-based where the format has pages (PDF pages, PowerPoint slides, Excel
sheets) and 0 where it has none; Chroma metadata cannot hold None.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

DEFAULT_MAX_FILE_MB = 50.0

MARKDOWN = {".md", ".markdown", ".mdx"}
TEXT = {".txt", ".text", ".log", ".rst", ".adoc", ".org"}
HTML = {".html", ".htm", ".xhtml"}
CODE = {  # suffix -> language name (langchain-text-splitters' names where it has one)
    ".py": "python", ".pyi": "python", ".js": "js", ".mjs": "js", ".jsx": "js", ".ts": "ts",
    ".tsx": "ts", ".java": "java", ".go": "go", ".rs": "rust", ".c": "c", ".h": "c",
    ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby",
    ".php": "php", ".scala": "scala", ".swift": "swift", ".kt": "kotlin", ".lua": "lua",
    ".pl": "perl", ".hs": "haskell", ".ex": "elixir", ".exs": "elixir", ".r": "r",
    ".sol": "sol", ".ps1": "powershell", ".proto": "proto", ".tex": "latex", ".sh": "shell",
    ".bash": "shell", ".zsh": "shell", ".sql": "sql", ".yaml": "yaml", ".yml": "yaml",
    ".toml": "toml", ".ini": "ini", ".cfg": "ini", ".xml": "xml", ".css": "css",
    ".scss": "css", ".jl": "julia", ".m": "matlab", ".dart": "dart", ".vue": "vue",
}  # fmt: skip
NOT_SUPPORTED = {
    ".doc": "old Word format: save it as .docx",
    ".ppt": "old PowerPoint format: save it as .pptx",
    ".xls": "old Excel format: save it as .xlsx",
    **dict.fromkeys(
        (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".svg"),
        "images are not supported (no OCR or captioning)",
    ),
    **dict.fromkeys(
        (".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar"),
        "archives are not supported: unpack it and add the folder",
    ),
    **dict.fromkeys(
        (".mp3", ".wav", ".mp4", ".mov", ".avi", ".mkv", ".exe", ".dll", ".so", ".bin"),
        "audio, video and binaries are not supported",
    ),
}


class Record(NamedTuple):
    """One page of text and what is known about it (source, page, parser, ...)."""

    text: str
    metadata: dict[str, Any]


class ParseError(Exception):
    """This one file cannot be ingested; the message goes into the ingest report."""


@dataclass
class Parsed:
    """What a parser made of one file."""

    records: list[Record]
    parser: str
    language: str = ""  # for chunking: code and markdown split on their own boundaries
    warnings: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return len(self.records)


def supported_suffixes() -> set[str]:
    """File types a folder walk picks up; other files are reported as skipped."""
    return MARKDOWN | TEXT | HTML | set(CODE) | set(_PARSERS)


def decode_text(data: bytes, warnings: list[str]) -> str:
    """UTF-8 text, or a best-effort decode that says what it did.

    Text whose letters are mostly ASCII with a few accented ones is Western European: it is
    read as cp1252 (latin-1 plus Windows' punctuation), which such files almost always are.
    Charset detection is trusted only for text that is mostly non-ASCII (Cyrillic, Greek,
    CJK...), where it is reliable; on a few accented words it guesses wildly.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\0" in data[:8192]:
        raise ParseError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    sample = data[:200_000]
    high = sum(1 for b in sample if b >= 0x80)
    letters = high + sum(1 for b in sample if 97 <= (b | 32) <= 122)
    guess = _guess_encoding(sample) if high > 0.3 * max(letters, 1) else None
    for candidate in (guess, "cp1252", "latin-1"):
        if not candidate:
            continue
        try:
            text = data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        warnings.append(f"not UTF-8 (bad byte at offset {first_bad}): decoded as {candidate}")
        return text
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _guess_encoding(data: bytes) -> str | None:
    try:
        import charset_normalizer
    except ImportError:
        return None
    best = charset_normalizer.from_bytes(data).best()
    return None if best is None else str(best.encoding)


def _text(data: bytes, parser: str, language: str = "") -> Parsed:
    warnings: list[str] = []
    text = decode_text(data, warnings)
    return Parsed([Record(text, {"page": 0})], parser, language, warnings)


def _html(data: bytes) -> Parsed:
    from bs4 import BeautifulSoup

    try:
        import lxml  # noqa: F401

        features = "lxml"
    except ImportError:
        features = "html.parser"
    if b"\0" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError("binary file (contains NUL bytes), not HTML")
    soup = BeautifulSoup(data, features)
    for tag in soup(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    body = soup.body or soup
    lines = (line.strip() for line in body.get_text("\n").splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    meta = {"page": 0, "title": title} if title else {"page": 0}
    return Parsed([Record(text, meta)], "html")


def _rows_as_text(rows: list[list[str]]) -> str:
    """Rows as ``header: value`` lines, one blank line between rows (h2oGPT's CSV style).

    Each row carries its column names, so a chunk holding a few rows still makes sense alone.
    """
    rows = [[c.strip() for c in row] for row in rows if any(c.strip() for c in row)]
    if not rows:
        return ""
    header, body = rows[0], rows[1:]
    if not body:
        return " | ".join(header)
    names = [h or f"column {i + 1}" for i, h in enumerate(header)]
    blocks = []
    for row in body:
        pairs = [f"{names[i] if i < len(names) else f'column {i + 1}'}: {value}"
                 for i, value in enumerate(row) if value]  # fmt: skip
        blocks.append("\n".join(pairs))
    return "\n\n".join(blocks)


def _csv(data: bytes, suffix: str) -> Parsed:
    warnings: list[str] = []
    text = decode_text(data, warnings)
    if suffix == ".tsv":
        dialect: Any = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise ParseError(f"bad CSV: {exc}") from None
    return Parsed([Record(_rows_as_text(rows), {"page": 0})], "csv", warnings=warnings)


def _json(data: bytes) -> Parsed:
    warnings: list[str] = []
    text = decode_text(data, warnings)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    pretty = json.dumps(value, indent=1, ensure_ascii=False)
    return Parsed([Record(pretty, {"page": 0})], "json", warnings=warnings)


def _jsonl(data: bytes) -> Parsed:
    warnings: list[str] = []
    text = decode_text(data, warnings)
    items, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
            continue
        items.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    if bad and not items:
        raise ParseError(f"invalid JSON Lines: no line parses (first bad line {bad[0]})")
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (" ..." if len(bad) > 5 else "")
        warnings.append(f"skipped {len(bad)} invalid line(s): {shown}")
    return Parsed([Record("\n\n".join(items), {"page": 0})], "jsonl", warnings=warnings)


def _cell_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _ipynb(data: bytes) -> Parsed:
    """Markdown, code (fenced, with the kernel's language) and text outputs, in cell order."""
    warnings: list[str] = []
    try:
        nb = json.loads(decode_text(data, warnings))
        cells = nb["cells"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ParseError("not a valid Jupyter notebook (bad JSON or no cells)") from None
    meta = nb.get("metadata", {}) if isinstance(nb, dict) else {}
    language = (meta.get("kernelspec", {}).get("language") or
                meta.get("language_info", {}).get("name") or "python")  # fmt: skip
    parts: list[str] = []
    for cell in cells:
        source = _cell_text(cell.get("source")).strip()
        kind = cell.get("cell_type")
        if kind == "markdown" and source:
            parts.append(source)
        elif kind == "code":
            if source:
                parts.append(f"```{language}\n{source}\n```")
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    text = _cell_text(out.get("text"))
                elif out.get("output_type") == "error":
                    text = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
                else:
                    bundle = out.get("data", {})
                    text = _cell_text(bundle.get("text/markdown") or bundle.get("text/plain"))
                if text.strip():
                    parts.append(f"Output:\n{text.strip()}")
        elif kind == "raw" and source:
            parts.append(source)
    return Parsed([Record("\n\n".join(parts), {"page": 0})], "ipynb", "markdown", warnings)


def _office(kind: str) -> Callable[[bytes], Parsed]:
    def parse(data: bytes) -> Parsed:
        from . import _office

        parsed: Parsed = getattr(_office, kind)(data)
        return parsed

    return parse


_PARSERS: dict[str, Callable[[bytes], Parsed]] = {
    ".pdf": _office("pdf"),
    ".docx": _office("docx"),
    ".pptx": _office("pptx"),
    ".xlsx": _office("xlsx"),
    ".xlsm": _office("xlsx"),
    ".csv": lambda data: _csv(data, ".csv"),
    ".tsv": lambda data: _csv(data, ".tsv"),
    ".json": _json,
    ".jsonl": _jsonl,
    ".ndjson": _jsonl,
    ".ipynb": _ipynb,
}


def parse_bytes(data: bytes, name: str, *, source: str | None = None) -> Parsed:
    """Parse ``data`` as the file ``name`` (its suffix picks the parser).

    Each record's metadata gets ``source`` (default ``name``), ``page`` and ``parser``.
    """
    suffix = Path(name).suffix.lower()
    if not data:
        raise ParseError("empty file")
    if suffix in NOT_SUPPORTED:
        raise ParseError(f"unsupported file type {suffix}: {NOT_SUPPORTED[suffix]}")
    if suffix in _PARSERS:
        parsed = _PARSERS[suffix](data)
    elif suffix in HTML:
        parsed = _html(data)
    elif suffix in MARKDOWN:
        parsed = _text(data, "markdown", "markdown")
    elif suffix in CODE:
        parsed = _text(data, "code", CODE[suffix])
    elif suffix in TEXT:
        parsed = _text(data, "text", "rst" if suffix == ".rst" else "")
    else:
        try:
            parsed = _text(data, "text")
        except ParseError:
            kind = f"file type {suffix}" if suffix else "file without a suffix"
            raise ParseError(f"unsupported {kind}: binary content") from None
        parsed.warnings.append(f"unknown {'type ' + suffix if suffix else 'type'}: read as text")
    records = [r for r in parsed.records if r.text.strip()]
    if not records:
        blank = parsed.parser in ("text", "markdown", "code")
        raise ParseError("empty file (only whitespace)" if blank else "no text found")
    where = source or name
    parsed.records = [
        Record(r.text, {**r.metadata, "source": where, "parser": parsed.parser}) for r in records
    ]
    return parsed


def read_limited(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The file's bytes, or a :class:`ParseError` for a missing, unreadable or too large file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ParseError(
                f"too large: {size / 1e6:.1f} MB > limit {max_bytes / 1e6:g} MB "
                "(raise max_file_mb to ingest it)"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise ParseError("no such file") from None
    except IsADirectoryError:
        raise ParseError("is a directory") from None
    except PermissionError:
        raise ParseError("permission denied") from None
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}") from None


def parse_file(path: str | os.PathLike[str], *, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> Parsed:
    """Read and parse one file; ``source`` is its resolved path."""
    real = Path(path).expanduser().resolve()
    data = read_limited(real, int(max_file_mb * 1e6))
    return parse_bytes(data, real.name, source=str(real))
