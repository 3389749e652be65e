"""Compare models side by side: one prompt, every column generating at the same time.

A column is a loaded model (its alias) or a dict of settings, so one model can also be
compared with itself under different parameters. Each column runs in its own thread and
streams ``delta`` messages tagged with its index; its statistics (time to first token,
tokens per second, time, tokens) and, with ``score_model=``, a reward-model score are
committed to the synced ``columns`` when it ends. Columns on the same model take turns, as
one engine runs one generation at a time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import traitlets as t

from h2ogpt_jupyter.chat.chat import DOC_OPTIONS, Chat
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.models.generation import Generation
from h2ogpt_jupyter.models.manager import ModelManager
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.models.response import Response

from ._base import Panel, error_entry, panel_esm

CHAT_KEYS = {"system_prompt", "context", "iinput", *DOC_OPTIONS}
MIN_COLUMNS, MAX_COLUMNS = 2, 4


@dataclass
class Column:
    label: str
    model: str | None
    params: GenerationParams
    chat: dict[str, Any] = field(default_factory=dict)
    settings: str = ""  # the column's own settings, shown in its header


def make_column(spec: str | Mapping[str, Any], common: Mapping[str, Any]) -> Column:
    """Check a column's settings when the panel is made, so a typo fails at once rather
    than as an error in one column after the others have run."""
    if isinstance(spec, str):
        options: dict[str, Any] = {**common, "model": spec}
    elif isinstance(spec, Mapping):
        options = {**common, **spec}
    else:
        raise InvalidOptionError(f"a column is a model alias or a dict, not {spec!r}")
    label = options.pop("label", None)
    model = options.pop("model", None)
    chat = {k: options.pop(k) for k in list(options) if k in CHAT_KEYS}
    params = GenerationParams.from_options(**options)
    Chat(**{k: v for k, v in chat.items() if k in DOC_OPTIONS})  # refuse bad values now
    own = spec if isinstance(spec, Mapping) else {}
    settings = ", ".join(f"{k}={v}" for k, v in own.items() if k not in ("label", "model"))
    alias = str(model) if model else None
    name = alias or "default model"
    label = str(label or (f"{name} · {settings}" if settings else name))
    return Column(label, alias, params, chat, settings)


def blank(column: Column) -> dict[str, Any]:
    return {
        "label": column.label,
        "model": column.model or "",
        "settings": column.settings,
        "text": "",
        "status": "idle",
        "error": "",
        "finish_reason": "",
        "time_to_first_token": None,
        "tokens_per_second": None,
        "elapsed": None,
        "tokens": None,
        "score": None,
        "started": None,
        "finished": None,
    }


class ComparePanel(Panel):
    """``ComparePanel(["a", "b"], prompt="...")``; a column may be a dict such as
    ``{"model": "a", "temperature": 0.7, "label": "warm"}``. Options given after the columns
    (``max_new_tokens=128``, ``system_prompt=...``) apply to every column. ``score_model`` is a
    local sequence-classification folder used to rate each answer."""

    _esm = panel_esm("compare")

    prompt = t.Unicode("").tag(sync=True)
    columns = t.List(t.Dict()).tag(sync=True)
    scoring = t.Bool(False).tag(sync=True)

    def __init__(
        self,
        models: Sequence[str | Mapping[str, Any]],
        prompt: str | None = None,
        *,
        score_model: str | os.PathLike[str] | None = None,
        manager: ModelManager | None = None,
        **common: Any,
    ) -> None:
        if isinstance(models, (str, Mapping)) or not MIN_COLUMNS <= len(models) <= MAX_COLUMNS:
            raise InvalidOptionError(f"compare {MIN_COLUMNS} to {MAX_COLUMNS} models or settings")
        self._columns = [make_column(spec, common) for spec in models]
        self._manager = manager
        self._scorer: Any = None
        if score_model is not None:
            from h2ogpt_jupyter.chat.reward import RewardModel

            self._scorer = RewardModel(score_model)
        self._generations: dict[int, Generation] = {}
        self._cancel = threading.Event()
        self.responses: list[Response | None] = [None] * len(self._columns)
        super().__init__()
        self.handlers.update(
            run=lambda content, buffers: self.run(content.get("prompt")),
            stop=lambda content, buffers: self.stop(),
        )
        self.update(
            columns=[blank(c) for c in self._columns],
            scoring=self._scorer is not None,
            prompt=prompt or "",
        )
        if prompt:
            self.run(prompt)

    def run(self, prompt: str | None = None) -> None:
        """Start every column on ``prompt`` (default: the panel's prompt)."""
        text = self.prompt if prompt is None else str(prompt)
        if not text.strip():
            raise InvalidOptionError("the prompt is empty")
        with self._lock:
            self._require_idle()
            self._cancel = threading.Event()
            self.responses = [None] * len(self._columns)
            self.update(
                busy=True, prompt=text, status="", columns=[blank(c) for c in self._columns]
            )
        self.background(self._run_all, text, self._cancel)

    def stop(self) -> None:
        with self._lock:
            self._cancel.set()
            for generation in self._generations.values():
                generation.stop()

    def _run_all(self, text: str, cancel: threading.Event) -> None:
        threads = [
            threading.Thread(
                target=self._run_column, args=(i, text, cancel), name=f"h2ogpt-compare-{i}"
            )
            for i in range(len(self._columns))
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            self.update(busy=False)

    def _set_column(self, index: int, **values: Any) -> None:
        with self._lock:
            rows = [dict(row) for row in self.columns]
            rows[index].update(values)
            self.columns = rows

    def _run_column(self, index: int, text: str, cancel: threading.Event) -> None:
        column = self._columns[index]
        self._set_column(index, status="running", started=time.time())
        try:
            chat = Chat(column.model, manager=self._manager, params=column.params, **column.chat)
            generation = chat.stream(text)
            with self._lock:
                self._generations[index] = generation
                if cancel.is_set():
                    generation.stop()
            for delta in generation:
                self.emit(type="delta", column=index, text=delta)
            response = generation.response
        except Exception as exc:
            entry = error_entry(exc)
            self._set_column(index, status="error", error=entry["message"], finished=time.time())
            if entry["kind"] == "unexpected":
                self.report(exc)
            return
        finally:
            with self._lock:
                self._generations.pop(index, None)
        self.responses[index] = response
        self._set_column(
            index,
            text=response.text,
            status="done" if self._scorer is None else "scoring",
            finish_reason=response.finish_reason,
            time_to_first_token=response.time_to_first_token,
            tokens_per_second=round(response.tokens_per_second, 2),
            elapsed=round(response.elapsed, 3),
            tokens=response.usage.completion_tokens,
            finished=time.time(),
        )
        if self._scorer is not None:
            self._score(index, text, response.text)

    def _score(self, index: int, question: str, answer: str) -> None:
        try:
            score = self._scorer.score(question, answer)
        except H2OGPTError as exc:
            self._set_column(index, status="done", error=f"score: {exc}")
            return
        except Exception as exc:
            self._set_column(index, status="done", error=f"score: {type(exc).__name__}: {exc}")
            self.report(exc)
            return
        self._set_column(index, status="done", score=round(score, 4))
