"""How an answer shows its sources: score, file, page, and the excerpt the model was given.

h2oGPT lists sources under each answer. In a notebook a source is worth more than a name:
each is a link that opens the file in JupyterLab (a PDF at its page) when the file lies under
the Jupyter server's root, and the excerpt sits folded under it, so the list stays short until
a reader asks which words the answer came from. Outside Jupyter, or for a file JupyterLab
cannot reach, the path is shown as code. Whole pages read for a summary (no score, no
excerpt) are listed once per document with their page numbers.

The list is HTML inside markdown (``<details>``): JupyterLab's sanitizer keeps it, and its
link handler opens relative links from the notebook's folder. Every text from a document is
escaped, so a source cannot inject markup.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from h2ogpt_jupyter.host import JupyterHost, file_link, this_jupyter

EXCERPT_CHARS = 700  # of a chunk's text under its source; chunks are ~500 chars by default


def source_line(source: Any) -> str:
    """One source as text: ``score 0.71 · /data/report.pdf p.3``."""
    score = getattr(source, "score", None)
    page = getattr(source, "page", None)
    head = f"score {score:.2f} · " if score is not None else ""
    return f"{head}{getattr(source, 'source', source)}{f' p.{page}' if page else ''}"


def sources_text(sources: list[Any]) -> str:
    """The sources as plain lines, for terminals and ``text/plain`` copies."""
    lines = (f"  {i}. {source_line(s)}" for i, s in enumerate(sources, 1))
    return "Sources:\n" + "\n".join(lines) + "\n" if sources else ""


@dataclass
class _Row:
    score: float | None
    name: str
    pages: list[int] = field(default_factory=list)
    excerpt: str = ""


def _rows(sources: list[Any]) -> list[_Row]:
    rows: list[_Row] = []
    for src in sources:
        score = getattr(src, "score", None)
        name = str(getattr(src, "source", src))
        page = getattr(src, "page", None)
        if score is None and rows and rows[-1].score is None and rows[-1].name == name:
            if page:
                rows[-1].pages.append(int(page))
            continue
        excerpt = str(getattr(src, "text", "") or "") if score is not None else ""
        rows.append(_Row(score, name, [int(page)] if page else [], excerpt))
    return rows


def _pages(pages: list[int]) -> str:
    if not pages:
        return ""
    if len(pages) == 1:
        return f" p.{pages[0]}"
    if pages == list(range(pages[0], pages[-1] + 1)):
        return f" pp.{pages[0]}–{pages[-1]}"
    return " pp." + ", ".join(map(str, pages))


def _name(row: _Row, host: JupyterHost | None) -> str:
    """The source as HTML: a link JupyterLab opens, a link for a URL, else the path as code."""
    name = row.name
    if name.startswith(("http://", "https://")):
        return f'<a href="{html.escape(name)}">{html.escape(name)}</a>'
    target = file_link(name, row.pages[0] if row.pages else None, host) if host else None
    if target is None:
        return f"<code>{html.escape(name)}</code>"
    shown = Path(name).name
    return f'<a href="{html.escape(target)}" title="{html.escape(name)}">{html.escape(shown)}</a>'


def _excerpt(text: str) -> str:
    """The chunk folded under its source, on one HTML line (a blank line would end the block)."""
    text = " ".join(text.split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1].rstrip() + "…"
    return html.escape(text)


def sources_markdown(sources: list[Any], host: JupyterHost | None = None) -> str:
    """The sources under an answer, numbered, best first; ``host`` is the Jupyter server the
    links are for (by default the one running this kernel, if any)."""
    if not sources:
        return ""
    host = host or this_jupyter()
    lines = ["**Sources**", ""]
    for i, row in enumerate(_rows(sources), 1):
        head = f"{row.score:.2f} · " if row.score is not None else ""
        label = f"{i}. {head}{_name(row, host)}{_pages(row.pages)}"
        if row.excerpt.strip():
            lines.append(
                f"<details><summary>{label}</summary><blockquote>{_excerpt(row.excerpt)}"
                "</blockquote></details>"
            )
        else:
            lines.append(f"<div>{label}</div>")
    return "\n".join(lines) + "\n\n"
