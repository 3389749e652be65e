"""Chat state: a conversation with one model that remembers, undoes and regenerates.

A :class:`Chat` is plain data (history, system prompt, h2oGPT's context fields, default
generation parameters, the document collection it answers from) plus the verbs that change
it. The model is looked up in the kernel's manager at each turn, so a chat survives a model
reload and can be saved as JSON and reopened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.models import stop_strings
from h2ogpt_jupyter.models.backends import BackendRequest
from h2ogpt_jupyter.models.generation import Generation
from h2ogpt_jupyter.models.manager import LoadedModel, ModelManager, get_manager
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.models.response import Response

from . import retrieval, turns
from .retrieval import DocQuery
from .turns import History, TurnInput

FORMAT_VERSION = 1


DOC_OPTIONS = {f.name for f in dataclasses.fields(DocQuery)}
QUERY_TEXTS = {"pre_prompt_query", "prompt_query"}


class Chat:
    """A conversation; with ``collection=`` it answers from documents and cites them.

    Document options use h2oGPT's names: ``collection`` (its ``langchain_mode``: a
    collection, or ``LLM``/``ChatLLM`` for none), ``document_subset``, ``document_choice``,
    ``top_k_docs`` (-1 fills the context), ``cut_distance``, ``docs_ordering_type``,
    ``pre_prompt_query`` and ``prompt_query``. Any of them, like any generation parameter,
    can also be given to a single :meth:`send`.
    """

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
        pre_prompt_query: str | None = None,
        prompt_query: str | None = None,
        **documents: Any,
    ) -> None:
        unknown = set(documents) - DOC_OPTIONS
        if unknown:
            raise InvalidOptionError(f"unknown chat option '{sorted(unknown)[0]}'")
        self.model = model
        self.system_prompt = system_prompt
        self.context = context
        self.iinput = iinput
        self.history: History = [tuple(t) for t in (chat_conversation or [])]  # type: ignore[misc]
        self.text_context_list = list(text_context_list or [])
        self.params = _params(params)
        self.name = name
        self.pre_prompt_query = pre_prompt_query
        self.prompt_query = prompt_query
        self.documents = DocQuery(**documents)
        self.responses: list[Response] = []
        self._manager = manager

    # --- model and prompt ------------------------------------------------------------------
    @property
    def manager(self) -> ModelManager:
        return self._manager or get_manager()

    def loaded_model(self) -> LoadedModel:
        return self.manager.get(self.model)

    def _turn(
        self, instruction: str, history: History | None = None, texts: dict[str, Any] | None = None
    ) -> TurnInput:
        texts = texts or {}
        return TurnInput(
            instruction=instruction,
            history=list(self.history if history is None else history),
            system_prompt=self.system_prompt,
            context=self.context,
            iinput=self.iinput,
            text_context_list=self.text_context_list,
            pre_prompt_query=_configured(texts, "pre_prompt_query", self.pre_prompt_query),
            prompt_query=_configured(texts, "prompt_query", self.prompt_query),
        )

    def prompt(self, instruction: str, **options: Any) -> str:
        """The exact text the model would receive for ``instruction`` now (documents
        included)."""
        plan = self._plan(instruction, self.history, options)
        if plan.built is None:
            raise H2OGPTError(f"{plan.docs.document_subset} answers without a model or prompt")
        return plan.built.prompt

    def count_tokens(self) -> int:
        """Tokens the conversation so far takes in the model's prompt format."""
        model = self.loaded_model()
        return turns.build(model, self._turn(""), 1).prompt_tokens

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
        # as the first turn resolved it; answers from sources alone have no such parameter
        wanted = int(response.params.get("num_return_sequences", 1))
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

    def _plan(self, instruction: str, history: History, options: dict[str, Any]) -> _Plan:
        """Split a turn's options, retrieve its documents and build its prompt."""
        options = dict(options)
        doc_options = {k: options.pop(k) for k in list(options) if k in DOC_OPTIONS}
        texts = {k: options.pop(k) for k in list(options) if k in QUERY_TEXTS}
        docs = dataclasses.replace(self.documents, **doc_options) if doc_options else self.documents
        params = GenerationParams.from_options(self.params, **options)
        if docs.one_turn:
            history = []
        if docs.sources_only:
            return _Plan(docs, params, None, None, docs.retrieve(instruction))
        model = self.loaded_model()  # before retrieval: a missing model fails fast
        hits = docs.retrieve(instruction)
        turn = self._turn(instruction, history, texts)
        if hits:
            built, hits = retrieval.fit(
                model,
                turn,
                hits,
                params.max_new_tokens,
                params.max_input_tokens,
                docs.docs_ordering_type,
            )
        else:
            built = turns.build(model, turn, params.max_new_tokens, params.max_input_tokens)
        if built.max_new_tokens != params.max_new_tokens:
            params = dataclasses.replace(params, max_new_tokens=built.max_new_tokens)
        return _Plan(docs, params, model, built, hits)

    def _start(
        self,
        instruction: str,
        history: History,
        options: dict[str, Any],
        *,
        record: bool,
        replace: bool = False,
    ) -> Generation:
        plan = self._plan(instruction, history, options)
        params, hits = plan.params, plan.hits
        if plan.built is None or plan.model is None:  # sources only: no model, no history
            return Generation.fixed(
                retrieval.sources_text(hits),
                on_done=lambda response: response.sources.extend(hits),
                extra={"document_subset": plan.docs.document_subset},
            )
        model, built = plan.model, plan.built
        request = BackendRequest(
            prompt=built.prompt,
            params=params,
            messages=built.messages,
            seed=params.effective_seed(),
            stop=stop_strings.merge(built.stop, params.stop),
        )

        def done(response: Response) -> None:
            response.sources = list(hits)
            if not record:
                return
            if replace and self.history:  # regenerate: the new answer takes the old one's place
                self.history.pop()
                if len(self.responses) > len(self.history):
                    self.responses.pop()
            self.history.append((instruction, response.text))
            self.responses.append(response)

        extra: dict[str, Any] = {"prompt_type": model.prompt_type, "turns_used": built.turns_used}
        if plan.docs.active:
            extra.update(collection=plan.docs.name, documents_used=len(hits))
        return Generation(
            model.backend,
            request,
            model=model.alias,
            finalize=lambda text: turns.finalize(model, text),
            on_done=done,
            extra=extra,
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
            "pre_prompt_query": self.pre_prompt_query,
            "prompt_query": self.prompt_query,
            "documents": self.documents.to_dict(),
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
            pre_prompt_query=data.get("pre_prompt_query"),
            prompt_query=data.get("prompt_query"),
            **{k: v for k, v in (data.get("documents") or {}).items() if k in DOC_OPTIONS},
        )

    def __repr__(self) -> str:
        return f"Chat(model={self.model!r}, turns={len(self.history)}, name={self.name!r})"


@dataclasses.dataclass
class _Plan:
    docs: DocQuery
    params: GenerationParams
    model: LoadedModel | None
    built: turns.BuiltPrompt | None
    hits: list[Any]


def _configured(given: dict[str, Any], name: str, own: str | None) -> str | None:
    """A query sentence: this turn's, else the chat's, else ``c.H2OGPT.<name>``, else None
    (h2oGPT's own)."""
    value = given.get(name, own)
    if value is None:
        from h2ogpt_jupyter.config import settings

        value = getattr(settings(), name)
    return None if value is None else str(value)


def _params(params: GenerationParams | dict[str, Any] | None) -> GenerationParams:
    if params is None:
        return GenerationParams()
    if isinstance(params, GenerationParams):
        return params
    return GenerationParams.from_options(**params)


def ask(instruction: str, model: str | None = None, **options: Any) -> Response:
    """One turn with no history: ``ask("What is the capital of France?")``.

    ``ask(question, collection="UserData")`` answers from a document collection; the
    response's ``sources`` are the chunks it was given, best first. Other document options
    as for :class:`Chat`.
    """
    chat_keys = {"system_prompt", "context", "iinput", "text_context_list", "chat_conversation"}
    chat_options = {k: options.pop(k) for k in list(options) if k in chat_keys}
    on_text = options.pop("on_text", None)
    return Chat(model, **chat_options).send(instruction, on_text=on_text, **options)
