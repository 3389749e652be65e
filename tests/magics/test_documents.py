"""The document subcommands of ``%h2ogpt`` on a real IPython shell: ingest (files, folders,
cell text), collections, sources, ask with a collection and its sources, RelSources, delete,
summarize, extract, and one clear line for each user mistake. Embeddings come from the tiny
random sentence-transformer (``H2OGPT_HF_EMBEDDING_MODEL``), answers from the tiny Llama."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from h2ogpt_jupyter import config
from h2ogpt_jupyter.documents import get_collection
from tests.support.shell import last, line, one_error

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")

NOTES = {
    "budget.md": "# Budget\n\nThe Q3 revenue was 4.2 million dollars, up 12 percent.",
    "team.txt": "Ana leads the data team; Bo runs the platform on-call rota.",
    "plan.txt": "The launch moved from January to March because of the audit.",
}


@pytest.fixture(autouse=True)
def _tiny_embeddings(tiny_embedder_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H2OGPT_HF_EMBEDDING_MODEL", str(tiny_embedder_dir))
    config.reset()


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes dir"  # a space, so the path must be quoted
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def team(ip: Any, notes: Path) -> str:
    """The notes ingested into the collection 'Team' by the magic."""
    with capture_output():
        line(ip, f'ingest "{notes}" --collection Team')
    return "Team"


def markdown(cap: Any) -> str:
    return "\n".join(o.data.get("text/markdown", "") for o in cap.outputs)


def test_ingest_list_sources_and_delete(ip: Any, notes: Path, capsys: Any) -> None:
    with capture_output() as cap:
        line(ip, f'ingest "{notes}" --collection Team -o report')
    assert "3 added" in markdown(cap) or "added" in markdown(cap)
    assert ip.user_ns["report"].ok and len(ip.user_ns["report"].added) == 3

    with capture_output() as cap:
        line(ip, "collections")
    table = markdown(cap)
    assert "| Team | personal | 3 |" in table

    with capture_output() as cap:
        line(ip, "sources --collection Team")
    assert "budget.md" in markdown(cap) and "**Team**: 3 documents" in markdown(cap)

    line(ip, "delete budget.md --collection Team")
    assert "Removed 1 source(s)" in capsys.readouterr().out
    assert len(get_collection("Team").sources()) == 2

    line(ip, "delete --collection Team --all")
    assert "Deleted collection 'Team'" in capsys.readouterr().out


def test_collections_are_named_as_in_h2ogpt(ip: Any, notes: Path, capsys: Any) -> None:
    """Short names, spaces and case as typed; only what cannot be a name is refused."""
    with capture_output():
        line(ip, f'ingest "{notes}" --collection UX')
        line(ip, f'ingest "{notes / "team.txt"}" --collection "Q3 report"')
    with capture_output() as cap:
        line(ip, "collections")
    table = markdown(cap)
    assert "| UX | personal | 3 |" in table and "| Q3 report | personal | 1 |" in table
    with capture_output() as cap:
        line(ip, 'sources --collection "Q3 report"')
    assert "team.txt" in markdown(cap) and "**Q3 report**: 1 document" in markdown(cap)
    capsys.readouterr()
    line(ip, "sources --collection ux")  # another name: case is kept
    assert "no collection named 'ux'" in one_error(capsys)
    line(ip, "ingest x --collection a/b")
    assert "bad collection name 'a/b': a name, not a path" in one_error(capsys)


def test_cell_text_and_a_list_variable(ip: Any, notes: Path) -> None:
    with capture_output():
        ip.run_cell_magic(
            "h2ogpt", "ingest --name minutes --collection Cells", "Minutes: all agreed."
        )
    assert [r["source"] for r in get_collection("Cells").sources()] == ["text:minutes"]
    ip.user_ns["files"] = [str(notes / "team.txt"), str(notes / "plan.txt")]
    with capture_output():
        line(ip, "ingest {files} --collection Cells")
    assert len(get_collection("Cells").sources()) == 3


def test_ask_with_a_collection_streams_then_lists_sources(t: Any, team: str) -> None:
    with capture_output() as cap:
        line(t, f"ask --collection Team --top-k-docs 2 {NOTES['team.txt']}")
    response = last(t)
    assert len(response.sources) == 2 and Path(response.sources[0].source).name == "team.txt"
    final = cap.outputs[-1].data["text/markdown"]
    assert "**Sources**" in final and "team.txt" in final
    assert "<all_documents>" in response.prompt

    with capture_output():
        line(
            t, f"ask --collection Team --docs plan.txt,budget.md --format text {NOTES['team.txt']}"
        )
    names = {Path(s.source).name for s in last(t).sources}
    assert names <= {"plan.txt", "budget.md"} and names


def test_rel_sources_needs_no_model(ip: Any, team: str) -> None:
    with capture_output() as cap:
        line(ip, f"ask --collection Team --subset RelSources {NOTES['plan.txt']}")
    response = last(ip)
    assert NOTES["plan.txt"] in response.text and response.sources
    assert "**Sources**" not in cap.outputs[-1].data["text/markdown"]  # the text is the sources


def test_chat_keeps_its_collection(t: Any, team: str) -> None:
    with capture_output():
        line(t, f"chat --collection Team {NOTES['budget.md']}")
        line(t, "chat And the team?")
    assert last(t).sources and last(t).params["collection"] == "Team"
    with capture_output():
        line(t, "chat --collection ChatLLM no documents now")
    assert last(t).sources == [] and "<all_documents>" not in last(t).prompt


def test_summarize_and_extract(t: Any, team: str) -> None:
    with capture_output() as cap:
        line(t, "summarize --collection Team --docs plan.txt")
    response = last(t)
    assert "The launch moved" in response.prompt and response.params["calls"] == 1
    assert "plan.txt" in markdown(cap)
    with capture_output():
        line(t, "extract --collection Team -o found every name")
    assert t.user_ns["found"] is last(t) and "Focusing on every name," in last(t).prompt


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("ingest", "what to ingest?"),
        ("ingest /no/such/dir --chunk-size big", "--chunk-size needs a whole number"),
        ("ingest x --collection ../up", "bad collection name"),
        ("sources --collection Nowhere", "no collection named 'Nowhere'"),
        ("delete --collection Nowhere --all", "no collection named 'Nowhere'"),
        ("delete --all", "name the collection to delete"),
        ("delete", "which documents?"),
        ("collections --bogus 1", "unknown option --bogus"),
        ("ask --collection Team --subset Some What?", "document_subset must be one of"),
        ("ask --collection Team --top-k-docs 0 What?", "top_k_docs must be"),
        ("ask --collection Nowhere What?", "no collection named 'Nowhere'"),
        ("ask --collection Team --docs , What?", "--docs needs document names"),
        ("summarize --collection LLM", "no documents to summarize"),
        ("extract --collection Team", "what to extract?"),
        ("summarize --collection Team --temperature hot", "temperature must be a number"),
    ],
)
def test_mistakes_are_one_line(t: Any, capsys: Any, command: str, expected: str) -> None:
    t.run_cell(f"%h2ogpt {command}")
    assert expected in one_error(capsys)


def shown_last(cap: Any) -> dict[str, str]:
    """What each display says in the end, after its updates (the notebook's view)."""
    final: dict[str, str] = {}
    for output in cap.outputs:
        key = (output.transient or {}).get("display_id") or str(id(output))
        final[key] = output.data.get("text/plain", "")
    return final


def test_a_first_question_says_the_embedder_is_loading_then_says_no_more(
    ip: Any, team: str, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> None:
    from h2ogpt_jupyter.documents import embeddings

    with capture_output():
        line(ip, f"load {tiny_model_dir} --as t --dtype float32")
    monkeypatch.setattr(embeddings, "_cache", {})  # a fresh kernel: no model loaded yet
    with capture_output() as cap:
        line(ip, "ask --collection Team --max-new-tokens 3 What was the Q3 revenue?")
    said = [o.data.get("text/plain", "") for o in cap.outputs]
    assert any(text.startswith("Loading the embedding model ") for text in said), said
    final = shown_last(cap)
    assert not any("Loading" in text for text in final.values()), final
    assert last(ip).sources  # the answer came, with its sources


def test_a_failed_load_leaves_only_its_error(ip: Any, capsys: Any, tmp_path: Path) -> None:
    with capture_output() as cap:
        line(ip, f"load {tmp_path / 'no-such-model'}")
    said = [o.data.get("text/plain", "") for o in cap.outputs]
    assert any(text.startswith("Loading ") for text in said), said  # said while it tried
    assert all(text == "" for text in shown_last(cap).values()), shown_last(cap)
    assert cap.stderr.startswith("h2ogpt: ") and "no-such-model" in cap.stderr
