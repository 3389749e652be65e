"""The chat panel: a conversation with streaming answers, sources, saved chats and settings.

The front end renders ``messages`` (synced state) as markdown. A turn puts the question and
an empty answer in ``messages``, streams the answer as ``delta`` messages from the worker
thread, then commits the finished text, its sources and statistics to ``messages`` in one
update followed by ``done``. The kernel's main thread only queues work, so Stop (a message
like any other) reaches the running generation while it streams.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import traitlets as t

from h2ogpt_jupyter.chat import saved
from h2ogpt_jupyter.chat.chat import Chat
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.models.citations import source_line
from h2ogpt_jupyter.models.generation import Generation
from h2ogpt_jupyter.models.manager import ModelManager
from h2ogpt_jupyter.models.response import Response

from ._base import panel_esm
from ._settings import SettingsBase

NO_DOCS = ("ChatLLM", "LLM")  # h2oGPT's modes without documents, in menu order
SOURCE_TEXT = 600  # characters of each source chunk sent to the front end


def source_rows(sources: list[Any]) -> list[dict[str, Any]]:
    """The sources under an answer as the front end lists them: a label, a shortened text."""
    rows = []
    for src in sources:
        data = src.to_dict()
        text, score = str(data["text"] or ""), data.get("score")
        rows.append(
            {
                "source": str(data["source"]),
                "page": data["page"],
                "score": None if score is None else round(float(score), 4),
                "label": source_line(src),
                "text": text[:SOURCE_TEXT] + ("…" if len(text) > SOURCE_TEXT else ""),
            }
        )
    return rows


class ChatPanel(SettingsBase):
    """A chat in a widget: ``ChatPanel()`` talks to the default model, ``ChatPanel("tiny",
    collection="MyData")`` to a given one about your documents. Options are those of
    :class:`~h2ogpt_jupyter.chat.chat.Chat`; ``chat=`` opens an existing Chat instead."""

    _esm = panel_esm("chat")

    messages = t.List(t.Dict()).tag(sync=True)
    mode = t.Unicode("ChatLLM").tag(sync=True)
    modes = t.List(t.Unicode()).tag(sync=True)
    model = t.Unicode("").tag(sync=True)
    chat_name = t.Unicode("").tag(sync=True)
    saved = t.List(t.Dict()).tag(sync=True)
    token_count = t.Int(-1).tag(sync=True)

    def __init__(
        self,
        model: str | None = None,
        chat: Chat | None = None,
        *,
        manager: ModelManager | None = None,
        **chat_options: Any,
    ) -> None:
        if chat is not None and chat_options:
            raise InvalidOptionError("give either chat= or chat options, not both")
        self._chat = chat if chat is not None else Chat(model, manager=manager, **chat_options)
        if chat is not None and model is not None:
            self._chat.model = model
        self._meta: list[dict[str, Any]] = []  # per turn: sources, stats (not in Chat)
        self._generation: Generation | None = None
        self._cancel = threading.Event()
        self.last_response: Response | None = None
        super().__init__()
        self.handlers.update(
            send=self._on_send,
            stop=self._on_stop,
            regenerate=self._on_regenerate,
            undo=self._on_undo,
            clear=self._on_clear,
            save=self._on_save,
            new=self._on_new,
            open=self._on_open,
            delete=self._on_delete,
            export=self._on_export,
            load_file=self._on_import,
            refresh=lambda content, buffers: self.refresh(),
            refresh_modes=lambda content, buffers: self.background(self.refresh_modes),
        )
        self.refresh()

    @property
    def chat(self) -> Chat:
        return self._chat

    # --- state from the chat ---------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read everything the panel shows: models, saved chats, settings, and (on the
        worker, as listing them may first import Chroma) the collections."""
        self.refresh_models()
        self.sync_settings()
        self.update(modes=self._modes(list_them=False), saved=saved.list_saved())
        self._show_chat()
        self.background(self.refresh_modes)

    def refresh_modes(self) -> None:
        self.update(modes=self._modes())

    def _show_chat(self) -> None:
        chat = self._chat
        self.update(
            messages=self._history_messages(),
            mode=chat.documents.name or "ChatLLM",
            model=chat.model or "",
            chat_name=chat.name,
            token_count=self._count(),
        )

    def _history_messages(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i, (question, answer) in enumerate(self._chat.history):
            meta = self._meta[i] if i < len(self._meta) else {}
            out.append({"role": "user", "content": question})
            out.append({"role": "assistant", "content": answer, **meta})
        return out

    def _count(self) -> int:
        try:
            return self._chat.count_tokens()
        except H2OGPTError:
            return -1  # no model to count with

    def _modes(self, list_them: bool = True) -> list[str]:
        names: list[str] = list(self.modes[len(NO_DOCS) :])
        try:
            if list_them:
                from h2ogpt_jupyter.documents import list_collections

                names = [row["name"] for row in list_collections()]
        except ImportError:
            pass  # the documents extra is not installed: chat modes only
        except Exception as exc:  # a broken store must not keep the chat from opening
            self.report(exc)
        current = self._chat.documents.name
        extra = [current] if current and current not in NO_DOCS and current not in names else []
        return [*NO_DOCS, *sorted(names + extra)]

    @t.observe("mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        import dataclasses

        new = change["new"] or "ChatLLM"
        if new == (self._chat.documents.name or "ChatLLM"):
            return
        try:
            self._chat.documents = dataclasses.replace(self._chat.documents, collection=new)
        except H2OGPTError as exc:
            self.report(exc)
            self.mode = change["old"]
            return
        self.update(token_count=self._count())

    @t.observe("model")
    def _model_changed(self, change: dict[str, Any]) -> None:
        new = change["new"] or None
        if new == self._chat.model:
            return
        if new is not None and new not in self.manager:
            self.report(H2OGPTError(f"no model loaded as '{new}'"))
            self.model = change["old"]
            return
        self._chat.model = new
        self.update(token_count=self._count())

    def settings_changed(self) -> None:
        self.update(token_count=self._count())

    def models_changed(self) -> None:
        if self._chat.model is not None and self._chat.model not in self.manager:
            self._chat.model = None
        self.update(model=self._chat.model or "", token_count=self._count())

    # --- turns ------------------------------------------------------------------------------
    def _on_send(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        text = str(content.get("text") or "")
        if not text.strip():
            raise InvalidOptionError("the message is empty")
        shown = [*self._history_messages(), {"role": "user", "content": text}]
        self._start(lambda: self._chat.stream(text), shown, text)

    def _on_regenerate(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        if not self._chat.history:
            raise H2OGPTError("nothing to regenerate: the chat is empty")
        self.manager.get(self._chat.model)  # a missing model must not cost the last answer
        self._start(self._chat.regenerate, self._history_messages()[:-1], None)

    def _start(
        self, make: Callable[[], Generation], shown: list[dict[str, Any]], text: str | None
    ) -> None:
        with self._lock:
            self._require_idle()
            self._cancel = threading.Event()
            placeholder = {"role": "assistant", "content": "", "streaming": True}
            self.update(busy=True, status="", messages=[*shown, placeholder])
        self.background(self._run_turn, make, len(shown), text, self._cancel)

    def _run_turn(
        self,
        make: Callable[[], Generation],
        index: int,
        text: str | None,
        cancel: threading.Event,
    ) -> None:
        try:
            generation = make()
            with self._lock:
                self._generation = generation
                if cancel.is_set():
                    generation.stop()
            for delta in generation:
                self.emit(type="delta", index=index, text=delta)
            response = generation.response
        except Exception:
            self.update(busy=False, messages=self._history_messages())
            if text is not None:  # give the question back so it need not be typed again
                self.emit(type="restore_input", text=text)
            raise
        finally:
            with self._lock:
                self._generation = None
        meta = {
            "sources": source_rows(response.sources),
            "stats": response.summary(),
            "finish_reason": response.finish_reason,
        }
        # Turns from before this panel (a chat shared with %h2ogpt chat, or opened with chat=)
        # have no statistics: pad for them, so this turn's land on this turn.
        earlier = len(self._chat.history) - 1
        kept = self._meta[:earlier]
        self._meta = [*kept, *({} for _ in range(earlier - len(kept))), meta]
        self.last_response = response
        self.update(busy=False, messages=self._history_messages(), token_count=self._count())
        self.emit(type="done", index=index, finish_reason=response.finish_reason)

    def _on_stop(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        with self._lock:
            self._cancel.set()
            if self._generation is not None:
                self._generation.stop()

    def _on_undo(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self._require_idle()
        turn = self._chat.undo()
        self._meta = self._meta[: len(self._chat.history)]
        self.update(status="Nothing to undo." if turn is None else "Removed the last turn.")
        self._show_chat()

    def _on_clear(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self._require_idle()
        self._chat.reset()
        self._meta = []
        self.update(status="Chat cleared.")
        self._show_chat()

    # --- saved chats ------------------------------------------------------------------------
    def _on_save(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        name = saved.save(self._chat, str(content.get("name") or "").strip() or None)
        self.update(chat_name=name, saved=saved.list_saved(), status=f"Saved '{name}'.")

    def _on_new(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """A fresh chat with the same model and settings."""
        self._require_idle()
        data = {**self._chat.to_dict(), "history": [], "name": ""}
        self._chat = Chat.from_dict(data, manager=self._chat.manager)
        self._meta = []
        self.update(status="New chat.")
        self._show_chat()

    def _on_open(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self._require_idle()
        name = str(content.get("name") or "")
        loaded = Chat.from_dict(saved.load(name).to_dict(), manager=self._chat.manager)
        note = ""
        if loaded.model is not None and loaded.model not in loaded.manager:
            note = f" It was saved with '{loaded.model}', which is not loaded: using the default."
            loaded.model = None
        self._chat, self._meta = loaded, []
        self.sync_settings()
        self.update(modes=self._modes(list_them=False), status=f"Opened '{name}'.{note}")
        self._show_chat()

    def _on_delete(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        name = str(content.get("name") or "")
        saved.delete(name)
        if self._chat.name == name:  # the open chat stays, no longer saved under that name
            self._chat.name = ""
        self.update(chat_name=self._chat.name, saved=saved.list_saved())
        self.update(status=f"Deleted '{name}'.")

    def _on_export(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """Send chats to the browser as a JSON download: this one, or saved ones."""
        if content.get("current"):
            import json

            text = json.dumps(self._chat.to_dict(), ensure_ascii=False, indent=1)
            filename = f"{self._chat.name or 'chat'}.json"
        else:
            names = content.get("names") or None
            if names is None and not saved.list_saved():
                raise H2OGPTError("no saved chats to export; save this one first")
            with tempfile.TemporaryDirectory(prefix="h2ogpt-export-") as folder:
                path = saved.export(Path(folder) / "chats.json", names)
                text = path.read_text(encoding="utf-8")
            filename = "h2ogpt-chats.json"
        self.emit(type="download", filename=filename, text=text, mime="application/json")

    def _on_import(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        """Import chat files sent by the browser's file input (one buffer per file)."""
        if not buffers:
            raise H2OGPTError("no file received")
        names = list(content.get("names") or [])
        imported: list[str] = []
        with tempfile.TemporaryDirectory(prefix="h2ogpt-import-") as folder:
            for i, data in enumerate(buffers):
                stem = Path(str(names[i]) if i < len(names) else f"chats-{i}").stem
                safe = "".join(c if c.isalnum() or c in "-_ ." else "-" for c in stem).strip()
                path = Path(folder) / f"{safe or 'chats'}.json"
                path.write_bytes(data)
                imported.extend(saved.import_file(path))
        self.update(saved=saved.list_saved(), status=f"Imported: {', '.join(imported)}.")
