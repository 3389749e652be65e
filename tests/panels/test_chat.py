"""The chat panel driven as the browser drives it, on the tiny model: streaming, Stop from
the kernel's main thread, regenerate/undo/clear, saved chats with export and import through
the browser, the collection selector with sources, settings, and the errors area."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from h2ogpt_jupyter import config
from h2ogpt_jupyter.errors import H2OGPTError
from h2ogpt_jupyter.models.manager import ModelManager
from h2ogpt_jupyter.panels import ChatPanel

from .comm import (
    front,
    loaded,
    messages_of,
    sent,
    set_state,
    updates,
    wait_for,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


@pytest.fixture(scope="module")
def tiny_manager(tiny_model_dir: Path) -> Iterator[ModelManager]:
    yield from loaded(tiny_model_dir, "tiny")


@pytest.fixture
def panel(tiny_manager: ModelManager) -> ChatPanel:
    return ChatPanel("tiny", manager=tiny_manager, params={"max_new_tokens": 8})


def turn(panel: ChatPanel, text: str) -> None:
    front(panel, {"type": "send", "text": text})
    panel.wait()


def test_a_turn_streams_deltas_and_commits_the_answer(panel: ChatPanel) -> None:
    turn(panel, "Hello there")
    deltas = sent(panel, "delta")
    assert deltas and all(d["index"] == 1 for d in deltas)
    answer = panel.chat.history[0][1]
    assert "".join(d["text"] for d in deltas).strip() == answer
    assert all(d["_thread"] != threading.main_thread().name for d in deltas)
    user, bot = panel.messages
    assert user == {"role": "user", "content": "Hello there"}
    assert bot["content"] == answer and bot["finish_reason"] in ("stop", "length")
    assert "tiny" in bot["stats"] and "tok/s" in bot["stats"] and bot["sources"] == []
    assert not panel.busy and panel.token_count > 0 and panel.errors == []
    # the finished turn reached the browser after the last delta, then "done"
    committed = [(when, value) for when, value in updates(panel, "messages") if len(value) == 2]
    assert committed[-1][1][1]["content"] == answer
    assert committed[-1][0] > deltas[-1]["_time"]
    done = sent(panel, "done")[-1]
    assert done["index"] == 1 and done["_time"] >= committed[-1][0]
    # while it streamed, the browser showed the question and an empty answer
    assert any(v[-1].get("streaming") for _, v in updates(panel, "messages"))


def test_stop_mid_stream_cancels_and_the_kernel_thread_stays_free(panel: ChatPanel) -> None:
    front(panel, {"type": "settings", "values": {"min_new_tokens": 400, "max_new_tokens": 450}})
    started = time.perf_counter()
    front(panel, {"type": "send", "text": "Tell me a long story"})
    assert time.perf_counter() - started < 0.5  # the handler only queued the work
    wait_for(lambda: sent(panel, "delta"))
    assert panel.busy
    started = time.perf_counter()
    front(panel, {"type": "refresh_models"})  # other messages are served meanwhile
    front(panel, {"type": "send", "text": "again"})  # refused while busy, not queued
    assert time.perf_counter() - started < 0.5
    assert "still working" in panel.errors[-1]["message"]
    front(panel, {"type": "stop"})
    panel.wait()
    assert panel.last_response is not None
    assert panel.last_response.finish_reason == "cancelled"
    assert panel.last_response.usage.completion_tokens < 400
    assert panel.messages[-1]["finish_reason"] == "cancelled"
    assert sent(panel, "done")[-1]["finish_reason"] == "cancelled"
    assert not panel.busy and len(panel.chat.history) == 1


def test_regenerate_undo_and_clear(panel: ChatPanel) -> None:
    front(panel, {"type": "regenerate"})
    assert "nothing to regenerate" in panel.errors[-1]["message"]
    turn(panel, "one")
    turn(panel, "two")
    assert [m["content"] for m in panel.messages[::2]] == ["one", "two"]
    deltas_before = len(sent(panel, "delta"))
    front(panel, {"type": "regenerate"})
    panel.wait()
    assert len(sent(panel, "delta")) > deltas_before
    assert sent(panel, "delta")[-1]["index"] == 3  # the answer to "two" is rewritten
    assert len(panel.chat.history) == 2 and len(panel.messages) == 4
    assert panel.messages[3]["content"] == panel.chat.history[1][1]
    front(panel, {"type": "undo"})
    assert [m["content"] for m in panel.messages] == ["one", panel.chat.history[0][1]]
    assert panel.messages[1]["stats"]  # the kept turn keeps its statistics
    count = panel.token_count
    front(panel, {"type": "clear"})
    assert panel.messages == [] and panel.chat.history == []
    assert 0 <= panel.token_count < count
    front(panel, {"type": "undo"})
    assert panel.status == "Nothing to undo."


def test_save_open_delete_and_new(panel: ChatPanel) -> None:
    turn(panel, "remember me")
    front(panel, {"type": "save", "name": "first"})
    assert panel.chat_name == "first" and [r["name"] for r in panel.saved] == ["first"]
    front(panel, {"type": "new"})
    assert panel.messages == [] and panel.chat_name == "" and panel.chat.model == "tiny"
    assert panel.chat.params.max_new_tokens == 8  # same settings, empty history
    front(panel, {"type": "open", "name": "first"})
    assert panel.chat_name == "first" and panel.messages[0]["content"] == "remember me"
    assert panel.chat.manager is not None and panel.token_count > 0
    front(panel, {"type": "delete", "name": "first"})
    assert panel.saved == [] and panel.chat_name == ""
    front(panel, {"type": "open", "name": "first"})
    assert "no saved chat named 'first'" in panel.errors[-1]["message"]


def test_export_and_import_through_the_browser(panel: ChatPanel) -> None:
    front(panel, {"type": "export"})
    assert "no saved chats" in panel.errors[-1]["message"]
    turn(panel, "export me")
    front(panel, {"type": "export", "current": True})
    one = sent(panel, "download")[-1]
    assert (
        one["filename"] == "chat.json" and json.loads(one["text"])["history"][0][0] == "export me"
    )
    front(panel, {"type": "save", "name": "kept"})
    front(panel, {"type": "export"})
    everything = sent(panel, "download")[-1]
    assert everything["filename"] == "h2ogpt-chats.json"
    assert [c["name"] for c in json.loads(everything["text"])["chats"]] == ["kept"]

    files = [everything["text"].encode(), one["text"].encode()]
    front(panel, {"type": "load_file", "names": ["all.json", "mine.json"]}, files)
    assert sorted(r["name"] for r in panel.saved) == ["kept", "kept-2", "mine"]
    assert "Imported: kept-2, mine." == panel.status
    front(panel, {"type": "load_file", "names": ["bad.json"]}, [b"{not json"])
    assert "not valid JSON" in panel.errors[-1]["message"]
    front(panel, {"type": "load_file", "names": []})
    assert "no file received" in panel.errors[-1]["message"]


def test_the_collection_selector_answers_with_sources(
    panel: ChatPanel, tiny_embedder_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from h2ogpt_jupyter.documents import Text, get_collection

    monkeypatch.setenv("H2OGPT_HF_EMBEDDING_MODEL", str(tiny_embedder_dir))
    config.reset()
    get_collection("Notes").add(
        [Text("The Q3 revenue was 4.2 million.", name="q3"), Text("Bo runs on-call.", name="bo")]
    )
    front(panel, {"type": "refresh_modes"})
    panel.wait()
    assert panel.modes == ["ChatLLM", "LLM", "Notes"]
    set_state(panel, mode="Notes")
    assert panel.chat.documents.name == "Notes"
    front(panel, {"type": "settings", "values": {"top_k_docs": 1}})
    turn(panel, "What was the Q3 revenue?")
    sources = panel.messages[-1]["sources"]
    assert len(sources) == 1 and sources[0]["source"] in ("text:q3", "text:bo")
    assert sources[0]["label"].startswith("score ") and sources[0]["text"]
    set_state(panel, mode="not\\a name")
    assert "bad collection name" in panel.errors[-1]["message"] and panel.mode == "Notes"
    set_state(panel, mode="ChatLLM")
    assert panel.chat.documents.active is False


def test_errors_land_in_the_errors_area(tiny_manager: ModelManager) -> None:
    empty = ChatPanel(manager=ModelManager())
    assert empty.token_count == -1 and empty.model == ""
    turn(empty, "anyone there?")
    assert "no model is loaded" in empty.errors[-1]["message"]
    assert sent(empty, "restore_input")[-1]["text"] == "anyone there?"
    assert empty.messages == [] and not empty.busy
    front(empty, {"type": "send", "text": "   "})
    assert "the message is empty" in empty.errors[-1]["message"]

    panel = ChatPanel("tiny", manager=tiny_manager)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("engine on fire")

    panel.chat.stream = broken  # type: ignore[method-assign]
    turn(panel, "hi")
    error = panel.errors[-1]
    assert error["kind"] == "unexpected" and "engine on fire" in error["message"]
    assert "Traceback" in error["detail"]


def test_settings_and_the_model_selector_in_the_chat(panel: ChatPanel) -> None:
    front(panel, {"type": "settings", "values": {"temperature": 0.5, "system_prompt": "Be brief."}})
    assert panel.chat.params.temperature == 0.5 and panel.params["temperature"] == 0.5
    assert panel.chat.system_prompt == "Be brief."
    front(panel, {"type": "settings", "values": {"temperature": 9, "top_p": 0.5}})
    assert "temperature must be between 0 and 3" in panel.errors[-1]["message"]
    assert panel.chat.params.top_p == 1.0  # nothing of a refused change is applied
    assert sent(panel, "redraw_settings")
    front(panel, {"type": "reset_params"})
    assert panel.chat.params.temperature == 0.0 and panel.chat.params.max_new_tokens == 1024

    assert panel.model == "tiny"
    set_state(panel, model="")
    assert panel.chat.model is None and panel.token_count >= 0
    set_state(panel, model="ghost")
    assert "no model loaded as 'ghost'" in panel.errors[-1]["message"] and panel.model == ""
    with pytest.raises(H2OGPTError, match="either chat= or chat options"):
        ChatPanel(chat=panel.chat, collection="MyData")
    assert messages_of(panel.errors).count("ghost") == 1
