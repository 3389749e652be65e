"""Show a streaming answer in the cell output.

Markdown updates one display in place, at most every ``interval`` seconds, so a fast model
does not flood the front end with messages; text goes straight to stdout token by token. Both
end with the complete text.
"""

from __future__ import annotations

import re
import sys
import time
from typing import Any

from IPython.display import Markdown, display

from ..response import Response


class StreamDisplay:
    def __init__(self, fmt: str = "markdown", interval: float = 0.05) -> None:
        self.fmt = fmt
        self.interval = interval
        self.text = ""
        self._handle: Any = None
        self._last = 0.0

    def __call__(self, delta: str) -> None:
        self.text += delta
        if self.fmt == "markdown":
            now = time.monotonic()
            if now - self._last >= self.interval:
                self._show(self.text)
                self._last = now
        else:
            sys.stdout.write(delta)
            sys.stdout.flush()

    def _show(self, text: str) -> None:
        if self._handle is None:
            self._handle = display(Markdown(text), display_id=True)
        else:
            self._handle.update(Markdown(text))

    def finish(self, response: Response, shell: Any = None) -> None:
        note = "" if response.finish_reason != "cancelled" else "\n\n*[stopped]*"
        if self.fmt == "markdown":
            self._show(response.text + note)
        else:
            if self.text != response.text:  # cleaning changed it: show the final text
                sys.stdout.write("\n" + response.text)
            sys.stdout.write(note.replace("*", "") + "\n")
            sys.stdout.flush()
        if self.fmt == "code" and shell is not None:
            shell.set_next_input(extract_code(response.text), replace=False)


_FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.S)


def extract_code(text: str) -> str:
    """The fenced code blocks of an answer, or the whole answer when it has none."""
    blocks = _FENCE.findall(text)
    return "\n\n".join(b.strip("\n") for b in blocks) if blocks else text.strip()
