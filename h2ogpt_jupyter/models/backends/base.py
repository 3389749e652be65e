"""The one seam every engine sits behind.

A backend turns a prompt (or, for chat servers, a list of messages) into a stream of text
deltas and honours a cancel event between tokens. Everything above it — stop strings,
``max_time``, timing, chat history, prompt formats — lives once in the layers above, so a new
engine only has to load a model, count tokens and stream.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from h2ogpt_jupyter.errors import InvalidOptionError
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.options import LOAD

Messages = list[dict[str, str]]
ChatTemplate = Callable[[Messages], str]


@dataclass
class LoadOptions:
    """How to load a model, with h2oGPT's option names."""

    backend: str = LOAD["backend"].default
    load_8bit: bool = LOAD["load_8bit"].default
    load_4bit: bool = LOAD["load_4bit"].default
    dtype: str = LOAD["dtype"].default
    device: str = LOAD["device"].default
    use_gpu_id: int | None = LOAD["use_gpu_id"].default
    lora_weights: str = LOAD["lora_weights"].default
    prompt_type: str = LOAD["prompt_type"].default
    prompt_dict: dict[str, Any] | str | None = LOAD["prompt_dict"].default
    system_prompt: str = LOAD["system_prompt"].default
    chat_template: str = LOAD["chat_template"].default
    max_seq_len: int | None = LOAD["max_seq_len"].default
    rope_scaling: dict[str, Any] | None = LOAD["rope_scaling"].default
    trust_remote_code: bool = LOAD["trust_remote_code"].default
    base_model: str = LOAD["base_model"].default
    inference_server: str = LOAD["inference_server"].default
    api_key: str = LOAD["api_key"].default
    n_threads: int | None = LOAD["n_threads"].default
    n_parallel: int | None = LOAD["n_parallel"].default
    flash_attn: bool = LOAD["flash_attn"].default
    allow_download: bool = LOAD["allow_download"].default

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, LOAD[f.name].parse(getattr(self, f.name)))
        if self.load_8bit and self.load_4bit:
            raise InvalidOptionError("choose one of load_8bit and load_4bit, not both")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @property
    def quantization(self) -> str:
        return "8bit" if self.load_8bit else "4bit" if self.load_4bit else ""


@dataclass
class ModelSpec:
    """A model name resolved to something loadable on this machine."""

    name: str  # what the user typed
    kind: str  # "gguf", "hf" or "server"
    location: str  # path, HF id or base URL
    gguf_file: str = ""  # GGUF file name inside ``location`` when kind == "gguf"
    hf_name: str = ""  # the upstream HF id, for prompt-type auto-selection
    api: str = "chat"  # for servers: "chat" or "completions"
    server_model: str = ""  # the model name the server knows
    api_key: str = ""


@dataclass
class BackendRequest:
    prompt: str
    params: GenerationParams
    messages: Messages | None = None
    seed: int = 1
    stop: list[str] = field(default_factory=list)


@dataclass
class StreamEvent:
    """A text delta; the last event of a stream also carries the finish reason and usage."""

    text: str = ""
    tokens: int = 0
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Backend(ABC):
    """An engine holding one loaded model."""

    name: ClassVar[str]
    #: chat servers take role/content messages; local engines take a rendered prompt
    accepts_messages: ClassVar[bool] = False
    #: True when ``stream`` may run in several threads at once; otherwise callers hold ``lock``
    #: for a whole stream. An engine may still serialize some requests itself (under ``lock``).
    concurrent: bool = False

    def __init__(self, spec: ModelSpec, options: LoadOptions) -> None:
        self.spec = spec
        self.options = options
        self.context_length: int = 2048
        self.dtype: str = ""
        self.device: str = "cpu"
        self.lock = threading.Lock()

    @abstractmethod
    def stream(self, request: BackendRequest, cancel: threading.Event) -> Iterator[StreamEvent]:
        """Yield text deltas until done or ``cancel`` is set (checked between tokens)."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's vocabulary (no BOS added)."""

    def chat_template(self) -> ChatTemplate | None:
        """A renderer for the model's own chat template, or None when it has none."""
        return None

    def memory_bytes(self) -> int:
        """Bytes of weights this backend holds in this process (0 for remote models)."""
        return 0

    def close(self) -> None:  # noqa: B027 - most engines need nothing beyond dropping refs
        """Release the model; the manager collects garbage afterwards."""

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "dtype": self.dtype,
            "device": self.device,
            "quantization": self.options.quantization,
            "context_length": self.context_length,
            "memory_bytes": self.memory_bytes(),
        }
