"""Concurrent generations on one loaded model: requests in flight together are batched
(transformers' continuous batching; a pool of contexts for llama.cpp) and each still gets
exactly its own answer, usage and finish reason."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.models.backends import BackendRequest
from h2ogpt_jupyter.models.backends.hf_transformers import batching
from h2ogpt_jupyter.models.generation import Generation
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.models.response import Response


def request(prompt: str, **params: Any) -> BackendRequest:
    p = GenerationParams(**params)
    return BackendRequest(prompt=prompt, params=p, seed=p.effective_seed(), stop=list(p.stop))


def generate(backend: Any, req: BackendRequest) -> Response:
    return Generation(backend, req, model="t").response


def together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = jobs[i]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def summary(r: Response) -> tuple[str, int, int, str]:
    return r.text, r.usage.prompt_tokens, r.usage.completion_tokens, r.finish_reason


# Different prompts, lengths and per-request settings, all greedy.
GREEDY = [
    request("Hello there, how are you?", max_new_tokens=12),
    request("Tell me about the sea", max_new_tokens=20, repetition_penalty=1.0),
    request("One two three", max_new_tokens=7, min_new_tokens=7, repetition_penalty=1.5),
    request("What is the capital of France?", max_new_tokens=16),
    request("Write a poem", max_new_tokens=24, repetition_penalty=1.2),
    request("x", max_new_tokens=9),
]


def test_transformers_runs_generations_without_the_lock(tiny):
    backend = tiny.backend
    assert backend.concurrent
    held = []
    g = Generation(backend, request("Hello", max_new_tokens=6), model="t")
    for _ in g:
        held.append(backend.lock.locked())
    assert held and not any(held)


def test_concurrent_greedy_answers_are_each_the_one_run_alone_gives(tiny):
    alone = [summary(generate(tiny.backend, r)) for r in GREEDY]
    batched = together([lambda r=r: generate(tiny.backend, r) for r in GREEDY])
    assert [summary(r) for r in batched] == alone
    for r, req in zip(batched, GREEDY, strict=True):
        assert r.usage.prompt_tokens == tiny.backend.count_tokens(req.prompt)
        assert r.usage.completion_tokens == req.params.max_new_tokens
        assert r.finish_reason == "length"
    assert tiny.backend.streams().engine.running  # they really went through the loop


def test_the_batching_loop_picks_exactly_as_generate_does(tiny, monkeypatch):
    """Repetition penalty, min_new_tokens and greedy picking in the loop are generate()'s."""
    monkeypatch.setattr(tiny.backend, "concurrent", False)  # the old serialized path
    reference = [summary(generate(tiny.backend, r)) for r in GREEDY]
    monkeypatch.setattr(tiny.backend, "concurrent", True)
    monkeypatch.setattr(tiny.backend.streams(), "batch_alone", True)
    assert [summary(generate(tiny.backend, r)) for r in GREEDY] == reference


def test_a_stop_string_ends_one_request_and_not_the_others(tiny):
    full = generate(tiny.backend, request("Tell me about the sea", max_new_tokens=20)).text
    stop = full[6:9]
    reqs = [request("Tell me about the sea", max_new_tokens=20, stop=[stop]), *GREEDY[:3]]
    alone = [summary(generate(tiny.backend, r)) for r in GREEDY[:3]]
    first, *rest = together([lambda r=r: generate(tiny.backend, r) for r in reqs])
    assert first.text == full[: full.find(stop)] and first.finish_reason == "stop"
    assert [summary(r) for r in rest] == alone


def test_seeded_sampling_is_the_same_alone_and_in_a_batch(tiny):
    def sampled(seed: int) -> BackendRequest:
        return request("Hi", max_new_tokens=16, temperature=1.0, top_p=0.9, top_k=50, seed=seed)

    alone = generate(tiny.backend, sampled(7)).text
    assert generate(tiny.backend, sampled(7)).text == alone
    mixed = [sampled(7), sampled(8), GREEDY[0], sampled(9)]
    results = together([lambda r=r: generate(tiny.backend, r) for r in mixed])
    assert results[0].text == alone
    assert results[1].text != alone  # another seed, another answer
    assert results[2].text == generate(tiny.backend, GREEDY[0]).text


def test_cancelling_one_request_stops_it_quickly_and_the_others_finish(tiny):
    long = Generation(tiny.backend, request("Go on", max_new_tokens=4000), model="t")
    others = GREEDY[:3]
    alone = [summary(generate(tiny.backend, r)) for r in others]
    stopped: dict[str, float] = {}

    def stop() -> None:
        stopped["at"] = time.perf_counter()
        long.stop()

    def run_long() -> Response:
        threading.Timer(0.3, stop).start()
        response = long.response
        stopped["took"] = time.perf_counter() - stopped["at"]
        return response

    results = together([run_long, *[lambda r=r: generate(tiny.backend, r) for r in others]])
    assert stopped["took"] < 1.0
    assert results[0].finish_reason == "cancelled"
    assert 0 < results[0].usage.completion_tokens < 4000
    assert [summary(r) for r in results[1:]] == alone


def test_a_lone_request_moves_into_the_loop_when_company_arrives(tiny):
    """The first request runs generate() alone; when a second arrives it continues in the
    batching loop from where it was, and its answer is the one it gets alone."""
    long = request("Once upon a time", max_new_tokens=600, min_new_tokens=600)
    streams = tiny.backend.streams()
    alone = summary(generate(tiny.backend, long))
    g = Generation(tiny.backend, long, model="t")
    deltas: list[str] = []
    first = threading.Thread(target=lambda: deltas.extend(g))
    first.start()
    deadline = time.perf_counter() + 10
    while streams._lone is None and time.perf_counter() < deadline:  # running alone
        time.sleep(0.01)
    assert streams._lone is not None and not streams.engine.running
    second = generate(tiny.backend, GREEDY[3])
    first.join(timeout=120)
    assert streams.engine.running  # the first one finished in the loop
    assert "".join(deltas) == g.response.text
    assert summary(g.response) == alone
    assert summary(second) == summary(generate(tiny.backend, GREEDY[3]))


def test_beam_search_is_serialized_beside_batched_requests(tiny):
    beams = request("Hello there", max_new_tokens=8, num_beams=2)
    alone = summary(generate(tiny.backend, beams))
    results = together([lambda r=r: generate(tiny.backend, r) for r in [beams, *GREEDY[:2]]])
    assert summary(results[0]) == alone
    assert [summary(r) for r in results[1:]] == [
        summary(generate(tiny.backend, r)) for r in GREEDY[:2]
    ]


def test_the_loop_stops_when_idle_and_restarts(tiny, monkeypatch):
    monkeypatch.setattr(batching, "IDLE_SECONDS", 0.2)
    engine = tiny.backend.streams().engine
    first = together([lambda r=r: generate(tiny.backend, r) for r in GREEDY[:2]])
    deadline = time.perf_counter() + 10
    while engine.running and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert not engine.running
    again = together([lambda r=r: generate(tiny.backend, r) for r in GREEDY[:2]])
    assert [summary(r) for r in again] == [summary(r) for r in first]


def test_unloading_ends_the_loop_thread(manager, tiny_model_dir):
    model = manager.load(str(tiny_model_dir), alias="u", dtype="float32")
    together([lambda r=r: generate(model.backend, r) for r in GREEDY[:2]])
    assert model.backend.streams().engine.running
    manager.unload("u")
    names = [t.name for t in threading.enumerate()]
    assert not any("generation_loop" in n or "batching" in n for n in names), names


# --- the real packaged model ------------------------------------------------------------------
QUESTIONS = [
    "What is the capital of France?",
    "Name three colors.",
    "What is 2+2?",
    "Who wrote Hamlet?",
    "What is water made of?",
    "Say hello in Spanish.",
    "What is the largest planet in the solar system?",
    "Name a fruit.",
]


@pytest.mark.integration
def test_smollm2_answers_eight_chats_at_once(manager):
    manager.load("smollm2", alias="tf", backend="transformers")
    prompts = [Chat("tf", manager=manager).prompt(q, max_new_tokens=40) for q in QUESTIONS]
    answers = together(
        [lambda q=q: Chat("tf", manager=manager).send(q, max_new_tokens=40) for q in QUESTIONS]
    )
    backend = manager.get("tf").backend
    for answer, prompt in zip(answers, prompts, strict=True):
        assert answer.text.strip()
        assert answer.usage.prompt_tokens == backend.count_tokens(prompt)
        assert 0 < answer.usage.completion_tokens <= 40
        assert answer.finish_reason == (
            "length" if answer.usage.completion_tokens == 40 else "stop"
        )
    assert "Paris" in answers[0].text


@pytest.mark.integration
def test_smollm2_in_fp32_batched_answers_equal_the_lone_ones(manager):
    """In bf16 a batch rounds its matrix products differently from a lone request, so greedy
    answers may part after a few words; in fp32 they are identical."""
    manager.load("smollm2", alias="tf32", backend="transformers", dtype="float32")
    backend = manager.get("tf32").backend
    reqs = [
        request(Chat("tf32", manager=manager).prompt(q, max_new_tokens=32), max_new_tokens=32)
        for q in QUESTIONS
    ]
    alone = [summary(generate(backend, r)) for r in reqs]
    batched = together([lambda r=r: generate(backend, r) for r in reqs])
    assert [summary(r) for r in batched] == alone


@pytest.mark.integration
def test_llamacpp_pool_answers_concurrent_requests(manager):
    model = manager.load("smollm2", alias="ll", backend="llamacpp", n_parallel=2)
    backend = model.backend
    assert backend.concurrent
    reqs = [
        request(Chat("ll", manager=manager).prompt(q, max_new_tokens=32), max_new_tokens=32)
        for q in QUESTIONS[:4]
    ]
    alone = [summary(generate(backend, r)) for r in reqs]
    # What the notebook's thread prints meanwhile must reach it: no context is made (and
    # sys.stdout swapped by llama-cpp-python) while generations run.
    streams: set[int] = set()
    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            streams.add(id(sys.stdout))
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        batched = together([lambda r=r: generate(backend, r) for r in reqs])
    finally:
        watching.set()
        watcher.join()
    assert [summary(r) for r in batched] == alone
    assert len(backend._slots) == 2  # n_parallel contexts, made at load
    assert streams == {id(sys.stdout)}


@pytest.mark.integration
def test_llamacpp_with_one_context_stays_serialized(manager):
    model = manager.load("smollm2", alias="ll1", backend="llamacpp", n_parallel=1)
    assert not model.backend.concurrent
