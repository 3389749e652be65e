"""Request bodies: OpenAI's fields plus h2oGPT's extras, as pydantic models.

The models give the OpenAPI schema its shapes; ranges and descriptions come from the options
tables (:mod:`h2ogpt_jupyter.options`), and the values are then checked again by
:class:`~h2ogpt_jupyter.models.params.GenerationParams` and the document options, so a request
is held to exactly the rules a notebook is. Unknown fields are refused (400), as OpenAI does:
a typo in ``top_k_docs`` must not silently answer without documents.

The schema says only what is really supported, so a client (or a schema-driven test) can
trust it: tool messages, non-text content parts and token-id prompts are not in it.
Accepted but without effect: ``presence_penalty`` and ``frequency_penalty`` (the local
engines have none; use ``repetition_penalty``), ``user``, ``metadata``, ``store``,
``service_tier``, ``parallel_tool_calls``. Accepted only when neutral: ``logit_bias`` (empty),
``logprobs`` (false/0), ``top_logprobs`` (0), ``tools`` (empty), ``tool_choice``
(none/auto), ``response_format`` (text), ``suffix`` (empty), ``best_of`` (equal to ``n``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from h2ogpt_jupyter.options import DOCUMENTS, GENERATION, Option


def _described(option: Option, note: str) -> str:
    return f"{option.help[0].upper()}{option.help[1:]}" + (f"; {note}" if note else ".")


def _range(name: str, note: str = "", *, table: dict[str, Option] = GENERATION) -> Any:
    """An optional field with ``name``'s bounds and help from its options table."""
    option = table[name]
    return Field(None, ge=option.low, le=option.high, description=_described(option, note))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = Field(False, description="Send a last chunk with the usage.")


class GenerationFields(_Body):
    """Fields shared by chat and text completions."""

    model: str | None = Field(None, description="A served alias (GET /v1/models); default first.")
    max_tokens: int | None = _range("max_new_tokens")
    max_completion_tokens: int | None = _range("max_new_tokens", "the same as max_tokens (newer)")
    max_new_tokens: int | None = _range("max_new_tokens", "h2oGPT's name for max_tokens")
    temperature: float | None = _range("temperature", "values under 0.01 count as 0.01")
    top_p: float | None = _range("top_p")
    top_k: int | None = Field(
        None,
        ge=-1,
        le=GENERATION["top_k"].high,
        description=_described(GENERATION["top_k"], "0 or vLLM's -1: no cut"),
    )
    repetition_penalty: float | None = _range("repetition_penalty")
    min_new_tokens: int | None = _range("min_new_tokens")
    max_time: float | None = _range("max_time")
    num_beams: int | None = _range("num_beams", "transformers only")
    early_stopping: bool | None = Field(
        None, description=_described(GENERATION["early_stopping"], "")
    )
    seed: int | None = _range("seed", "choice i uses seed + i")
    stop: str | list[str] | None = Field(
        None, description=_described(GENERATION["stop"], "not shown")
    )
    n: int = Field(
        1,
        ge=GENERATION["num_return_sequences"].low,
        le=GENERATION["num_return_sequences"].high,
        description="Choices to generate (one after another).",
    )
    stream: bool = False
    stream_options: StreamOptions | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2, description="Accepted, ignored.")
    frequency_penalty: float | None = Field(None, ge=-2, le=2, description="Accepted, ignored.")
    logit_bias: dict[str, float] | None = Field(None, max_length=0, description="Only empty.")
    user: str | None = Field(None, description="Accepted, ignored.")
    metadata: dict[str, Any] | None = Field(None, description="Accepted, ignored.")
    store: bool | None = Field(None, description="Accepted, ignored.")
    service_tier: str | None = Field(None, description="Accepted, ignored.")
    prompt_type: str | None = Field(
        None, description="Fixed when the model loads; accepted only if it is the model's."
    )


Text = Annotated[str, Field(min_length=1)]


class ContentPart(BaseModel):
    """A part of a message; only text can be answered by these models."""

    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    """A message; tool calling is not supported, so there are no tool or function roles."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text"]


class ChatCompletionRequest(GenerationFields):
    """``POST /v1/chat/completions``: OpenAI's chat body plus h2oGPT's documents."""

    messages: list[ChatMessage] = Field(min_length=1)
    system_prompt: str | None = Field(
        None, description="h2oGPT: used when no system message is given ('auto' = model's)."
    )
    collection: str | None = Field(None, description="h2oGPT: answer from this collection.")
    langchain_mode: str | None = Field(None, description="h2oGPT's name for collection.")
    document_subset: Literal["Relevant", "RelSources", "TopKSources"] | None = Field(
        None, description=_described(DOCUMENTS["document_subset"], "")
    )
    document_choice: str | list[str] | None = Field(
        None, description=_described(DOCUMENTS["document_choice"], "")
    )
    top_k_docs: int | None = _range("top_k_docs", table=DOCUMENTS)
    cut_distance: float | None = _range("cut_distance", table=DOCUMENTS)
    docs_ordering_type: Literal["best_near_prompt", "best_first"] | None = Field(
        None, description=_described(DOCUMENTS["docs_ordering_type"], "")
    )
    pre_prompt_query: str | None = None
    prompt_query: str | None = None
    max_input_tokens: int | None = _range("max_input_tokens")
    logprobs: Literal[False] | None = Field(None, description="Not supported: false/null.")
    top_logprobs: int | None = Field(None, ge=0, le=0, description="Not supported: 0/null.")
    tools: list[dict[str, Any]] | None = Field(None, max_length=0, description="Only empty.")
    tool_choice: Literal["none", "auto"] | None = Field(None, description="No tool calling.")
    parallel_tool_calls: bool | None = Field(None, description="Accepted, ignored.")
    response_format: ResponseFormat | None = Field(None, description="Only {'type': 'text'}.")


class CompletionRequest(GenerationFields):
    """``POST /v1/completions``: a raw prompt, no chat template or history."""

    prompt: Text | Annotated[list[Text], Field(min_length=1, max_length=64)] = Field(
        description="Text, or a list of texts (one choice per text); not token ids."
    )
    echo: bool = Field(False, description="Put the prompt in front of the answer.")
    suffix: str | None = Field(None, max_length=0, description="Not supported: empty/null.")
    best_of: int | None = Field(None, ge=1, le=10, description="Only equal to n.")
    logprobs: int | None = Field(None, ge=0, le=0, description="Not supported: 0/null.")


class EmbeddingRequest(_Body):
    """``POST /v1/embeddings`` with the documents' embedding model."""

    input: Text | Annotated[list[Text], Field(min_length=1, max_length=2048)] = Field(
        description="Text or a list of texts (at most 2048); not token ids."
    )
    model: str | None = Field(None, description="The served embedding model (optional).")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="Only the model's own size.")
    user: str | None = Field(None, description="Accepted, ignored.")
