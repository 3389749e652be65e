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
from typing import Any

from IPython.core.displaypub import DisplayPublisher
from IPython.display import display

from h2ogpt_jupyter.models.response import Response, source_line, sources_markdown


def show_markdown(text: str) -> None:
    """Display Markdown with its source as the plain-text fallback."""
    display({"text/markdown": text, "text/plain": text}, raw=True)


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
        if self.fmt == "markdown":
            now = time.monotonic()
            if now - self._last >= self.interval:
                self._show(self.text)
                self._last = now
        else:
            sys.stdout.write(delta)
            sys.stdout.flush()

    def _show(self, text: str) -> None:
        bundle = {"text/markdown": text, "text/plain": text}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def finish(self, response: Response, shell: Any = None) -> None:
        """Show the final text (cleaning may have changed it) and, for code, the next cell."""
        note = "" if response.finish_reason != "cancelled" else "\n\n*[stopped]*"
        # Answers made of the chunks themselves already are their sources.
        sources = [] if "document_subset" in response.params else response.sources
        if self.fmt == "markdown":
            listed = sources_markdown(sources).rstrip()
            self._show(response.text + note + (f"\n\n{listed}" if listed else ""))
        else:
            if not self.live or not self.text:
                sys.stdout.write(response.text)
            elif self.text != response.text:  # cleaning changed it: show the final text
                sys.stdout.write("\n" + response.text)
            sys.stdout.write(note.replace("*", "") + "\n")
            if sources:
                lines = (f"  {i}. {source_line(s)}" for i, s in enumerate(sources, 1))
                sys.stdout.write("Sources:\n" + "\n".join(lines) + "\n")
            sys.stdout.flush()
        if self.fmt == "code" and shell is not None:
            shell.set_next_input(extract_code(response.text), replace=False)


_FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.S)


def extract_code(text: str) -> str:
    """The fenced code blocks of an answer, or the whole answer when it has none."""
    blocks = _FENCE.findall(text)
    return "\n\n".join(b.strip("\n") for b in blocks) if blocks else text.strip()
