"""Each option is declared once: the checks, the panel, the server schema, the magics and the
config all read the same row, so a bound or a default cannot differ between them."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import pytest
from pydantic import ValidationError

from h2ogpt_jupyter.chat.retrieval import DocQuery
from h2ogpt_jupyter.errors import InvalidOptionError
from h2ogpt_jupyter.magics._args import FLAGS
from h2ogpt_jupyter.models.backends import LoadOptions
from h2ogpt_jupyter.models.params import GenerationParams
from h2ogpt_jupyter.options import (
    DOCUMENTS,
    GENERATION,
    LOAD,
    SUBSETS,
    OptionValueError,
    parse_bool,
)
from h2ogpt_jupyter.panels._settings import param_specs
from h2ogpt_jupyter.server.schemas import ChatCompletionRequest

NUMERIC = [o for o in GENERATION.values() if o.kind in ("int", "float")]


@pytest.mark.parametrize("word", ["true", "TRUE", " yes ", "On", "1", 1, True])
def test_true_words(word: Any) -> None:
    assert parse_bool("flag", word) is True


@pytest.mark.parametrize("word", ["false", "No", "OFF", "0", 0, False])
def test_false_words(word: Any) -> None:
    assert parse_bool("flag", word) is False


@pytest.mark.parametrize("word", ["maybe", "", 2, None, "truthy"])
def test_anything_else_is_refused_by_name(word: Any) -> None:
    with pytest.raises(InvalidOptionError, match="flag must be true or false"):
        parse_bool("flag", word)


def test_dataclass_fields_are_the_tables_rows_with_their_defaults() -> None:
    for cls, table in ((GenerationParams, GENERATION), (LoadOptions, LOAD)):
        fields = dataclasses.fields(cls)
        assert [f.name for f in fields] == list(table)
        for f in fields:
            assert f.default == table[f.name].default, f.name
    docs = DocQuery()
    for name in ("document_subset", "top_k_docs", "cut_distance", "docs_ordering_type"):
        assert getattr(docs, name) == DOCUMENTS[name].default


@pytest.mark.parametrize("option", NUMERIC, ids=lambda o: o.name)
def test_bounds_hold_in_python_and_in_the_server_schema(option: Any) -> None:
    low, high = option.low, option.high
    step = 1 if option.kind == "int" else 0.5
    base = {"messages": [{"role": "user", "content": "x"}]}
    for ok in (low, high):
        GenerationParams.from_options(**{option.name: ok, "max_new_tokens": 10**6})
        if option.name in ChatCompletionRequest.model_fields:
            ChatCompletionRequest(**base, **{option.name: ok})
    for bad in (low - step, high + step):
        with pytest.raises(OptionValueError, match=f"{option.name} must be between"):
            GenerationParams.from_options(**{option.name: bad})
        if option.name in ChatCompletionRequest.model_fields and option.name != "top_k":
            with pytest.raises(ValidationError):
                ChatCompletionRequest(**base, **{option.name: bad})


def test_the_schema_describes_fields_with_the_tables_help() -> None:
    fields = ChatCompletionRequest.model_fields
    for name in ("temperature", "top_p", "repetition_penalty", "max_time", "seed"):
        description = fields[name].description or ""
        assert description.lower().startswith(GENERATION[name].help.lower()), name
    assert fields["top_k_docs"].description.lower().startswith(DOCUMENTS["top_k_docs"].help)
    subset = typing.get_args(fields["document_subset"].annotation)[0]
    assert typing.get_args(subset) == SUBSETS


def test_the_panel_draws_every_parameter_from_its_row() -> None:
    specs = {s["name"]: s for s in param_specs()}
    assert list(specs) == list(GENERATION)
    for option in NUMERIC:
        spec = specs[option.name]
        assert (spec["min"], spec["max"], spec["default"], spec["help"]) == (
            option.low,
            option.high,
            option.default,
            option.help,
        )


def test_switches_are_the_options_off_by_default() -> None:
    table_switches = {o.name for t in (GENERATION, LOAD) for o in t.values() if o.switch}
    assert table_switches == {
        "early_stopping",
        "load_8bit",
        "load_4bit",
        "trust_remote_code",
        "allow_download",
    }
    assert table_switches <= FLAGS
    assert "flash_attn" not in FLAGS  # on by default: it takes a value (--flash-attn off)


def test_load_options_take_every_boolean_word_and_refuse_the_rest() -> None:
    assert LoadOptions(flash_attn="off").flash_attn is False
    assert LoadOptions(load_4bit="on").load_4bit is True
    with pytest.raises(OptionValueError) as err:
        LoadOptions(load_4bit="maybe")
    assert str(err.value) == "load_4bit must be true or false, not 'maybe'"
    assert err.value.as_flag() == "--load-4bit is true or false, not 'maybe'"


def test_refusals_name_the_option_in_python_and_as_a_switch() -> None:
    with pytest.raises(OptionValueError) as err:
        LoadOptions(max_seq_len="abc")
    assert str(err.value) == "max_seq_len must be a whole number, not 'abc'"
    assert err.value.as_flag() == "--max-seq-len needs a whole number, not 'abc'"
    with pytest.raises(OptionValueError) as err:
        LoadOptions(max_seq_len=8)
    assert err.value.as_flag() == "--max-seq-len must be at least 16, not 8"
    with pytest.raises(InvalidOptionError, match="max_new_tokens must be an integer, not inf"):
        GenerationParams(max_new_tokens=float("inf"))
    assert GenerationParams(temperature=1).temperature == 1.0
    assert isinstance(GenerationParams(temperature=1).temperature, float)
