"""The panels' shared machinery: front ends shipped whole, message dispatch to handlers and
the errors area, updates from the worker, light imports, closing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from h2ogpt_jupyter.panels import ChatPanel, ComparePanel, IngestPanel, SettingsPanel
from h2ogpt_jupyter.panels._base import STATIC

from .comm import front, sent, updates


@pytest.mark.parametrize("cls", [ChatPanel, ComparePanel, IngestPanel, SettingsPanel])
def test_front_ends_ship_in_the_package_and_fetch_nothing(cls: Any) -> None:
    esm = str(cls._esm)
    assert esm.count("export default") == 1
    # one self-contained module: no static or dynamic imports
    assert not re.search(r"^\s*import[\s{*]", esm, re.M) and "import(" not in esm
    for text in (esm, (STATIC / "panels.css").read_text()):
        assert "cdn" not in text.lower() and "unpkg" not in text and "esm.sh" not in text
        assert "@import" not in text
    assert "--jp-layout-color1" in str(cls._css)


@pytest.mark.parametrize(
    ("cls", "panel"),
    [
        (ChatPanel, "chat"),
        (ComparePanel, "compare"),
        (IngestPanel, "ingest"),
        (SettingsPanel, "settings"),
    ],
)
def test_each_front_end_is_its_manifest_files_joined_in_order(cls: Any, panel: str) -> None:
    """static/manifest.json is the one list: the module is exactly its files, in its order,
    and only the last one exports (the JavaScript tests load the same files the same way)."""
    files = json.loads((STATIC / "manifest.json").read_text(encoding="utf-8"))["panels"][panel]
    texts = [(STATIC / name).read_text(encoding="utf-8") for name in files]
    assert str(cls._esm) == "\n".join(texts)
    assert [("export default" in text) for text in texts] == [False] * (len(texts) - 1) + [True]


def test_every_front_end_file_is_in_the_manifest() -> None:
    panels = json.loads((STATIC / "manifest.json").read_text(encoding="utf-8"))["panels"]
    listed = {name for files in panels.values() for name in files}
    assert listed == {path.name for path in STATIC.glob("*.js")}


def test_every_message_is_acknowledged_before_it_is_handled() -> None:
    """The front end shows 'no answer from the kernel' for a message not acknowledged in 10 s
    (common.js): the only sign VS Code's front end gets of a kernel that restarted."""
    panel = SettingsPanel()
    seen: list[int] = []
    panel.handlers["probe"] = lambda content, buffers: seen.append(len(sent(panel, "ack")))
    front(panel, {"type": "probe"})
    front(panel, "not an object")  # type: ignore[arg-type]
    assert seen == [1] and len(sent(panel, "ack")) == 2


def test_messages_go_to_their_handler_and_failures_to_the_errors_area() -> None:
    panel = SettingsPanel()
    front(panel, {"type": "no-such-thing"})
    assert "unknown panel message type 'no-such-thing'" in panel.errors[-1]["message"]

    def broken(content: dict[str, Any], buffers: list[bytes]) -> None:
        raise RuntimeError("kaput")

    panel.handlers["broken"] = broken
    front(panel, {"type": "broken"})
    error = panel.errors[-1]
    assert error["kind"] == "unexpected" and error["message"] == "RuntimeError: kaput"
    assert "Traceback" in error["detail"] and "broken" in error["detail"]

    panel.background(broken, {}, [])
    panel.wait()
    assert len(panel.errors) == 3
    front(panel, {"type": "dismiss", "index": 0})
    assert len(panel.errors) == 2
    front(panel, {"type": "clear_errors"})
    assert panel.errors == []
    # the error rows reached the browser as synced state
    assert updates(panel, "errors")[-1][1] == []


def test_state_changes_from_the_worker_arrive_as_one_update() -> None:
    panel = SettingsPanel()
    panel.background(lambda: panel.update(status="hello", busy=True)).result(10)
    last = [r for r in panel.comm.records() if (r["data"] or {}).get("method") == "update"][-1]
    assert last["data"]["state"] == {"status": "hello", "busy": True}
    assert last["thread"].startswith("h2ogpt-panel")


def test_importing_the_package_and_the_magics_stays_light() -> None:
    script = (
        "import sys, h2ogpt_jupyter, h2ogpt_jupyter.magics, h2ogpt_jupyter.magics._panels\n"
        "heavy = {'anywidget', 'torch', 'transformers', 'chromadb'}\n"
        "print(json.dumps(sorted(heavy & {m.split('.')[0] for m in sys.modules})))\n"
        "import h2ogpt_jupyter.panels\n"
        "print(json.dumps(sorted(heavy & {m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    before, after = (json.loads(line) for line in done.stdout.split())
    assert before == [] and after == ["anywidget"]


def test_closing_a_panel_stops_its_worker() -> None:
    panel = SettingsPanel()
    panel.wait()
    panel.close()
    with pytest.raises(RuntimeError):
        panel.background(lambda: None)
