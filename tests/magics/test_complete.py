"""Tab completion on a real IPython shell, through its completer as a notebook calls it:
commands, options, loaded aliases, collections, packaged models, panels and choices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from h2ogpt_jupyter import config
from h2ogpt_jupyter.documents import Text, get_collection


def completions(shell: Any, typed: str) -> list[str]:
    """What Tab offers at the end of ``typed``."""
    _, matches = shell.complete("", typed, len(typed))
    return list(matches)


def test_commands_and_options(ip: Any) -> None:
    assert {"load", "ask", "chat", "history", "ingest", "server", "panel"} <= set(
        completions(ip, "%h2ogpt ")
    )
    offered = completions(ip, "%h2ogpt ")
    assert len(offered) == len(set(offered)) and "" not in offered
    assert completions(ip, "%h2ogpt hi") == ["history"]
    assert "--max-new-tokens" in completions(ip, "%h2ogpt ask --max-n")
    assert completions(ip, "%h2ogpt ask --max-n") == ["--max-new-tokens"]
    assert "--collection" in completions(ip, "%%h2ogpt chat --coll")
    assert completions(ip, "%h2ogpt load x --dtype ") == ["auto", "float32", "bfloat16", "float16"]
    assert completions(ip, "%h2ogpt ask --format c") == ["code"]
    assert completions(ip, "%h2ogpt panel c") == ["chat", "compare"]
    assert "smollm2" in completions(ip, "%h2ogpt load ")
    assert "RelSources" in completions(ip, "%h2ogpt ask --document-subset ")


def test_loaded_aliases_and_collections(
    t: Any, tiny_embedder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2OGPT_HF_EMBEDDING_MODEL", str(tiny_embedder_dir))
    config.reset()
    assert completions(t, "%h2ogpt use ") == ["t"]
    assert completions(t, "%h2ogpt ask --model ") == ["t"]
    get_collection("Team").add(Text("A note.", name="n"))
    get_collection("Q3 report").add(Text("Another.", name="m"))
    assert completions(t, "%h2ogpt sources --collection T") == ["Team"]
    assert '"Q3 report"' in completions(t, "%h2ogpt ask --collection ")


def test_loading_the_extension_twice_keeps_one_completer_and_unloading_removes_it(
    shell: Any,
) -> None:
    from h2ogpt_jupyter import magics

    magics.load(shell)
    magics.load(shell)
    chain = shell.strdispatchers["complete_command"].strs["%h2ogpt"]
    assert len(chain.chain) == 1
    magics.unload(shell)
    try:
        assert "%h2ogpt" not in shell.strdispatchers["complete_command"].strs
        assert completions(shell, "%h2ogpt hi") != ["history"]
    finally:
        magics.load(shell)
