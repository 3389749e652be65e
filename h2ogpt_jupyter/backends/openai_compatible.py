"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp's server, our own), through
the official ``openai`` client, streaming."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import openai

from ..errors import H2OGPTError, UnknownModelError
from ._base import Backend, BackendRequest, LoadOptions, ModelSpec, StreamEvent

_DEFAULT_CONTEXT = 4096


class OpenAIBackend(Backend):
    name = "openai"
    accepts_messages = True

    def __init__(self, spec: ModelSpec, options: LoadOptions) -> None:
        super().__init__(spec, options)
        self.client = openai.OpenAI(
            base_url=spec.location, api_key=spec.api_key or "EMPTY", max_retries=1, timeout=600
        )
        self.chat_api = spec.api == "chat"
        self.server_model = spec.server_model or self._first_model()
        self.context_length = int(options.max_seq_len or _DEFAULT_CONTEXT)
        self.dtype = "remote"
        self.device = spec.location
        # OpenAI itself rejects unknown fields; open-source servers take h2oGPT's extras.
        self._extras_ok = "api.openai.com" not in spec.location

    def _first_model(self) -> str:
        try:
            models = self.client.models.list()
        except openai.APIConnectionError:
            raise UnknownModelError(f"cannot reach a server at {self.spec.location}") from None
        except openai.APIStatusError as exc:
            raise UnknownModelError(
                f"server at {self.spec.location} refused to list models ({exc.status_code})"
            ) from None
        ids = [m.id for m in models.data]
        if not ids:
            raise UnknownModelError(f"server at {self.spec.location} serves no models")
        return ids[0]

    def count_tokens(self, text: str) -> int:
        """No tokenizer on this side: a conservative estimate (about 4 characters a token)."""
        return max(1, (len(text) + 3) // 4) if text else 0

    def _arguments(self, request: BackendRequest) -> dict[str, Any]:
        p = request.params
        args: dict[str, Any] = {
            "model": self.server_model,
            "max_tokens": p.max_new_tokens,
            "temperature": p.temperature if p.do_sample else 0.0,
            "top_p": p.top_p if p.do_sample else 1.0,
            "stream": True,
        }
        if p.do_sample or p.seed:
            args["seed"] = request.seed
        if request.stop:
            args["stop"] = request.stop[:4]
        if self._extras_ok:
            extra: dict[str, Any] = {"repetition_penalty": p.repetition_penalty}
            extra["top_k"] = p.top_k if p.do_sample else 1
            if p.min_new_tokens:
                extra["min_tokens"] = p.min_new_tokens
            args["extra_body"] = extra
        return args

    def stream(self, request: BackendRequest, cancel: threading.Event) -> Iterator[StreamEvent]:
        args = self._arguments(request)
        try:
            if self.chat_api:
                messages = request.messages or [{"role": "user", "content": request.prompt}]
                response = self._open(
                    self.client.chat.completions.create, messages=messages, **args
                )
            else:
                response = self._open(self.client.completions.create, prompt=request.prompt, **args)
        except openai.APIConnectionError:
            raise H2OGPTError(f"cannot reach the server at {self.spec.location}") from None
        except openai.APIStatusError as exc:
            raise H2OGPTError(f"server error {exc.status_code}: {_message(exc)}") from None
        state: dict[str, Any] = {"reason": "stop", "usage": None, "count": 0}
        with response:
            try:
                yield from self._read(response, cancel, state)
            except KeyboardInterrupt:
                cancel.set()
        reason, usage, count = state["reason"], state["usage"], state["count"]
        if cancel.is_set():
            reason = "cancelled"
        yield StreamEvent(
            finish_reason=reason,
            prompt_tokens=usage.prompt_tokens if usage else self.count_tokens(request.prompt),
            completion_tokens=usage.completion_tokens if usage else count,
        )

    def _read(
        self, response: Any, cancel: threading.Event, state: dict[str, Any]
    ) -> Iterator[StreamEvent]:
        for chunk in response:
            if chunk.usage is not None:
                state["usage"] = chunk.usage
            for choice in chunk.choices:
                text = choice.delta.content if self.chat_api else choice.text  # type: ignore[union-attr]
                if text:
                    state["count"] += 1
                    yield StreamEvent(text=text)
                if choice.finish_reason:
                    state["reason"] = choice.finish_reason
            if cancel.is_set():
                break

    @staticmethod
    def _open(create: Any, **args: Any) -> Any:
        """Ask for a usage chunk; servers that do not know stream_options get a plain retry."""
        try:
            return create(stream_options={"include_usage": True}, **args)
        except openai.BadRequestError as exc:
            if "stream_options" not in str(exc):
                raise
            return create(**args)

    def close(self) -> None:
        self.client.close()


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(exc.message)
