"""Chat state, prompt fitting and h2oGPT's chat fields, on the tiny model."""

import pytest

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError


@pytest.fixture
def chat(manager, tiny):
    return Chat("tiny", manager=manager, params={"max_new_tokens": 6})


def test_turns_build_history_and_later_prompts_carry_it(chat):
    first = chat.send("Hello")
    assert chat.history == [("Hello", first.text)]
    assert first.params["turns_used"] == 0
    second = chat.send("And then?")
    assert len(chat.history) == 2 and chat.responses[-1] is second
    assert "Hello" in second.prompt and second.params["turns_used"] == 1


def test_undo_regenerate_reset(chat):
    chat.send("one")
    chat.send("two")
    assert chat.undo()[0] == "two"
    assert [u for u, _ in chat.history] == ["one"]
    regenerated = chat.regenerate().response
    assert chat.history == [("one", regenerated.text)]
    chat.reset()
    assert chat.history == [] and chat.responses == []
    assert chat.undo() is None
    with pytest.raises(H2OGPTError, match="nothing to regenerate"):
        chat.regenerate()


def test_empty_message_is_refused(chat):
    with pytest.raises(InvalidOptionError, match="empty"):
        chat.send("   ")


def test_template_path_uses_the_system_prompt_and_auto_keeps_the_templates_own(chat):
    assert "You are a helpful AI assistant named SmolLM" in chat.prompt("Hi")
    chat.system_prompt = "You are terse."
    prompt = chat.prompt("Hi")
    assert "You are terse." in prompt and "named SmolLM" not in prompt


def test_oldest_turns_are_dropped_to_fit_but_never_the_system_prompt(manager, tiny_model_dir):
    manager.load(str(tiny_model_dir), alias="small", dtype="float32", max_seq_len=200)
    chat = Chat("small", manager=manager, system_prompt="KEEP-ME", params={"max_new_tokens": 20})
    long_answer = "word " * 30
    chat.history = [(f"question {i}", long_answer) for i in range(6)]
    response = chat.send("newest question")
    assert response.params["turns_used"] < 6
    assert response.usage.prompt_tokens + 20 <= 200
    assert "KEEP-ME" in response.prompt and "newest question" in response.prompt
    assert "question 5" in response.prompt and "question 0" not in response.prompt


def test_answer_budget_shrinks_near_the_window_and_a_too_long_prompt_is_one_clear_error(
    manager, tiny_model_dir
):
    manager.load(str(tiny_model_dir), alias="small", dtype="float32", max_seq_len=100)
    chat = Chat("small", manager=manager, params={"max_new_tokens": 90})
    response = chat.send("hi")
    assert response.params["max_new_tokens"] < 90
    assert response.usage.prompt_tokens + response.params["max_new_tokens"] <= 100
    with pytest.raises(H2OGPTError, match="leaving no room to answer"):
        chat.send("word " * 200)
    assert len(chat.history) == 1  # the refused turn left nothing behind


def test_h2ogpt_fields_in_a_prompt_format(manager, tiny_model_dir):
    manager.load(str(tiny_model_dir), alias="hb", dtype="float32", prompt_type="human_bot")
    chat = Chat("hb", manager=manager, iinput="extra input", context="PRE-CONTEXT ")
    assert chat.prompt("Question") == "PRE-CONTEXT <human>: Question\nextra input\n<bot>:"
    chat = Chat("hb", manager=manager, chat_conversation=[("earlier q", "earlier a")])
    assert chat.prompt("now") == "<human>: earlier q\n<bot>: earlier a\n<human>: now\n<bot>:"


def test_text_context_list_wraps_documents_like_h2ogpt(manager, tiny_model_dir):
    manager.load(str(tiny_model_dir), alias="hb", dtype="float32", prompt_type="human_bot")
    chat = Chat("hb", manager=manager, text_context_list=["Doc one.", "Doc two."])
    prompt = chat.prompt("What is in the docs?")
    assert prompt.startswith("<human>: Pay attention and remember the information below")
    assert "<all_documents>\n    Doc one.\n\nDoc two.\n    </all_documents>" in prompt
    assert prompt.endswith(
        "write an insightful and well-structured response to: \nWhat is in the docs?\n<bot>:"
    )


def test_count_tokens_grows_with_the_chat(chat):
    before = chat.count_tokens()
    chat.send("Tell me something")
    assert chat.count_tokens() > before


def test_several_answers_with_num_return_sequences(chat):
    response = chat.send("Hi", temperature=1.0, seed=3, num_return_sequences=3)
    assert len(response.alternatives) == 2 and len(response.texts) == 3
    assert len(chat.history) == 1  # alternatives do not add turns


def test_round_trip_through_a_dict(chat):
    chat.send("Hello")
    chat.system_prompt = "Be brief."
    copy = Chat.from_dict(chat.to_dict(), manager=chat.manager)
    assert copy.history == chat.history and copy.system_prompt == "Be brief."
    assert copy.params == chat.params
    with pytest.raises(H2OGPTError, match="not a saved chat"):
        Chat.from_dict({"history": [["only one side"]]})


def test_regenerate_keeps_the_turn_when_it_cannot_start(chat, manager):
    chat.send("keep me")
    manager.unload("tiny")
    with pytest.raises(H2OGPTError):
        chat.regenerate()
    assert [u for u, _ in chat.history] == ["keep me"]


def test_a_failed_reload_check_keeps_the_loaded_model(manager, tiny, tiny_model_dir):
    from h2ogpt_jupyter.errors import InvalidOptionError

    with pytest.raises(InvalidOptionError, match="unknown prompt_type"):
        manager.load(str(tiny_model_dir), alias="tiny", prompt_type="nope")
    assert manager.get("tiny") is tiny
