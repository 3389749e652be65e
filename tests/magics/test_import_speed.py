"""``import h2ogpt_jupyter`` and ``%load_ext h2ogpt_jupyter`` stay light.

Loading the extension happens in every notebook that uses it, often at the top of a kernel
that never loads a model; pulling in torch or an engine there would cost seconds each time.
Heavy libraries must wait until a model is loaded. This checks which modules got imported in
a fresh interpreter; how long it takes is measured in ``bench/``, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("torch", "transformers", "llama_cpp", "openai", "chromadb")


# Appended to every script: print the heavy top-level packages now in sys.modules.
REPORT = """
import json as _json, sys as _sys
_found = sorted({name.split(".")[0] for name in _sys.modules} & set(HEAVY))
print("\\nRESULT " + _json.dumps({"heavy": _found}))
"""


def imported_after(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; report which HEAVY packages it imported."""
    script = textwrap.dedent(code) + REPORT.replace("HEAVY", repr(HEAVY))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line.removeprefix("RESULT "))


def test_import_is_light() -> None:
    result = imported_after(
        """
        import h2ogpt_jupyter
        h2ogpt_jupyter.__version__
        """
    )
    assert result["heavy"] == []


def test_load_ext_in_a_real_shell_is_light() -> None:
    result = imported_after(
        """
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "h2ogpt_jupyter")
        assert "h2ogpt" in shell.magics_manager.magics["line"]
        """
    )
    assert result["heavy"] == []


@pytest.mark.parametrize(
    "commands",
    [
        ["help", "params", "prompt-types", "models", "chats list", "history"],
        ["params --temperature 0.5", "ask Hello"],  # no model: one error line, still light
    ],
)
def test_commands_that_need_no_model_stay_light(commands: list[str], tmp_path: Path) -> None:
    result = imported_after(
        f"""
        import os
        os.environ["H2OGPT_DATA_DIR"] = {str(tmp_path)!r}
        os.environ.pop("H2OGPT_DEFAULT_MODEL", None)
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "h2ogpt_jupyter")
        for command in {commands!r}:
            shell.run_line_magic("h2ogpt", command)
        """
    )
    assert result["heavy"] == []


def test_the_api_names_resolve_without_heavy_imports() -> None:
    result = imported_after(
        """
        import h2ogpt_jupyter as h2o
        h2o.Chat, h2o.ask, h2o.Response, h2o.GenerationParams, h2o.get_manager()
        """
    )
    assert result["heavy"] == []
