"""What a search returns: chunks with their citation, and whole pages for summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Hit:
    """A retrieved chunk. ``distance`` is Chroma's squared L2 on unit vectors (0 best, 4
    worst; h2oGPT's ``cut_distance`` uses the same scale); ``score`` is the cosine
    similarity, ``1 - distance / 2``. ``page`` is None for formats without pages."""

    text: str
    source: str
    page: int | None
    distance: float | None
    score: float | None
    chunk_id: str
    chunk: int
    parser: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def citation(self) -> str:
        page = f" p.{self.page}" if self.page else ""
        score = f" (score {self.score:.2f})" if self.score is not None else ""
        return f"{self.source}{page}{score}"

    def _repr_markdown_(self) -> str:
        return f"**{self.citation}**\n\n> " + self.text.strip().replace("\n", "\n> ")

    def to_dict(self) -> dict[str, Any]:
        """The citation and text as plain data (answers' ``to_dict``, the server, the panels)."""
        return {
            "source": self.source,
            "page": self.page,
            "score": self.score,
            "distance": self.distance,
            "chunk": self.chunk,
            "text": self.text,
        }


@dataclass
class Page:
    """A whole parsed page (or whole document when the format has no pages)."""

    source: str
    page: int | None
    text: str
    parser: str = ""

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`Hit.to_dict`; a whole page has no score, distance or chunk."""
        return {"source": self.source, "page": self.page, "text": self.text}


def make_hit(chunk_id: str, text: str, meta: dict[str, Any], distance: float | None) -> Hit:
    page = int(meta.get("page", 0)) or None
    score = None if distance is None else 1.0 - float(distance) / 2.0
    return Hit(
        text=text,
        source=str(meta.get("source", "")),
        page=page,
        distance=None if distance is None else float(distance),
        score=score,
        chunk_id=chunk_id,
        chunk=int(meta.get("chunk", 0)),
        parser=str(meta.get("parser", "")),
        metadata=dict(meta),
    )
