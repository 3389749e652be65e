import pytest

from h2ogpt_jupyter.errors import InvalidOptionError
from h2ogpt_jupyter.models.params import GenerationParams


def test_defaults_are_h2ogpts():
    p = GenerationParams()
    assert (p.temperature, p.top_p, p.top_k, p.num_beams) == (0.0, 1.0, 1, 1)
    assert (p.max_new_tokens, p.min_new_tokens, p.repetition_penalty) == (1024, 0, 1.07)
    assert (p.max_time, p.num_return_sequences, p.early_stopping) == (600.0, 1, False)
    assert not p.do_sample
    assert p.effective_seed() == 1  # greedy is reproducible


@pytest.mark.parametrize("options", [{"temperature": 0.5}, {"top_p": 0.9}, {"top_k": 40}])
def test_any_randomness_knob_switches_sampling_on(options):
    assert GenerationParams(**options).do_sample


def test_seed_zero_is_random_when_sampling_and_fixed_otherwise():
    p = GenerationParams(temperature=0.7)
    assert p.effective_seed() != 0
    assert GenerationParams(temperature=0.7, seed=42).effective_seed() == 42


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"temperature": -1}, "temperature must be between 0 and 3"),
        ({"top_p": 1.5}, "top_p must be between"),
        ({"max_new_tokens": 0}, "max_new_tokens must be between 1"),
        ({"max_new_tokens": 2.5}, "max_new_tokens must be an integer"),
        ({"top_k": "many"}, "top_k must be an integer"),
        ({"repetition_penalty": float("nan")}, "repetition_penalty must be a number"),
        ({"early_stopping": "maybe"}, "early_stopping must be true or false"),
        ({"min_new_tokens": 10, "max_new_tokens": 5}, "must not exceed"),
        ({"stop": [1]}, "stop must be a string"),
    ],
)
def test_bad_values_give_one_clear_error(options, message):
    with pytest.raises(InvalidOptionError, match=message):
        GenerationParams(**options)


def test_from_options_accepts_dashes_and_openai_spelling_and_refuses_unknown():
    p = GenerationParams.from_options(
        **{"max-new-tokens": "64", "max_tokens": 32, "temperature": None}
    )
    assert p.max_new_tokens == 32 and p.temperature == 0.0
    with pytest.raises(InvalidOptionError, match="unknown generation option 'temprature'"):
        GenerationParams.from_options(temprature=1)


def test_stop_accepts_one_string():
    assert GenerationParams(stop="###").stop == ("###",)


def test_temperature_alone_samples_from_the_whole_distribution():
    p = GenerationParams(temperature=0.7)
    assert p.do_sample and p.sampling_top_k == 0
    assert GenerationParams(temperature=0.7, top_k=40).sampling_top_k == 40


def test_tiny_temperatures_reach_the_engine_raised_so_logits_stay_finite():
    assert GenerationParams(temperature=1e-9).sampling_temperature == 0.01
    assert GenerationParams(temperature=0.7).sampling_temperature == 0.7
    assert GenerationParams(top_p=0.5).sampling_temperature == 1.0


def test_response_repr_is_short():
    from h2ogpt_jupyter.models.response import Response

    text = repr(Response("x" * 500, prompt="p" * 5000))
    assert len(text) < 200 and text.startswith("Response('xxx")
