"""The kernel's model manager: aliases, defaults, unloading, load-option checks."""

import gc
import weakref

import pytest

from h2ogpt_jupyter.errors import InvalidOptionError, ModelNotLoadedError, UnknownModelError


def test_load_lists_what_a_user_needs_to_know(manager, tiny):
    (row,) = manager.list()
    assert row["alias"] == "tiny" and row["default"] is True
    assert row["backend"] == "transformers" and row["dtype"] == "float32"
    assert row["context_length"] == 1024 and row["memory_bytes"] > 0
    assert row["prompt_type"] == "template"  # unknown name, but the tokenizer has a template
    assert row["quantization"] == ""


def test_several_models_default_use_and_unload(manager, tiny_model_dir):
    manager.load(str(tiny_model_dir), alias="a", dtype="float32")
    manager.load(str(tiny_model_dir), alias="b", dtype="float32")
    assert manager.default == "a"
    assert manager.use("b").alias == "b" and manager.get().alias == "b"
    manager.unload("b")
    assert manager.default == "a"
    manager.unload()
    assert len(manager) == 0 and manager.default is None
    with pytest.raises(ModelNotLoadedError, match="no model is loaded"):
        manager.get()
    with pytest.raises(ModelNotLoadedError, match="no model loaded as 'zzz'"):
        manager.use("zzz")


def test_unload_really_releases_the_model(manager, tiny):
    ref = weakref.ref(tiny.backend.model)
    del tiny
    manager.unload("tiny")
    gc.collect()
    assert ref() is None


def test_reloading_an_alias_replaces_the_old_model(manager, tiny, tiny_model_dir):
    old = weakref.ref(tiny.backend.model)
    del tiny
    again = manager.load(str(tiny_model_dir), alias="tiny", dtype="float32")
    gc.collect()
    assert old() is None and manager.get("tiny") is again and len(manager) == 1


def test_default_alias_comes_from_the_name(manager, tiny_model_dir):
    model = manager.load(str(tiny_model_dir), dtype="float32")
    assert model.alias == tiny_model_dir.name


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"alias": "bad alias!"}, InvalidOptionError, "alias 'bad alias!' may use"),
        ({"load_8bit": True, "load_4bit": True}, InvalidOptionError, "not both"),
        ({"dtype": "float8"}, InvalidOptionError, "dtype must be one of"),
        ({"loadd_8bit": True}, InvalidOptionError, "unknown load option 'loadd_8bit'"),
        ({"prompt_type": "nope"}, InvalidOptionError, "unknown prompt_type 'nope'"),
        ({"prompt_type": "custom"}, InvalidOptionError, "needs a prompt_dict"),
        ({"backend": "warp"}, InvalidOptionError, "unknown backend 'warp'"),
        ({"max_seq_len": 4}, InvalidOptionError, "max_seq_len must be at least 16"),
        ({"rope_scaling": "2x"}, InvalidOptionError, "rope_scaling must be a dict"),
    ],
)
def test_bad_load_options_are_one_clear_error_and_load_nothing(
    manager, tiny_model_dir, options, error, message
):
    with pytest.raises(error, match=message):
        manager.load(str(tiny_model_dir), **options)
    assert len(manager) == 0


def test_unknown_and_missing_models(manager, tmp_path):
    with pytest.raises(UnknownModelError, match="no such model file"):
        manager.load(str(tmp_path / "missing.gguf"))
    with pytest.raises(UnknownModelError, match="unknown model 'not a model'"):
        manager.load("not a model")


def test_custom_prompt_dict(manager, tiny_model_dir):
    from h2ogpt_jupyter.chat import Chat
    from h2ogpt_jupyter.prompts import get_prompt_format

    prompt_dict = get_prompt_format("human_bot").to_dict()
    prompt_dict.update(PreInstruct="<user>: ", PreResponse="<assistant>:")
    manager.load(
        str(tiny_model_dir),
        alias="c",
        dtype="float32",
        prompt_type="custom",
        prompt_dict=prompt_dict,
    )
    assert Chat("c", manager=manager).prompt("Hi") == "<user>: Hi\n<assistant>:"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_seq_len": "abc"}, "max_seq_len must be a whole number"),
        ({"n_threads": "many"}, "n_threads must be a whole number"),
        ({"load_4bit": "maybe"}, "load_4bit must be true or false"),
        ({"backend": 3}, "backend must be text"),
    ],
)
def test_load_option_types_are_checked_in_python_too(manager, tiny_model_dir, options, message):
    with pytest.raises(InvalidOptionError, match=message):
        manager.load(str(tiny_model_dir), **options)
