"""llama.cpp through llama-cpp-python: the fast path for GGUF files on CPU (3–6× transformers)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import Llama, LogitsProcessorList
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from ..errors import InvalidOptionError
from ._base import (
    Backend,
    BackendRequest,
    ChatTemplate,
    LoadOptions,
    Messages,
    ModelSpec,
    StreamEvent,
)

# llama.cpp sizes its KV cache for the whole window up front; cap the default so a 128k-context
# model does not reserve gigabytes nobody asked for. ``max_seq_len`` lifts it.
_DEFAULT_MAX_CTX = 8192


class _TokenCounter:
    """Counts sampled tokens exactly, and keeps EOS away until ``min_new_tokens`` is reached."""

    def __init__(self, end_tokens: list[int], min_new_tokens: int) -> None:
        self.count = 0
        self.end_tokens = end_tokens
        self.min_new_tokens = min_new_tokens

    def __call__(self, input_ids: Any, scores: np.ndarray) -> np.ndarray:
        if self.count < self.min_new_tokens:
            scores[self.end_tokens] = -np.inf
        self.count += 1
        return scores


class LlamaCppBackend(Backend):
    name = "llamacpp"

    def __init__(self, spec: ModelSpec, options: LoadOptions) -> None:
        super().__init__(spec, options)
        if spec.kind != "gguf":
            raise InvalidOptionError(f"llamacpp loads .gguf files only, not '{spec.name}'")
        if options.device.startswith("cuda") or options.use_gpu_id is not None:
            gpu_layers = -1
        else:
            gpu_layers = 0
        path = Path(spec.location) / spec.gguf_file
        probe_ctx = options.max_seq_len or _DEFAULT_MAX_CTX
        threads = options.n_threads or max(1, os.cpu_count() or 1)
        self.llm: Any = Llama(
            model_path=str(path),
            n_ctx=int(probe_ctx),
            n_threads=threads,
            n_gpu_layers=gpu_layers,
            verbose=False,
        )
        trained = int(self.llm.metadata.get(f"{self._arch()}.context_length", 0) or 0)
        self.context_length = int(options.max_seq_len or min(trained or probe_ctx, probe_ctx))
        self.dtype = _file_type(self.llm.metadata.get("general.file_type"))
        self.device = "cuda" if gpu_layers else "cpu"
        self._size = path.stat().st_size
        template = options.chat_template or self.llm.metadata.get("tokenizer.chat_template", "")
        self._template = template
        self._eog: list[int] | None = None

    def _arch(self) -> str:
        return str(self.llm.metadata.get("general.architecture", "llama"))

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def _end_tokens(self) -> list[int]:
        """Every end-of-generation token, not just EOS: llama.cpp stops on any of them (ChatML
        models such as SmolLM2 end on ``<|im_end|>`` or ``<|endoftext|>``), so all must be held
        back for ``min_new_tokens`` to hold."""
        if self._eog is None:
            try:  # llama-cpp-python keeps the vocab handle on a private attribute
                vocab = self.llm._model.vocab
                eog = llama_cpp.llama_vocab_is_eog
                found = [t for t in range(self.llm.n_vocab()) if eog(vocab, t)]
            except AttributeError:  # another version: EOS alone is still right for most models
                found = []
            self._eog = found or [self.llm.token_eos()]
        return self._eog

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def chat_template(self) -> ChatTemplate | None:
        if not self._template:
            return None
        formatter = Jinja2ChatFormatter(
            template=self._template,
            eos_token=self._token_text(self.llm.token_eos()),
            bos_token=self._token_text(self.llm.token_bos()),
            add_generation_prompt=True,
        )

        def render(messages: Messages) -> str:
            return str(formatter(messages=messages).prompt)  # type: ignore[arg-type]

        return render

    def memory_bytes(self) -> int:
        return self._size

    def stream(self, request: BackendRequest, cancel: threading.Event) -> Iterator[StreamEvent]:
        p = request.params
        if p.num_beams > 1:
            raise InvalidOptionError("num_beams > 1 needs backend 'transformers'")
        prompt_tokens = len(self.llm.tokenize(request.prompt.encode("utf-8"), special=True))
        counter = _TokenCounter(self._end_tokens() if p.min_new_tokens else [], p.min_new_tokens)
        sampling = (
            {"temperature": p.temperature or 1.0, "top_p": p.top_p, "top_k": p.sampling_top_k}
            if p.do_sample
            else {"temperature": 0.0, "top_p": 1.0, "top_k": 1}
        )
        chunks = self.llm.create_completion(
            request.prompt,
            max_tokens=p.max_new_tokens,
            min_p=0.0,
            repeat_penalty=p.repetition_penalty,
            seed=request.seed,
            stop=list(request.stop),
            stream=True,
            logits_processor=LogitsProcessorList([counter]),
            **sampling,
        )
        reason = "stop"
        with contextlib.closing(chunks):  # type: ignore[arg-type]
            try:
                for chunk in chunks:
                    choice = chunk["choices"][0]  # type: ignore[index]
                    if choice["text"]:
                        yield StreamEvent(text=choice["text"])
                    if choice.get("finish_reason"):
                        reason = choice["finish_reason"]
                    if cancel.is_set():
                        reason = "cancelled"
                        break
            except KeyboardInterrupt:  # the engine runs in this thread: it has already stopped
                cancel.set()
                reason = "cancelled"
        yield StreamEvent(
            finish_reason=reason, prompt_tokens=prompt_tokens, completion_tokens=counter.count
        )

    def close(self) -> None:
        llm, self.llm = self.llm, None
        if llm is not None:
            llm.close()


# llama.cpp's LLAMA_FTYPE numbers for the common GGUF encodings.
_FILE_TYPES = {
    "0": "f32",
    "1": "f16",
    "2": "q4_0",
    "3": "q4_1",
    "7": "q8_0",
    "8": "q5_0",
    "9": "q5_1",
    "10": "q2_k",
    "11": "q3_k_s",
    "12": "q3_k_m",
    "13": "q3_k_l",
    "14": "q4_k_s",
    "15": "q4_k_m",
    "16": "q5_k_s",
    "17": "q5_k_m",
    "18": "q6_k",
    "32": "bf16",
}


def _file_type(value: Any) -> str:
    return _FILE_TYPES.get(str(value), f"gguf-type-{value}" if value is not None else "gguf")
