"""The settings panel (parameters with h2oGPT's ranges, prompt and document fields, the
models part) and the ``%h2ogpt panel`` handler on a real IPython shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.magics import _documents, _panels
from h2ogpt_jupyter.magics._args import parse
from h2ogpt_jupyter.models.manager import ModelManager
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.options import GENERATION
from h2ogpt_jupyter.panels import ChatPanel, ComparePanel, IngestPanel, SettingsPanel

from .comm import (
    front,
)

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def test_every_parameter_is_shown_with_the_range_params_py_allows() -> None:
    panel = SettingsPanel()
    specs = {s["name"]: s for s in panel.param_specs}
    assert list(specs) == list(GenerationParams.names())
    for name, option in GENERATION.items():
        if option.kind in ("int", "float"):
            assert (specs[name]["min"], specs[name]["max"]) == (option.low, option.high)
    assert specs["temperature"]["kind"] == "float" and specs["temperature"]["slider"]
    assert specs["top_k"]["kind"] == "int" and specs["top_k"]["step"] == 1
    assert not specs["max_new_tokens"]["slider"]  # a million-wide range gets a number box
    assert specs["early_stopping"]["kind"] == "bool" and specs["stop"]["kind"] == "list"
    assert all(spec["help"] for spec in specs.values())
    assert panel.params == GenerationParams().as_dict()
    assert "auto" in panel.choices["backends"] and "template" in panel.choices["prompt_types"]


def test_prompt_and_document_fields_edit_the_chat() -> None:
    chat = Chat(params={"max_new_tokens": 16})
    panel = SettingsPanel(chat)
    assert panel.params["max_new_tokens"] == 16 and panel.chat_options["system_prompt"] == "auto"
    values = {
        "system_prompt": "Answer in French.",
        "context": "Background.",
        "iinput": "Extra input.",
        "top_k_docs": "5",
        "document_subset": "RelSources",
        "stop": "END\n\nSTOP",
        "early_stopping": True,
    }
    front(panel, {"type": "settings", "values": values})
    assert panel.errors == []
    assert (chat.system_prompt, chat.context, chat.iinput) == (
        "Answer in French.",
        "Background.",
        "Extra input.",
    )
    assert chat.documents.top_k_docs == 5 and chat.documents.document_subset == "RelSources"
    assert chat.params.stop == ("END", "STOP") and chat.params.early_stopping
    assert panel.chat_options["top_k_docs"] == 5
    front(panel, {"type": "settings", "values": {"system_prompt": ""}})
    assert chat.system_prompt is None and panel.chat_options["system_prompt"] == ""
    for bad, message in [
        ({"top_k_docs": 0}, "top_k_docs must be a positive integer or -1"),
        ({"top_k_docs": 2.5}, "whole number"),
        ({"document_subset": "Everything"}, "document_subset must be one of"),
        ({"max_new_tokens": 10, "min_new_tokens": 20}, "must not exceed"),
        ({"warmth": 1}, "unknown setting 'warmth'"),
        ({"context": 5}, "context must be text"),
    ]:
        front(panel, {"type": "settings", "values": bad})
        assert message in panel.errors[-1]["message"], bad
    assert chat.params.max_new_tokens == 16 and chat.documents.top_k_docs == 5
    front(panel, {"type": "settings"})
    assert "needs 'values'" in panel.errors[-1]["message"]


def test_a_settings_panel_follows_its_chat_panel() -> None:
    chat_panel = ChatPanel(manager=ModelManager())
    panel = SettingsPanel(chat_panel)
    front(chat_panel, {"type": "new"})
    front(panel, {"type": "settings", "values": {"temperature": 0.4}})
    assert chat_panel.chat.params.temperature == 0.4
    front(chat_panel, {"type": "settings", "values": {"top_p": 0.9}})
    front(panel, {"type": "refresh"})
    assert panel.params["top_p"] == 0.9


def test_load_use_and_unload_models(manager: ModelManager, tiny_model_dir: Path) -> None:
    panel = SettingsPanel(manager=manager)
    assert panel.models == [] and panel.default_model == ""
    form = {"name": str(tiny_model_dir), "backend": "transformers", "dtype": "float32"}
    for alias in ("t1", "t2"):
        front(panel, {"type": "load_model", "alias": alias, "quantization": "", **form})
    panel.wait()
    assert [r["alias"] for r in panel.models] == ["t1", "t2"] and panel.default_model == "t1"
    row = panel.models[0]
    assert row["backend"] == "transformers" and row["dtype"] == "float32"
    assert row["memory"].endswith("MiB") and row["context_length"] == 1024
    assert panel.status.startswith("Loaded ") and panel.errors == []
    front(panel, {"type": "use_model", "alias": "t2"})
    assert panel.default_model == "t2" and panel.models[1]["default"]
    front(panel, {"type": "unload_model", "alias": "t1"})
    panel.wait()
    assert [r["alias"] for r in panel.models] == ["t2"] and panel.status == "Unloaded 't1'."

    for message, expected in [
        ({"alias": "ghost"}, "no model loaded as 'ghost'"),
    ]:
        front(panel, {"type": "unload_model", **message})
        assert expected in panel.errors[-1]["message"]
    front(panel, {"type": "load_model", "name": ""})
    assert "which model?" in panel.errors[-1]["message"]
    front(panel, {"type": "load_model", "name": "x", "quantization": "2bit"})
    assert "quantization is 8bit, 4bit or empty" in panel.errors[-1]["message"]
    front(panel, {"type": "load_model", "name": "x", "dtype": "float8"})
    assert "dtype must be one of" in panel.errors[-1]["message"]
    front(panel, {"type": "load_model", "name": str(tiny_model_dir / "missing")})
    panel.wait()
    assert panel.status.startswith("Could not load") and not panel.busy
    assert len(panel.errors) == 5


# --- %h2ogpt panel ----------------------------------------------------------------------------
def run_panel(ip: Any, line: str) -> Any:
    cmds = ip.magics_manager.registry["H2OGPTMagics"].commands
    with capture_output() as cap:
        _panels.panel(cmds, parse(line, ip.user_ns), None)
    (output,) = cap.outputs
    assert WIDGET_MIME in output.data
    return ip.user_ns.get("p")


def test_the_panel_magic_opens_each_panel(ip: Any) -> None:
    cmds = ip.magics_manager.registry["H2OGPTMagics"].commands
    chat = run_panel(ip, "panel chat --collection Team --top-k-docs 2 -o p")
    assert isinstance(chat, ChatPanel) and chat.chat is cmds.chat  # shares %h2ogpt chat's history
    assert chat.mode == "Team" and cmds.chat.documents.top_k_docs == 2
    fresh = run_panel(ip, "panel chat --new -m other -o p")
    assert fresh.chat is not cmds.chat and fresh.chat.model == "other"

    compare = run_panel(ip, "panel compare a b --temperature 0.5 --max-new-tokens 4 -o p")
    assert isinstance(compare, ComparePanel) and [c["label"] for c in compare.columns] == ["a", "b"]
    assert compare._columns[0].params.temperature == 0.5

    ingest = run_panel(ip, "panel ingest --collection Team --chunk-size 256 -o p")
    assert isinstance(ingest, IngestPanel) and ingest.collection == "Team"

    settings = run_panel(ip, "panel settings -o p")
    assert isinstance(settings, SettingsPanel) and settings.chat is cmds.chat
    front(settings, {"type": "settings", "values": {"temperature": 0.3}})
    assert cmds.params.temperature == 0.3 and cmds.chat.params.temperature == 0.3
    ip.run_line_magic("h2ogpt", "chat --new --model tiny -- hello?")  # no model: one error
    front(settings, {"type": "settings", "values": {"top_p": 0.8}})
    assert cmds.chat.params.top_p == 0.8  # it follows the kernel's new chat


def test_the_panel_magic_refuses_mistakes(ip: Any) -> None:
    cmds = ip.magics_manager.registry["H2OGPTMagics"].commands
    for line, message in [
        ("panel", "panel takes one of: chat, compare, ingest, settings"),
        ("panel window", "panel takes one of"),
        ("panel chat extra", "takes options only"),
        ("panel chat --bogus 1", "unknown option --bogus"),
        ("panel ingest --chunk-size big", "--chunk-size needs a whole number"),
        ("panel compare a", "2 to 4"),
        ("panel compare a b --warmth 2", "unknown generation option"),
        ("panel settings -o 1x", "-o needs a variable name"),
    ]:
        with pytest.raises((H2OGPTError, InvalidOptionError), match=message):
            _panels.panel(cmds, parse(line, ip.user_ns), None)


def test_registered_like_the_document_commands_it_runs_from_the_magic(
    ip: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(_documents.COMMANDS, "panel", _panels.panel)
    with capture_output() as cap:
        ip.run_line_magic("h2ogpt", "panel ingest -o p")
    assert isinstance(ip.user_ns["p"], IngestPanel) and WIDGET_MIME in cap.outputs[0].data
    ip.run_line_magic("h2ogpt", "panel sideways")
    assert "h2ogpt: panel takes one of" in capsys.readouterr().err
