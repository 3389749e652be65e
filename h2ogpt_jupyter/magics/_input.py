"""Keep ``%h2ogpt ask What is the capital of France?`` a question, not a help request.

IPython reads any line ending in ``?`` as object introspection before it looks for magics:
that line would run ``pinfo France`` and never reach the model. Questions end in ``?`` all
the time, so a cleanup transformer (IPython's documented hook that runs before its own
parsing) turns such ``%h2ogpt`` lines into the call IPython would have made. ``%h2ogpt?``
(help on the magic itself) is left alone, and so is every cell magic's body.
"""

from __future__ import annotations

import re
from typing import Any

_LINE = re.compile(r"^([ \t]*)%h2ogpt[ \t]+(.*?)[ \t]*$")


def keep_question_marks(lines: list[str]) -> list[str]:
    """Rewrite ``%h2ogpt ...?`` lines to ``get_ipython().run_line_magic('h2ogpt', ...)``."""
    if not lines or lines[0].lstrip().startswith("%%"):
        return lines  # a cell magic: its body is text for the magic, not Python
    out = []
    for line in lines:
        body = line.rstrip("\r\n")
        match = _LINE.match(body)
        if match and body.rstrip().endswith("?"):
            indent, args = match.groups()
            newline = line[len(body) :]
            line = f"{indent}get_ipython().run_line_magic('h2ogpt', {args!r}){newline}"
        out.append(line)
    return out


def install(shell: Any) -> None:
    """Add the transformer once, even when the extension is loaded again."""
    cleanup = getattr(shell, "input_transformers_cleanup", None)
    if cleanup is None:
        return
    cleanup[:] = [f for f in cleanup if getattr(f, "__name__", "") != keep_question_marks.__name__]
    cleanup.append(keep_question_marks)


def uninstall(shell: Any) -> None:
    cleanup = getattr(shell, "input_transformers_cleanup", None)
    if cleanup is not None:
        cleanup[:] = [f for f in cleanup if f is not keep_question_marks]
