"""The recording comm the panel tests drive panels with, and helpers to drive them.

A panel normally talks to the browser through a kernel comm. Here every widget gets a
:class:`RecordingComm` instead: what Python sends (state updates, custom messages) is kept
with the sending thread's name, and :func:`front` / :func:`set_state` deliver messages through
the comm's own ``handle_msg``, exactly the path a browser message takes in a kernel.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from h2ogpt_jupyter.models.manager import ModelManager


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
