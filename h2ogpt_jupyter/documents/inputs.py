"""What the user handed to ``add``, turned into a flat list of sources.

Files and folders (recursive), globs (``reports/**/*.pdf``), URLs, arXiv ids and pasted text
all become :class:`Item` s with a stable ``source`` name — the key a document is known by,
re-ingested under, deleted by and cited as. Paths are resolved to real absolute paths, so
``a/../b.txt`` and ``b.txt`` are one source while two ``notes.md`` in different folders are
two. Anything that cannot be found becomes an error item here, so the batch goes on.

A plain string is a path when it names an existing file or folder, contains a glob pattern, a
path separator or a known file suffix; otherwise it is pasted text. Wrap text in :class:`Text`
to say so explicitly (and to give it a name).

``arxiv:2301.00001`` (any case of the prefix, optionally with a version such as ``v2``, or an
old-style id like ``arxiv:hep-th/9901001``) fetches the paper's PDF from arxiv.org and is known
by that name; a mistyped one is an error item, not pasted text. The prefix is required: a bare
``2301.00001`` could as well be a number in a sentence, so it stays text.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .parsers import NOT_SUPPORTED, ParseError, supported_suffixes

SKIP_DIRS = {"__pycache__", "node_modules", ".ipynb_checkpoints", ".git", ".venv", "venv"}
TEXT_NAMES = {"readme", "license", "licence", "makefile", "dockerfile", "changelog", "notice"}
_GLOB_CHARS = set("*?[")
ARXIV_PDF = "https://arxiv.org/pdf/"
# New-style ids are YYMM.NNNN (to 2014) or YYMM.NNNNN; old-style ones archive[.XX]/YYMMNNN.
_ARXIV = re.compile(
    r"arxiv:\s*(?P<id>(?:\d{2}(?:0[1-9]|1[0-2])\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})"
    r"(?:v\d+)?)",
    re.IGNORECASE,
)
_ARXIV_LIKE = re.compile(r"arxiv:\s*\S+", re.IGNORECASE)  # meant as an id, maybe mistyped


@dataclass(frozen=True)
class Text:
    """Pasted text to ingest; ``name`` makes it a source you can replace or delete later."""

    text: str
    name: str | None = None

    @property
    def source(self) -> str:
        if self.name:
            return f"text:{self.name}"
        return "text:" + hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]


Input = str | os.PathLike[str] | Text  # what add() accepts, alone or in a list


@dataclass
class Item:
    """One source to ingest: ``kind`` is file, url, text, or error / skipped (with message).

    A URL item fetches ``url`` when set (an arXiv id's PDF), else its ``source``.
    """

    source: str
    kind: str
    path: Path | None = None
    text: str | None = None
    message: str = ""
    url: str | None = None

    @property
    def name(self) -> str:
        """A file name whose suffix picks the parser."""
        if self.kind == "text":
            return "pasted.md" if self.source.endswith((".md", ".markdown")) else "pasted.txt"
        return self.path.name if self.path else self.source.rsplit("/", 1)[-1]


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def arxiv_id(value: str) -> str | None:
    """The arXiv id in ``arxiv:<id>`` (e.g. ``2301.00001v2``), or None for anything else."""
    found = _ARXIV.fullmatch(value.strip())
    return found.group("id") if found else None


def arxiv_item(paper: str) -> Item:
    """The paper ``paper`` (an arXiv id) as a source named ``arxiv:<id>``."""
    return Item(f"arxiv:{paper}", "url", url=ARXIV_PDF + paper)


def _looks_like_path(value: str) -> bool:
    """Existing paths, or space-free strings with a glob, a separator or a file suffix."""
    if "\n" in value or len(value) > 1024:
        return False
    if os.path.lexists(os.path.expanduser(value)):
        return True
    if any(c.isspace() for c in value):
        return False
    suffix = Path(value).suffix.lower()
    return (
        bool(_GLOB_CHARS & set(value))
        or "/" in value
        or os.sep in value
        or value.startswith("~")
        or suffix in _known()
        or suffix in NOT_SUPPORTED
    )


def _known() -> set[str]:
    return supported_suffixes()


def _wanted_in_walk(path: Path) -> bool:
    suffix = path.suffix.lower()
    if not suffix:
        return path.name.lower() in TEXT_NAMES
    return suffix in _known()


def _walk(folder: Path) -> list[Item]:
    items: list[Item] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root, name).resolve()
            if _wanted_in_walk(path):
                items.append(Item(str(path), "file", path))
            else:
                suffix = path.suffix.lower() or "(no suffix)"
                items.append(Item(str(path), "skipped", path, message=f"not read: {suffix}"))
    return items


def _from_path(value: str | os.PathLike[str]) -> list[Item]:
    text = os.path.expanduser(os.fspath(value))
    if _GLOB_CHARS & set(text) and not os.path.lexists(text):
        matches = sorted(globlib.glob(text, recursive=True))
        if not matches:
            return [Item(text, "error", message="no files match this pattern")]
        found: list[Item] = []
        for match in matches:
            found.extend(_from_path(Path(match)))
        return found
    path = Path(text).resolve()
    if path.is_dir():
        return _walk(path)
    if not path.exists():
        return [Item(str(path), "error", path, message="no such file or directory")]
    return [Item(str(path), "file", path)]


def expand(inputs: Input | Iterable[Input]) -> list[Item]:
    """Every source in ``inputs``, in order, each once (the first mention wins)."""
    if isinstance(inputs, (str, os.PathLike, Text)):
        inputs = [inputs]
    items: list[Item] = []
    for value in inputs:
        if isinstance(value, Text):
            items.append(Item(value.source, "text", text=value.text))
        elif isinstance(value, os.PathLike):
            items.extend(_from_path(value))
        elif not isinstance(value, str):
            items.append(Item(repr(value)[:80], "error", message="not a path, URL or text"))
        elif _is_url(value.strip()):
            items.append(Item(value.strip(), "url"))
        elif (paper := arxiv_id(value)) is not None:
            items.append(arxiv_item(paper))
        elif _ARXIV_LIKE.fullmatch(value.strip()):
            message = "not an arXiv id (expected e.g. arxiv:2301.00001 or arxiv:2301.00001v2)"
            items.append(Item(value.strip(), "error", message=message))
        elif _looks_like_path(value):
            items.extend(_from_path(value))
        elif value.strip():
            items.append(Item(Text(value).source, "text", text=value))
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.source not in seen:
            seen.add(item.source)
            unique.append(item)
    return unique


_CONTENT_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/csv": ".csv",
    "application/json": ".json",
}


def fetch(url: str, max_bytes: int, timeout: float = 30.0) -> tuple[bytes, str]:
    """The body of ``url`` and a file name whose suffix matches its content type.

    Offline or unreachable hosts become a :class:`ParseError` for this URL alone.
    """
    import httpx

    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response:
            if response.status_code >= 400:
                raise ParseError(f"HTTP {response.status_code} {response.reason_phrase}")
            body = bytearray()
            for part in response.iter_bytes():
                body.extend(part)
                if len(body) > max_bytes:
                    raise ParseError(f"too large: over {max_bytes / 1e6:g} MB")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except httpx.HTTPError as exc:
        raise ParseError(f"could not fetch ({type(exc).__name__}: {exc}); offline?") from None
    path_suffix = Path(httpx.URL(url).path).suffix.lower()
    suffix = _CONTENT_TYPES.get(kind) or path_suffix or ".html"
    return bytes(body), f"download{suffix}"


def read_item(item: Item, max_bytes: int) -> tuple[bytes, str, dict[str, Any]]:
    """Bytes, parser file name and extra metadata for a file, URL or text item."""
    from .parsers import read_limited

    if item.kind == "file" and item.path is not None:
        data = read_limited(item.path, max_bytes)
        return data, item.path.name, {}
    if item.kind == "url":
        url = item.url or item.source
        try:
            data, name = fetch(url, max_bytes)
        except ParseError as exc:
            if url == item.source:
                raise
            raise ParseError(f"{url}: {exc}") from None  # the source name is not the URL
        return data, name, {"url": url}
    if item.kind == "text" and item.text is not None:
        data = item.text.encode("utf-8")
        if len(data) > max_bytes:
            raise ParseError(f"too large: {len(data) / 1e6:.1f} MB > limit {max_bytes / 1e6:g} MB")
        return data, item.name, {}
    raise ParseError(item.message or "nothing to read")
