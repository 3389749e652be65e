"""A collection open in one process sees what another process writes afterwards, as a kernel
with a shared ``UserData`` open sees a colleague's ingest: new documents are found, deleted
ones are gone from searches, and this process's own writes do not trigger a reopen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from h2ogpt_jupyter.documents import Text, _chroma, get_collection
from h2ogpt_jupyter.documents.embeddings import get_embedder

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")

WRITER = """
import sys
from h2ogpt_jupyter.documents import Text, get_collection
from h2ogpt_jupyter.documents.embeddings import get_embedder
col = get_collection("UserData", embedder=get_embedder(sys.argv[1], dtype="float32"))
assert col.add(Text("Added by a colleague: the wiki moved to wiki.example.org.", name="wiki")).ok
col.delete("old")
"""


def test_another_process_writes_are_seen_by_an_open_collection(
    tiny_embedder_dir: Path, tmp_path: Path
) -> None:
    embedder = get_embedder(tiny_embedder_dir, dtype="float32")
    col = get_collection("UserData", embedder=embedder)
    old = "An old note that a colleague will delete."
    col.add([Text(old, name="old"), Text("A note that stays.", name="stays")])
    assert col.query(old, k=1)[0].source == "text:old"
    before = _chroma.reopened(col.path)
    col.add(Text("My own new note.", name="mine"))  # own writes: no reopen needed
    assert col.query("My own new note.", k=1)[0].source == "text:mine"
    assert _chroma.reopened(col.path) == before

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    subprocess.run(
        [sys.executable, str(script), str(tiny_embedder_dir)], check=True, env=dict(os.environ)
    )

    wiki = "Added by a colleague: the wiki moved to wiki.example.org."
    assert col.query(wiki, k=1)[0].source == "text:wiki"
    assert _chroma.reopened(col.path) == before + 1
    everything = col.query("note", k=10)
    assert "text:old" not in {h.source for h in everything}
    assert all(h.source and h.text for h in everything)  # no orphan ids from the old index
    assert {r["source"] for r in col.sources()} == {"text:stays", "text:mine", "text:wiki"}
