"""Show a streaming answer in the cell output.

Markdown updates one display in place, at most every ``interval`` seconds, so a fast model
does not flood the front end with messages; text goes straight to stdout token by token. Both
end with the complete text. Every display carries a ``text/plain`` copy too, so terminal
IPython, ``nbconvert --to script`` and captured outputs read as text rather than
``<Markdown object>``.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from IPython.core.displaypub import DisplayPublisher
from IPython.display import display

from h2ogpt_jupyter.models.citations import sources_markdown, sources_text
from h2ogpt_jupyter.models.response import Response


def show_markdown(text: str) -> None:
    """Display Markdown with its source as the plain-text fallback."""
    display({"text/markdown": text, "text/plain": text}, raw=True)


@contextmanager
def transient(shell: Any, text: str) -> Iterator[None]:
    """A line saying what is happening while it happens ("Loading smollm2…"). In a notebook it
    is gone when the work ends, done or failed, so an error stands alone and a result is not
    preceded by a stale line; a terminal, which cannot take a line back, prints it once."""
    if not can_update(shell):
        print(text, flush=True)
        yield
        return
    handle = display({"text/plain": text}, raw=True, display_id=True)
    try:
        yield
    finally:
        handle.update({"text/plain": ""}, raw=True)


def embedder_ready(shell: Any, collection: Any) -> None:
    """Load ``collection`` 's embedding model, saying so, if it is not loaded yet: the first
    question or ingest of a kernel otherwise sits silent while it loads."""
    embedder = collection.embedder
    if not getattr(embedder, "loaded", True):
        with transient(shell, f"Loading the embedding model {embedder.model_id}…"):
            embedder.load()


def can_update(shell: Any) -> bool:
    """Whether displays can be replaced in place (kernels, captures) rather than reprinted.

    Plain IPython's own publisher prints every update as a new block, so there a Markdown
    answer is shown once, when it is complete.
    """
    publisher = getattr(shell, "display_pub", None)
    return publisher is not None and type(publisher) is not DisplayPublisher


class StreamDisplay:
    def __init__(self, fmt: str = "markdown", interval: float = 0.05, *, live: bool = True) -> None:
        self.fmt = fmt
        self.interval = interval
        self.live = live  # False: show nothing until the answer is complete
        self.text = ""
        self._handle: Any = None
        self._last = 0.0

    def __call__(self, delta: str) -> None:
        self.text += delta
        if not self.live:
            return
        if self.fmt != "text":
            now = time.monotonic()
            if now - self._last >= self.interval:
                self._show(self.text)
                self._last = now
        else:
            sys.stdout.write(delta)
            sys.stdout.flush()

    def _show(self, text: str, plain: str | None = None) -> None:
        if self.fmt == "code" and "```" not in text:
            text = f"```\n{text.strip()}\n```"  # an answer that is all code shows as code
        bundle = {"text/markdown": text, "text/plain": text if plain is None else plain}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def finish(self, response: Response, shell: Any = None) -> None:
        """Show the final text (cleaning may have changed it) and, for code, the next cell."""
        note = "" if response.finish_reason != "cancelled" else "\n\n*[stopped]*"
        # Answers made of the chunks themselves already are their sources.
        sources = [] if "document_subset" in response.params else response.sources
        if self.fmt == "code":
            self._show(response.text + note)
        elif self.fmt == "markdown":
            listed, lines = sources_markdown(sources).rstrip(), sources_text(sources)
            self._show(
                response.text + note + (f"\n\n{listed}" if listed else ""),
                response.text + note + (f"\n\n{lines}" if lines else ""),
            )
        else:
            if not self.live or not self.text:
                sys.stdout.write(response.text)
            elif self.text != response.text:  # cleaning changed it: show the final text
                sys.stdout.write("\n" + response.text)
            sys.stdout.write(note.replace("*", "") + "\n")
            sys.stdout.write(sources_text(sources))
            sys.stdout.flush()
        if self.fmt == "code" and shell is not None:
            shell.set_next_input(extract_code(response.text), replace=False)


_FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.S)
_FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})\s*")


def history_markdown(turns: list[tuple[str, str]]) -> str:
    """A chat's turns as one Markdown document in which each message stays inside its turn:
    labels on lines of their own (so an answer may open with a code fence), the single line
    breaks of a message kept (as the chat panel shows them), and a fence left open closed."""
    parts = [
        f"**You:**\n\n{message_markdown(user)}\n\n**Bot:**\n\n{message_markdown(bot)}"
        for user, bot in turns
    ]
    return "\n\n---\n\n".join(parts)


def message_markdown(text: str) -> str:
    """One message as Markdown that cannot spill into what follows it."""
    lines = text.strip("\n").split("\n")
    out: list[str] = []
    fence = ""  # the open code fence, if any
    for i, line in enumerate(lines):
        if fence:
            close = _FENCE_CLOSE.fullmatch(line)
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= len(fence):
                fence = ""
            out.append(line)
            continue
        opened = _FENCE_OPEN.match(line)
        if opened:
            fence = opened.group(1)
            out.append(line)
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        # two trailing spaces: a line break inside a paragraph (ignored at a block's end)
        out.append(line + "  " if line.strip() and following.strip() else line)
    if fence:
        out.append(fence)
    return "\n".join(out)


def extract_code(text: str) -> str:
    """The fenced code blocks of an answer, or the whole answer when it has none."""
    blocks = _FENCE.findall(text)
    return "\n\n".join(b.strip("\n") for b in blocks) if blocks else text.strip()
