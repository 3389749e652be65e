"""What every panel shares: front-end files, message dispatch, the errors area and one worker
thread.

A panel's front end talks to Python through custom widget messages ``{"type": ..., ...}``
(with binary buffers for uploads). Each message type has one handler; anything a handler
raises lands in the synced ``errors`` list shown at the top of the panel, so a failure is
never only a log line in the server's terminal.

Slow work (generating, loading a model, ingesting) runs on the panel's own worker thread so
the kernel's main thread keeps reading messages: a Stop pressed while an answer streams is
handled at once. Traits written from the worker are set under one lock, and several at a
time are sent as one update so the front end never sees half a change.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from h2ogpt_jupyter.errors import H2OGPTError

STATIC = Path(__file__).with_name("static")
MANIFEST = STATIC / "manifest.json"  # each panel's front-end files, in the order they are joined
MAX_ERRORS = 20  # older entries drop off the errors area

Handler = Callable[[dict[str, Any], list[bytes]], object]


def static_text(*names: str) -> str:
    """Front-end files joined into one ES module (only the last one has ``export``): the
    widgets share the markdown renderer and helpers without a bundler or a CDN."""
    return "\n".join((STATIC / name).read_text(encoding="utf-8") for name in names)


def panel_files(panel: str) -> list[str]:
    """The front-end files of ``panel`` ("chat", "compare", ...) in the order they are joined.
    ``static/manifest.json`` is the one list: ESLint and the JavaScript tests read it too."""
    panels = json.loads(MANIFEST.read_text(encoding="utf-8"))["panels"]
    return [str(name) for name in panels[panel]]


def panel_esm(panel: str) -> str:
    """The ES module of ``panel``, as its widget ships it."""
    return static_text(*panel_files(panel))


def error_entry(error: BaseException | str) -> dict[str, Any]:
    """An errors-area row. A user mistake is one line; anything else keeps its traceback."""
    if isinstance(error, str):
        message, kind, detail = error, "error", ""
    elif isinstance(error, H2OGPTError):
        message, kind, detail = str(error), type(error).__name__, ""
    else:
        message = f"{type(error).__name__}: {error}"
        kind = "unexpected"
        detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {"message": message, "kind": kind, "detail": detail, "time": time.strftime("%H:%M:%S")}


class Panel(anywidget.AnyWidget):
    """Base of the panels: subclasses register handlers in ``self.handlers``."""

    _css = STATIC / "panels.css"

    errors = t.List(t.Dict()).tag(sync=True)
    busy = t.Bool(False).tag(sync=True)
    status = t.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="h2ogpt-panel")
        self.handlers: dict[str, Handler] = {
            "dismiss": self._on_dismiss,
            "clear_errors": lambda content, buffers: self.update(errors=[]),
        }
        self.on_msg(self._on_message)

    # --- messages from the front end -------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, buffers: list[Any] | None) -> None:
        # First of all: the front end counts a message as lost if no ack comes (common.js)
        self.send({"type": "ack"})
        if not isinstance(content, dict):
            self.report(H2OGPTError(f"panel message must be an object, not {content!r}"))
            return
        kind = content.get("type")
        handler = self.handlers.get(str(kind))
        if handler is None:
            self.report(H2OGPTError(f"unknown panel message type {kind!r}"))
            return
        try:
            handler(content, [bytes(b) for b in buffers or []])
        except Exception as exc:
            self.report(exc)

    def _on_dismiss(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        index = int(content.get("index", -1))
        with self._lock:
            rows = list(self.errors)
            if 0 <= index < len(rows):
                del rows[index]
                self.errors = rows

    # --- state ------------------------------------------------------------------------------
    def update(self, **values: Any) -> None:
        """Set several synced traits from any thread; the front end gets them in one message."""
        with self._lock, self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)

    def report(self, error: BaseException | str) -> None:
        """Show ``error`` in the panel's errors area."""
        with self._lock:
            self.errors = [*self.errors, error_entry(error)][-MAX_ERRORS:]

    def emit(self, **content: Any) -> None:
        """A custom message to the front end (streaming deltas, downloads)."""
        self.send(content)

    # --- background work --------------------------------------------------------------------
    def background(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn`` on the panel's worker thread; what it raises goes to the errors area."""

        def run() -> None:
            try:
                fn(*args)
            except Exception as exc:
                self.report(exc)

        return self._pool.submit(run)

    def wait(self, timeout: float | None = 120.0) -> None:
        """Block until the work queued so far is done. Scripts and tests use it; the front
        end never needs to, since results arrive as state."""
        self._pool.submit(lambda: None).result(timeout)

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False)
        super().close()

    def _require_idle(self) -> None:
        if self.busy:
            raise H2OGPTError("still working on the last request; press Stop or wait")
