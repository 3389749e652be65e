"""Run one generation: stream deltas, cut at stop strings, honour Stop and ``max_time``.

This is the single place where a stream ends early, whatever the engine: a stop string seen
in the text, a Stop button (``Generation.stop()``), a kernel interrupt (``KeyboardInterrupt``
while iterating) and ``max_time`` all set the same cancel event, which every backend checks
between tokens. The model stays usable afterwards.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .backends import Backend, BackendRequest, StreamEvent
from .params import GenerationParams
from .response import Response, Usage
from .stop_strings import StopStringCutter


class Generation:
    """An iterator of text deltas; afterwards ``response`` holds the whole result.

    ``finalize`` turns the raw text into the answer (h2oGPT's response cleaning);
    ``on_done`` is called once with the finished :class:`Response` (chat history uses it).
    """

    def __init__(
        self,
        backend: Backend,
        request: BackendRequest,
        *,
        model: str,
        finalize: Callable[[str], str] | None = None,
        on_done: Callable[[Response], None] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.backend = backend
        self.request = request
        self.model = model
        self.finalize = finalize or (lambda text: text)
        self.on_done = on_done
        self.extra = extra or {}
        self.cancel = threading.Event()
        self._response: Response | None = None
        self._started = False
        self._fixed: str | None = None

    @classmethod
    def fixed(
        cls,
        text: str,
        *,
        model: str = "",
        on_done: Callable[[Response], None] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Generation:
        """A generation that runs no model and yields ``text`` once: answers that are known
        without asking one (e.g. the retrieved chunks themselves) keep the same interface."""
        generation = cls.__new__(cls)
        generation.backend = None  # type: ignore[assignment]
        generation.request = BackendRequest(prompt="", params=GenerationParams())
        generation.model = model
        generation.finalize = lambda out: out
        generation.on_done = on_done
        generation.extra = extra or {}
        generation.cancel = threading.Event()
        generation._response = None
        generation._started = False
        generation._fixed = text
        return generation

    def stop(self) -> None:
        """Ask the generation to end; safe from any thread."""
        self.cancel.set()

    @property
    def done(self) -> bool:
        return self._response is not None

    @property
    def response(self) -> Response:
        if self._response is None:
            for _ in self:
                pass
        assert self._response is not None
        return self._response

    def run(self, on_text: Callable[[str], None] | None = None) -> Response:
        """Stream to ``on_text``; a kernel interrupt anywhere in the loop stops cleanly."""
        deltas = iter(self)
        try:
            for delta in deltas:
                if on_text is not None:
                    on_text(delta)
        except KeyboardInterrupt:
            self.cancel.set()
            for _ in deltas:  # let the engine wind down so history and usage are complete
                pass
        return self.response

    def __iter__(self) -> Iterator[str]:
        if self._started:
            raise RuntimeError("a Generation can be iterated once")
        self._started = True
        if self._fixed is not None:
            yield from self._yield_fixed(self._fixed)
            return
        cutter = StopStringCutter(self.request.stop)
        params = self.request.params
        start = time.perf_counter()
        first: float | None = None
        final = StreamEvent(finish_reason="stop")
        reason: str | None = None
        with contextlib.nullcontext() if self.backend.concurrent else self.backend.lock:
            events = self.backend.stream(self.request, self.cancel)
            try:
                while True:
                    try:
                        event = next(events)
                    except StopIteration:
                        break
                    except KeyboardInterrupt:  # keep draining: the engine winds down
                        reason = "cancelled"
                        self.cancel.set()
                        continue
                    if event.finish_reason is not None:
                        final = event
                    if event.text:
                        shown = cutter.feed(event.text)
                        if first is None and cutter.text.strip():
                            first = time.perf_counter() - start
                        if shown:
                            yield shown
                    if cutter.hit and reason is None:
                        reason = "stop"
                        self.cancel.set()
                    elif params.max_time and time.perf_counter() - start > params.max_time:
                        reason = reason or "max_time"
                        self.cancel.set()
            finally:
                events.close()  # type: ignore[attr-defined]
        tail = cutter.flush()
        if tail:
            yield tail
        elapsed = time.perf_counter() - start
        if reason is None and params.max_time and elapsed >= params.max_time:
            reason = "max_time"  # the engine enforced it itself
        if reason is None:
            reason = final.finish_reason or "stop"
        completion = final.completion_tokens
        if completion is None:  # interrupted before the engine reported usage
            completion = self.backend.count_tokens(cutter.text)
        prompt_tokens = final.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = self.backend.count_tokens(self.request.prompt)
        self._response = Response(
            text=self.finalize(cutter.text),
            prompt=self.request.prompt,
            model=self.model,
            usage=Usage(prompt_tokens, completion),
            finish_reason=reason,
            time_to_first_token=first,
            elapsed=elapsed,
            params={**params.as_dict(), "seed": self.request.seed, **self.extra},
        )
        if self.on_done is not None:
            self.on_done(self._response)

    def _yield_fixed(self, text: str) -> Iterator[str]:
        if text:
            yield text
        self._response = Response(
            text=text, model=self.model, finish_reason="stop", params=dict(self.extra)
        )
        if self.on_done is not None:
            self.on_done(self._response)
