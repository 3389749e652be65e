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
from h2ogpt_jupyter.options import INGEST

from .parsers import Record

DEFAULT_CHUNK_SIZE: int = INGEST["chunk_size"].default
DEFAULT_CHUNK_OVERLAP: int = INGEST["chunk_overlap"].default


@dataclass(frozen=True)
class Chunk:
    """A piece of a page: its text, the page it came from, its position in the source."""

    text: str
    page: int
    index: int


def check_sizes(chunk_size: int, chunk_overlap: int) -> tuple[int, int]:
    """The sizes as whole numbers; refuses sizes the splitter would reject or loop on, with a
    message saying why."""
    chunk_size = INGEST["chunk_size"].parse(chunk_size)
    chunk_overlap = INGEST["chunk_overlap"].parse(chunk_overlap)
    if chunk_overlap >= chunk_size:
        raise InvalidOptionError(
            f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size})"
        )
    return chunk_size, chunk_overlap


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
    chunk_size, chunk_overlap = check_sizes(chunk_size, chunk_overlap)
    splitter = _splitter(chunk_size, chunk_overlap, language)
    chunks: list[Chunk] = []
    for record in records:
        page = int(record.metadata.get("page", 0))
        for piece in splitter.split_text(record.text):
            if piece.strip():
                chunks.append(Chunk(piece, page, len(chunks)))
    return chunks
