"""SmolLM2 in 8 and 4 bits: transformers + bitsandbytes on CPU, from the converted HF copy of
the packaged GGUF (bitsandbytes cannot quantize GGUF weights directly)."""

from __future__ import annotations

import pytest

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.errors import InvalidOptionError
from h2ogpt_jupyter.models.manager import ModelManager

pytestmark = pytest.mark.integration

CAPITAL = "Which city is the capital of France?"


@pytest.fixture(scope="module")
def loaded():
    """The same model unquantized ('full'), in 8 bits ('s8') and in 4 bits ('s4'); the
    quantized ones without naming a backend, which must pick transformers by itself."""
    mgr = ModelManager()
    mgr.load("smollm2", alias="full", backend="transformers")
    mgr.load("smollm2", alias="s8", load_8bit=True)
    mgr.load("smollm2", alias="s4", load_4bit=True)
    yield mgr
    mgr.unload_all()


@pytest.mark.parametrize(("alias", "bits"), [("s8", "8bit"), ("s4", "4bit")])
def test_quantized_load(loaded, alias, bits):
    info = loaded.get(alias).info()
    assert info["backend"] == "transformers"
    assert info["quantization"] == bits
    assert info["model"] == "smollm2"
    assert info["context_length"] == 8192
    full = loaded.get("full").info()
    assert full["quantization"] == ""
    assert full["dtype"] in ("bfloat16", "float32")
    assert 0 < info["memory_bytes"] < full["memory_bytes"]


def test_4bit_is_smaller_than_8bit(loaded):
    assert loaded.get("s4").backend.memory_bytes() < loaded.get("s8").backend.memory_bytes()


def test_weights_really_are_quantized(loaded):
    import bitsandbytes as bnb

    layers = {
        alias: {type(m) for m in loaded.get(alias).backend.model.modules()}
        for alias in ("s8", "s4")
    }
    assert bnb.nn.Linear8bitLt in layers["s8"]
    assert bnb.nn.Linear4bit in layers["s4"]


@pytest.fixture(scope="module")
def full_answer(loaded) -> str:
    """The full-precision greedy answer the quantized ones are held to."""
    text = Chat(model="full", manager=loaded).send(CAPITAL, max_new_tokens=32).text
    assert "Paris" in text, text
    return text


@pytest.mark.parametrize("alias", ["s8", "s4"])
def test_quantized_greedy_answer(loaded, alias, full_answer):
    deltas: list[str] = []
    response = Chat(model=alias, manager=loaded).send(
        CAPITAL, on_text=deltas.append, max_new_tokens=32
    )
    # still right after quantization, and worded as the full-precision model words it
    assert "Paris" in response.text, response.text
    assert response.text.split()[:4] == full_answer.split()[:4], (response.text, full_answer)
    assert "".join(deltas).strip() == response.text
    assert 0 < response.usage.completion_tokens <= 32
    assert response.params["prompt_type"] == "template"


def test_default_alias_names_the_quantization():
    from h2ogpt_jupyter.models.backends import LoadOptions
    from h2ogpt_jupyter.models.manager import _default_alias

    assert _default_alias("smollm2", LoadOptions(load_4bit=True)) == "smollm2-4bit"


def test_8bit_and_4bit_together_is_refused():
    mgr = ModelManager()
    with pytest.raises(InvalidOptionError, match="choose one of load_8bit and load_4bit"):
        mgr.load("smollm2", load_8bit=True, load_4bit=True)
    assert len(mgr) == 0


def test_quantization_with_llamacpp_is_refused():
    mgr = ModelManager()
    with pytest.raises(InvalidOptionError, match="need backend 'transformers'"):
        mgr.load("smollm2", backend="llamacpp", load_8bit=True)
