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

Messages = list[dict[str, str]]
ChatTemplate = Callable[[Messages], str]

DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class LoadOptions:
    """How to load a model, with h2oGPT's option names."""

    backend: str = "auto"
    load_8bit: bool = False
    load_4bit: bool = False
    dtype: str = "auto"
    device: str = "auto"
    use_gpu_id: int | None = None
    lora_weights: str = ""
    prompt_type: str = ""
    prompt_dict: dict[str, Any] | None = None
    system_prompt: str = "auto"
    chat_template: str = ""
    max_seq_len: int | None = None
    rope_scaling: dict[str, Any] | None = None
    trust_remote_code: bool = False
    base_model: str = ""
    inference_server: str = ""
    api_key: str = ""
    n_threads: int | None = None
    n_parallel: int | None = None
    flash_attn: bool = True  # llama.cpp: its flash attention (~1.13x a CPU stream)
    allow_download: bool = False

    def __post_init__(self) -> None:
        for name in ("load_8bit", "load_4bit", "trust_remote_code", "flash_attn", "allow_download"):
            setattr(self, name, _as_bool(name, getattr(self, name)))
        for name in ("max_seq_len", "n_threads", "n_parallel", "use_gpu_id"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, _as_int(name, value))
        for name in (
            "backend",
            "dtype",
            "device",
            "lora_weights",
            "prompt_type",
            "chat_template",
            "base_model",
            "inference_server",
            "api_key",
        ):
            if not isinstance(getattr(self, name), str):
                raise InvalidOptionError(f"{name} must be text, not {getattr(self, name)!r}")
        if self.load_8bit and self.load_4bit:
            raise InvalidOptionError("choose one of load_8bit and load_4bit, not both")
        if self.dtype not in DTYPES:
            raise InvalidOptionError(
                f"dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}"
            )
        if self.n_parallel is not None and self.n_parallel < 1:
            raise InvalidOptionError(f"n_parallel must be at least 1, not {self.n_parallel}")
        if self.max_seq_len is not None and int(self.max_seq_len) < 16:
            raise InvalidOptionError(f"max_seq_len must be at least 16, not {self.max_seq_len}")
        if self.rope_scaling is not None and not isinstance(self.rope_scaling, dict):
            raise InvalidOptionError(
                'rope_scaling must be a dict such as {"type": "linear", "factor": 2.0}'
            )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @property
    def quantization(self) -> str:
        return "8bit" if self.load_8bit else "4bit" if self.load_4bit else ""


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise InvalidOptionError(f"{name} must be true or false, not {value!r}")


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise InvalidOptionError(f"{name} must be a whole number, not {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidOptionError(f"{name} must be a whole number, not {value!r}") from None


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
