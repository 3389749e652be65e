"""Continuous batching for the transformers backend: every request in flight on one loaded
model shares its forward passes.

transformers' continuous-batching manager runs a loop thread that packs the requests in flight
into each forward pass (one token per decoding request, prompt chunks for new ones). Its own
sampling is one setting for the whole batch — one ``do_sample``, one seed — and it has no
repetition penalty or ``min_new_tokens``. So the manager here runs greedy with a single logits
processor of ours, which picks every row's token with that request's :class:`RequestSampler`
(:func:`pick_tokens`): ``generate``'s math for the same settings (repetition penalty, minimum
length, temperature, top-k, top-p, in ``generate``'s order), then an argmax or a draw from the
request's own seeded generator. Only the chosen token is left finite, so the manager's argmax
takes it. Per-request settings and seeds therefore hold whatever else is in the batch; a lone
request running ``generate`` picks with the same code (:class:`SamplerLogits`).

The manager starts with the first request and stops after :data:`IDLE_SECONDS` without any, so
an idle model keeps neither a loop thread (whose OpenMP pool would slow every other torch
thread in the process) nor the loop's KV cache (sized for the model's whole window: ~200 MB for
SmolLM2 in bf16).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import weakref
from typing import Any

import torch
from transformers import GenerationConfig
from transformers.generation.configuration_utils import ContinuousBatchingConfig
from transformers.generation.continuous_batching.cb_logits_processors import (
    ContinuousBatchingLogitsProcessor,
    ContinuousBatchingLogitsProcessorList,
)
from transformers.generation.logits_process import (
    LogitsProcessor,
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from h2ogpt_jupyter.models.params import GenerationParams

#: the loop thread stops after this long without a request in flight
IDLE_SECONDS = 2.0
#: requests decoded together in one forward pass; more wait in the manager's queue
MAX_BATCH = 32
#: prompt tokens per forward pass (longer prompts are prefilled in chunks)
MAX_BATCH_TOKENS = 512
#: KV cache capacity in tokens: the model's whole window plus two pages, and at least this
MIN_CACHE_TOKENS = 8192
PAGE_TOKENS = 128


class RequestSampler:
    """One request's sampling settings and random stream."""

    def __init__(
        self,
        params: GenerationParams,
        seed: int,
        prompt_tokens: int,
        eos: list[int],
        device: str = "cpu",
    ) -> None:
        self.penalty = float(params.repetition_penalty)
        self.prompt_tokens = prompt_tokens
        self.min_new_tokens = params.min_new_tokens if eos else 0
        self.eos = eos
        self.sample = params.do_sample
        warpers: list[Any] = []
        if self.sample:
            temperature = params.sampling_temperature
            if temperature != 1.0:
                warpers.append(TemperatureLogitsWarper(temperature))
            if params.sampling_top_k:
                warpers.append(TopKLogitsWarper(params.sampling_top_k))
            if params.top_p < 1.0:
                warpers.append(TopPLogitsWarper(float(params.top_p)))
        self.warpers = LogitsProcessorList(warpers)
        self.seed = seed
        self.device = device
        self._generator: torch.Generator | None = None

    def draw(self, scores: torch.Tensor) -> int:
        """Sample from one row of processed scores (shape ``[1, V]``)."""
        scores = self.warpers(None, scores)  # type: ignore[arg-type]
        if self._generator is None:
            self._generator = torch.Generator(device=scores.device).manual_seed(self.seed)
        probs = torch.softmax(scores, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self._generator))


def pick_tokens(
    samplers: list[RequestSampler], histories: list[list[int]], scores: torch.Tensor
) -> list[int]:
    """The next token of every row of ``scores`` (``[R, V]``, modified in place), each by its
    own sampler given its tokens so far (prompt included).

    The math is ``generate``'s — repetition penalty, then the ban on end tokens before
    ``min_new_tokens``, then temperature, top-k, top-p and a draw — with the first two done for
    all rows at once, so a batch costs a few tensor operations, not a few per row.
    """
    vocab = scores.shape[-1]
    device = scores.device
    penalized = [i for i, s in enumerate(samplers) if s.penalty != 1.0 and histories[i]]
    if penalized:
        width = max(len(histories[i]) for i in penalized)
        index = []
        for i in penalized:
            seen = [t for t in histories[i] if t < vocab] or [0]
            index.append(seen + [seen[0]] * (width - len(seen)))  # repeats change nothing
        rows = torch.tensor(penalized, device=device)
        ids = torch.tensor(index, device=device)
        penalty = torch.tensor([samplers[i].penalty for i in penalized], device=device)[:, None]
        block = scores[rows]
        found = block.gather(1, ids)
        found = torch.where(found < 0, found * penalty, found / penalty)
        scores[rows] = block.scatter(1, ids, found)
    banned = [
        (i, t)
        for i, s in enumerate(samplers)
        if len(histories[i]) - s.prompt_tokens < s.min_new_tokens
        for t in s.eos
        if t < vocab
    ]
    if banned:
        scores[[i for i, _ in banned], [t for _, t in banned]] = float("-inf")
    tokens = scores.argmax(dim=-1).tolist()
    for i, sampler in enumerate(samplers):
        if sampler.sample:
            tokens[i] = sampler.draw(scores[i : i + 1])
    return [int(t) for t in tokens]


def _one_hot(scores: torch.Tensor, tokens: list[int]) -> None:
    """Leave only ``tokens[i]`` finite in row ``i`` (so an argmax takes it)."""
    keep = scores.new_full((len(tokens), scores.shape[-1]), float("-inf"))
    keep[list(range(len(tokens))), tokens] = 0.0
    scores[: len(tokens)] = keep


class SamplerLogits(LogitsProcessor):
    """A request's sampler inside ``generate`` (run greedy): only the chosen token stays
    finite, so a request alone picks exactly as it would in a batch."""

    def __init__(self, sampler: RequestSampler) -> None:
        self.sampler = sampler

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        scores = scores.clone()
        histories = [row.tolist() for row in input_ids]
        tokens = pick_tokens([self.sampler] * len(histories), histories, scores)
        _one_hot(scores, tokens)
        return scores


class _PerRequestSampling(ContinuousBatchingLogitsProcessor):
    """Runs each row's own sampler; rows come in the order of the requests given to
    ``prepare_tensor_args`` just before the forward pass (the manager's contract)."""

    supported_kwargs: dict[str, type] = {"sampler": str}  # noqa: RUF012 - as the base class
    ignored_kwargs: tuple[str, ...] = ()

    def __init__(self, samplers: dict[str, RequestSampler]) -> None:
        self.samplers = samplers
        self.rows: list[Any] = []

    def fill_defaults(self, int32_tensor: torch.Tensor) -> None:
        int32_tensor.fill_(0)

    def prepare_tensor_args(self, requests_with_new_token: list[Any]) -> torch.Tensor:
        self.rows = [future.state for future in requests_with_new_token]
        return torch.zeros(len(self.rows), dtype=torch.int32)

    def __call__(self, scores: torch.Tensor, tensor_arg: torch.Tensor) -> torch.Tensor:
        samplers, histories, rows = [], [], []
        for i, state in enumerate(self.rows[: scores.shape[0]]):
            sampler = self.samplers.get(state.logit_processor_kwargs.get("sampler", ""))
            if sampler is None:  # cancelled meanwhile: the manager's argmax is as good as any
                continue
            samplers.append(sampler)
            histories.append(state.initial_tokens + state.generated_tokens)
            rows.append(i)
        if not rows:
            return scores
        if len(rows) == scores.shape[0]:
            tokens = pick_tokens(samplers, histories, scores)
            _one_hot(scores, tokens)
            return scores
        block = scores[rows]
        tokens = pick_tokens(samplers, histories, block)
        _one_hot(block, tokens)
        scores[rows] = block
        return scores


class Ticket:
    """One submitted request: its outputs arrive on ``outputs``."""

    def __init__(self, engine: BatchingEngine, request_id: str) -> None:
        self.engine = engine
        self.request_id = request_id
        self.outputs: queue.Queue[Any] = queue.Queue()

    def cancel(self) -> None:
        self.engine.cancel(self.request_id)


class BatchingEngine:
    """transformers' continuous-batching manager for one model, started on demand."""

    def __init__(self, model: Any, eos: list[int], pad: int | None, context_length: int) -> None:
        self.model = model
        self.eos = eos
        self.pad = pad
        self.context_length = context_length
        self._lock = threading.Lock()
        self._manager: Any = None
        self._dispatcher: threading.Thread | None = None
        self._tickets: dict[str, Ticket] = {}
        self._samplers: dict[str, RequestSampler] = {}
        self._ids = itertools.count()
        self._last_active = time.monotonic()
        self._closed = False
        _ENGINES.add(self)

    @property
    def cache_tokens(self) -> int:
        tokens = max(MIN_CACHE_TOKENS, self.context_length + 2 * PAGE_TOKENS)
        return -(-tokens // PAGE_TOKENS) * PAGE_TOKENS

    def fits(self, prompt_tokens: int, max_new_tokens: int) -> bool:
        """Whether one request fits the cache (the manager fails outright on one that cannot)."""
        return prompt_tokens + max_new_tokens + PAGE_TOKENS <= self.cache_tokens

    # --- requests ------------------------------------------------------------------------
    def submit(self, input_ids: list[int], max_new_tokens: int, sampler: RequestSampler) -> Ticket:
        with self._lock:
            if self._closed:
                raise RuntimeError("the model was unloaded")
            manager = self._running_manager()
            request_id = f"h2ogpt-{next(self._ids)}"
            ticket = Ticket(self, request_id)
            self._tickets[request_id] = ticket
            self._samplers[request_id] = sampler
            added = manager.add_request(
                input_ids,
                request_id=request_id,
                max_new_tokens=max_new_tokens,
                streaming=True,
                eos_token_id=self.eos or -1,
                sampler=request_id,
            )
            if added is None:
                self._forget(request_id)
                raise RuntimeError("the batching loop refused the request (it is stopping)")
            self._last_active = time.monotonic()
            return ticket

    def cancel(self, request_id: str) -> None:
        with self._lock:
            if request_id in self._tickets:
                self._forget(request_id)
                if self._manager is not None:
                    self._manager.cancel_request(request_id)
            self._last_active = time.monotonic()

    @property
    def running(self) -> bool:
        """Whether the loop thread is alive (serving, or idle but not yet stopped)."""
        with self._lock:
            return self._manager is not None and self._manager.is_running()

    def _forget(self, request_id: str) -> None:
        self._tickets.pop(request_id, None)
        self._samplers.pop(request_id, None)

    # --- the manager and its dispatcher (call with the lock held) ---------------------------
    def _running_manager(self) -> Any:
        if self._manager is None:
            self._manager = self._create_manager()
        if not self._manager.is_running():
            self._manager.start()
        if self._dispatcher is None:
            self._dispatcher = threading.Thread(
                target=self._dispatch, name="h2ogpt-batching-dispatch", daemon=True
            )
            self._dispatcher.start()
        return self._manager

    def _create_manager(self) -> Any:
        generation = GenerationConfig(
            do_sample=False, eos_token_id=self.eos or None, pad_token_id=self.pad
        )
        config = ContinuousBatchingConfig(
            page_size=PAGE_TOKENS,
            num_blocks=self.cache_tokens // PAGE_TOKENS,
            max_batch_tokens=MAX_BATCH_TOKENS,
            max_requests_per_batch=MAX_BATCH,
            allow_block_sharing=False,  # keeps a request's numbers independent of its neighbours
            use_cuda_graph=False,  # our sampler runs Python per row
            use_async_batching=False,
            seed=0,
            per_request_processors=False,
        )
        manager = self.model.init_continuous_batching(
            generation_config=generation, continuous_batching_config=config
        )
        processors = ContinuousBatchingLogitsProcessorList(
            LogitsProcessorList([_PerRequestSampling(self._samplers)])
        )
        processors.tensors_required = 1  # one (unused) argument row for our processor
        # Read by the manager when its batch processor is built, on the first start.
        manager.logit_processor = processors
        return manager

    def _dispatch(self) -> None:
        """Route the manager's outputs to their tickets; stop the manager once idle."""
        manager = self._manager
        while True:
            output = manager.get_result(timeout=0.1)
            with self._lock:
                if self._manager is not manager:  # closed (or replaced) meanwhile
                    return
                if output is not None:
                    ticket = self._tickets.get(output.request_id)
                    if ticket is not None:
                        ticket.outputs.put(output)
                        if output.is_finished():
                            self._forget(output.request_id)
                    self._last_active = time.monotonic()
                    continue
                if not manager.is_running():  # the loop died: fail whoever still waits
                    self._fail_all("the batching loop stopped unexpectedly")
                    self._discard_manager()
                    return
                if self._tickets or time.monotonic() - self._last_active < IDLE_SECONDS:
                    continue
                # Idle: end the loop thread and free its cache; the next start rebuilds it.
                manager.stop(block=True, keep_for_next_session=False)
                self._dispatcher = None
                return

    def _fail_all(self, reason: str) -> None:
        for ticket in self._tickets.values():
            ticket.outputs.put(RuntimeError(reason))
        self._tickets.clear()
        self._samplers.clear()

    def _discard_manager(self) -> None:
        self._dispatcher = None
        manager, self._manager = self._manager, None
        if manager is None:
            return
        try:
            if manager.is_running():
                manager.stop(block=True, timeout=5, keep_for_next_session=False)
        finally:
            manager.batch_processor = None
            _drop_cached_manager(manager.model)

    def close(self) -> None:
        """Fail whatever is in flight and free the loop, its thread and its cache."""
        with self._lock:
            self._closed = True
            self._fail_all("the model was unloaded")
            dispatcher = self._dispatcher
            self._discard_manager()
        if dispatcher is not None and dispatcher is not threading.current_thread():
            dispatcher.join(timeout=5)


_ENGINES: weakref.WeakSet[BatchingEngine] = weakref.WeakSet()


def _close_all() -> None:
    for engine in list(_ENGINES):
        engine.close()


# The manager's loop thread is not a daemon: at interpreter exit, close the loops before
# Python waits for it (otherwise exit waits out the idle time and the dispatcher is killed
# half-way through stopping the loop). threading's hook runs before that wait; atexit after.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_close_all)


def _drop_cached_manager(model: Any) -> None:
    if hasattr(model, "_cached_continuous_batching_manager"):
        del model._cached_continuous_batching_manager
