"""Streaming, stop strings, Stop/interrupt and usage on the tiny model."""

import _thread
import threading
import time

import pytest

from h2ogpt_jupyter.backends import BackendRequest
from h2ogpt_jupyter.generation import Generation, StopStringCutter
from h2ogpt_jupyter.params import GenerationParams


def request(prompt="Hello there", **params):
    p = GenerationParams(**params)
    return BackendRequest(prompt=prompt, params=p, seed=p.effective_seed(), stop=list(p.stop))


def test_cutter_never_shows_part_of_a_stop_string_split_across_deltas():
    cutter = StopStringCutter(["<human>:"])
    shown = [cutter.feed(d) for d in ["Paris is nice. <hu", "man", ">: what else"]]
    assert "".join(shown) + cutter.flush() == "Paris is nice. "
    assert cutter.hit


def test_cutter_releases_a_held_prefix_that_turns_out_harmless():
    cutter = StopStringCutter(["</s>"])
    assert cutter.feed("a </") == "a "
    assert cutter.feed("b>") == "</b>"
    assert not cutter.hit


def test_stream_concatenates_to_the_response(tiny):
    g = Generation(tiny.backend, request(max_new_tokens=12), model="tiny")
    deltas = list(g)
    r = g.response
    assert "".join(deltas) == r.text
    assert r.usage.completion_tokens == 12 and r.finish_reason == "length"
    assert r.usage.prompt_tokens == tiny.backend.count_tokens("Hello there")
    assert r.time_to_first_token is not None and r.elapsed >= r.time_to_first_token


def test_greedy_is_deterministic_and_seeded_sampling_reproducible(tiny):
    def run(**p):
        return Generation(tiny.backend, request(max_new_tokens=8, **p), model="t").response.text

    assert run() == run()
    assert run(temperature=1.0, seed=7) == run(temperature=1.0, seed=7)


def test_a_tiny_temperature_samples_as_the_smallest_usable_one_instead_of_failing(tiny):
    def run(**p):
        return Generation(tiny.backend, request(max_new_tokens=8, **p), model="t").response.text

    # 1e-300 is 0 in the engine's float32: dividing logits by it gives inf and NaN odds.
    assert run(temperature=1e-300, seed=3) == run(temperature=0.01, seed=3)


def test_stop_string_ends_generation_and_is_not_shown(tiny):
    full = Generation(tiny.backend, request(max_new_tokens=16), model="t").response.text
    assert len(full) > 6
    stop = full[3:6]
    r = Generation(tiny.backend, request(max_new_tokens=16, stop=[stop]), model="t").response
    assert r.text == full[: full.find(stop)]
    assert r.finish_reason == "stop"


def test_stop_from_another_thread_ends_within_a_second(tiny):
    g = Generation(tiny.backend, request(max_new_tokens=100000, max_time=60), model="t")
    started = time.perf_counter()
    threading.Timer(0.3, g.stop).start()
    r = g.run()
    assert time.perf_counter() - started < 1.3
    assert r.finish_reason == "cancelled"
    # the model is still usable
    assert (
        Generation(
            tiny.backend, request(max_new_tokens=4), model="t"
        ).response.usage.completion_tokens
        == 4
    )


def test_keyboard_interrupt_stops_cleanly_and_keeps_partial_text(tiny):
    g = Generation(tiny.backend, request(max_new_tokens=100000, max_time=60), model="t")
    threading.Timer(0.3, _thread.interrupt_main).start()
    started = time.perf_counter()
    r = g.run(on_text=lambda _: time.sleep(0.001))
    assert time.perf_counter() - started < 1.3
    assert r.finish_reason == "cancelled" and r.text
    assert not tiny.backend.lock.locked()


def test_max_time_is_honoured(tiny):
    r = Generation(tiny.backend, request(max_new_tokens=100000, max_time=0.5), model="t").response
    assert r.finish_reason == "max_time" and r.elapsed < 1.5


def test_min_new_tokens_and_beams(tiny):
    r = Generation(tiny.backend, request(max_new_tokens=6, min_new_tokens=6), model="t").response
    assert r.usage.completion_tokens == 6
    beams = Generation(tiny.backend, request(max_new_tokens=5, num_beams=2), model="t").response
    assert beams.usage.completion_tokens == 5


@pytest.mark.parametrize("reuse", [False, True])
def test_on_done_called_once(tiny, reuse):
    seen = []
    g = Generation(tiny.backend, request(max_new_tokens=3), model="t", on_done=seen.append)
    assert g.response.usage.completion_tokens == 3
    if reuse:
        with pytest.raises(RuntimeError):
            list(g)
    assert len(seen) == 1
