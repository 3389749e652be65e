"""Settings from Jupyter/IPython config (``c.H2OGPT.default_model = ...``) or ``H2OGPT_*``
environment variables.

Config files win over the environment; the environment wins over built-in defaults. The
settings object is created from the IPython shell when the extension loads, so every config
file the user already has for IPython or Jupyter applies.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Enum, TraitError, Unicode, default
from traitlets.config import Configurable


def _env(name: str, fallback: str = "") -> str:
    return os.environ.get(f"H2OGPT_{name}", fallback)


class H2OGPT(Configurable):
    """h2ogpt-jupyter settings."""

    default_model = Unicode(
        help="Model loaded on first use when none is loaded (e.g. 'smollm2')."
    ).tag(config=True)
    backend = Unicode(help="Engine: auto, transformers, llamacpp or openai.").tag(config=True)
    data_dir = Unicode(help="Where chats and personal collections are kept.").tag(config=True)
    output = Enum(
        ["markdown", "text", "code"],
        default_value="markdown",  # replaced by _output below, which reads H2OGPT_OUTPUT
        help="How magics show answers: markdown, text or code.",
    ).tag(config=True)
    allow_download = Bool(help="Let transformers fetch models from a hub (off by default).").tag(
        config=True
    )
    generation = Dict(help="Default generation parameters, e.g. {'max_new_tokens': 256}.").tag(
        config=True
    )

    @default("default_model")
    def _default_model(self) -> str:
        return _env("DEFAULT_MODEL")

    @default("backend")
    def _backend(self) -> str:
        return _env("BACKEND", "auto")

    @default("data_dir")
    def _data_dir(self) -> str:
        found = _env("DATA_DIR")
        if found:
            return found
        from platformdirs import user_data_dir

        return user_data_dir("h2ogpt-jupyter")

    @default("output")
    def _output(self) -> str:
        value = _env("OUTPUT", "markdown")
        return value if value in ("markdown", "text", "code") else "markdown"

    @default("allow_download")
    def _allow_download(self) -> bool:
        return _env("ALLOW_DOWNLOAD").lower() in ("1", "true", "yes")

    hf_embedding_model = Unicode(
        help="Local sentence-transformers folder for document collections (default: MiniLM)."
    ).tag(config=True)
    userdata_dir = Unicode(
        help="Folder of the shared UserData collection, e.g. on a JupyterHub shared volume."
    ).tag(config=True)
    chroma_url = Unicode(
        help="Chroma server (e.g. 'http://127.0.0.1:8000') that holds every collection "
        "instead of local folders; empty: local folders."
    ).tag(config=True)

    @default("generation")
    def _generation(self) -> dict[str, Any]:
        return {}

    @default("hf_embedding_model")
    def _hf_embedding_model(self) -> str:
        return _env("HF_EMBEDDING_MODEL")

    @default("userdata_dir")
    def _userdata_dir(self) -> str:
        return _env("USERDATA_DIR")

    @default("chroma_url")
    def _chroma_url(self) -> str:
        return _env("CHROMA_URL")

    allow_upload_to_user_data = Bool(
        help="Whether this user may add to, delete from or re-embed the shared UserData "
        "collection (h2oGPT's option of the same name); reading it is always allowed."
    ).tag(config=True)

    @default("allow_upload_to_user_data")
    def _allow_upload_to_user_data(self) -> bool:
        return _env("ALLOW_UPLOAD_TO_USER_DATA", "1").lower() not in ("0", "false", "no", "off")

    pre_prompt_query = Unicode(
        None,
        allow_none=True,
        help="Sentence before the documents in a question (None: h2oGPT's; e.g. another language).",
    ).tag(config=True)
    prompt_query = Unicode(
        None, allow_none=True, help="Sentence after the documents, before the question."
    ).tag(config=True)
    pre_prompt_summary = Unicode(
        None, allow_none=True, help="Sentence before the text to summarize or extract from."
    ).tag(config=True)
    prompt_summary = Unicode(
        None, allow_none=True, help="Sentence after the text to summarize or extract from."
    ).tag(config=True)

    @default("pre_prompt_query")
    def _pre_prompt_query(self) -> str | None:
        return os.environ.get("H2OGPT_PRE_PROMPT_QUERY")

    @default("prompt_query")
    def _prompt_query(self) -> str | None:
        return os.environ.get("H2OGPT_PROMPT_QUERY")

    @default("pre_prompt_summary")
    def _pre_prompt_summary(self) -> str | None:
        return os.environ.get("H2OGPT_PRE_PROMPT_SUMMARY")

    @default("prompt_summary")
    def _prompt_summary(self) -> str | None:
        return os.environ.get("H2OGPT_PROMPT_SUMMARY")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()


_settings: H2OGPT | None = None


def settings() -> H2OGPT:
    global _settings
    if _settings is None:
        _settings = H2OGPT()
    return _settings


def configure(parent: Any = None) -> H2OGPT:
    """Re-read settings with ``parent``'s config (the IPython shell).

    A bad value in a config file is reported in one line and the built-in defaults are used,
    so a typo there never stops ``%load_ext`` with a traceback.
    """
    global _settings
    try:
        _settings = H2OGPT(parent=parent)
    except TraitError as exc:
        print(f"h2ogpt: config ignored: {exc}", file=sys.stderr)
        _settings = H2OGPT()
    return _settings


# --- nothing leaves the machine ---------------------------------------------------------------
_QUIET = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def go_offline(allow_download: bool = False) -> None:
    """Keep every hub and telemetry client quiet; set before they are imported, since
    huggingface_hub and transformers read these variables once, at import. A user who allowed
    downloads keeps whatever they set themselves."""
    for key, value in _QUIET.items():
        os.environ.setdefault(key, value)
    if not allow_download:
        for key, value in _OFFLINE.items():
            os.environ.setdefault(key, value)
