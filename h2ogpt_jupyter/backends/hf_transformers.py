"""Hugging Face transformers: HF directories and ids, GGUF files (via a converted copy),
8/4-bit bitsandbytes, LoRA adapters, RoPE scaling."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._offline import go_offline

go_offline()

import torch  # noqa: E402
from transformers import (  # noqa: E402
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
)

from ..errors import BackendUnavailableError, InvalidOptionError  # noqa: E402
from . import _gguf_cache  # noqa: E402
from ._base import (  # noqa: E402
    Backend,
    BackendRequest,
    ChatTemplate,
    LoadOptions,
    Messages,
    ModelSpec,
    StreamEvent,
)

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def cpu_has_bf16() -> bool:
    """bf16 is faster only where the CPU computes it natively (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class _Cancelled(StoppingCriteria):
    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        return torch.full((input_ids.shape[0],), self.cancel.is_set(), dtype=torch.bool)


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, spec: ModelSpec, options: LoadOptions) -> None:
        super().__init__(spec, options)
        go_offline(options.allow_download)
        # Checked before the weights load, so a typo costs milliseconds, not a model load.
        lora = _lora_dir(options.lora_weights) if options.lora_weights else None
        self.device = self._device()
        dtype = self._dtype()
        self.dtype = str(dtype).removeprefix("torch.")
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
            _apply_rope_scaling(config, options.rope_scaling)
        kwargs: dict[str, Any] = {"config": config, "dtype": dtype, **common}
        quantization = self._bnb_config(dtype)
        if quantization is not None:
            kwargs["quantization_config"] = quantization
        if self.device != "cpu":
            kwargs["device_map"] = {"": self.device}
        with _quiet_progress():
            self.model: Any = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        if lora is not None:
            self.model = _with_lora(self.model, lora)
        self.model.eval()
        self.context_length = self._context_length(config)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

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
        target = _gguf_cache.converted_dir(gguf)
        if not _gguf_cache.is_converted(target):
            _gguf_cache.convert(gguf, target, dtype)
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
        factor = _rope_factor(self.options.rope_scaling)
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
            kwargs.update(temperature=p.temperature or 1.0, top_p=p.top_p, top_k=p.sampling_top_k)
        else:  # keep transformers from warning about sampling knobs it will not use
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    def stream(self, request: BackendRequest, cancel: threading.Event) -> Iterator[StreamEvent]:
        inputs = self.tokenizer(request.prompt, return_tensors="pt", add_special_tokens=False)
        inputs = inputs.to(self.model.device)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        kwargs = self.generate_kwargs(request)
        kwargs["stopping_criteria"] = StoppingCriteriaList([_Cancelled(cancel)])
        torch.manual_seed(request.seed)
        if request.params.num_beams > 1:  # beam search cannot stream in transformers
            with torch.inference_mode():
                out = self.model.generate(**inputs, **kwargs)
            new = out[0, prompt_tokens:]
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            yield StreamEvent(text=text)
            yield self._final(len(new), prompt_tokens, request, cancel)
            return
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=None
        )
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                with torch.inference_mode():
                    result["out"] = self.model.generate(**inputs, **kwargs, streamer=streamer)
            except BaseException as exc:  # surfaced in the caller's thread below
                result["error"] = exc
                streamer.end()

        worker = threading.Thread(target=run, name="h2ogpt-generate", daemon=True)
        worker.start()
        finished = False
        try:
            try:
                for text in streamer:
                    if text:
                        yield StreamEvent(text=text)
            except KeyboardInterrupt:  # stop the engine but keep what it already produced
                cancel.set()
                tail = "".join(streamer)
                if tail:
                    yield StreamEvent(text=tail)
            finished = True
        finally:
            if not finished:  # the consumer left early: stop the engine before returning
                cancel.set()
            worker.join()
        if "error" in result:
            raise result["error"]
        completion = int(result["out"].shape[1]) - prompt_tokens
        yield self._final(completion, prompt_tokens, request, cancel)

    def _final(
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
        self.model = None
        self.tokenizer = None
        gc.collect()  # modules and hooks hold reference cycles; the weights go only with them
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        _return_freed_memory()


@contextlib.contextmanager
def _quiet_progress() -> Iterator[None]:
    """No "Loading weights" bar in the cell for a load that takes a fraction of a second; the
    user's own setting comes back afterwards."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _return_freed_memory() -> None:
    """Hand freed heap pages back to the OS. glibc keeps the hundreds of megabytes of freed
    weight buffers in its arenas, so without this an unloaded model still shows in the
    process's memory (measured on SmolLM2 fp32: 1180 MB resident after unload, 705 MB after
    trimming, 547 MB before loading)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to trim
        pass


def _rope_factor(rope_scaling: dict[str, Any] | None) -> float:
    if not rope_scaling:
        return 0.0
    try:
        return float(rope_scaling.get("factor", 0.0))
    except (TypeError, ValueError):
        raise InvalidOptionError(f"rope_scaling factor must be a number: {rope_scaling}") from None


def _apply_rope_scaling(config: Any, rope_scaling: dict[str, Any]) -> None:
    """Map h2oGPT's ``{"type": "linear", "factor": 2}`` onto transformers' rope settings."""
    scaling = dict(rope_scaling)
    if "type" in scaling:
        scaling["rope_type"] = scaling.pop("type")
    if "rope_type" not in scaling or "factor" not in scaling:
        raise InvalidOptionError(
            'rope_scaling needs "type" and "factor", e.g. {"type": "linear", "factor": 2}'
        )
    _rope_factor(scaling)
    params = getattr(config, "rope_parameters", None)
    if isinstance(params, dict):
        config.rope_parameters = {**params, **scaling}
    else:
        config.rope_scaling = scaling


def _lora_dir(lora_weights: str) -> Path:
    """The adapter folder, or a one-line reason it is not one (peft's own error is a traceback
    about a missing ``adapter_config.json`` or, offline, a hub lookup of the path)."""
    folder = Path(lora_weights).expanduser()
    if not folder.is_dir():
        raise InvalidOptionError(f"lora_weights: no such directory: {lora_weights}")
    if not (folder / "adapter_config.json").is_file():
        raise InvalidOptionError(
            f"lora_weights: {lora_weights} is not a LoRA adapter (no adapter_config.json; "
            "save one with peft's save_pretrained)"
        )
    return folder


def _with_lora(model: Any, folder: Path) -> Any:
    try:
        from peft import PeftModel
    except ImportError:
        raise BackendUnavailableError("lora_weights needs the 'peft' package") from None
    try:
        return PeftModel.from_pretrained(model, str(folder))
    except (ValueError, RuntimeError, OSError, KeyError, TypeError) as exc:
        # e.g. an adapter trained for another model: shapes or module names do not match.
        # torch puts the useful part ("size mismatch for ...") on the second line.
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if len(reason) > 300:
            reason = reason[:299] + "…"
        raise InvalidOptionError(
            f"lora_weights: {folder} does not fit this model: {reason}"
        ) from None
