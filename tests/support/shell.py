"""Driving the ``%h2ogpt`` magics on a real IPython shell as a user would, and reading what
a user mistake prints: exactly one ``h2ogpt:`` line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from h2ogpt_jupyter.models.manager import get_manager
from h2ogpt_jupyter.models.response import Response

from .models import greedy_text

_PROGRESS = re.compile(r"^\S[^:]*:\s+\d+%\|")  # "Loading weights: 100%|████| 20/20 ..."


def line(shell: Any, text: str) -> Any:
    return shell.run_line_magic("h2ogpt", text)


def last(shell: Any) -> Response:
    response = shell.user_ns["_h2ogpt"]
    assert isinstance(response, Response)
    return response


def checked_answer(shell: Any) -> Response:
    """The last answer, checked to be words and exactly what plain ``transformers`` generates
    greedily for its prompt on its model: what a test then finds shown or printed is the
    answer, not merely the same empty string twice."""
    response = last(shell)
    model_dir = Path(get_manager().get(response.model).info()["model"])
    params = response.params
    expected = greedy_text(
        model_dir, response.prompt, params["max_new_tokens"], params["repetition_penalty"]
    )
    assert response.text.strip(), "the answer is blank"
    assert response.text.strip() == expected.strip(), (response.text, expected)
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
