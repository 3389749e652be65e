"""Summarize (map-reduce over whole pages) and Extract (one answer per part) on the tiny model,
over a real collection; the budget is made small so that documents need several parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from h2ogpt_jupyter.chat.summaries import extract, summarize
from h2ogpt_jupyter.documents import Collection, Text, get_collection
from h2ogpt_jupyter.documents.embeddings import get_embedder
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.prompts import PRE_PROMPT_SUMMARY

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")

SHORT = "Meeting notes: the launch moved to March; Ana owns the budget."
LONG = "\n\n".join(
    f"Paragraph {i}. The committee discussed item {i} at length and agreed on next steps. "
    "Everyone present voted, the minutes were approved and the chair closed the session."
    for i in range(40)
)


@pytest.fixture
def col(tiny_embedder_dir: Path) -> Collection:
    col = get_collection("Reports", embedder=get_embedder(tiny_embedder_dir, dtype="float32"))
    assert col.add([Text(SHORT, name="short"), Text(LONG, name="long")]).ok
    return col


@pytest.fixture
def small(manager, tiny_model_dir):
    return manager.load(str(tiny_model_dir), alias="small", dtype="float32", max_seq_len=400)


def test_a_short_document_is_summarized_in_one_streamed_call(manager, tiny, col) -> None:
    streamed: list[str] = []
    response = summarize(
        col,
        sources="short",
        model="tiny",
        manager=manager,
        max_new_tokens=6,
        on_text=streamed.append,
    )
    assert response.params["calls"] == 1 and response.parts == []
    assert PRE_PROMPT_SUMMARY in response.prompt and SHORT in response.prompt
    assert "".join(streamed).strip() == response.text
    assert [p.source for p in response.sources] == ["text:short"]


def test_a_long_document_goes_through_map_reduce(manager, small, col) -> None:
    progress: list[str] = []
    response = summarize(
        col,
        sources="long",
        model="small",
        manager=manager,
        max_new_tokens=12,
        temperature=1.0,  # the tiny random model's greedy tokens decode to whitespace
        seed=3,
        focus="the votes",
        on_progress=progress.append,
    )
    calls = response.params["calls"]
    assert calls >= 3 and len(response.parts) == calls - 1
    assert any("part 2/" in p for p in progress) and progress[-1] == "writing the summary"
    assert "Focusing on the votes," in response.prompt
    assert response.usage.prompt_tokens > 400  # every call's usage is counted
    assert "Paragraph 0." not in response.prompt  # the last call reads summaries, not pages
    assert all(response.parts) and response.parts[-1] in response.prompt


def test_extract_answers_every_part(manager, small, col) -> None:
    streamed: list[str] = []
    response = extract(
        "the decisions",
        col,
        sources=["long"],
        model="small",
        manager=manager,
        max_new_tokens=8,
        on_text=streamed.append,
    )
    assert len(response.parts) >= 2 and response.params["calls"] == len(response.parts)
    assert response.text.startswith("**Part 1**") and "**Part 2**" in "".join(streamed)
    assert "Focusing on the decisions," in response.prompt


def test_nothing_to_summarize_and_bad_input(manager, tiny, tiny_embedder_dir) -> None:
    empty = get_collection("Nothing", embedder=get_embedder(tiny_embedder_dir, dtype="float32"))
    assert summarize(empty, model="tiny", manager=manager).text == "No documents to summarize."
    assert extract("x", empty, model="tiny", manager=manager).text.startswith("No documents")
    with pytest.raises(InvalidOptionError, match="what to extract"):
        extract("  ", empty, model="tiny", manager=manager)
    with pytest.raises(InvalidOptionError, match="no documents to summarize"):
        summarize("LLM", model="tiny", manager=manager)
    with pytest.raises(H2OGPTError, match="no collection named"):
        summarize("Missing", model="tiny", manager=manager)


def test_summary_sources_render_once_per_document(manager, tiny, col) -> None:
    from h2ogpt_jupyter.documents import Page
    from h2ogpt_jupyter.models.response import sources_markdown

    pages = [Page("/d/report.pdf", n, "x") for n in (1, 2, 3)] + [Page("/d/a.md", None, "y")]
    text = sources_markdown(pages)
    assert "<code>/d/report.pdf</code> pp.1–3" in text and text.count("report.pdf") == 1


def test_summary_sentences_come_from_config(manager, tiny, col, monkeypatch) -> None:
    from h2ogpt_jupyter import config

    monkeypatch.setenv("H2OGPT_PROMPT_SUMMARY", "Résume en français.")
    config.reset()
    response = summarize(col, sources="short", model="tiny", manager=manager, max_new_tokens=4)
    assert "Résume en français." in response.prompt


def test_several_documents_are_each_summarized_under_their_name(manager, tiny, col) -> None:
    col.add(Text("Tides rise twice a day.", name="tides"))
    streamed: list[str] = []
    progress: list[str] = []
    response = summarize(
        col,
        sources=["short", "tides"],
        model="tiny",
        manager=manager,
        max_new_tokens=4,
        temperature=1.0,
        seed=2,
        on_text=streamed.append,
        on_progress=progress.append,
    )
    assert response.params["calls"] == 2 and response.params["documents"] == 2
    head, first, second = response.text.split("\n\n**")
    assert head == "*2 documents, each summarized:*"
    assert first.startswith("text:short**\n\n") and second.startswith("text:tides**\n\n")
    assert response.parts == [first.split("**\n\n", 1)[1], second.split("**\n\n", 1)[1]]
    assert progress == ["summarizing text:short (1/2)", "summarizing text:tides (2/2)"]
    assert "".join(streamed).split() == response.text.split()  # streamed as it was written
    assert {p.source for p in response.sources} == {"text:short", "text:tides"}
