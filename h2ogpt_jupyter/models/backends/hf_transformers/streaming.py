"""How a transformers request that can be batched is streamed: alone, or in the batching loop.

A request that finds nothing else in flight runs ``generate`` in a worker thread, as fast as
one stream goes (the loop is ~15% slower for a lone stream on two cores, and an idle loop
thread slows every other torch thread in the process). As soon as a second request arrives,
the lone one is handed over: its ``generate`` stops after the current token and the request
continues in the batching loop from where it was (prompt plus the tokens so far, the same
sampler and seed), so from then on everything in flight shares each forward pass. While the
loop is running, new requests join it directly.

Both ways pick tokens with the request's own :class:`~.batching.RequestSampler`, so a request
gets the same tokens whichever way it runs (up to the rounding of batched matrix products in
bf16/fp16; in fp32 they are identical).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

import torch
from transformers import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from h2ogpt_jupyter.models.backends.base import BackendRequest, StreamEvent

from .batching import BatchingEngine, RequestSampler, SamplerLogits

#: how often a waiting stream looks at its cancel event (so Stop acts within this)
POLL_SECONDS = 0.05


class Until(StoppingCriteria):
    """Stops ``generate`` once any of the events is set (checked after every token)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        stop = any(event.is_set() for event in self.events)
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool)


def generate_in_thread(
    model: Any, kwargs: dict[str, Any], streamer: TokenStreamer, cancel: threading.Event
) -> Generator[StreamEvent, None, Any]:
    """Stream ``model.generate(**kwargs)`` from a worker thread; return its output ids.

    Ctrl-C (KeyboardInterrupt in the consumer) stops the engine and keeps the text it already
    made; a consumer that leaves early stops it too. An error in the engine is raised here.
    ``kwargs`` should stop on ``cancel`` (e.g. with :class:`Until`).
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            with torch.inference_mode():
                result["out"] = model.generate(**kwargs, streamer=streamer)
        except BaseException as exc:  # surfaced in the caller's thread below
            result["error"] = exc
            streamer.end()

    worker = threading.Thread(target=run, name="h2ogpt-generate", daemon=True)
    worker.start()
    finished = False
    try:
        try:
            for text in streamer:
                if text:
                    yield StreamEvent(text=text)
        except KeyboardInterrupt:  # stop the engine but keep what it already produced
            cancel.set()
            tail = "".join(streamer)
            if tail:
                yield StreamEvent(text=tail)
        finished = True
    finally:
        if not finished:  # the consumer left early: stop the engine before returning
            cancel.set()
        worker.join()
    if "error" in result:
        raise result["error"]
    return result["out"]


class Streams:
    """Routes a backend's batchable requests (see the module docstring)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.engine = BatchingEngine(
            backend.model,
            backend.eos_ids(),
            backend.tokenizer.pad_token_id,
            backend.context_length,
        )
        #: run even a lone request in the batching loop (benchmarks and tests)
        self.batch_alone = False
        self._lock = threading.Lock()
        self._in_flight = 0
        self._lone: threading.Event | None = None  # set it to hand the lone request over

    def stream(
        self, request: BackendRequest, ids: list[int], cancel: threading.Event
    ) -> Iterator[StreamEvent]:
        params = request.params
        device = str(self.backend.model.device)
        sampler = RequestSampler(params, request.seed, len(ids), self.engine.eos, device=device)
        started = time.perf_counter()
        with self._lock:
            alone = not (self.batch_alone or self._in_flight or self.engine.running)
            if self._lone is not None:  # company: the lone request moves into the loop
                self._lone.set()
            handoff = threading.Event() if alone else None
            if handoff is not None:
                self._lone = handoff
            self._in_flight += 1
        try:
            tokens: list[int] = []
            decoder = IncrementalDecoder(self.backend.tokenizer)
            if handoff is not None:
                tokens, done = yield from self._generate(request, ids, sampler, cancel, handoff)
                if done:
                    yield self.backend.final(len(tokens), len(ids), request, cancel)
                    return
                decoder.skip(tokens)
            tokens = yield from self._batched(
                request, ids, tokens, sampler, decoder, cancel, started
            )
            yield self.backend.final(len(tokens), len(ids), request, cancel)
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._lone is handoff:
                    self._lone = None

    # --- in the batching loop --------------------------------------------------------------
    def _batched(
        self,
        request: BackendRequest,
        ids: list[int],
        prior: list[int],
        sampler: RequestSampler,
        decoder: IncrementalDecoder,
        cancel: threading.Event,
        started: float,
    ) -> Generator[StreamEvent, None, list[int]]:
        """Stream the rest of the answer from the loop; return all its tokens."""
        params = request.params
        deadline = started + params.max_time if params.max_time else None
        ticket = self.engine.submit(ids + prior, params.max_new_tokens - len(prior), sampler)
        tokens = list(prior)
        finished = False
        try:
            while not cancel.is_set():
                try:
                    output = ticket.outputs.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    if deadline is not None and time.perf_counter() > deadline:
                        break  # Generation reports max_time
                    continue
                except KeyboardInterrupt:  # keep what was produced; the loop drops the request
                    cancel.set()
                    break
                if isinstance(output, Exception):
                    raise output
                if output.error is not None:
                    raise RuntimeError(f"generation failed: {output.error}")
                tokens = prior + output.generated_tokens
                delta = decoder.feed(tokens)
                if delta:
                    yield StreamEvent(text=delta)
                if output.is_finished():
                    finished = True
                    break
        finally:
            if not finished:  # cancelled, timed out, or the consumer left early
                ticket.cancel()
        tail = decoder.feed(tokens, final=True)
        if tail:
            yield StreamEvent(text=tail)
        return tokens

    # --- alone: generate() in a worker thread ----------------------------------------------
    def _generate(
        self,
        request: BackendRequest,
        ids: list[int],
        sampler: RequestSampler,
        cancel: threading.Event,
        handoff: threading.Event,
    ) -> Generator[StreamEvent, None, tuple[list[int], bool]]:
        """Stream until done or handed over; return the tokens and whether it is done."""
        backend = self.backend
        params = request.params
        inputs = torch.tensor([ids], device=backend.model.device)
        streamer = TokenStreamer(backend.tokenizer)
        kwargs: dict[str, Any] = {
            "input_ids": inputs,
            "attention_mask": torch.ones_like(inputs),
            "max_new_tokens": params.max_new_tokens,
            "max_time": params.max_time or None,
            # the sampler does all of the picking, as it would in the loop
            "do_sample": False,
            "num_beams": 1,
            "repetition_penalty": 1.0,
            "min_new_tokens": 0,
            "temperature": None,
            "top_p": None,
            "top_k": None,
            "pad_token_id": backend.tokenizer.pad_token_id,
            "logits_processor": [SamplerLogits(sampler)],
            "stopping_criteria": StoppingCriteriaList([Until(cancel, handoff)]),
        }
        out = yield from generate_in_thread(backend.model, kwargs, streamer, cancel)
        tokens = [int(t) for t in out[0, len(ids) :]]
        done = (
            not handoff.is_set()
            or cancel.is_set()
            or len(tokens) >= params.max_new_tokens
            or (bool(tokens) and tokens[-1] in self.engine.eos)
        )
        return tokens, done

    def close(self) -> None:
        self.engine.close()


class IncrementalDecoder:
    """Text deltas from a growing list of token ids, without decoding the whole list each time:
    a window of already-shown tokens is decoded with and without the new ones and the
    difference is the delta (so spaces that depend on the previous token come out right). A
    delta ending in an incomplete UTF-8 character waits for the next token."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.start = 0  # window start
        self.shown = 0  # tokens whose text has been returned

    def skip(self, tokens: list[int]) -> None:
        """Count ``tokens`` as shown already (their text went out another way)."""
        self.shown = len(tokens)
        self.start = max(0, self.shown - 4)

    def _decode(self, tokens: list[int]) -> str:
        return str(self.tokenizer.decode(tokens, skip_special_tokens=True))

    def feed(self, tokens: list[int], final: bool = False) -> str:
        if len(tokens) <= self.shown:
            return ""
        before = self._decode(tokens[self.start : self.shown])
        after = self._decode(tokens[self.start :])
        if len(after) <= len(before) or (after.endswith("\ufffd") and not final):
            return ""
        self.start, self.shown = self.shown, len(tokens)
        return after[len(before) :]


class TokenStreamer(BaseStreamer):
    """``generate``'s streamer, iterated from another thread: the text of every new token as
    soon as it is made (the prompt, which ``generate`` puts first, is skipped).

    transformers' ``TextIteratorStreamer`` holds text back until a space or a newline, so an
    answer in code, in a language written without spaces, or one long word would arrive in a
    few lumps — wrong times to first token and tokens/s, and no visible streaming. Deltas come
    from :class:`IncrementalDecoder`, as in the batching loop, so both paths stream alike.
    """

    def __init__(self, tokenizer: Any) -> None:
        self.decoder = IncrementalDecoder(tokenizer)
        self.tokens: list[int] = []
        self.deltas: queue.Queue[str | None] = queue.Queue()
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self.tokens.extend(int(t) for t in value.reshape(-1).tolist())
        delta = self.decoder.feed(self.tokens)
        if delta:
            self.deltas.put(delta)

    def end(self) -> None:
        tail = self.decoder.feed(self.tokens, final=True)
        if tail:
            self.deltas.put(tail)
        self.deltas.put(None)

    def __iter__(self) -> Iterator[str]:
        while (delta := self.deltas.get()) is not None:
            yield delta
