"""Answers from a collection: retrieval modes, fitting documents and history into the window,
sources on the response. A real Chroma collection embedded by the tiny random
sentence-transformer, answered by the tiny random Llama: random vectors carry no meaning, so
questions here are the exact text of a chunk, which is then its own nearest neighbour."""

from __future__ import annotations

from pathlib import Path

import pytest

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.documents import Collection, Text, get_collection
from h2ogpt_jupyter.documents.embeddings import get_embedder
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.prompts import PROMPT_QUERY

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")

FACTS = {
    "rivers.txt": "The Danube flows through ten countries before reaching the Black Sea.",
    "space.txt": "Jupiter has the shortest day of all planets, under ten hours long.",
    "food.txt": "Saffron is harvested by hand from the stigmas of crocus flowers.",
    "music.txt": "A string quartet is made of two violins, a viola and a cello.",
}


@pytest.fixture
def docs(tiny_embedder_dir: Path, tmp_path: Path) -> Collection:
    col = get_collection("Facts", embedder=get_embedder(tiny_embedder_dir, dtype="float32"))
    for name, text in FACTS.items():
        (tmp_path / name).write_text(text)
    assert col.add(tmp_path).ok
    return col


@pytest.fixture
def chat(manager, tiny, docs: Collection) -> Chat:
    return Chat("tiny", manager=manager, params={"max_new_tokens": 4}, collection=docs)


def test_answer_carries_its_sources_and_the_prompt_holds_them(chat: Chat) -> None:
    question = FACTS["space.txt"]
    response = chat.send(question)
    assert response.sources, "no sources on the response"
    best = response.sources[0]
    assert Path(best.source).name == "space.txt" and best.distance == pytest.approx(0, abs=1e-4)
    assert len(response.sources) == 3  # h2oGPT's top_k_docs default
    assert "<all_documents>" in response.prompt and PROMPT_QUERY in response.prompt
    # best_near_prompt: the best chunk is the last document before the question
    body = response.prompt.split("</all_documents>")[0]
    assert body.rstrip().endswith(FACTS["space.txt"])
    assert response.params["collection"] == "Facts" and response.params["documents_used"] == 3
    assert chat.history[-1][1] == response.text  # sources are not part of the history
    markdown = response._repr_markdown_()
    assert "**Sources**" in markdown and "space.txt" in markdown
    assert response.to_dict()["sources"][0]["source"] == best.source


def test_best_first_ordering_and_top_k(chat: Chat) -> None:
    question = FACTS["food.txt"]
    response = chat.send(question, docs_ordering_type="best_first", top_k_docs=2)
    assert len(response.sources) == 2
    body = response.prompt.split("<all_documents>")[1]
    assert body.lstrip().startswith(FACTS["food.txt"])


def test_rel_sources_returns_chunks_without_a_model(docs: Collection, manager) -> None:
    chat = Chat(manager=manager, collection=docs, document_subset="RelSources", top_k_docs=2)
    response = chat.send(FACTS["music.txt"])  # no model is loaded at all
    assert Path(response.sources[0].source).name == "music.txt"
    assert len(response.sources) == 2 and FACTS["music.txt"] in response.text
    assert chat.history == []  # chunks are not a turn of the conversation
    with pytest.raises(H2OGPTError, match="without a model"):
        chat.prompt("anything")


def test_top_k_sources_gives_first_chunks_of_chosen_documents(docs: Collection, manager) -> None:
    chat = Chat(
        manager=manager,
        collection=docs,
        document_subset="TopKSources",
        document_choice=["rivers.txt", "food.txt"],
    )
    response = chat.send("ignored: no similarity search")
    names = sorted(Path(h.source).name for h in response.sources)
    assert names == ["food.txt", "rivers.txt"]
    assert all(h.distance is None for h in response.sources)


def test_document_choice_limits_relevant_search(chat: Chat) -> None:
    response = chat.send(FACTS["space.txt"], document_choice="music.txt")
    assert [Path(h.source).name for h in response.sources] == ["music.txt"]


def test_cut_distance_drops_far_chunks(chat: Chat) -> None:
    response = chat.send(FACTS["rivers.txt"], cut_distance=1e-3)
    assert [Path(h.source).name for h in response.sources] == ["rivers.txt"]


def test_no_hits_answers_without_documents(chat: Chat, manager, tiny_embedder_dir) -> None:
    empty = get_collection("Empty", embedder=get_embedder(tiny_embedder_dir, dtype="float32"))
    response = chat.send("Anything at all?", collection=empty)
    assert response.sources == [] and "<all_documents>" not in response.prompt


def test_llm_mode_forgets_history_and_chatllm_keeps_it(manager, tiny) -> None:
    chat = Chat("tiny", manager=manager, params={"max_new_tokens": 3}, collection="ChatLLM")
    chat.send("first question")
    assert "first question" in chat.send("second").prompt
    chat.documents.collection = "LLM"
    assert "first question" not in chat.send("third").prompt


def test_custom_query_sentences(chat: Chat) -> None:
    chat.pre_prompt_query = "Lis attentivement :"
    response = chat.send(FACTS["food.txt"], prompt_query="Réponds à :")
    assert "Lis attentivement :" in response.prompt and "Réponds à :" in response.prompt
    assert PROMPT_QUERY not in response.prompt


def test_fill_context_respects_max_input_tokens(chat: Chat, docs: Collection) -> None:
    docs.add([Text(f"Filler fact number {i}: " + "lorem ipsum " * 20) for i in range(30)])
    small = chat.send(FACTS["space.txt"], top_k_docs=-1, max_input_tokens=300)
    large = chat.send(FACTS["space.txt"], top_k_docs=-1, max_input_tokens=900)
    assert 1 <= len(small.sources) < len(large.sources)
    assert small.usage.prompt_tokens <= 300 and large.usage.prompt_tokens <= 900
    assert Path(small.sources[0].source).name == "space.txt"


def test_one_huge_chunk_is_cut_to_fit(manager, tiny_model_dir, tiny_embedder_dir) -> None:
    manager.load(str(tiny_model_dir), alias="small", dtype="float32", max_seq_len=256)
    col = get_collection("Huge", embedder=get_embedder(tiny_embedder_dir, dtype="float32"))
    huge = "alpha beta gamma delta " * 200
    col.add(Text(huge, name="huge"), chunk_size=4000)
    chat = Chat("small", manager=manager, params={"max_new_tokens": 16}, collection=col)
    response = chat.send("alpha beta?", top_k_docs=1, cut_distance=None)
    assert len(response.sources) == 1 and response.usage.prompt_tokens <= 256 - 16
    assert "alpha beta" in response.prompt


def test_documents_keep_half_the_budget_against_a_long_history(
    manager, tiny_model_dir, docs: Collection
) -> None:
    manager.load(str(tiny_model_dir), alias="small", dtype="float32", max_seq_len=400)
    chat = Chat("small", manager=manager, params={"max_new_tokens": 16}, collection=docs)
    chat.history = [(f"old question {i}", "old answer " * 25) for i in range(10)]
    response = chat.send(FACTS["rivers.txt"], top_k_docs=-1)
    assert response.sources and Path(response.sources[0].source).name == "rivers.txt"
    assert response.params["turns_used"] < 10
    assert response.usage.prompt_tokens <= 400 - 16


def test_bad_document_options_are_one_line_errors(manager, tiny, docs: Collection) -> None:
    with pytest.raises(InvalidOptionError, match="document_subset must be one of"):
        Chat("tiny", manager=manager, collection=docs, document_subset="Everything")
    with pytest.raises(InvalidOptionError, match="top_k_docs"):
        Chat("tiny", manager=manager, collection=docs, top_k_docs=0)
    with pytest.raises(InvalidOptionError, match="bad collection name"):
        Chat("tiny", manager=manager, collection="../etc")
    with pytest.raises(InvalidOptionError, match="unknown chat option"):
        Chat("tiny", manager=manager, colection="Facts")
    chat = Chat("tiny", manager=manager, collection="NoSuchOne")
    with pytest.raises(H2OGPTError, match="no collection named 'NoSuchOne'"):
        chat.send("hello")
    assert chat.history == []


def test_saved_chat_keeps_its_document_settings(manager, tiny) -> None:
    chat = Chat(
        "tiny",
        manager=manager,
        collection="UserData",
        top_k_docs=5,
        document_choice=["a.pdf"],
        prompt_query="Answer:",
    )
    again = Chat.from_dict(chat.to_dict(), manager=manager)
    assert again.documents == chat.documents and again.prompt_query == "Answer:"


def test_query_sentences_come_from_config(chat: Chat, monkeypatch) -> None:
    from h2ogpt_jupyter import config

    monkeypatch.setenv("H2OGPT_PRE_PROMPT_QUERY", "Lee lo siguiente:")
    monkeypatch.setenv("H2OGPT_PROMPT_QUERY", "Responde en español a:")
    config.reset()
    prompt = chat.send(FACTS["food.txt"]).prompt
    assert "Lee lo siguiente:" in prompt and "Responde en español a:" in prompt
    chat.prompt_query = "Answer:"  # the chat's own setting wins over config
    assert "Answer:" in chat.send(FACTS["food.txt"]).prompt
