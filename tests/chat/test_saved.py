"""Saved chats under the data directory: save, list, load, delete, export, import."""

import json

import pytest

from h2ogpt_jupyter.chat import Chat, saved
from h2ogpt_jupyter.errors import H2OGPTError


def make_chat(name="", turns=2):
    chat = Chat("some-model", system_prompt="Be kind.", name=name)
    chat.history = [(f"q{i}", f"a{i}") for i in range(turns)]
    return chat


def test_save_list_load_delete():
    name = saved.save(make_chat(), "trip plans")
    assert name == "trip plans"
    rows = saved.list_saved()
    assert [(r["name"], r["turns"], r["model"]) for r in rows] == [("trip plans", 2, "some-model")]
    loaded = saved.load("trip plans")
    assert loaded.history == [("q0", "a0"), ("q1", "a1")] and loaded.system_prompt == "Be kind."
    saved.delete("trip plans")
    assert saved.list_saved() == []
    with pytest.raises(H2OGPTError, match="no saved chat named 'trip plans'"):
        saved.load("trip plans")


def test_default_name_and_no_temporary_files_left():
    name = saved.save(make_chat())
    assert name.startswith("chat-")
    assert [p.name for p in saved.chats_dir().iterdir()] == [f"{name}.json"]


@pytest.mark.parametrize("bad", ["../escape", "a/b", ".hidden", "   ", "x" * 101, "dots."])
def test_names_that_could_escape_the_folder_are_refused(bad):
    with pytest.raises(H2OGPTError, match="bad chat name"):
        saved.save(make_chat(), bad)


def test_a_corrupt_file_is_listed_with_its_error_and_refused_on_load():
    saved.chats_dir().mkdir(parents=True, exist_ok=True)
    (saved.chats_dir() / "broken.json").write_text("{not json")
    (row,) = saved.list_saved()
    assert row["name"] == "broken" and "error" in row
    with pytest.raises(H2OGPTError, match="not valid JSON"):
        saved.load("broken")


def test_export_then_import_never_overwrites(tmp_path):
    saved.save(make_chat(turns=1), "alpha")
    saved.save(make_chat(turns=3), "beta")
    out = saved.export(tmp_path / "all.json")
    data = json.loads(out.read_text())
    assert data["kind"] == "h2ogpt-jupyter-chats" and len(data["chats"]) == 2
    names = saved.import_file(out)
    assert sorted(names) == ["alpha-2", "beta-2"]
    assert saved.load("beta-2").history == saved.load("beta").history


def test_import_refuses_foreign_files_and_writes_nothing(tmp_path):
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"kind": "h2ogpt-jupyter-chats", "chats": [{"history": [[1]]}]}))
    with pytest.raises(H2OGPTError, match="not a saved chat"):
        saved.import_file(bad)
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(H2OGPTError, match="is not a chat export"):
        saved.import_file(tmp_path / "list.json")
    assert saved.list_saved() == []
