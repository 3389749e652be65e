"""The panels' shared machinery, and the recording comm the other panel tests drive them with.

A panel normally talks to the browser through a kernel comm. Here every widget gets a
:class:`RecordingComm` instead: what Python sends (state updates, custom messages) is kept
with the sending thread's name, and :func:`front` / :func:`set_state` deliver messages through
the comm's own ``handle_msg``, exactly the path a browser message takes in a kernel.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from h2ogpt_jupyter.manager import ModelManager
from h2ogpt_jupyter.panels import ChatPanel, ComparePanel, IngestPanel, SettingsPanel
from h2ogpt_jupyter.panels._base import STATIC, Panel


class RecordingComm:
    """Stands in for ipykernel's comm; a true ``kernel`` keeps ipywidgets from dropping sends."""

    kernel = "recording"

    def __init__(self, **kwargs: Any) -> None:
        import uuid

        self.comm_id = kwargs.get("comm_id") or uuid.uuid4().hex
        self.sent: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._callback: Callable[[dict[str, Any]], None] | None = None
        self.publish("comm_open", kwargs.get("data"), kwargs.get("buffers"))

    def publish(self, msg_type: str, data: Any, buffers: Any = None) -> None:
        with self._lock:
            self.sent.append(
                {
                    "msg_type": msg_type,
                    "data": data,
                    "buffers": buffers,
                    "time": time.perf_counter(),
                    "thread": threading.current_thread().name,
                }
            )

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.publish("comm_msg", data, buffers)

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, callback: Callable[[dict[str, Any]], None] | None) -> None:
        self._callback = callback

    def on_close(self, callback: Any) -> None:
        pass

    def handle_msg(self, msg: dict[str, Any]) -> None:
        assert self._callback is not None
        self._callback(msg)

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.sent)


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every widget created in the test gets a RecordingComm; panels are closed after it."""
    import comm
    from ipywidgets.widgets import widget

    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm(**kwargs))
    before = set(widget._instances)
    yield
    for key in set(widget._instances) - before:
        panel = widget._instances.get(key)
        if isinstance(panel, Panel):
            panel.wait()
            panel.close()


def loaded(folder: Path, *aliases: str) -> Iterator[ModelManager]:
    """A manager holding the tiny model under ``aliases``, for a module-scoped fixture:
    loading is quick, unloading is not, so a test module does it once."""
    mgr = ModelManager()
    for alias in aliases:
        mgr.load(str(folder), alias=alias, dtype="float32")
    yield mgr
    quick_unload(mgr)


def quick_unload(mgr: ModelManager) -> None:
    """Unload without the full garbage collection each unload runs (~1 s with torch
    imported); the next collection frees the memory just the same."""
    from unittest import mock

    with mock.patch("gc.collect"):
        mgr.unload_all()


# --- driving a panel as the browser does ------------------------------------------------------
def front(panel: Any, content: dict[str, Any], buffers: Iterable[bytes] = ()) -> None:
    """A custom message from the browser, through the comm's handler."""
    data = {"method": "custom", "content": content}
    panel.comm.handle_msg({"content": {"data": data}, "buffers": [memoryview(b) for b in buffers]})


def set_state(panel: Any, **state: Any) -> None:
    """The browser changing synced state (a select, an input)."""
    data = {"method": "update", "state": state, "buffer_paths": []}
    panel.comm.handle_msg({"content": {"data": data}, "buffers": []})


def sent(panel: Any, kind: str | None = None) -> list[dict[str, Any]]:
    """Custom messages Python sent, each with the sending thread and time added."""
    out = []
    for record in panel.comm.records():
        data = record["data"] or {}
        if data.get("method") == "custom" and (kind is None or data["content"]["type"] == kind):
            out.append({**data["content"], "_thread": record["thread"], "_time": record["time"]})
    return out


def updates(panel: Any, name: str) -> list[tuple[float, Any]]:
    """Every value of synced trait ``name`` sent to the browser, with its time."""
    out = []
    for record in panel.comm.records():
        data = record["data"] or {}
        if data.get("method") == "update" and name in data.get("state", {}):
            out.append((record["time"], data["state"][name]))
    return out


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError("timed out waiting")


def messages_of(errors: list[dict[str, Any]]) -> str:
    return " | ".join(e["message"] for e in errors)


# --- the tests ---------------------------------------------------------------------------------
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
