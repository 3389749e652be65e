"""What a chat or text completion does on its worker thread, and the request checks before it.

Chat goes through :class:`~h2ogpt_jupyter.chat.chat.Chat`, exactly as a notebook's turn does: the
prior user/assistant messages become its history, the system message its system prompt, and
h2oGPT's prompt format, history fitting, document retrieval and response cleaning all apply.
A text completion is the raw prompt through the model's backend, nothing added.

Chat answers are cleaned (trimmed) when they finish, so streamed deltas are shaped to add up
to that same text: leading whitespace is dropped and trailing whitespace held back until more
text follows (:class:`Shaper`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from h2ogpt_jupyter.models.params import GenerationParams

from .errors import APIError
from .jobs import Job
from .schemas import ChatCompletionRequest, ChatMessage, CompletionRequest, GenerationFields

_PASSED = (
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "min_new_tokens",
    "max_time",
    "num_beams",
    "early_stopping",
    "seed",
)
_DOCS = ("document_subset", "document_choice", "top_k_docs", "cut_distance", "docs_ordering_type")
_SEEDS = 2**32  # GenerationParams' seed range
COMPLETION_MAX_TOKENS = 16  # OpenAI's default for /v1/completions


@dataclass
class ChatTurn:
    system_prompt: str
    history: list[tuple[str, str]]
    instruction: str


class Shaper:
    """Streamed deltas that concatenate to the cleaned answer (see the module docstring)."""

    def __init__(self) -> None:
        self.sent = ""
        self._held = ""

    def feed(self, delta: str) -> str:
        if not self.sent and not self._held:
            delta = delta.lstrip()
        text = self._held + delta
        body = text.rstrip()
        self._held = text[len(body) :]
        self.sent += body
        return body

    def finish(self, final: str) -> str:
        """What is still missing from ``final``; nothing if the cleaning cut already-sent text."""
        if not final.startswith(self.sent):
            return ""
        tail, self.sent = final[len(self.sent) :], final
        return tail


# --- checks (beyond the schema's) ------------------------------------------------------------
def _text(message: ChatMessage) -> str:
    content = message.content
    if content is None or isinstance(content, str):
        return content or ""
    return "\n".join(part.text for part in content)


def split_messages(messages: list[ChatMessage], system_prompt: str | None) -> ChatTurn:
    """System messages → system prompt; user/assistant pairs → history; the last user → the
    question. Consecutive user messages are joined."""
    system: list[str] = []
    history: list[tuple[str, str]] = []
    pending: list[str] = []
    for message in messages:
        text = _text(message)
        if message.role in ("system", "developer"):
            system.append(text)
        elif message.role == "user":
            pending.append(text)
        else:
            history.append(("\n\n".join(pending), text))
            pending = []
    if not pending:
        raise APIError(400, "the last message must come from the user", param="messages")
    chosen = "\n\n".join(system) if system else (system_prompt or "auto")
    return ChatTurn(chosen, history, "\n\n".join(pending))


def _refuse(param: str, why: str) -> APIError:
    return APIError(400, f"{param}: {why}", param=param, code="unsupported_parameter")


def check_prompt_type(body: GenerationFields, prompt_type: str) -> None:
    if body.prompt_type and body.prompt_type != prompt_type:
        raise _refuse(
            "prompt_type",
            f"chosen when the model loads (this model uses '{prompt_type}'); start the "
            "server with --model ALIAS=NAME?prompt_type=...",
        )


def check_completion(body: CompletionRequest, prompt_type: str) -> list[str]:
    """The prompts to answer, one choice (times ``n``) each."""
    check_prompt_type(body, prompt_type)
    if body.best_of is not None and body.best_of != body.n:
        raise _refuse("best_of", "only equal to n is supported")
    return [body.prompt] if isinstance(body.prompt, str) else list(body.prompt)


def generation_options(body: GenerationFields, default_max_tokens: int | None) -> dict[str, Any]:
    """The h2oGPT generation options a request asks for (validated by the caller)."""
    options = {k: v for k in _PASSED if (v := getattr(body, k)) is not None}
    if options.get("top_k") == -1:  # vLLM's spelling of "no top-k cut"
        options["top_k"] = 0
    chosen = [body.max_completion_tokens, body.max_tokens, body.max_new_tokens]
    max_tokens = next((m for m in chosen if m is not None), default_max_tokens)
    if max_tokens is not None:
        options["max_new_tokens"] = max_tokens
    if body.stop is not None:
        options["stop"] = body.stop
    if isinstance(body, ChatCompletionRequest) and body.max_input_tokens is not None:
        options["max_input_tokens"] = body.max_input_tokens
    return options


def document_options(body: ChatCompletionRequest) -> dict[str, Any]:
    """Chat's document options (h2oGPT names); ``langchain_mode`` is a synonym of
    ``collection``."""
    if body.collection and body.langchain_mode and body.collection != body.langchain_mode:
        raise _refuse("langchain_mode", "differs from collection; give one of them")
    options = {k: v for k in _DOCS if (v := getattr(body, k)) is not None}
    collection = body.collection or body.langchain_mode
    if collection:
        options["collection"] = collection
    for name in ("pre_prompt_query", "prompt_query"):
        if getattr(body, name) is not None:
            options[name] = getattr(body, name)
    return options


def for_choice(options: dict[str, Any], index: int) -> dict[str, Any]:
    if index and "seed" in options:
        return {**options, "seed": (options["seed"] + index) % _SEEDS}
    return options


# --- work on the worker thread ---------------------------------------------------------------
def _end(index: int, text: str, response: Any, *, new_prompt: bool, sources: Any) -> dict[str, Any]:
    return {
        "index": index,
        "text": text,
        "finish_reason": response.finish_reason,
        "prompt_tokens": response.usage.prompt_tokens if new_prompt else 0,
        "completion_tokens": response.usage.completion_tokens,
        "sources": sources,
    }


def chat_work(
    manager: Any,
    alias: str,
    params: GenerationParams,
    turn: ChatTurn,
    options: dict[str, Any],
    documents: dict[str, Any],
    n: int,
) -> Callable[[Job], None]:
    from h2ogpt_jupyter.chat.chat import Chat
    from h2ogpt_jupyter.chat.retrieval import DocQuery

    texts = {k: documents[k] for k in ("pre_prompt_query", "prompt_query") if k in documents}
    docs = {k: v for k, v in documents.items() if k not in texts}
    cites = DocQuery(**docs).active

    def work(job: Job) -> None:
        for i in range(n):
            chat = Chat(
                alias,
                system_prompt=turn.system_prompt,
                chat_conversation=turn.history,
                params=params,
                manager=manager,
                **texts,
                **docs,
            )
            generation = chat.stream(turn.instruction, **for_choice(options, i))
            job.emit("begin", i)
            shaper = Shaper()
            for delta in job.run(generation):
                if job.streaming and (shown := shaper.feed(delta)):
                    job.emit("delta", (i, shown))
            response = generation.response
            if job.streaming and (tail := shaper.finish(response.text)):
                job.emit("delta", (i, tail))
            job.count(response)
            sources = list(response.sources) if cites else None
            job.emit("end", _end(i, response.text, response, new_prompt=i == 0, sources=sources))
            if job.cancelled.is_set():
                return

    return work


def _fit(backend: Any, prompt: str, params: GenerationParams) -> GenerationParams:
    """Cap the answer to the room the window leaves; refuse a prompt that fills it."""
    room = backend.context_length - backend.count_tokens(prompt)
    if room < 1:
        raise APIError(
            400,
            f"the prompt does not fit this model's {backend.context_length}-token window",
            param="prompt",
            code="context_length_exceeded",
        )
    if params.max_new_tokens <= room:
        return params
    return dataclasses.replace(
        params, max_new_tokens=room, min_new_tokens=min(params.min_new_tokens, room)
    )


def completion_work(
    model: Any, prompts: list[str], options: dict[str, Any], n: int, echo: bool
) -> Callable[[Job], None]:
    from h2ogpt_jupyter.models.backends import BackendRequest
    from h2ogpt_jupyter.models.generation import Generation

    def work(job: Job) -> None:
        for p, prompt in enumerate(prompts):
            for j in range(n):
                index = p * n + j
                params = GenerationParams.from_options(model.params, **for_choice(options, j))
                params = _fit(model.backend, prompt, params)
                request = BackendRequest(
                    prompt=prompt,
                    params=params,
                    seed=params.effective_seed(),
                    stop=list(params.stop),
                )
                generation = Generation(model.backend, request, model=model.alias)
                job.emit("begin", index)
                if echo and job.streaming:
                    job.emit("delta", (index, prompt))
                for delta in job.run(generation):
                    if job.streaming and delta:
                        job.emit("delta", (index, delta))
                response = generation.response
                job.count(response)
                text = prompt + response.text if echo else response.text
                job.emit("end", _end(index, text, response, new_prompt=j == 0, sources=None))
                if job.cancelled.is_set():
                    return

    return work
