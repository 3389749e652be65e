"""One request's model work on its own worker thread, reported back to the event loop.

Generating blocks (torch, llama.cpp, an upstream HTTP stream), so it never runs on the event
loop: a :class:`Job` runs the request's work function on a daemon thread, which sends events
(``begin``/``delta``/``end`` per choice, then ``finished`` or ``error``) to an asyncio queue.
:meth:`Job.stop` — a client gone, the server stopping — stops the generation running now and
every one not yet started, through :meth:`Generation.stop`, which the engines check between
tokens. The admission slot is given back when the thread ends, not when the HTTP exchange does,
so the queue counts work the models really still have.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from h2ogpt_jupyter.models.generation import Generation

    from .state import ServerState

Event = tuple[str, Any]


class ClientGone(Exception):
    """The client disconnected before its answer was ready."""


class Job:
    """A request's work on a worker thread; events arrive in :attr:`events`."""

    def __init__(self, state: ServerState, key: str, *, streaming: bool) -> None:
        self.state = state
        self.key = key  # admission key: the model alias
        self.streaming = streaming
        self.loop = asyncio.get_running_loop()
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.cancelled = threading.Event()
        self._current: Generation | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # --- worker side --------------------------------------------------------------------------
    def emit(self, kind: str, payload: Any = None) -> None:
        try:
            self.loop.call_soon_threadsafe(self.events.put_nowait, (kind, payload))
        except RuntimeError:  # the loop is closed: the server is gone, nobody is listening
            pass

    def run(self, generation: Generation) -> Iterator[str]:
        """Iterate ``generation`` as the job's current one, so :meth:`stop` reaches it."""
        with self._lock:
            self._current = generation
            if self.cancelled.is_set():
                generation.stop()
        try:
            yield from generation
        finally:
            with self._lock:
                self._current = None

    def count(self, response: Any) -> None:
        """Record a finished choice in the server's metrics."""
        self.state.metrics.count_generation(
            self.key,
            response.usage.prompt_tokens,
            response.usage.completion_tokens,
            response.finish_reason,
            response.elapsed,
            response.time_to_first_token,
        )

    # --- event-loop side ------------------------------------------------------------------------
    def start(self, work: Callable[[Job], None]) -> None:
        """Take an admission slot (or raise 429) and start ``work`` on a new thread."""
        self.state.admission.acquire(self.key)
        self.state.jobs.add(self)
        self._thread = threading.Thread(
            target=self._main, args=(work,), name=f"h2ogpt-job-{self.key}", daemon=True
        )
        try:
            self._thread.start()
        except BaseException:
            self.state.jobs.discard(self)
            self.state.admission.release(self.key, 0.0)
            raise

    def _main(self, work: Callable[[Job], None]) -> None:
        start = time.perf_counter()
        try:
            work(self)
        except BaseException as exc:
            self.emit("error", exc)
        else:
            self.emit("finished")
        finally:
            self.state.jobs.discard(self)
            self.state.admission.release(self.key, time.perf_counter() - start)

    def stop(self) -> None:
        """Stop now and for good; safe from any thread, any number of times."""
        with self._lock:
            self.cancelled.set()
            if self._current is not None:
                self._current.stop()

    async def next(self, disconnected: Callable[[], Any] | None = None) -> Event:
        """The next event; with ``disconnected`` (an async check), stop the job and raise
        :class:`ClientGone` if the client leaves while waiting."""
        if disconnected is None:
            return await self.events.get()
        while True:
            try:
                return await asyncio.wait_for(self.events.get(), timeout=0.25)
            except asyncio.TimeoutError:
                if await disconnected():
                    self.stop()
                    raise ClientGone() from None
