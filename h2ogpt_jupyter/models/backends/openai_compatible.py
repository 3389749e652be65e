"""Any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp's server, our own), through
the official ``openai`` client, streaming."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import openai

from h2ogpt_jupyter.errors import H2OGPTError, UnknownModelError

from .base import Backend, BackendRequest, LoadOptions, ModelSpec, StreamEvent
from .names import ServerSpec

_DEFAULT_CONTEXT = 4096


class OpenAIBackend(Backend):
    name = "openai"
    accepts_messages = True

    def __init__(self, spec: ModelSpec, options: LoadOptions) -> None:
        super().__init__(spec, options)
        # A server behind Jupyter's proxy needs Jupyter's token as well (see ServerSpec).
        extra = spec if isinstance(spec, ServerSpec) else None
        self.client = openai.OpenAI(
            base_url=spec.location,
            api_key=spec.api_key or "EMPTY",
            max_retries=1,
            timeout=600,
            default_headers=extra.headers if extra and extra.headers else None,
            http_client=(
                openai.DefaultHttpxClient(follow_redirects=False)
                if extra and extra.proxied
                else None
            ),
        )
        self._stream_headers = dict(extra.stream_headers) if extra else {}
        self.chat_api = spec.api == "chat"
        self.context_length = int(options.max_seq_len or _DEFAULT_CONTEXT)
        self._no_top_k = -1  # vLLM's "no top-k cut"; h2oGPT's own server says 0 (_learn)
        self.server_model = spec.server_model or self._first_model()
        if spec.server_model and extra is not None:
            self._look_up(spec.server_model)
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
            hint = ""
            if exc.status_code in (302, 403) and getattr(self.spec, "proxied", False):
                hint = ": check the Jupyter token (--token, or JUPYTER_TOKEN)"
            raise UnknownModelError(
                f"server at {self.spec.location} refused to list models ({exc.status_code}){hint}"
            ) from None
        if not models.data:
            raise UnknownModelError(f"server at {self.spec.location} serves no models")
        self._learn(models.data[0])
        return str(models.data[0].id)

    def _look_up(self, model: str) -> None:
        """Read a named model's entry in the listing, if the server answers quickly; the
        model is used as named either way."""
        try:
            listing = self.client.with_options(timeout=10, max_retries=0).models.list()
        except openai.OpenAIError:
            return
        for card in listing.data:
            if card.id == model:
                self._learn(card)

    def _learn(self, card: Any) -> None:
        """What a server's model listing tells: how long the window is (vLLM's
        ``max_model_len``, our server's ``h2ogpt.context_length``), so long chats are trimmed
        here instead of refused there; and whether the server is h2oGPT's own, where no top-k
        cut is 0 rather than vLLM's -1."""
        window = getattr(card, "max_model_len", None)
        ours = getattr(card, "h2ogpt", None)
        if isinstance(ours, dict):
            self._no_top_k = 0
            window = window or ours.get("context_length")
        if isinstance(window, int) and window > 0 and not self.options.max_seq_len:
            self.context_length = window

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
        if self._stream_headers:
            args["extra_headers"] = self._stream_headers
        if self._extras_ok:
            extra: dict[str, Any] = {"repetition_penalty": p.repetition_penalty}
            extra["top_k"] = (p.sampling_top_k or self._no_top_k) if p.do_sample else 1
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
        state: dict[str, Any] = {"reason": "stop", "usage": None, "count": 0, "finished": False}
        with response:
            try:
                yield from self._read(response, cancel, state)
            except KeyboardInterrupt:
                cancel.set()
            except _stream_errors() as exc:  # the server failed or hung up mid-answer
                raise H2OGPTError(
                    f"the server at {self.spec.location} broke off the answer: {_one_line(exc)}"
                ) from None
        reason, usage, count = state["reason"], state["usage"], state["count"]
        if cancel.is_set():
            reason = "cancelled"
        elif not count and not state["finished"]:
            # Servers that fail after sending their 200 headers (llama.cpp's, for a prompt
            # longer than its window) just end the stream; an empty answer would hide that.
            raise H2OGPTError(
                f"the server at {self.spec.location} ended the stream without an answer; "
                "its log says why (a prompt longer than its context window is a common cause)"
            )
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
                text = choice.delta.content if self.chat_api else choice.text
                if text:
                    state["count"] += 1
                    yield StreamEvent(text=text)
                if choice.finish_reason:
                    state["reason"] = choice.finish_reason
                    state["finished"] = True
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


def _stream_errors() -> tuple[type[BaseException], ...]:
    """What reading a stream can raise: the client's API errors (an SSE error event), and the
    HTTP library's transport errors, which the client does not wrap once the body is being
    read. The HTTP library differs between client versions (httpx, httpx2): whichever the
    client imported is used, without importing the other."""
    errors: list[type[BaseException]] = [openai.APIError, OSError]
    for name in ("httpx2", "httpx"):
        module = sys.modules.get(name)
        if module is not None and isinstance(getattr(module, "HTTPError", None), type):
            errors.append(module.HTTPError)
    return tuple(errors)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(exc.message)
