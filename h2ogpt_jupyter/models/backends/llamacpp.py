"""llama.cpp through llama-cpp-python: the fast path for GGUF files on CPU (3–6× transformers).

Concurrent generations: llama-cpp-python's ``Llama`` runs one generation at a time, so the
backend keeps a small pool of ``Llama`` contexts over the same memory-mapped weights (the
weights are shared; each context adds its own KV cache) — ``n_parallel`` load option, default
2 on machines with two or more cores, 1 otherwise. All contexts are made at load, on the
loading thread: llama-cpp-python silences a context's creation by swapping the process's
``sys.stdout``/``stderr``, which made on a worker thread would swallow what a notebook cell
prints meanwhile. The threads are shared out: a generation running
alone uses all of them, and while ``k`` run at once each uses ``n_threads // k`` (adjusted
between tokens by each generation's own thread). On two cores two single-threaded contexts
produce ~1.6× the tokens/s of one two-threaded context (bench/RESULTS.md). Generations beyond
``n_parallel`` wait for a free context.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import Llama, LogitsProcessorList
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from h2ogpt_jupyter.errors import InvalidOptionError

from .base import (
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
    """Counts sampled tokens exactly, and keeps EOS away until ``min_new_tokens`` is reached;
    ``on_token`` runs once per token in the generating thread."""

    def __init__(
        self,
        end_tokens: list[int],
        min_new_tokens: int,
        on_token: Callable[[], None] | None = None,
    ) -> None:
        self.count = 0
        self.end_tokens = end_tokens
        self.min_new_tokens = min_new_tokens
        self.on_token = on_token

    def __call__(self, input_ids: Any, scores: np.ndarray) -> np.ndarray:
        if self.count < self.min_new_tokens:
            scores[self.end_tokens] = -np.inf
        self.count += 1
        if self.on_token is not None:
            self.on_token()
        return scores


class _Slot:
    """One ``Llama`` context of the pool and the thread count it currently runs with."""

    def __init__(self, llm: Any, threads: int) -> None:
        self.llm = llm
        self.threads = threads

    def use_threads(self, threads: int) -> None:
        if threads == self.threads:
            return
        try:  # llama-cpp-python keeps the context handle on a private attribute
            llama_cpp.llama_set_n_threads(self.llm._ctx.ctx, threads, threads)
        except AttributeError:  # another version: keep the count it was made with
            return
        self.threads = threads


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
        self._llama_args: dict[str, Any] = {
            "model_path": str(path),
            "n_ctx": int(probe_ctx),
            "n_threads": threads,
            "n_gpu_layers": gpu_layers,
            # llama.cpp's own default: on two AVX2 cores a stream of SmolLM2 is ~1.13x faster
            "flash_attn": options.flash_attn,
            "verbose": False,
        }
        self.llm: Any = Llama(**self._llama_args)
        self.threads = threads
        self.n_parallel = options.n_parallel or (2 if (os.cpu_count() or 1) >= 2 else 1)
        self.concurrent = self.n_parallel > 1
        self._pool = threading.Condition()
        self._free = [_Slot(self.llm, threads)]
        self._free += [
            _Slot(Llama(**self._llama_args), threads) for _ in range(self.n_parallel - 1)
        ]
        self._slots = list(self._free)
        self._busy = 0
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
        text: bytes = self.llm.detokenize([token], special=True)
        return text.decode("utf-8", errors="ignore")

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

    # --- the pool of contexts ---------------------------------------------------------------
    def _acquire(self, cancel: threading.Event) -> _Slot | None:
        """A free context; None if cancelled while waiting for one."""
        with self._pool:
            while not self._free:
                if cancel.is_set():
                    return None
                self._pool.wait(timeout=0.05)
            self._busy += 1
            return self._free.pop()

    def _release(self, slot: _Slot) -> None:
        with self._pool:
            self._free.append(slot)
            self._busy -= 1
            self._pool.notify()

    def _fit_threads(self, slot: _Slot) -> None:
        """Share the threads among the generations running now (called between tokens)."""
        slot.use_threads(max(1, self.threads // max(1, self._busy)))

    def stream(self, request: BackendRequest, cancel: threading.Event) -> Iterator[StreamEvent]:
        p = request.params
        if p.num_beams > 1:
            raise InvalidOptionError("num_beams > 1 needs backend 'transformers'")
        prompt_tokens = len(self.llm.tokenize(request.prompt.encode("utf-8"), special=True))
        if not self.concurrent:  # Generation holds the lock: the one context is ours
            yield from self._stream_on(self._slots[0], request, prompt_tokens, cancel, None)
            return
        slot = self._acquire(cancel)
        if slot is None:
            yield StreamEvent(finish_reason="cancelled", prompt_tokens=prompt_tokens)
            return
        try:
            self._fit_threads(slot)
            fit = lambda: self._fit_threads(slot)  # noqa: E731
            yield from self._stream_on(slot, request, prompt_tokens, cancel, fit)
        finally:
            self._release(slot)

    def _stream_on(
        self,
        slot: _Slot,
        request: BackendRequest,
        prompt_tokens: int,
        cancel: threading.Event,
        on_token: Callable[[], None] | None,
    ) -> Iterator[StreamEvent]:
        p = request.params
        end_tokens = self._end_tokens() if p.min_new_tokens else []
        counter = _TokenCounter(end_tokens, p.min_new_tokens, on_token)
        sampling = (
            {"temperature": p.sampling_temperature, "top_p": p.top_p, "top_k": p.sampling_top_k}
            if p.do_sample
            else {"temperature": 0.0, "top_p": 1.0, "top_k": 1}
        )
        chunks = slot.llm.create_completion(
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
        with contextlib.closing(chunks):
            try:
                for chunk in chunks:
                    choice = chunk["choices"][0]
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
        with self._pool:
            slots, self._slots, self._free = self._slots, [], []
        self.llm = None
        for slot in slots:
            if slot.llm is not None:
                slot.llm.close()


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
