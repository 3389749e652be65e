"""The magics' model: the tiny random Llama made to answer in visible words (so an answer
shown, printed or put in a cell can be compared with the text it should be), loaded through
the magic itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.models import build_talking_llama


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    """The shared tiny Llama, with its blank tokens silenced: greedy answers are words."""
    return build_talking_llama(tiny_model_dir, tmp_path_factory.mktemp("talking-llama"))


@pytest.fixture
def t(ip: Any, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """The shell with the tiny model loaded by the magic as 't'."""
    ip.run_line_magic("h2ogpt", f"load {tiny_model_dir} --as t --dtype float32")
    ip.run_line_magic("h2ogpt", "params --max-new-tokens 6")  # short answers: test_commands.MAX_NEW
    capsys.readouterr()
    return ip
