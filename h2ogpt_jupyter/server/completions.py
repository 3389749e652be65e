"""``POST /v1/chat/completions`` and ``POST /v1/completions``, whole or streamed.

Both follow OpenAI's shapes. A stream is server-sent events (sse-starlette): one ``id`` for
every chunk, a first chunk per choice carrying ``role`` (chat), content deltas, a chunk with
the ``finish_reason`` (and ``sources`` when documents were used), a usage chunk with empty
``choices`` when ``stream_options.include_usage`` is set, then ``data: [DONE]``. An error after
the stream has started arrives as a ``data: {"error": ...}`` event, which OpenAI clients raise.

``finish_reason`` is OpenAI's: ``length`` for h2oGPT's ``length`` and ``max_time``, ``stop``
otherwise. Sources are ``[{source, page, score, distance, text}]``, best first, on the
response's top level. With ``n`` > 1 the choices are generated one after another.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse

from h2ogpt_jupyter.models.params import GenerationParams

from . import work as w
from .errors import APIError, from_exception
from .jobs import ClientGone, Job
from .schemas import ChatCompletionRequest, CompletionRequest
from .state import ServerState

router = APIRouter(tags=["generation"])


@dataclass(frozen=True)
class Shape:
    """Where chat and text completions differ in their objects."""

    chat: bool

    @property
    def prefix(self) -> str:
        return "chatcmpl" if self.chat else "cmpl"

    @property
    def object(self) -> str:
        return "chat.completion" if self.chat else "text_completion"

    @property
    def chunk_object(self) -> str:
        return "chat.completion.chunk" if self.chat else "text_completion"

    def choice(self, end: dict[str, Any]) -> dict[str, Any]:
        reason = finish_reason(end["finish_reason"])
        if self.chat:
            message = {"role": "assistant", "content": end["text"], "refusal": None}
            return {
                "index": end["index"],
                "message": message,
                "logprobs": None,
                "finish_reason": reason,
            }
        return {
            "index": end["index"],
            "text": end["text"],
            "logprobs": None,
            "finish_reason": reason,
        }

    def start(self, index: int) -> dict[str, Any] | None:
        if not self.chat:
            return None
        delta = {"role": "assistant", "content": ""}
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": None}

    def delta(self, index: int, text: str, reason: str | None = None) -> dict[str, Any]:
        if self.chat:
            delta = {"content": text} if text or reason is None else {}
            return {"index": index, "delta": delta, "logprobs": None, "finish_reason": reason}
        return {"index": index, "text": text, "logprobs": None, "finish_reason": reason}


CHAT, TEXT = Shape(chat=True), Shape(chat=False)


def finish_reason(reason: str) -> str:
    return "length" if reason in ("length", "max_time") else "stop"


SOURCE_FIELDS = ("source", "page", "score", "distance", "text")  # what the API promises


def source_dicts(hits: list[Any]) -> list[dict[str, Any]]:
    return [{k: d.get(k) for k in SOURCE_FIELDS} for d in (hit.to_dict() for hit in hits)]


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.h2ogpt
    return state


# --- routes ----------------------------------------------------------------------------------
@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> Response:
    """A chat answer; h2oGPT's documents with ``collection`` (see the schema's extras)."""
    state = state_of(request)
    state.require_ready()
    model = state.model(body.model)
    w.check_prompt_type(body, model.prompt_type)
    turn = w.split_messages(body.messages, body.system_prompt)
    options = w.generation_options(body, None)
    _validated(model.params, options)
    documents = w.document_options(body)
    work = w.chat_work(state.manager, model.alias, model.params, turn, options, documents, body.n)
    return await respond(state, request, model.alias, work, CHAT, body.stream, _usage_wanted(body))


@router.post("/v1/completions", response_model=None)
async def completions(body: CompletionRequest, request: Request) -> Response:
    """A raw prompt through the model: no chat template, history or documents."""
    state = state_of(request)
    state.require_ready()
    model = state.model(body.model)
    prompts = w.check_completion(body, model.prompt_type)
    options = w.generation_options(body, w.COMPLETION_MAX_TOKENS)
    _validated(model.params, options)
    work = w.completion_work(model, prompts, options, body.n, body.echo)
    return await respond(state, request, model.alias, work, TEXT, body.stream, _usage_wanted(body))


def _usage_wanted(body: ChatCompletionRequest | CompletionRequest) -> bool:
    return bool(body.stream_options and body.stream_options.include_usage)


def _validated(base: GenerationParams, options: dict[str, Any]) -> None:
    """Refuse bad generation options now, before the request takes a place in the queue."""
    try:
        GenerationParams.from_options(base, **options)
    except (OverflowError, TypeError) as exc:
        raise APIError(400, f"a generation option is out of range: {exc}") from None


async def respond(
    state: ServerState,
    request: Request,
    alias: str,
    work: Callable[[Job], None],
    shape: Shape,
    stream: bool,
    include_usage: bool,
) -> Response:
    job = Job(state, alias, streaming=stream)
    job.start(work)  # 429 when the queue is full
    try:
        first = await job.next(request.is_disconnected)
    except ClientGone:
        return Response(status_code=499)  # nobody is left to read it
    if first[0] == "error":
        raise from_exception(first[1])
    head = {
        "id": f"{shape.prefix}-{uuid.uuid4().hex[:24]}",
        "created": int(time.time()),
        "model": alias,
    }
    if stream:
        events = _sse(job, shape, head, first, include_usage)
        return EventSourceResponse(
            events, sep="\n", ping=15, client_close_handler_callable=_stopper(job)
        )
    ends: list[dict[str, Any]] = []
    event = first
    try:
        while event[0] != "finished":
            if event[0] == "error":
                raise from_exception(event[1])
            if event[0] == "end":
                ends.append(event[1])
            event = await job.next(request.is_disconnected)
    except ClientGone:
        return Response(status_code=499)
    ends.sort(key=lambda e: e["index"])
    body: dict[str, Any] = {**head, "object": shape.object}
    body["choices"] = [shape.choice(e) for e in ends]
    body["usage"] = usage(
        sum(e["prompt_tokens"] for e in ends), sum(e["completion_tokens"] for e in ends)
    )
    if ends and ends[0]["sources"] is not None:
        body["sources"] = source_dicts(ends[0]["sources"])
    return JSONResponse(body)


def _stopper(job: Job) -> Callable[[Any], Any]:
    async def stop(_: Any) -> None:
        job.stop()

    return stop


async def _sse(
    job: Job,
    shape: Shape,
    head: dict[str, Any],
    event: tuple[str, Any],
    include_usage: bool,
) -> AsyncIterator[dict[str, str]]:
    """The stream's events; leaving early (a client gone) stops the generation."""

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, str]:
        body = {**head, "object": shape.chunk_object, "choices": choices}
        if include_usage:
            body["usage"] = None
        body.update(extra)
        return {"data": json.dumps(body, ensure_ascii=False)}

    prompt_tokens = completion_tokens = 0
    try:
        while True:
            kind, payload = event
            if kind == "begin":
                start = shape.start(payload)
                if start is not None:
                    yield chunk([start])
            elif kind == "delta":
                yield chunk([shape.delta(payload[0], payload[1])])
            elif kind == "end":
                prompt_tokens += payload["prompt_tokens"]
                completion_tokens += payload["completion_tokens"]
                extra = {}
                if payload["sources"] is not None:
                    extra["sources"] = source_dicts(payload["sources"])
                reason = finish_reason(payload["finish_reason"])
                yield chunk([shape.delta(payload["index"], "", reason)], **extra)
            elif kind == "error":
                yield {"data": json.dumps(from_exception(payload).body())}
                return
            elif kind == "finished":
                break
            event = await job.next()
        if include_usage:
            yield chunk([], usage=usage(prompt_tokens, completion_tokens))
        yield {"data": "[DONE]"}
    finally:
        job.stop()
