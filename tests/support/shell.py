"""Driving the ``%h2ogpt`` magics on a real IPython shell as a user would, and reading what
a user mistake prints: exactly one ``h2ogpt:`` line."""

from __future__ import annotations

import re
from typing import Any

import pytest

from h2ogpt_jupyter.models.response import Response

_PROGRESS = re.compile(r"^\S[^:]*:\s+\d+%\|")  # "Loading weights: 100%|████| 20/20 ..."


def line(shell: Any, text: str) -> Any:
    return shell.run_line_magic("h2ogpt", text)


def last(shell: Any) -> Response:
    response = shell.user_ns["_h2ogpt"]
    assert isinstance(response, Response)
    return response


def own_stderr(err: str) -> list[str]:
    """stderr lines, without transformers' own weight-loading progress bar."""
    lines = err.replace("\r", "\n").splitlines()
    return [x for x in lines if x.strip() and not _PROGRESS.search(x)]


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The single ``h2ogpt:`` line a user mistake must produce, and nothing else on stderr."""
    out, err = capsys.readouterr()
    lines = own_stderr(err)
    assert len(lines) == 1 and lines[0].startswith("h2ogpt: "), err
    assert "Traceback" not in out + err
    return lines[0]
