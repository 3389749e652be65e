"""Pages into chunks, the way h2oGPT does it.

langchain-text-splitters' ``RecursiveCharacterTextSplitter`` with ``chunk_size`` and
``chunk_overlap`` counted in characters (h2oGPT's defaults: 512 and 0). Code and Markdown split
on their own boundaries (functions, classes, headings) so a chunk tends to be one unit of
meaning. Each page is split on its own, so every chunk keeps the page it came from; chunk
indexes run through the whole source, which gives "the first k chunks" of a document a
meaning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from h2ogpt_jupyter.errors import InvalidOptionError

from .parsers import Record

DEFAULT_CHUNK_SIZE = 512
DEFAULT_CHUNK_OVERLAP = 0


@dataclass(frozen=True)
class Chunk:
    """A piece of a page: its text, the page it came from, its position in the source."""

    text: str
    page: int
    index: int


def check_sizes(chunk_size: int, chunk_overlap: int) -> None:
    """Refuse sizes the splitter would reject or loop on, with a message saying why."""
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 32:
        raise InvalidOptionError(f"chunk_size must be an integer ≥ 32 characters: {chunk_size!r}")
    if not isinstance(chunk_overlap, int) or isinstance(chunk_overlap, bool) or chunk_overlap < 0:
        raise InvalidOptionError(f"chunk_overlap must be an integer ≥ 0: {chunk_overlap!r}")
    if chunk_overlap >= chunk_size:
        raise InvalidOptionError(
            f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size})"
        )


@lru_cache(maxsize=64)
def _splitter(chunk_size: int, chunk_overlap: int, language: str) -> Any:
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    known = {item.value for item in Language}
    if language in known:
        return RecursiveCharacterTextSplitter.from_language(
            Language(language), chunk_size=chunk_size, chunk_overlap=chunk_overlap
        )
    return RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)


def split(
    records: Iterable[Record],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
    language: str = "",
) -> list[Chunk]:
    """Chunks of every record, in order, with the record's page and a running index."""
    check_sizes(chunk_size, chunk_overlap)
    splitter = _splitter(chunk_size, chunk_overlap, language)
    chunks: list[Chunk] = []
    for record in records:
        page = int(record.metadata.get("page", 0))
        for piece in splitter.split_text(record.text):
            if piece.strip():
                chunks.append(Chunk(piece, page, len(chunks)))
    return chunks
