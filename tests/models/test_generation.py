"""Streaming, stop strings, Stop/interrupt and usage on the tiny model."""

import _thread
import threading
import time

import pytest

from h2ogpt_jupyter.models.backends import BackendRequest
from h2ogpt_jupyter.models.generation import Generation
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.models.stop_strings import StopStringCutter


def request(prompt="Hello there", **params):
    p = GenerationParams(**params)
    return BackendRequest(prompt=prompt, params=p, seed=p.effective_seed(), stop=list(p.stop))


def test_cutter_never_shows_part_of_a_stop_string_split_across_deltas():
    cutter = StopStringCutter(["<human>:"])
    shown = [cutter.feed(d) for d in ["Paris is nice. <hu", "man", ">: what else"]]
    assert "".join(shown) + cutter.flush() == "Paris is nice. "
    assert cutter.hit


def test_cutter_ignores_what_comes_after_a_hit():
    cutter = StopStringCutter(["ste"])
    shown = [cutter.feed(d) for d in ["elist", "elist", "elist"]]  # the engine winding down
    assert "".join(shown) + cutter.flush() == "eli" and cutter.text == "eli"


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


# --- token by token: text without spaces streams as it is made ---------------------------------
@pytest.mark.parametrize(
    "text",
    ["def fibonacci(n):return[0,1,1,2,3,5,8][:n]#first_terms", "東京都は日本の首都です。"],
)
def test_token_streamer_gives_each_token_its_text_at_once(smollm2_tokenizer_dir, text):
    import torch
    from transformers import AutoTokenizer

    from h2ogpt_jupyter.models.backends.hf_transformers.streaming import TokenStreamer

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir))
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    streamer = TokenStreamer(tokenizer)
    streamer.put(torch.tensor([[1, 2, 3]]))  # the prompt: skipped
    seen = []
    for token in ids:
        streamer.put(torch.tensor([token]))
        seen.append(streamer.deltas.qsize())
    streamer.end()
    deltas = list(streamer)
    assert "".join(deltas) == text
    if text.isascii():  # a delta per token, the first before the second token exists
        assert len(deltas) == len(ids) and seen[0] == 1
    else:  # byte tokens: each character as soon as its bytes are complete
        assert deltas == list(text)


@pytest.mark.parametrize("path", ["lone", "serial"])
def test_answers_stream_token_by_token(tiny, monkeypatch, path):
    if path == "serial":  # generate() one request at a time, as when batching is off
        monkeypatch.setattr(tiny.backend, "concurrent", False)
    g = Generation(tiny.backend, request(max_new_tokens=24), model="tiny")
    deltas = list(g)
    text = g.response.text
    assert "".join(deltas) == text and g.response.usage.completion_tokens == 24
    # a streamer that waits for spaces gives at most one delta per space or newline
    assert len(deltas) > text.count(" ") + text.count("\n") + 1, deltas


@pytest.mark.parametrize("path", ["lone", "serial"])
def test_a_prompt_the_tokenizer_drops_starts_from_the_first_token(tiny, monkeypatch, path):
    """A lone control character tokenizes to nothing; the model starts from its start token
    (as generate does with no input) on either path instead of failing inside torch."""
    if path == "serial":
        monkeypatch.setattr(tiny.backend, "concurrent", False)
    assert tiny.backend.count_tokens("\x06") == 0
    r = Generation(tiny.backend, request("\x06", max_new_tokens=4), model="t").response
    assert r.usage.prompt_tokens == 1 and 0 < r.usage.completion_tokens <= 4
    assert r.finish_reason in ("stop", "length")
