"""Settings from Jupyter/IPython config (``c.H2OGPT.default_model = ...``) or ``H2OGPT_*``
environment variables, as :data:`h2ogpt_jupyter.options.SETTINGS` declares them.

Config files win over the environment; the environment wins over built-in defaults. The
settings object is created from the IPython shell when the extension loads, so every config
file the user already has for IPython or Jupyter applies. A bad value in the environment is
reported in one line and the default used, as a bad value in a config file is.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Enum, TraitError, TraitType, Unicode
from traitlets.config import Configurable

from .errors import H2OGPTError
from .options import SETTINGS, Setting


def _from_env(setting: Setting) -> Any:
    try:
        value = setting.from_env()
    except H2OGPTError as exc:
        print(f"h2ogpt: {setting.env} ignored: {exc}", file=sys.stderr)
        value = setting.default
    if setting.name == "data_dir" and not value:
        from platformdirs import user_data_dir

        value = user_data_dir("h2ogpt-jupyter")
    return value


def _trait(kind: type[TraitType[Any, Any]], name: str, *args: Any) -> Any:
    """The trait for setting ``name``: its help from the table, its default read from
    ``H2OGPT_<NAME>`` when first asked for (so a test or a notebook can set the variable
    before the settings are read)."""
    setting = SETTINGS[name]

    class FromEnv(kind):  # type: ignore[valid-type,misc]
        def default(self, obj: Any = None) -> Any:
            return _from_env(setting)

    return FromEnv(*args, help=setting.help, allow_none=setting.optional).tag(config=True)


class H2OGPT(Configurable):
    """h2ogpt-jupyter settings; every trait is a row of :data:`~h2ogpt_jupyter.options.SETTINGS`."""

    default_model: Unicode[str, str] = _trait(Unicode, "default_model")
    backend: Unicode[str, str] = _trait(Unicode, "backend")
    data_dir: Unicode[str, str] = _trait(Unicode, "data_dir")
    output: Enum[str] = _trait(Enum, "output", list(SETTINGS["output"].choices))
    allow_download: Bool[bool, bool] = _trait(Bool, "allow_download")
    generation: Dict[str, Any] = _trait(Dict, "generation")
    hf_embedding_model: Unicode[str, str] = _trait(Unicode, "hf_embedding_model")
    userdata_dir: Unicode[str, str] = _trait(Unicode, "userdata_dir")
    chroma_url: Unicode[str, str] = _trait(Unicode, "chroma_url")
    allow_upload_to_user_data: Bool[bool, bool] = _trait(Bool, "allow_upload_to_user_data")
    pre_prompt_query: Unicode[str | None, str | None] = _trait(Unicode, "pre_prompt_query")
    prompt_query: Unicode[str | None, str | None] = _trait(Unicode, "prompt_query")
    pre_prompt_summary: Unicode[str | None, str | None] = _trait(Unicode, "pre_prompt_summary")
    prompt_summary: Unicode[str | None, str | None] = _trait(Unicode, "prompt_summary")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()


_settings: H2OGPT | None = None


def settings() -> H2OGPT:
    """The settings in force, read on first use."""
    global _settings
    if _settings is None:
        _settings = H2OGPT()
    return _settings


def reset() -> None:
    """Forget the settings read so far: the next :func:`settings` reads the environment (and
    built-in defaults) again, e.g. after ``os.environ["H2OGPT_DATA_DIR"]`` changed."""
    global _settings
    _settings = None


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


# --- one load of weights at a time -----------------------------------------------------------
_WEIGHTS = threading.RLock()


@contextmanager
def loading_weights() -> Iterator[None]:
    """Hold this while building or loading a torch model in this process.

    transformers' ``from_pretrained`` swaps torch's init functions, ``init_weights`` and
    ``tie_weights`` for no-ops process-wide, and puts back what it found when it ends. Two
    loads at once on two threads (a model, the embedder, a score model) leave models untied,
    uninitialised or on the meta device, and can leave the no-ops in place for the rest of the
    process. Re-entrant: a load may convert a GGUF or add an adapter inside it.
    """
    with _WEIGHTS:
        yield


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
