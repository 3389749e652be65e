"""Hugging Face transformers: HF directories and ids, GGUF files (via a converted copy),
8/4-bit bitsandbytes, LoRA adapters, RoPE scaling.

Generations run concurrently: requests in flight together share forward passes in
transformers' continuous-batching loop (:mod:`.streaming`, :mod:`.batching`). Requests the
loop cannot serve (see :meth:`TransformersBackend.serial_reason`) run ``generate`` one at a
time under ``lock``.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from h2ogpt_jupyter.config import go_offline, loading_weights

go_offline()

import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    StoppingCriteriaList,
)

from h2ogpt_jupyter.errors import BackendUnavailableError, InvalidOptionError  # noqa: E402
from h2ogpt_jupyter.models.backends.base import (  # noqa: E402
    Backend,
    BackendRequest,
    ChatTemplate,
    LoadOptions,
    Messages,
    ModelSpec,
    StreamEvent,
)

from . import gguf_cache  # noqa: E402
from .cpu_linear import use_rows_first  # noqa: E402
from .loading import (  # noqa: E402
    apply_rope_scaling,
    lora_dir,
    quiet_progress,
    return_freed_memory,
    rope_factor,
    with_lora,
)
from .streaming import Streams, TokenStreamer, Until, generate_in_thread  # noqa: E402

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def cpu_has_bf16() -> bool:
    """bf16 is faster only where the CPU computes it natively (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class TransformersBackend(Backend):
    name = "transformers"
    concurrent = True

    def __init__(self, spec: ModelSpec, options: LoadOptions) -> None:
        super().__init__(spec, options)
        go_offline(options.allow_download)
        # Checked before the weights load, so a typo costs milliseconds, not a model load.
        lora = lora_dir(options.lora_weights) if options.lora_weights else None
        self.device = self._device()
        dtype = self._dtype()
        self.dtype = str(dtype).removeprefix("torch.")
        with loading_weights():  # never beside another load: see loading_weights
            source = self._source(spec, dtype)
            local_only = not options.allow_download
            common: dict[str, Any] = {
                "trust_remote_code": options.trust_remote_code,
                "local_files_only": local_only,
            }
            # Typed loosely: transformers' stubs cannot say which model class a name gives.
            self.tokenizer: Any = AutoTokenizer.from_pretrained(source, **common)
            if options.chat_template:
                self.tokenizer.chat_template = options.chat_template
            config = AutoConfig.from_pretrained(source, **common)
            if options.rope_scaling:
                apply_rope_scaling(config, options.rope_scaling)
            kwargs: dict[str, Any] = {"config": config, "dtype": dtype, **common}
            quantization = self._bnb_config(dtype)
            if quantization is not None:
                kwargs["quantization_config"] = quantization
            if self.device != "cpu":
                kwargs["device_map"] = {"": self.device}
            with quiet_progress():
                self.model: Any = AutoModelForCausalLM.from_pretrained(source, **kwargs)
            if lora is not None:
                self.model = with_lora(self.model, lora)
            self.model.eval()
            use_rows_first(self.model)  # batches of a few rows, fast on a CPU (see the module)
        self.context_length = self._context_length(config)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._streams: Streams | None = None
        self._streams_lock = threading.Lock()

    # --- loading -------------------------------------------------------------------------
    def _device(self) -> str:
        opts = self.options
        if opts.use_gpu_id is not None:
            if not torch.cuda.is_available():
                raise InvalidOptionError(f"use_gpu_id={opts.use_gpu_id} but no GPU is available")
            return f"cuda:{int(opts.use_gpu_id)}"
        if opts.device == "auto":
            return "cuda:0" if torch.cuda.is_available() else "cpu"
        if opts.device.startswith("cuda") and not torch.cuda.is_available():
            raise InvalidOptionError(f"device={opts.device} but no GPU is available")
        return opts.device

    def _dtype(self) -> torch.dtype:
        if self.options.dtype != "auto":
            return _DTYPES[self.options.dtype]
        if self.device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if cpu_has_bf16() else torch.float32

    def _source(self, spec: ModelSpec, dtype: torch.dtype) -> str:
        if spec.kind != "gguf":
            return spec.location
        gguf = Path(spec.location) / spec.gguf_file
        target = gguf_cache.converted_dir(gguf)
        if not gguf_cache.is_converted(target):
            gguf_cache.convert(gguf, target, dtype)
        return str(target)

    def _bnb_config(self, dtype: torch.dtype) -> Any:
        if not self.options.quantization:
            return None
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig
        except ImportError:
            raise BackendUnavailableError(
                "load_8bit/load_4bit need the 'bitsandbytes' package"
            ) from None
        # bitsandbytes logs a warning for every 8-bit matmul on CPU.
        logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
        if self.options.load_8bit:
            return BitsAndBytesConfig(load_in_8bit=True)
        return BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype
        )

    def _context_length(self, config: Any) -> int:
        limits = [
            getattr(config, "max_position_embeddings", None),
            self.tokenizer.model_max_length if self.tokenizer.model_max_length < 10**7 else None,
            self.options.max_seq_len,
        ]
        factor = rope_factor(self.options.rope_scaling)
        if factor and limits[0]:
            limits[0] = int(limits[0] * factor)
        found = [int(x) for x in limits if x]
        if self.options.max_seq_len:
            return int(self.options.max_seq_len)
        return min(found) if found else 2048

    # --- the seam ------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def chat_template(self) -> ChatTemplate | None:
        if not getattr(self.tokenizer, "chat_template", None):
            return None

        def render(messages: Messages) -> str:
            out = self.tokenizer.apply_chat_template(
                messages, tokenize=False, add_generation_prompt=True
            )
            return str(out)

        return render

    def memory_bytes(self) -> int:
        return int(self.model.get_memory_footprint())

    def generate_kwargs(self, request: BackendRequest) -> dict[str, Any]:
        p = request.params
        kwargs: dict[str, Any] = {
            "max_new_tokens": p.max_new_tokens,
            "min_new_tokens": p.min_new_tokens,
            "num_beams": p.num_beams,
            "repetition_penalty": p.repetition_penalty,
            "early_stopping": p.early_stopping,
            "max_time": p.max_time or None,
            "do_sample": p.do_sample,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if p.do_sample:
            kwargs.update(temperature=p.sampling_temperature, top_p=p.top_p, top_k=p.sampling_top_k)
        else:  # keep transformers from warning about sampling knobs it will not use
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    # --- concurrent generation -------------------------------------------------------------
    def serial_reason(self, request: BackendRequest, prompt_tokens: int) -> str:
        """Why ``request`` cannot be batched ("" when it can)."""
        if not self.concurrent:
            return "batching is off for this model"
        if request.params.num_beams > 1:
            return "beam search"
        if not self.streams().engine.fits(prompt_tokens, request.params.max_new_tokens):
            return "prompt plus max_new_tokens exceed the batching cache"
        return ""

    def streams(self) -> Streams:
        """The router for batchable requests, with the model's batching loop (made once)."""
        with self._streams_lock:
            if self._streams is None:
                self._streams = Streams(self)
            return self._streams

    def eos_ids(self) -> list[int]:
        """The end tokens ``generate`` stops on for this model."""
        for source in (self.model.generation_config, self.model.config, self.tokenizer):
            eos = getattr(source, "eos_token_id", None)
            if eos is not None:
                return [int(t) for t in (eos if isinstance(eos, list) else [eos])]
        return []

    def prompt_ids(self, prompt: str) -> list[int]:
        """The prompt's tokens. Text the tokenizer drops entirely (a lone control character
        sent to /v1/completions) starts from the model's first token, as ``generate`` does
        when given no input; a model with neither a start nor an end token refuses it."""
        ids = [int(i) for i in self.tokenizer(prompt, add_special_tokens=False)["input_ids"]]
        if ids:
            return ids
        start = getattr(self.model.generation_config, "bos_token_id", None)
        if start is None:
            start = next(iter(self.eos_ids()), None)
        if start is None:
            raise InvalidOptionError("the prompt has no tokens once tokenized")
        return [int(start)]

    def stream(self, request: BackendRequest, cancel: threading.Event) -> Iterator[StreamEvent]:
        ids = self.prompt_ids(request.prompt)
        if not self.serial_reason(request, len(ids)):
            yield from self.streams().stream(request, ids, cancel)
        elif self.concurrent:  # Generation did not take the lock for us
            with self.lock:
                yield from self._stream_serial(request, ids, cancel)
        else:
            yield from self._stream_serial(request, ids, cancel)

    # --- one at a time: generate() in a worker thread --------------------------------------
    def _stream_serial(
        self, request: BackendRequest, ids: list[int], cancel: threading.Event
    ) -> Iterator[StreamEvent]:
        input_ids = torch.tensor([ids], dtype=torch.long, device=self.model.device)
        inputs = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
        prompt_tokens = len(ids)
        kwargs = self.generate_kwargs(request)
        kwargs["stopping_criteria"] = StoppingCriteriaList([Until(cancel)])
        torch.manual_seed(request.seed)
        if request.params.num_beams > 1:  # beam search cannot stream in transformers
            with torch.inference_mode():
                out = self.model.generate(**inputs, **kwargs)
            new = out[0, prompt_tokens:]
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            yield StreamEvent(text=text)
            yield self.final(len(new), prompt_tokens, request, cancel)
            return
        streamer = TokenStreamer(self.tokenizer)
        out = yield from generate_in_thread(self.model, {**inputs, **kwargs}, streamer, cancel)
        completion = int(out.shape[1]) - prompt_tokens
        yield self.final(completion, prompt_tokens, request, cancel)

    def final(
        self, completion: int, prompt_tokens: int, request: BackendRequest, cancel: threading.Event
    ) -> StreamEvent:
        if cancel.is_set():
            reason = "cancelled"
        elif completion >= request.params.max_new_tokens:
            reason = "length"
        else:
            reason = "stop"
        return StreamEvent(
            finish_reason=reason, prompt_tokens=prompt_tokens, completion_tokens=completion
        )

    def close(self) -> None:
        if self._streams is not None:
            self._streams.close()
            self._streams = None
        self.model = None
        self.tokenizer = None
        gc.collect()  # modules and hooks hold reference cycles; the weights go only with them
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return_freed_memory()
