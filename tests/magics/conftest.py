"""The shell with the tiny model loaded through the magic itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def t(ip: Any, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    """The shell with the tiny model loaded by the magic as 't'."""
    ip.run_line_magic("h2ogpt", f"load {tiny_model_dir} --as t --dtype float32")
    ip.run_line_magic("h2ogpt", "params --max-new-tokens 6")  # short answers: test_commands.MAX_NEW
    capsys.readouterr()
    return ip
