"""Chat state: a conversation with one model that remembers, undoes and regenerates.

A :class:`Chat` is plain data (history, system prompt, h2oGPT's context fields, default
generation parameters) plus the verbs that change it. The model is looked up in the kernel's
manager at each turn, so a chat survives a model reload and can be saved as JSON and reopened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from . import conversation
from .backends import BackendRequest
from .conversation import History, TurnInput
from .errors import H2OGPTError, InvalidOptionError
from .generation import Generation
from .manager import LoadedModel, ModelManager, get_manager
from .params import GenerationParams
from .response import Response

FORMAT_VERSION = 1


class Chat:
    def __init__(
        self,
        model: str | None = None,
        *,
        system_prompt: str | None = "auto",
        context: str = "",
        iinput: str = "",
        chat_conversation: History | None = None,
        text_context_list: list[str] | None = None,
        params: GenerationParams | dict[str, Any] | None = None,
        name: str = "",
        manager: ModelManager | None = None,
    ) -> None:
        self.model = model
        self.system_prompt = system_prompt
        self.context = context
        self.iinput = iinput
        self.history: History = [tuple(t) for t in (chat_conversation or [])]  # type: ignore[misc]
        self.text_context_list = list(text_context_list or [])
        self.params = _params(params)
        self.name = name
        self.responses: list[Response] = []
        self._manager = manager

    # --- model and prompt ------------------------------------------------------------------
    @property
    def manager(self) -> ModelManager:
        return self._manager or get_manager()

    def loaded_model(self) -> LoadedModel:
        return self.manager.get(self.model)

    def _turn(self, instruction: str, history: History | None = None) -> TurnInput:
        return TurnInput(
            instruction=instruction,
            history=list(self.history if history is None else history),
            system_prompt=self.system_prompt,
            context=self.context,
            iinput=self.iinput,
            text_context_list=self.text_context_list,
        )

    def prompt(self, instruction: str, **options: Any) -> str:
        """The exact text the model would receive for ``instruction`` now."""
        model = self.loaded_model()
        params = GenerationParams.from_options(self.params, **options)
        return conversation.build(model, self._turn(instruction), params.max_new_tokens).prompt

    def count_tokens(self) -> int:
        """Tokens the conversation so far takes in the model's prompt format."""
        model = self.loaded_model()
        return conversation.build(model, self._turn(""), 1).prompt_tokens

    # --- turns ---------------------------------------------------------------------------
    def stream(self, instruction: str, **options: Any) -> Generation:
        """Start a turn; iterate the result for text deltas. History updates when it ends."""
        if not isinstance(instruction, str) or not instruction.strip():
            raise InvalidOptionError("the message is empty")
        return self._start(instruction, self.history, options, record=True)

    def send(
        self, instruction: str, on_text: Callable[[str], None] | None = None, **options: Any
    ) -> Response:
        """One turn, streamed to ``on_text``; ``num_return_sequences`` > 1 adds alternatives."""
        generation = self.stream(instruction, **options)
        response = generation.run(on_text)
        wanted = int(response.params["num_return_sequences"])  # as the first turn resolved it
        if wanted > 1 and response.finish_reason != "cancelled":
            base_seed = int(response.params.get("seed", 1))
            for i in range(1, wanted):
                extra = self._start(
                    instruction, self.history[:-1], {**options, "seed": base_seed + i}, record=False
                )
                response.alternatives.append(extra.response.text)
        return response

    def regenerate(self, **options: Any) -> Generation:
        """Drop the last answer and ask its question again."""
        if not self.history:
            raise H2OGPTError("nothing to regenerate: the chat is empty")
        instruction, _ = self.history[-1]
        return self._start(instruction, self.history[:-1], options, record=True, replace=True)

    def undo(self) -> tuple[str, str] | None:
        """Remove the last turn and return it."""
        if not self.history:
            return None
        if self.responses:
            self.responses.pop()
        return self.history.pop()

    def reset(self) -> None:
        self.history.clear()
        self.responses.clear()

    def _start(
        self,
        instruction: str,
        history: History,
        options: dict[str, Any],
        *,
        record: bool,
        replace: bool = False,
    ) -> Generation:
        model = self.loaded_model()
        params = GenerationParams.from_options(self.params, **options)
        built = conversation.build(model, self._turn(instruction, history), params.max_new_tokens)
        if built.max_new_tokens != params.max_new_tokens:
            params = dataclasses.replace(params, max_new_tokens=built.max_new_tokens)
        request = BackendRequest(
            prompt=built.prompt,
            params=params,
            messages=built.messages,
            seed=params.effective_seed(),
            stop=list(dict.fromkeys([*built.stop, *params.stop])),
        )

        def done(response: Response) -> None:
            if not record:
                return
            if replace and self.history:  # regenerate: the new answer takes the old one's place
                self.history.pop()
                if len(self.responses) > len(self.history):
                    self.responses.pop()
            self.history.append((instruction, response.text))
            self.responses.append(response)

        return Generation(
            model.backend,
            request,
            model=model.alias,
            finalize=lambda text: conversation.finalize(model, text),
            on_done=done,
            extra={"prompt_type": model.prompt_type, "turns_used": built.turns_used},
        )

    # --- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "name": self.name,
            "model": self.model,
            "system_prompt": self.system_prompt,
            "context": self.context,
            "iinput": self.iinput,
            "text_context_list": self.text_context_list,
            "params": self.params.as_dict(),
            "history": [list(turn) for turn in self.history],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], manager: ModelManager | None = None) -> Chat:
        if not isinstance(data, dict) or not isinstance(data.get("history", []), list):
            raise H2OGPTError("not a saved chat: expected an object with a 'history' list")
        history = data.get("history", [])
        if not all(isinstance(t, (list, tuple)) and len(t) == 2 for t in history):
            raise H2OGPTError("not a saved chat: each history turn must be [user, assistant]")
        return cls(
            data.get("model"),
            system_prompt=data.get("system_prompt", "auto"),
            context=data.get("context", ""),
            iinput=data.get("iinput", ""),
            chat_conversation=[(str(u), str(b)) for u, b in history],
            text_context_list=data.get("text_context_list") or [],
            params=data.get("params") or None,
            name=data.get("name", ""),
            manager=manager,
        )

    def __repr__(self) -> str:
        return f"Chat(model={self.model!r}, turns={len(self.history)}, name={self.name!r})"


def _params(params: GenerationParams | dict[str, Any] | None) -> GenerationParams:
    if params is None:
        return GenerationParams()
    if isinstance(params, GenerationParams):
        return params
    return GenerationParams.from_options(**params)


def ask(instruction: str, model: str | None = None, **options: Any) -> Response:
    """One turn with no history: ``ask("What is the capital of France?")``."""
    chat_keys = {"system_prompt", "context", "iinput", "text_context_list", "chat_conversation"}
    chat_options = {k: options.pop(k) for k in list(options) if k in chat_keys}
    on_text = options.pop("on_text", None)
    return Chat(model, **chat_options).send(instruction, on_text=on_text, **options)
