"""The result of one generation, as a Python object users can keep and inspect."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from .citations import sources_markdown


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Response:
    """Text plus everything needed to reproduce or judge it.

    ``finish_reason`` is ``"stop"`` (end of sequence or a stop string), ``"length"``
    (max_new_tokens), ``"max_time"`` or ``"cancelled"`` (Stop pressed or kernel interrupted).
    ``alternatives`` holds the other answers when ``num_return_sequences`` > 1.
    ``sources`` holds the document chunks (or pages) the answer was given, best first (each
    with a ``to_dict``: :class:`~h2ogpt_jupyter.documents.Hit`, ``Page``);
    ``parts`` the per-part answers of a summary or an extraction.
    """

    text: str
    prompt: str = ""
    model: str = ""
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"
    time_to_first_token: float | None = None
    elapsed: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    alternatives: list[str] = field(default_factory=list)
    sources: list[Any] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        """Completion tokens over the time after the first token arrived."""
        decode = self.elapsed - (self.time_to_first_token or 0.0)
        tokens = self.usage.completion_tokens - 1
        if tokens <= 0 or decode <= 0:
            return 0.0
        return tokens / decode

    @property
    def texts(self) -> list[str]:
        return [self.text, *self.alternatives]

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"Response({text!r}, {self.summary()})"

    def summary(self) -> str:
        ttft = f"{self.time_to_first_token:.2f}s" if self.time_to_first_token is not None else "-"
        return (
            f"{self.model} · {self.usage.prompt_tokens}+{self.usage.completion_tokens} tokens · "
            f"first token {ttft} · {self.tokens_per_second:.1f} tok/s · {self.finish_reason}"
        )

    def _repr_markdown_(self) -> str:
        sources = sources_markdown(self.sources)
        return f"{self.text}\n\n{sources}<sub>{html.escape(self.summary())}</sub>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "prompt": self.prompt,
            "model": self.model,
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "total_tokens": self.usage.total_tokens,
            },
            "finish_reason": self.finish_reason,
            "time_to_first_token": self.time_to_first_token,
            "elapsed": self.elapsed,
            "tokens_per_second": self.tokens_per_second,
            "params": self.params,
            "alternatives": self.alternatives,
            "sources": [s.to_dict() for s in self.sources],
            "parts": self.parts,
        }
