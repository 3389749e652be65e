"""Model-name resolution, backend choice and backend plugins: fast, no model is generated from.

Covers every form the README's model table accepts, the errors for names that resolve to
nothing, the refusals of impossible engine/option combinations, and a backend plugin found
through the real ``importlib.metadata`` entry-point path.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from h2ogpt_jupyter.errors import (
    BackendUnavailableError,
    H2OGPTError,
    InvalidOptionError,
    UnknownModelError,
)
from h2ogpt_jupyter.models.backends import (
    LoadOptions,
    ModelSpec,
    available_backends,
    backend_class,
    choose_backend,
    resolve,
)
from h2ogpt_jupyter.models.backends.names import OPENAI_URL, packaged_path

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def opts(**kw) -> LoadOptions:
    return LoadOptions(**kw)


# --- local files -----------------------------------------------------------------------------
@pytest.mark.parametrize("alias", ["smollm2", "SmolLM2", " smollm2 "])
def test_packaged_alias_resolves_to_the_shipped_gguf(alias):
    spec = resolve(alias, opts())
    assert spec.kind == "gguf"
    assert spec.gguf_file == SMOLLM2_FILE
    assert (Path(spec.location) / spec.gguf_file).is_file()
    assert spec.hf_name == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert packaged_path("smollm2") == Path(spec.location) / spec.gguf_file


def test_gguf_file_path(tmp_path):
    model = tmp_path / "my-model.Q4_0.gguf"
    model.write_bytes(b"GGUF")
    spec = resolve(str(model), opts())
    assert (spec.kind, spec.location, spec.gguf_file) == ("gguf", str(tmp_path), model.name)
    assert spec.hf_name == "my-model.Q4_0"


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"x")
    with pytest.raises(UnknownModelError, match=r"not a \.gguf model"):
        resolve(str(weights), opts())


def test_directory_with_config_json_is_an_hf_model(tmp_path):
    folder = tmp_path / "my-llama"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "stray.gguf").write_bytes(b"GGUF")  # config.json wins
    spec = resolve(str(folder), opts())
    assert (spec.kind, spec.location, spec.hf_name) == ("hf", str(folder), "my-llama")


def test_directory_with_one_gguf(tmp_path):
    (tmp_path / "only.Q8_0.gguf").write_bytes(b"GGUF")
    spec = resolve(str(tmp_path), opts())
    assert (spec.kind, spec.gguf_file) == ("gguf", "only.Q8_0.gguf")


def test_directory_with_several_ggufs_names_them(tmp_path):
    for name in ("a.Q4_0.gguf", "a.Q8_0.gguf"):
        (tmp_path / name).write_bytes(b"GGUF")
    with pytest.raises(UnknownModelError, match="several GGUF") as err:
        resolve(str(tmp_path), opts())
    assert "a.Q4_0.gguf" in str(err.value) and "a.Q8_0.gguf" in str(err.value)


def test_empty_directory_is_refused(tmp_path):
    with pytest.raises(UnknownModelError, match=r"without config\.json"):
        resolve(str(tmp_path), opts())


@pytest.mark.parametrize(
    "name", ["/no/such/dir/model.gguf", "./no-such-model", "~/no-such-model-xyz", "x.gguf"]
)
def test_missing_path_is_unknown(name):
    with pytest.raises(UnknownModelError, match="no such model file or directory"):
        resolve(name, opts())


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_name(name):
    with pytest.raises(UnknownModelError, match="no model name"):
        resolve(name, opts())


def test_unknown_bare_word_lists_what_is_accepted():
    with pytest.raises(UnknownModelError, match="packaged alias") as err:
        resolve("no-such-alias", opts())
    assert "smollm2" in str(err.value)


# --- Hugging Face ids ------------------------------------------------------------------------
@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache. huggingface_hub reads HF_HOME once at import, so its
    computed constant is pointed there too."""
    from huggingface_hub import constants

    hub = tmp_path / "hf" / "hub"
    hub.mkdir(parents=True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub))
    return hub


def test_hf_id_not_in_cache_says_downloads_are_off(empty_hf_cache):
    with pytest.raises(UnknownModelError, match="downloads are off") as err:
        resolve("someone/not-cached-model", opts())
    assert "someone/not-cached-model" in str(err.value)


def test_hf_id_not_in_cache_through_the_manager(empty_hf_cache, manager):
    with pytest.raises(UnknownModelError, match="downloads are off"):
        manager.load("someone/not-cached-model")
    assert len(manager) == 0


def test_hf_id_in_the_local_cache_resolves(empty_hf_cache):
    repo = empty_hf_cache / "models--someone--cached-model"
    snapshot = repo / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    spec = resolve("someone/cached-model", opts())
    assert (spec.kind, spec.location, spec.hf_name) == ("hf", "someone/cached-model", spec.name)


def test_allow_download_skips_the_cache_check(empty_hf_cache):
    spec = resolve("someone/not-cached-model", opts(allow_download=True))
    assert spec.kind == "hf"


# --- inference servers -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "api", "url"),
    [
        ("vllm:127.0.0.1:5000", "completions", "http://127.0.0.1:5000/v1"),
        ("vllm:localhost:5000/", "completions", "http://localhost:5000/v1"),
        ("vllm_chat:127.0.0.1:5000", "chat", "http://127.0.0.1:5000/v1"),
        ("vllm_chat:http://10.1.2.3:8000/v1", "chat", "http://10.1.2.3:8000/v1"),
        ("vllm_chat:https://host.example/v1/", "chat", "https://host.example/v1"),
        ("http://localhost:11434/v1", "chat", "http://localhost:11434/v1"),
        ("http://localhost:11434/v1/", "chat", "http://localhost:11434/v1"),
        ("http://127.0.0.1:8080", "chat", "http://127.0.0.1:8080/v1"),
        ("https://gateway.example/openai/v2", "chat", "https://gateway.example/openai/v2"),
    ],
)
def test_server_forms(name, api, url, monkeypatch):
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    monkeypatch.delenv("H2OGPT_INFERENCE_API_KEY", raising=False)
    spec = resolve(name, opts())
    assert (spec.kind, spec.api, spec.location) == ("server", api, url)
    assert spec.server_model == ""  # asked from the server's /v1/models at load
    assert spec.api_key == "EMPTY"


def test_server_model_comes_from_base_model():
    spec = resolve("vllm:127.0.0.1:5000", opts(base_model="meta-llama/Llama-2-7b-chat-hf"))
    assert spec.server_model == "meta-llama/Llama-2-7b-chat-hf"
    spec = resolve("http://127.0.0.1:5000/v1", opts(base_model="qwen2.5"))
    assert spec.server_model == "qwen2.5"


def test_inference_server_option_names_the_server():
    """h2oGPT's split: base_model is the model, inference_server says where it runs."""
    spec = resolve(
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        opts(inference_server="vllm_chat:127.0.0.1:5000", base_model="smol"),
    )
    assert (spec.kind, spec.api, spec.location) == ("server", "chat", "http://127.0.0.1:5000/v1")
    assert spec.server_model == "smol"


def test_server_api_keys(monkeypatch):
    monkeypatch.setenv("VLLM_API_KEY", "vk")
    monkeypatch.setenv("H2OGPT_INFERENCE_API_KEY", "hk")
    assert resolve("vllm:h:1", opts()).api_key == "vk"
    assert resolve("http://h:1/v1", opts()).api_key == "hk"
    assert resolve("vllm:h:1", opts(api_key="given")).api_key == "given"


@pytest.mark.parametrize("name", ["vllm", "vllm:", "vllm_chat:"])
def test_server_without_address(name):
    with pytest.raises(UnknownModelError, match="needs an address"):
        resolve(name, opts())


def test_openai_forms(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    chat = resolve("openai_chat", opts())
    assert (chat.api, chat.location, chat.server_model) == ("chat", OPENAI_URL, "gpt-4o-mini")
    assert chat.api_key == "sk-test"
    named = resolve("openai_chat:gpt-4o", opts())
    assert named.server_model == "gpt-4o"
    completions = resolve("openai:gpt-3.5-turbo-instruct", opts())
    assert (completions.api, completions.server_model) == (
        "completions",
        "gpt-3.5-turbo-instruct",
    )
    with pytest.raises(UnknownModelError, match="needs a model name"):
        resolve("openai", opts())
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert resolve("openai_chat", opts()).location == "http://127.0.0.1:9/v1"


# --- backend choice --------------------------------------------------------------------------
def gguf_spec() -> ModelSpec:
    return ModelSpec("m.gguf", "gguf", "/models", "m.gguf")


def hf_spec() -> ModelSpec:
    return ModelSpec("org/m", "hf", "org/m")


def server_spec() -> ModelSpec:
    return ModelSpec("vllm:h:1", "server", "http://h:1/v1")


@pytest.mark.parametrize(
    ("spec", "options", "expected"),
    [
        (gguf_spec(), {}, "llamacpp"),
        (gguf_spec(), {"load_4bit": True}, "transformers"),
        (gguf_spec(), {"load_8bit": True}, "transformers"),
        (gguf_spec(), {"lora_weights": "/adapter"}, "transformers"),
        (gguf_spec(), {"rope_scaling": {"type": "linear", "factor": 2.0}}, "transformers"),
        (gguf_spec(), {"backend": "transformers"}, "transformers"),
        (hf_spec(), {}, "transformers"),
        (hf_spec(), {"load_4bit": True}, "transformers"),
        (server_spec(), {}, "openai"),
        (server_spec(), {"backend": "openai"}, "openai"),
    ],
)
def test_backend_choice(spec, options, expected):
    assert choose_backend(spec, opts(**options)) == expected


@pytest.mark.parametrize(
    ("spec", "options", "match"),
    [
        (gguf_spec(), {"backend": "llamacpp", "lora_weights": "/a"}, "need backend 'transformers'"),
        (gguf_spec(), {"backend": "llamacpp", "load_4bit": True}, "need backend 'transformers'"),
        (
            gguf_spec(),
            {"backend": "llamacpp", "rope_scaling": {"type": "linear", "factor": 2}},
            "need backend 'transformers'",
        ),
        (hf_spec(), {"backend": "llamacpp"}, "not a GGUF model"),
        (server_spec(), {"backend": "transformers"}, "can only use backend 'openai'"),
        (server_spec(), {"backend": "llamacpp"}, "can only use backend 'openai'"),
    ],
)
def test_impossible_backend_choices(spec, options, match):
    with pytest.raises(InvalidOptionError, match=match):
        choose_backend(spec, opts(**options))


def test_smollm2_with_4bit_goes_to_transformers():
    assert choose_backend(resolve("smollm2", opts()), opts()) == "llamacpp"
    assert choose_backend(resolve("smollm2", opts()), opts(load_4bit=True)) == "transformers"


def test_manager_refuses_a_bad_combination_before_loading(manager):
    with pytest.raises(InvalidOptionError, match="need backend 'transformers'"):
        manager.load("smollm2", backend="llamacpp", lora_weights="/nowhere")
    with pytest.raises(InvalidOptionError, match="can only use backend 'openai'"):
        manager.load("vllm:127.0.0.1:9", backend="transformers")
    assert len(manager) == 0


def test_unknown_backend_lists_the_choices(manager, tiny_model_dir):
    with pytest.raises(InvalidOptionError, match="unknown backend 'nope'") as err:
        manager.load(str(tiny_model_dir), backend="nope")
    message = str(err.value)
    for name in ("auto", "transformers", "llamacpp", "openai"):
        assert name in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"load_8bit": True, "load_4bit": True}, "choose one of load_8bit and load_4bit"),
        ({"dtype": "float8"}, "dtype must be one of"),
        ({"max_seq_len": 4}, "max_seq_len must be at least 16"),
        ({"rope_scaling": 2.0}, "rope_scaling must be a dict"),
        ({"no_such_option": 1}, "unknown load option 'no_such_option'"),
    ],
)
def test_bad_load_options_are_one_line(manager, options, match):
    with pytest.raises(InvalidOptionError, match=match) as err:
        manager.load("smollm2", **options)
    assert "\n" not in str(err.value)


def test_builtin_backends_are_available():
    names = available_backends()
    assert {"transformers", "llamacpp", "openai"} <= set(names)
    assert names == sorted(names)


# --- a plugin through the real entry-point machinery -----------------------------------------
PLUGIN_MODULE = '''
import threading

from h2ogpt_jupyter.models.backends import Backend, StreamEvent


class EchoBackend(Backend):
    """Answers with the prompt's last line, one word per delta."""

    name = "echo"

    def __init__(self, spec, options):
        super().__init__(spec, options)
        self.context_length = 4096
        self.dtype = "none"
        self.closed = False

    def count_tokens(self, text):
        return len(text.split())

    def stream(self, request, cancel):
        words = ["echo:", *request.prompt.strip().splitlines()[-1].split()]
        for word in words:
            if cancel.is_set():
                break
            yield StreamEvent(text=word + " ")
        yield StreamEvent(
            finish_reason="cancelled" if cancel.is_set() else "stop",
            prompt_tokens=self.count_tokens(request.prompt),
            completion_tokens=len(words),
        )

    def close(self):
        self.closed = True


def not_a_backend():
    return None
'''


@pytest.fixture
def echo_plugin(tmp_path, monkeypatch):
    """A distribution installed the way pip would: a module plus a dist-info directory whose
    entry_points.txt declares backends, both on sys.path."""
    (tmp_path / "h2o_echo_plugin.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    dist = tmp_path / "h2o_echo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: h2o-echo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[h2ogpt_jupyter.backends]\n"
        "echo = h2o_echo_plugin:EchoBackend\n"
        "notabackend = h2o_echo_plugin:not_a_backend\n"
        "broken = h2o_echo_plugin_missing:Nothing\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))  # also invalidates the import caches
    importlib.invalidate_caches()  # and importlib.metadata's path cache
    yield tmp_path
    sys.modules.pop("h2o_echo_plugin", None)
    importlib.invalidate_caches()


def test_plugin_backend_is_found_and_used(echo_plugin, manager, tiny_model_dir):
    from h2ogpt_jupyter.chat import Chat

    assert "echo" in available_backends()
    model = manager.load(str(tiny_model_dir), alias="echo", backend="echo")
    assert type(model.backend).__name__ == "EchoBackend"
    assert type(model.backend).__module__ == "h2o_echo_plugin"
    assert model.info()["backend"] == "echo"
    assert model.prompt_type == "plain"  # no model name match and no chat template
    deltas: list[str] = []
    response = Chat(model="echo", manager=manager).send("hello plugin world", on_text=deltas.append)
    assert response.text == "echo: hello plugin world"
    assert len(deltas) >= 4
    assert response.usage.completion_tokens == 4
    backend = model.backend
    manager.unload("echo")
    assert backend.closed


def test_plugin_that_is_not_a_backend_class(echo_plugin, manager, tiny_model_dir):
    with pytest.raises(InvalidOptionError, match="does not provide a Backend class"):
        manager.load(str(tiny_model_dir), backend="notabackend")


def test_plugin_that_fails_to_import_is_one_line(echo_plugin):
    with pytest.raises(BackendUnavailableError, match="backend plugin 'broken'") as err:
        backend_class("broken")
    assert "h2o_echo_plugin_missing" in str(err.value)
    assert isinstance(err.value, H2OGPTError)


def test_unknown_backend_lists_plugins_too(echo_plugin):
    with pytest.raises(InvalidOptionError) as err:
        backend_class("nope")
    assert "echo" in str(err.value)


def test_builtin_names_are_not_taken_from_entry_points():
    """The package's own entry points must not bypass the engine-installed check."""
    from h2ogpt_jupyter.models.backends import _plugins

    assert not {"transformers", "llamacpp", "openai"} & set(_plugins())
    assert backend_class("llamacpp").__name__ == "LlamaCppBackend"
