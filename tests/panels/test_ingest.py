"""The ingest panel driven as the browser drives it: uploads arrive as binary buffers, URLs
and pasted text, per-file results and progress, the sources table with delete, collection
choice, and errors. Embeddings come from the tiny random sentence-transformer."""

from __future__ import annotations

from pathlib import Path

import pytest

from h2ogpt_jupyter import config
from h2ogpt_jupyter.panels import IngestPanel
from h2ogpt_jupyter.panels._ingest import safe_name, uploads_dir

from .comm import (
    front,
    set_state,
    updates,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")

NOTES = b"# Budget\n\nThe Q3 revenue was 4.2 million dollars, up 12 percent.\n"


@pytest.fixture(autouse=True)
def _tiny_embeddings(tiny_embedder_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H2OGPT_HF_EMBEDDING_MODEL", str(tiny_embedder_dir))
    config.reset()


@pytest.fixture
def panel() -> IngestPanel:
    panel = IngestPanel("Team")
    panel.wait()
    return panel


def by_source(panel: IngestPanel) -> dict[str, dict]:
    return {Path(r["source"]).name: r for r in panel.results}


def test_uploads_arrive_as_buffers_and_each_file_gets_a_result(panel: IngestPanel) -> None:
    assert panel.sources == [] and "Team" in panel.collections
    front(panel, {"type": "upload", "names": ["budget.md", "broken.pdf"]}, [NOTES, b"not a pdf"])
    panel.wait()
    results = by_source(panel)
    assert results["budget.md"]["status"] == "added" and results["budget.md"]["chunks"] >= 1
    assert results["broken.pdf"]["status"] == "error" and results["broken.pdf"]["message"]
    assert panel.progress == {"done": 2, "total": 2, "current": ""}
    dones = [p["done"] for _, p in updates(panel, "progress") if p["total"] == 2]
    assert dones == sorted(dones) and dones[0] == 0 and 1 in dones and dones[-1] == 2
    assert panel.summary.startswith("Team: 1 added, 1 error;")
    assert [r["name"] for r in panel.sources] == ["budget.md"]
    assert (uploads_dir("Team") / "budget.md").read_bytes() == NOTES
    assert not panel.busy and panel.errors == []

    # the same bytes again: recognised, not embedded twice; changed bytes replace
    front(panel, {"type": "upload", "names": ["budget.md"]}, [NOTES])
    panel.wait()
    assert panel.results[0]["status"] == "unchanged"
    front(panel, {"type": "upload", "names": ["budget.md"]}, [NOTES + b"Costs fell.\n"])
    panel.wait()
    assert panel.results[0]["status"] == "replaced" and len(panel.sources) == 1

    front(panel, {"type": "delete", "sources": [panel.sources[0]["source"]]})
    panel.wait()
    assert panel.sources == [] and not (uploads_dir("Team") / "budget.md").exists()
    assert panel.status.startswith("Removed 1 source(s)")


def test_urls_and_pasted_text(panel: IngestPanel) -> None:
    front(panel, {"type": "url", "url": "http://127.0.0.1:9/nothing.html"})
    panel.wait()
    (row,) = panel.results
    assert row["status"] == "error" and row["source"] == "http://127.0.0.1:9/nothing.html"
    front(panel, {"type": "url", "url": "ftp://example.com/file"})
    assert "not a URL" in panel.errors[-1]["message"]

    front(panel, {"type": "paste", "text": "Ana leads the data team.", "name": "team"})
    panel.wait()
    assert panel.results == [
        {
            "source": "text:team",
            "status": "added",
            "chunks": 1,
            "pages": 1,
            "parser": panel.results[0]["parser"],
            "message": "",
        }
    ]
    assert [r["name"] for r in panel.sources] == ["text:team"]
    front(panel, {"type": "paste", "text": "  "})
    assert "the text is empty" in panel.errors[-1]["message"]


def test_choosing_collections_and_what_goes_wrong(
    panel: IngestPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    front(panel, {"type": "paste", "text": "kept in Team", "name": "t"})
    panel.wait()
    set_state(panel, collection="Fresh")
    panel.wait()
    assert panel.collection == "Fresh" and panel.sources == []
    set_state(panel, collection="not/a/name")
    assert "bad collection name" in panel.errors[-1]["message"] and panel.collection == "Fresh"
    set_state(panel, collection="Team")
    panel.wait()
    assert [r["name"] for r in panel.sources] == ["text:t"]

    front(panel, {"type": "upload", "names": ["a.txt", "b.txt"]}, [b"only one"])
    assert "2 names" in panel.errors[-1]["message"]
    front(panel, {"type": "delete", "sources": []})
    assert "which sources" in panel.errors[-1]["message"]

    monkeypatch.setenv("H2OGPT_ALLOW_UPLOAD_TO_USER_DATA", "0")
    config.reset()
    set_state(panel, collection="UserData")
    front(panel, {"type": "paste", "text": "shared text"})
    panel.wait()
    assert panel.results[0]["status"] == "error"
    assert "read-only" in panel.results[0]["message"] and not panel.busy


def test_browser_file_names_become_plain_file_names() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\report.pdf") == "report.pdf"
    assert safe_name("") == "upload" and safe_name("..") == "upload"
    assert safe_name(".env") == "upload.env"
    assert safe_name("a<b>|c?.md") == "a-b--c-.md"


def test_the_first_upload_says_the_embedder_is_loading(
    panel: IngestPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from h2ogpt_jupyter.documents import Text, embeddings, get_collection

    get_collection("Team").add(Text("Earlier.", name="earlier"))  # a collection from before
    monkeypatch.setattr(embeddings, "_cache", {})  # a fresh kernel: no model loaded yet
    front(panel, {"type": "upload", "names": ["budget.md"]}, [NOTES])
    panel.wait()
    shown = [p for _, p in updates(panel, "progress") if p.get("total") == 1]
    assert shown[0]["done"] == 0 and shown[0]["current"] == "budget.md"
    assert shown[1]["done"] == 0 and shown[1]["current"].startswith("loading the embedding model")
    assert shown[-1] == {"done": 1, "total": 1, "current": ""}
    assert by_source(panel)["budget.md"]["status"] == "added"
