"""``%h2ogpt`` and ``%%h2ogpt`` on a real IPython shell, as a notebook user types them.

Cells go through ``shell.run_cell`` where the exact IPython path matters (input transformers,
IPython's own ``{var}`` expansion, tracebacks); elsewhere ``run_line_magic`` keeps tests short.
The tiny random model answers in words that mean nothing but are fixed: where an answer is
shown, printed or put in a cell, it is first checked to be exactly what plain ``transformers``
generates for its prompt (``checked_answer``), then compared with what the user sees.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import h2ogpt_jupyter.models.manager as manager_module
from h2ogpt_jupyter import magics
from tests.support.shell import checked_answer, last, line, one_error, own_stderr


def rendered(markdown: str) -> str:
    """Markdown as a CommonMark renderer shows it (tables and strike-through as in GFM)."""
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark").enable("table").render(markdown))


# Keeps every answer on the tiny model short; tests that care about lengths set their own.
MAX_NEW = 6


# --- extension and models --------------------------------------------------------------------
def test_load_ext_registers_both_magic_forms(shell: InteractiveShell) -> None:
    assert "h2ogpt" in shell.magics_manager.magics["line"]
    assert "h2ogpt" in shell.magics_manager.magics["cell"]


def test_load_models_use_unload(ip: Any, tiny_model_dir: Path, capsys: Any) -> None:
    line(ip, f"load {tiny_model_dir} --as t --dtype float32")
    out, err = capsys.readouterr()
    loaded = [x for x in out.splitlines() if x.startswith("Loaded ")]
    assert len(loaded) == 1 and "as 't'" in loaded[0] and "float32" in loaded[0], out
    assert own_stderr(err) == []
    line(ip, f"load {tiny_model_dir} --as u --dtype float32")
    capsys.readouterr()

    with capture_output() as cap:
        line(ip, "models")
    table = cap.outputs[-1].data["text/markdown"]
    assert "| alias |" in table and "| t |" in table and "| u |" in table
    assert "★ | t |" in table  # the first model loaded is the default

    line(ip, "use u")
    assert "'u'" in capsys.readouterr().out
    assert manager_module.get_manager().default == "u"

    line(ip, "unload t")
    assert "Unloaded 't'." in capsys.readouterr().out
    assert "t" not in manager_module.get_manager()
    line(ip, "unload --all")
    assert "Unloaded all" in capsys.readouterr().out
    assert len(manager_module.get_manager()) == 0


def test_load_options_may_come_before_the_path(ip: Any, tiny_model_dir: Path) -> None:
    line(ip, f"load --as early --dtype float32 {tiny_model_dir}")
    assert "early" in manager_module.get_manager()


def test_load_takes_a_quoted_path_and_a_variable(ip: Any, tiny_model_dir: Path) -> None:
    ip.user_ns["model_dir"] = str(tiny_model_dir)
    line(ip, 'load --dtype float32 --as q "{model_dir}"')
    line(ip, "load {model_dir} --as v --dtype float32")
    assert {"q", "v"} <= {r["alias"] for r in manager_module.get_manager().list()}


# --- ask ------------------------------------------------------------------------------------
def test_ask_streams_into_one_updating_display(t: Any) -> None:
    with capture_output() as cap:
        line(t, "ask --max-new-tokens 8 Tell me a story")
    response = checked_answer(t)
    assert response.model == "t" and 0 < response.usage.completion_tokens <= 8
    shown = cap.outputs  # first a display, then in-place updates of it
    assert shown and not shown[0].update and all(o.update for o in shown[1:])
    ids = {o.transient["display_id"] for o in shown}
    assert len(ids) == 1, "the answer must update one display, not add one per token"
    assert shown[-1].data == {"text/markdown": response.text, "text/plain": response.text}
    assert cap.stdout == ""


def test_ask_in_plain_ipython_shows_the_answer_once(t: Any, capsys: Any) -> None:
    line(t, "ask Tell me a story")
    out = capsys.readouterr().out
    assert out == checked_answer(t).text + "\n"  # the terminal publisher prints text/plain once


def test_ask_keeps_the_response_in_h2ogpt_and_in_o_var(t: Any) -> None:
    with capture_output():
        line(t, "ask -o answer Hello")
    assert t.user_ns["answer"] is last(t)
    r = last(t)
    assert "Hello" in r.prompt
    assert r.usage.prompt_tokens > 0 and r.finish_reason in ("stop", "length")


def test_format_text_streams_to_stdout(t: Any, capsys: Any) -> None:
    with capture_output() as cap:
        line(t, "ask --format text Hi")
    assert cap.outputs == []
    assert cap.stdout.strip() == checked_answer(t).text.strip()


def test_no_stream_shows_only_the_final_answer(t: Any) -> None:
    with capture_output() as cap:
        line(t, "ask --no-stream Hi")
    assert len(cap.outputs) == 1 and cap.outputs[0].data["text/plain"] == checked_answer(t).text


def test_format_code_fills_the_next_cell(t: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, bool]] = []
    monkeypatch.setattr(t, "set_next_input", lambda s, replace=False: calls.append((s, replace)))
    with capture_output() as cap:
        line(t, "ask --format code Write a function")
    code = checked_answer(t).text.strip()
    assert calls == [(code, False)]
    # shown as code, not as raw text: an answer without fences is put in one
    assert cap.stdout == "" and cap.outputs
    shown = cap.outputs[-1].data["text/markdown"]
    assert shown == f"```\n{code}\n```"
    assert rendered(shown) == f"<pre><code>{html.escape(code, quote=False)}\n</code></pre>\n"


def test_format_code_shows_a_fenced_answer_as_it_is() -> None:
    from h2ogpt_jupyter.magics._display import StreamDisplay

    answer = "Here:\n```python\ndef f():\n    return 1\n```"
    with capture_output() as cap:
        shown = StreamDisplay("code")
        shown(answer)
    assert cap.outputs[-1].data["text/markdown"] == answer
    assert '<pre><code class="language-python">def f():' in rendered(answer)


def test_code_blocks_are_taken_from_fenced_answers() -> None:
    from h2ogpt_jupyter.magics._display import extract_code

    answer = "Sure:\n```python\ndef f():\n    return 1\n```\nand\n```\nf()\n```\nDone."
    assert extract_code(answer) == "def f():\n    return 1\n\nf()"
    assert extract_code("  x = 1  ") == "x = 1"


def test_cell_magic_ask_uses_the_body(t: Any) -> None:
    with capture_output():
        result = t.run_cell("%%h2ogpt ask --max-new-tokens 3\nFirst line\nsecond line\n")
    assert result.success
    r = last(t)
    assert "First line\nsecond line" in r.prompt and r.usage.completion_tokens <= 3


def test_questions_ending_in_a_question_mark_reach_the_model(t: Any) -> None:
    # IPython would read a trailing "?" as a help request ("pinfo France").
    with capture_output():
        assert t.run_cell("%h2ogpt ask Which city is the capital of France?").success
    assert "Which city is the capital of France?" in last(t).prompt
    with capture_output():
        assert t.run_cell("x = 1\n%h2ogpt ask Really??\ny = 2").success
    assert "Really??" in last(t).prompt and t.user_ns["y"] == 2


def test_help_on_the_magic_itself_still_works(shell: InteractiveShell) -> None:
    assert "pinfo" in shell.transform_cell("%h2ogpt?")
    body = shell.transform_cell("%%h2ogpt chat\n%h2ogpt ask Why?\n")
    assert body.startswith("get_ipython().run_cell_magic('h2ogpt', 'chat', '%h2ogpt ask Why?")


def test_variables_are_inserted_braces_escaped_unknown_kept(t: Any) -> None:
    t.user_ns.update(city="Lyon", trip={"days": 3}, n=2)
    with capture_output():
        result = t.run_cell("%h2ogpt ask Visit {city} for {trip['days']} days, {{x}} and {nope}")
    assert result.success
    assert "Visit Lyon for 3 days, {x} and {nope}" in last(t).prompt
    with capture_output():
        t.run_cell("%%h2ogpt ask\nPlan {n} days in {city}; keep {{braces}} and {missing}")
    assert "Plan 2 days in Lyon; keep {braces} and {missing}" in last(t).prompt


def test_variable_option_values_keep_spaces_and_types(t: Any) -> None:
    t.user_ns.update(persona="You answer in exactly one word.", budget=2)
    with capture_output():
        line(t, "ask --system-prompt {persona} --max-new-tokens {budget} Hello there")
    r = last(t)
    assert "You answer in exactly one word." in r.prompt and "Hello there" in r.prompt
    assert r.usage.completion_tokens <= 2


def test_double_dash_ends_options(t: Any) -> None:
    with capture_output():
        line(t, "ask -- --temperature is a word here")
    assert "--temperature is a word here" in last(t).prompt


def test_option_parsing() -> None:
    from h2ogpt_jupyter.magics._args import parse

    ns = {"d": {"type": "linear", "factor": 2.0}, "t": 0.5, "who": "Ada Lovelace"}
    p = parse("load ./models/my model.gguf --as m --load-4bit --max-seq-len 2048", ns)
    assert p.text == "./models/my model.gguf"
    assert p.options == {"as": "m", "load_4bit": True, "max_seq_len": 2048}
    p = parse('load --rope-scaling {d} x --prompt-dict {"a": [1, 2]}', ns)
    assert p.options == {"rope_scaling": ns["d"], "prompt_dict": {"a": [1, 2]}}
    p = parse("ask --temperature {t} --stop '12' --system-prompt {who} Hi {who}, it's -o x", ns)
    assert p.options == {"temperature": 0.5, "stop": "12", "system_prompt": "Ada Lovelace"}
    assert p.text == "Hi Ada Lovelace, it's -o x"  # after the first word, all text is message
    p = parse("ask --seed=7 -o out -- --not-an-option", ns)
    assert p.options == {"seed": 7, "out": "out"} and p.text == "--not-an-option"
    assert parse("PARAMS", ns).command == "params"


# --- the kernel's chat ----------------------------------------------------------------------
def test_chat_keeps_history_across_cells(t: Any, capsys: Any) -> None:
    t.user_ns["name"] = "Ada"
    with capture_output():
        assert t.run_cell("%%h2ogpt chat\nHi, I am {name}.").success
        first = last(t).text
        assert t.run_cell("%%h2ogpt chat\nWhat is my name?").success
    prompt = last(t).prompt
    assert "Hi, I am Ada." in prompt and "What is my name?" in prompt
    assert first in prompt

    with capture_output() as cap:
        line(t, "history")
    shown = cap.outputs[-1].data["text/markdown"]
    assert shown.count("**You:**") == 2 and "I am Ada" in shown

    line(t, "undo")
    assert "Removed: What is my name?" in capsys.readouterr().out
    with capture_output() as cap:
        line(t, "history")
    assert cap.outputs[-1].data["text/markdown"].count("**You:**") == 1

    with capture_output():
        line(t, "regenerate --max-new-tokens 4")
    assert "Hi, I am Ada." in last(t).prompt and last(t).usage.completion_tokens <= 4
    with capture_output() as cap:
        line(t, "history")
    assert cap.outputs[-1].data["text/markdown"].count("**You:**") == 1

    line(t, "reset")
    line(t, "history")
    assert "The chat is empty." in capsys.readouterr().out


def test_history_keeps_each_answer_inside_its_turn(t: Any) -> None:
    """An answer that opens with a code fence, one that leaves a fence open, and messages of
    several lines: rendered, every turn keeps its labels and its line breaks."""
    chat = t.magics_manager.registry["H2OGPTMagics"].commands.chat
    chat.history = [
        ("Show me code", "```python\nprint(1)\n```\nThat prints 1."),
        ("First line\nsecond line", "One\nTwo\n\n```\nnever closed"),
        ("Last question", "**Bold** answer"),
    ]
    with capture_output() as cap:
        line(t, "history")
    page = rendered(cap.outputs[-1].data["text/markdown"])
    assert page.count("<strong>You:</strong>") == 3 and page.count("<strong>Bot:</strong>") == 3
    assert '<pre><code class="language-python">print(1)\n</code></pre>' in page
    assert "First line<br />\nsecond line" in page and "One<br />\nTwo" in page
    assert "<pre><code>never closed\n</code></pre>" in page  # closed where its answer ends
    assert "<strong>Bold</strong> answer" in page


def test_ask_does_not_touch_the_chat(t: Any, capsys: Any) -> None:
    with capture_output():
        line(t, "chat Remember me")
        line(t, "ask Something else")
    assert "Remember me" not in last(t).prompt
    with capture_output() as cap:
        line(t, "history")
    assert cap.outputs[-1].data["text/markdown"].count("**You:**") == 1


def test_chat_new_starts_over(t: Any) -> None:
    with capture_output():
        line(t, "chat One")
        line(t, "chat --new Two")
    assert "One" not in last(t).prompt and "Two" in last(t).prompt


def test_regenerate_with_a_missing_model_keeps_the_turn(t: Any, capsys: Any) -> None:
    with capture_output():
        line(t, "chat Keep this question")
    line(t, "regenerate --model nobody")
    assert "no model loaded as 'nobody'" in one_error(capsys)
    with capture_output() as cap:
        line(t, "history")
    assert "Keep this question" in cap.outputs[-1].data["text/markdown"]


def test_chat_options_stick_to_the_chat(t: Any) -> None:
    with capture_output():
        line(t, 'chat --system-prompt "You are a pirate." Ahoy')
        line(t, "chat And then?")
    assert "You are a pirate." in last(t).prompt


def test_unreadable_saved_chat_is_listed_not_fatal(ip: Any, capsys: Any) -> None:
    from h2ogpt_jupyter.chat import saved

    saved.chats_dir().mkdir(parents=True, exist_ok=True)
    (saved.chats_dir() / "broken.json").write_text("{not json")
    line(ip, "chats list")
    assert capsys.readouterr().out.startswith("broken: unreadable (")


def test_saved_chats_round_trip(t: Any, tmp_path: Path, capsys: Any) -> None:
    with capture_output():
        line(t, "chat Remember the number seven")
    line(t, "chats save trip plan")
    assert "Saved chat 'trip plan'." in capsys.readouterr().out
    line(t, "chats list")
    assert capsys.readouterr().out.startswith("trip plan: 1 turn, ")

    line(t, "reset")
    line(t, "chats load trip plan")
    assert "Loaded chat 'trip plan' (1 turn)." in capsys.readouterr().out
    with capture_output():
        line(t, "chat And again?")
    assert "Remember the number seven" in last(t).prompt

    export = tmp_path / "all chats.json"
    line(t, f"chats export {export}")
    assert str(export) in capsys.readouterr().out
    data = json.loads(export.read_text())
    assert [c["name"] for c in data["chats"]] == ["trip plan"]

    line(t, "chats delete trip plan")
    assert "Deleted chat 'trip plan'." in capsys.readouterr().out
    line(t, "chats list")
    assert "No saved chats." in capsys.readouterr().out
    line(t, f"chats import {export}")
    assert "Imported: trip plan." in capsys.readouterr().out
    line(t, "chats load trip plan")
    assert "(1 turn)" in capsys.readouterr().out


# --- parameters and information -------------------------------------------------------------
def test_params_change_later_turns(t: Any, capsys: Any) -> None:
    line(t, "params --max-new-tokens 8 --repetition-penalty 1.2")
    out = capsys.readouterr().out
    assert "max_new_tokens=8" in out and "repetition_penalty=1.2" in out
    with capture_output():
        line(t, "ask Count to twenty please")
    r = last(t)
    assert r.usage.completion_tokens <= 8 and r.params["max_new_tokens"] == 8
    assert r.params["repetition_penalty"] == 1.2
    with capture_output():
        line(t, "chat Count again")
    assert last(t).params["max_new_tokens"] == 8
    line(t, "params")
    assert "max_new_tokens=8" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("prompt-types", ["plain, ", "human_bot", "zephyr"]),
        ("info", ["Python 3.", "CPUs", "GB RAM free", "No model loaded."]),
        ("help", ["**%h2ogpt** — local LLMs in the notebook", "| `load NAME"]),
        ("", ["**%h2ogpt** — local LLMs in the notebook", "| `load NAME"]),
        ("models", ["No model loaded.", "Packaged models: smollm2"]),
        ("chats", ["No saved chats."]),
    ],
)
def test_information_commands_say_what_they_are_for(
    ip: Any, command: str, expected: list[str]
) -> None:
    with capture_output() as cap:
        line(ip, command)
    shown = cap.stdout + "".join(o.data.get("text/plain", "") for o in cap.outputs)
    assert cap.stderr == ""
    assert [text for text in expected if text not in shown] == [], shown


def test_prompt_types_lists_h2ogpts_formats(ip: Any, capsys: Any) -> None:
    line(ip, "prompt-types")
    names = capsys.readouterr().out.strip().split(", ")
    assert {"human_bot", "llama2", "zephyr", "template"} <= set(names)


# --- user mistakes: one line on stderr, never a traceback -----------------------------------
MISTAKES = [
    ("frobnicate", "unknown command 'frobnicate'"),
    ("ask --temprature 1 Hello", "unknown option --temprature"),
    ("ask --temperature -1 Hello", "temperature must be between 0 and 3"),
    ("ask --max-new-tokens", "needs a value"),
    ("ask --format html Hello", "--format must be"),
    ("ask -o 1bad Hello", "-o needs a variable name"),
    ("ask -o class Hello", "-o needs a variable name"),
    ("ask --model nobody Hello", "no model loaded as 'nobody'"),
    ("ask", "no message given"),
    ("ask    ", "no message given"),
    ("chat", "no message given"),
    ("load", "which model?"),
    ("load no-such-model", "unknown model 'no-such-model'"),
    ("load /nowhere/model.gguf", "no such model file or directory"),
    ("load smollm2 --quantize 4", "unknown load option --quantize"),
    ("load smollm2 --max-seq-len abc", "--max-seq-len needs a whole number"),
    ("load smollm2 --n-threads many", "--n-threads needs a whole number"),
    ("load smollm2 --load-4bit=maybe", "--load-4bit is true or false"),
    ("load smollm2 --rope-scaling 2", "--rope-scaling needs a JSON object"),
    ("use nobody", "no model loaded as 'nobody'"),
    ("unload nobody", "no model loaded as 'nobody'"),
    ("params --temperature hot", "temperature must be a number"),
    ("params --colour blue", "unknown generation option"),
    ("regenerate", "nothing to regenerate"),
    ("chats load ../x", "bad chat name"),
    ("chats save ../x", "bad chat name"),
    ("chats load missing", "no saved chat named 'missing'"),
    ("chats delete missing", "no saved chat named 'missing'"),
    ("chats import /nowhere/chats.json", "no such file"),
    ("chats frob", "chats takes"),
    ('ask --prompt-dict {"a": Hello', "invalid JSON"),
    ('ask --system-prompt "unclosed Hello', "unbalanced quotes"),
]


@pytest.mark.parametrize(("command", "message"), MISTAKES)
def test_mistakes_print_one_line(ip: Any, command: str, message: str, capsys: Any) -> None:
    result = ip.run_cell(f"%h2ogpt {command}")
    assert result.success
    assert message in one_error(capsys)


def test_ask_with_a_model_loaded_refuses_bad_options_before_generating(t: Any, capsys) -> None:
    line(t, "ask --temperature -1 Hello")
    one_error(capsys)
    assert "_h2ogpt" not in t.user_ns


def test_unknown_prompt_type_is_one_line_and_keeps_the_loaded_model(
    ip: Any, tiny_model_dir: Path, capsys: Any
) -> None:
    line(ip, f"load {tiny_model_dir} --dtype float32 --as t")
    capsys.readouterr()
    line(ip, f"load {tiny_model_dir} --dtype float32 --as t --prompt-type nope")
    assert "unknown prompt_type 'nope'" in one_error(capsys)
    assert "t" in manager_module.get_manager()  # the working model was not dropped
    line(ip, f"load {tiny_model_dir} --dtype float32 --as h --prompt-type human_bot")
    assert manager_module.get_manager().get("h").prompt_type == "human_bot"


def test_bad_load_option_value_is_one_line(ip: Any, tiny_model_dir: Path, capsys: Any) -> None:
    line(ip, f"load {tiny_model_dir} --dtype float7")
    assert "dtype must be one of" in one_error(capsys)


def test_ask_without_a_model_is_one_line(ip: Any, capsys: Any) -> None:
    assert ip.run_cell("%h2ogpt ask Hello?").success
    assert "no model is loaded" in one_error(capsys)


def test_mistakes_in_a_cell_magic_are_one_line(t: Any, capsys: Any) -> None:
    assert t.run_cell("%%h2ogpt chat --top-p 7\nHello").success
    assert "top_p must be between" in one_error(capsys)
    assert t.run_cell("%%h2ogpt ask\n   \n").success
    assert "no message given" in one_error(capsys)


# --- configuration --------------------------------------------------------------------------
@pytest.fixture
def configured(shell: InteractiveShell) -> Iterator[Any]:
    """Set ``c.H2OGPT.*`` on the shell; the magics are reloaded to read it, then restored."""

    def apply(**values: Any) -> None:
        for key, value in values.items():
            setattr(shell.config.H2OGPT, key, value)
        magics.load(shell)

    yield apply
    shell.config.pop("H2OGPT", None)


def test_config_default_model_loads_on_first_ask(
    ip: Any, configured: Any, tiny_model_dir: Path, capsys: Any
) -> None:
    configured(default_model=str(tiny_model_dir), generation={"max_new_tokens": 5})
    with capture_output() as cap:
        line(ip, "ask Hello")
    assert f"Loaded {tiny_model_dir} as" in cap.stdout
    r = last(ip)
    assert 0 < r.usage.completion_tokens <= 5 and r.params["max_new_tokens"] == 5
    assert len(manager_module.get_manager()) == 1
    with capture_output() as cap:
        line(ip, "ask Again")
    assert "Loaded" not in cap.stdout  # only when nothing is loaded


def test_env_default_model(
    ip: Any, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, configured: Any
) -> None:
    monkeypatch.setenv("H2OGPT_DEFAULT_MODEL", str(tiny_model_dir))
    configured(generation={"max_new_tokens": 2})
    with capture_output():
        line(ip, "ask Hello")
    assert last(ip).usage.completion_tokens <= 2


def test_config_output_text(t: Any, configured: Any) -> None:
    configured(output="text", generation={"max_new_tokens": 3})
    with capture_output() as cap:
        line(t, "ask Hello")
    assert cap.outputs == [] and cap.stdout.strip() == checked_answer(t).text.strip()


def test_percent_config_changes_settings_at_once(ip: Any, tiny_model_dir: Path) -> None:
    ip.run_line_magic("config", f"H2OGPT.default_model = {str(tiny_model_dir)!r}")
    with capture_output():
        line(ip, "ask --max-new-tokens 2 Hello")
    assert last(ip).usage.completion_tokens <= 2


def test_percent_config_lists_the_settings(ip: Any, capsys: Any) -> None:
    ip.run_line_magic("config", "H2OGPT")
    out = capsys.readouterr().out
    assert "H2OGPT.default_model" in out and "H2OGPT.generation" in out


def test_bad_config_value_is_reported_not_fatal(ip: Any, configured: Any, capsys) -> None:
    configured(output="html")
    assert "config ignored" in one_error(capsys)
    line(ip, "params")
    assert "max_new_tokens=1024" in capsys.readouterr().out


def test_bad_generation_config_is_reported_not_fatal(ip: Any, configured: Any, capsys) -> None:
    configured(generation={"temperature": 99})
    assert "c.H2OGPT.generation ignored" in one_error(capsys)
    line(ip, "params")
    assert "temperature=0.0" in capsys.readouterr().out


# --- the real packaged model ----------------------------------------------------------------
@pytest.mark.integration
def test_smollm2_answers_through_the_magics(ip: Any, capsys: Any) -> None:
    line(ip, "load smollm2")
    assert "Loaded smollm2 as 'smollm2'" in capsys.readouterr().out
    with capture_output():
        assert ip.run_cell("%h2ogpt ask Which city is the capital of France?").success
    r = last(ip)
    assert "Paris" in r.text, r.text
    assert r.finish_reason == "stop" and r.usage.completion_tokens > 0
    assert r.tokens_per_second > 0


def test_unload_ext_removes_the_magics_and_the_input_hook():
    from IPython.core.interactiveshell import InteractiveShell

    from h2ogpt_jupyter.magics._input import keep_question_marks

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "h2ogpt_jupyter")
    shell.run_line_magic("unload_ext", "h2ogpt_jupyter")
    try:
        assert "h2ogpt" not in shell.magics_manager.magics["line"]
        assert "h2ogpt" not in shell.magics_manager.magics["cell"]
        assert keep_question_marks not in shell.input_transformers_cleanup
    finally:
        shell.run_line_magic("load_ext", "h2ogpt_jupyter")
    assert "h2ogpt" in shell.magics_manager.magics["line"]
