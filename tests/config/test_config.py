"""``c.H2OGPT.*`` and ``H2OGPT_*``: every setting comes from the SETTINGS table, booleans are
read by the one parser, and a bad value in the environment is one line, not a silent false."""

from __future__ import annotations

import pytest

from h2ogpt_jupyter import config
from h2ogpt_jupyter.options import SETTINGS


def test_every_setting_is_a_configurable_trait_with_the_tables_help() -> None:
    traits = config.H2OGPT.class_traits(config=True)
    assert set(traits) == set(SETTINGS)
    for name, trait in traits.items():
        assert trait.help == SETTINGS[name].help


@pytest.mark.parametrize(
    ("word", "value"), [("on", True), ("YES", True), ("1", True), ("off", False)]
)
def test_allow_download_reads_every_boolean_word(
    word: str, value: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("H2OGPT_ALLOW_DOWNLOAD", word)
    config.reset()
    assert config.settings().allow_download is value


def test_a_bad_environment_value_is_one_line_and_the_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("H2OGPT_ALLOW_UPLOAD_TO_USER_DATA", "perhaps")
    monkeypatch.setenv("H2OGPT_OUTPUT", "html")
    config.reset()
    s = config.settings()
    assert s.allow_upload_to_user_data is True and s.output == "markdown"
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "h2ogpt: H2OGPT_ALLOW_UPLOAD_TO_USER_DATA ignored: allow_upload_to_user_data must be "
        "true or false, not 'perhaps'",
        "h2ogpt: H2OGPT_OUTPUT ignored: output must be one of markdown, text, code, not 'html'",
    ]


def test_config_files_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from traitlets.config import Config

    monkeypatch.setenv("H2OGPT_DEFAULT_MODEL", "from-env")
    c = Config()
    c.H2OGPT.default_model = "from-config"
    assert config.H2OGPT(config=c).default_model == "from-config"
    assert config.H2OGPT().default_model == "from-env"


def test_reset_reads_the_environment_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H2OGPT_CHROMA_URL", "http://127.0.0.1:1")
    config.reset()
    assert config.settings().chroma_url == "http://127.0.0.1:1"
    monkeypatch.setenv("H2OGPT_CHROMA_URL", "http://127.0.0.1:2")
    assert config.settings().chroma_url == "http://127.0.0.1:1"  # read once
    config.reset()
    assert config.settings().chroma_url == "http://127.0.0.1:2"
