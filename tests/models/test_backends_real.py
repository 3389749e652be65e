"""The real packaged SmolLM2 through llama.cpp and transformers, and LoRA / RoPE scaling on the
tiny random model.

Each real model loads once per module. SmolLM2-135M at Q4 is fragile: greedy llama.cpp answers
"Which city is the capital of France?" correctly but not "What is the capital of France?", so
the first phrasing is the one asked of both engines.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
import weakref
from pathlib import Path

import psutil
import pytest

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError, ModelNotLoadedError
from h2ogpt_jupyter.models.manager import ModelManager

pytestmark = pytest.mark.integration

CAPITAL = "Which city is the capital of France?"
ENGINES = ["cpp", "hf"]
TEMPLATE = (
    "{% for m in messages %}<<{{ m['role'] }}>> {{ m['content'] }}\n{% endfor %}<<assistant>> "
)


@pytest.fixture(scope="module")
def real():
    """SmolLM2 loaded once on each engine: 'cpp' (llama.cpp) and 'hf' (transformers)."""
    mgr = ModelManager()
    mgr.load("smollm2", alias="cpp")
    mgr.load("smollm2", alias="hf", backend="transformers")
    yield mgr
    mgr.unload_all()


def send(mgr: ModelManager, alias: str, text: str, **options):
    deltas: list[str] = []
    response = Chat(model=alias, manager=mgr).send(text, on_text=deltas.append, **options)
    return response, deltas


# --- answers, streaming, usage ---------------------------------------------------------------
def test_engines_are_the_expected_ones(real):
    assert real.get("cpp").info()["backend"] == "llamacpp"
    assert real.get("cpp").info()["dtype"] == "q4_1"
    assert real.get("hf").info()["backend"] == "transformers"


@pytest.mark.parametrize("alias", ENGINES)
def test_greedy_answer_streams_and_reports_usage(real, alias):
    model = real.get(alias)
    response, deltas = send(real, alias, CAPITAL, max_new_tokens=48)
    assert "Paris" in response.text
    assert len(deltas) >= 3  # streamed, not delivered at once
    assert "".join(deltas).strip() == response.text
    assert response.finish_reason == "stop"
    usage = response.usage
    assert usage.prompt_tokens == model.backend.count_tokens(response.prompt)
    assert 20 < usage.prompt_tokens < 80  # ChatML system + user turn
    # The engine counts the end-of-turn token it sampled; the text does not contain it.
    answer_tokens = model.backend.count_tokens(response.text)
    assert answer_tokens <= usage.completion_tokens <= answer_tokens + 2
    assert usage.completion_tokens < 48
    assert response.time_to_first_token is not None
    assert 0 < response.time_to_first_token <= response.elapsed
    assert response.params["prompt_type"] == "template"


def test_transformers_answers_both_phrasings(real):
    response, _ = send(real, "hf", "What is the capital of France?", max_new_tokens=48)
    assert "Paris" in response.text


def test_same_answer_twice_when_greedy(real):
    first, _ = send(real, "cpp", CAPITAL, max_new_tokens=24)
    second, _ = send(real, "cpp", CAPITAL, max_new_tokens=24)
    assert first.text == second.text


@pytest.mark.parametrize(
    "text",
    [
        "The capital of France is Paris.",
        "Hello world, this is a test of two tokenizers.",
        "naïve café, 東京 and 🙂 emoji",
        "<|im_start|>user\nWhich city?<|im_end|>\n",
        "    indented code:\n\tdef f(x):\n\t\treturn x ** 2\n",
        "",
    ],
)
def test_count_tokens_agrees_between_engines(real, text):
    cpp = real.get("cpp").backend.count_tokens(text)
    hf = real.get("hf").backend.count_tokens(text)
    assert cpp == hf


@pytest.mark.parametrize("alias", ENGINES)
def test_prompt_type_auto_is_the_models_template(real, alias):
    model = real.get(alias)
    assert model.prompt_type == "template"
    prompt = Chat(model=alias, manager=real).prompt("Hi")
    assert prompt.startswith("<|im_start|>system\n")
    assert prompt.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


def test_both_engines_render_the_same_prompt(real):
    history = [("Hi", "Hello! How can I help?")]
    prompts = [
        Chat(model=a, manager=real, chat_conversation=history).prompt(CAPITAL) for a in ENGINES
    ]
    assert prompts[0] == prompts[1]


# --- Stop, limits, options -------------------------------------------------------------------
@pytest.mark.parametrize(("alias", "budget"), [("cpp", 4000), ("hf", 400)])
def test_stop_from_another_thread_ends_quickly(real, alias, budget):
    chat = Chat(model=alias, manager=real)
    generation = chat.stream(
        "Write a very long story about a dragon.",
        max_new_tokens=budget,
        min_new_tokens=budget,  # never ends by itself within the test
    )
    stopped_at: list[float] = []
    started = threading.Event()

    def press_stop() -> None:
        started.wait(30)
        time.sleep(0.5)
        stopped_at.append(time.perf_counter())
        generation.stop()

    presser = threading.Thread(target=press_stop)
    presser.start()
    arrivals: list[float] = []
    for _ in generation:
        arrivals.append(time.perf_counter())
        started.set()
    ended = time.perf_counter()
    presser.join()
    response = generation.response
    assert stopped_at, "the generation ended before Stop was pressed"
    # Stop is honoured between tokens: within a second, or within about one token where the
    # CPU is so shared that a single token takes longer than that.
    before = [t for t in arrivals if t <= stopped_at[0]]
    slowest = max((b - a for a, b in itertools.pairwise(before)), default=0.0)
    assert ended - stopped_at[0] < max(1.0, 2 * slowest)
    assert response.finish_reason == "cancelled"
    assert 0 < response.usage.completion_tokens < budget
    assert len(chat.history) == 1  # the partial answer is kept
    after, _ = send(real, alias, CAPITAL, max_new_tokens=24)  # still usable
    assert "Paris" in after.text


def test_min_new_tokens_on_llamacpp(real):
    free, _ = send(real, "cpp", "Say hi.", max_new_tokens=80)
    assert free.finish_reason == "stop" and free.usage.completion_tokens < 40, free.text
    forced, _ = send(real, "cpp", "Say hi.", max_new_tokens=80, min_new_tokens=40)
    assert forced.usage.completion_tokens >= 40
    assert len(forced.text) > len(free.text)


def test_num_beams_on_llamacpp_is_refused(real):
    chat = Chat(model="cpp", manager=real)
    with pytest.raises(InvalidOptionError, match="num_beams") as err:
        chat.send(CAPITAL, num_beams=2, max_new_tokens=8)
    assert "transformers" in str(err.value) and "\n" not in str(err.value)
    assert chat.history == []
    response, _ = send(real, "cpp", CAPITAL, max_new_tokens=24)  # the lock was released
    assert "Paris" in response.text


def test_human_bot_prompt_type(real):
    model = real.load("smollm2", alias="humanbot", prompt_type="human_bot")
    try:
        assert model.prompt_type == "human_bot"
        response, _ = send(real, "humanbot", CAPITAL, max_new_tokens=32)
        assert response.prompt.startswith("<human>: ")
        assert response.prompt == f"<human>: {CAPITAL}\n<bot>:"
        assert "<human>:" not in response.text and "<bot>:" not in response.text
        assert response.params["prompt_type"] == "human_bot"
        assert response.usage.completion_tokens > 0
    finally:
        real.unload("humanbot")


@pytest.mark.parametrize("backend", ["llamacpp", "transformers"])
def test_chat_template_override(real, backend):
    real.load("smollm2", alias="tmpl", backend=backend, chat_template=TEMPLATE)
    try:
        assert real.get("tmpl").prompt_type == "template"
        chat = Chat(model="tmpl", manager=real, chat_conversation=[("Hi", "Hello")])
        assert chat.prompt(CAPITAL) == (
            f"<<user>> Hi\n<<assistant>> Hello\n<<user>> {CAPITAL}\n<<assistant>> "
        )
        response = chat.send(CAPITAL, max_new_tokens=8)
        assert response.usage.completion_tokens > 0
    finally:
        real.unload("tmpl")


@pytest.mark.parametrize("alias", ENGINES)
def test_default_context_is_the_trained_window(real, alias):
    assert real.get(alias).backend.context_length == 8192


@pytest.mark.parametrize("backend", ["llamacpp", "transformers"])
def test_max_seq_len_caps_the_context(real, backend):
    model = real.load("smollm2", alias="short", backend=backend, max_seq_len=512)
    try:
        assert model.backend.context_length == 512
        assert model.info()["context_length"] == 512
        history = [
            (f"Tell me fact {i} about rivers.", "Rivers flow downhill. " * 8) for i in range(20)
        ]
        chat = Chat(model="short", manager=real, chat_conversation=history)
        response = chat.send(CAPITAL, max_new_tokens=16)
        assert response.params["turns_used"] < 20
        assert response.usage.prompt_tokens + 16 <= 512
    finally:
        real.unload("short")


# --- unloading gives the memory back ---------------------------------------------------------
def test_unload_llamacpp_frees_the_model(real):
    model = real.load("smollm2", alias="gone")
    send(real, "gone", "Say hi.", max_new_tokens=4)
    ref = weakref.ref(model.backend.llm)
    del model
    real.unload("gone")
    assert ref() is None
    with pytest.raises(ModelNotLoadedError):
        Chat(model="gone", manager=real).send("hi")


def test_unload_transformers_frees_the_model(real, record_property):
    gc.collect()
    rss_before = psutil.Process().memory_info().rss
    model = real.load("smollm2", alias="gone-hf", backend="transformers", dtype="float32")
    size = model.backend.memory_bytes()
    send(real, "gone-hf", "Say hi.", max_new_tokens=4)
    rss_loaded = psutil.Process().memory_info().rss
    ref = weakref.ref(model.backend.model)
    del model
    real.unload("gone-hf")
    assert ref() is None
    rss_after = psutil.Process().memory_info().rss
    record_property("rss_loaded_minus_after_mb", (rss_loaded - rss_after) / 1e6)
    assert size > 400e6  # fp32 SmolLM2
    # The allocator may keep some pages, but the weights themselves must not stay resident.
    assert rss_after < rss_before + size / 2


# --- LoRA and RoPE scaling on the tiny model -------------------------------------------------
def _adapter(base_dir: Path, folder: Path, *, random_weights: bool, hidden: int | None = None):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    if hidden is None:
        base = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    else:  # a model of another shape, for an adapter that does not fit
        config = LlamaConfig.from_pretrained(str(base_dir))
        config.hidden_size, config.intermediate_size = hidden, hidden * 2
        base = LlamaForCausalLM(config)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0)
    model = get_peft_model(base, lora)
    if random_weights:  # peft initialises B to zero, which would change nothing
        torch.manual_seed(1)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "lora_" in name:
                    param.normal_(0.0, 1.0)
    model.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("lora")
    return {
        "zero": _adapter(tiny_model_dir, root / "zero", random_weights=False),
        "random": _adapter(tiny_model_dir, root / "random", random_weights=True),
        "other": _adapter(tiny_model_dir, root / "other", random_weights=True, hidden=16),
    }


def test_lora_adapter_changes_generation(manager, tiny_model_dir, adapters):
    base = manager.load(str(tiny_model_dir), alias="base", dtype="float32")
    manager.load(
        str(tiny_model_dir), alias="zero", lora_weights=str(adapters["zero"]), dtype="float32"
    )
    lora = manager.load(
        str(tiny_model_dir), alias="lora", lora_weights=str(adapters["random"]), dtype="float32"
    )
    assert type(lora.backend.model).__name__.startswith("PeftModel")
    assert lora.info()["backend"] == "transformers"
    assert lora.backend.memory_bytes() > base.backend.memory_bytes()
    texts = {}
    for alias in ("base", "zero", "lora"):
        response, _ = send(manager, alias, "Hello there", max_new_tokens=12)
        assert response.usage.completion_tokens == 12
        texts[alias] = response.text
    assert texts["zero"] == texts["base"]  # a zero adapter is the base model
    assert texts["lora"] != texts["base"]
    assert texts["lora"]


@pytest.mark.parametrize(
    ("which", "match"),
    [
        ("missing", "no such directory"),
        ("empty", "not a LoRA adapter"),
        ("file", "no such directory"),
        ("other", "does not fit this model: .*size mismatch"),
    ],
)
def test_bad_lora_weights_are_one_line(manager, tiny_model_dir, adapters, tmp_path, which, match):
    paths = {
        "missing": tmp_path / "nope",
        "empty": tmp_path,
        "file": tmp_path / "adapter.bin",
        "other": adapters["other"],
    }
    (tmp_path / "adapter.bin").write_bytes(b"x")
    with pytest.raises(H2OGPTError, match=match) as err:
        manager.load(str(tiny_model_dir), lora_weights=str(paths[which]), dtype="float32")
    assert "lora_weights" in str(err.value) and "\n" not in str(err.value)
    assert len(manager) == 0


def test_rope_scaling_doubles_the_context(manager, tiny_model_dir):
    base = manager.load(str(tiny_model_dir), alias="base", dtype="float32")
    scaled = manager.load(
        str(tiny_model_dir),
        alias="scaled",
        dtype="float32",
        rope_scaling={"type": "linear", "factor": 2.0},
    )
    assert base.backend.context_length == 1024
    assert scaled.backend.context_length == 2048
    config = scaled.backend.model.config
    rope = getattr(config, "rope_parameters", None) or config.rope_scaling
    assert rope["rope_type"] == "linear" and rope["factor"] == 2.0
    response, _ = send(manager, "scaled", "Hello there", max_new_tokens=6)
    assert response.usage.completion_tokens == 6


def test_rope_scaling_needs_type_and_factor(manager, tiny_model_dir):
    with pytest.raises(InvalidOptionError, match='needs "type" and "factor"'):
        manager.load(str(tiny_model_dir), dtype="float32", rope_scaling={"factor": 2.0})
