"""What a server is started with: models to load, keys to accept, limits.

Models are named on the command line as ``[ALIAS=]NAME[?OPTION=VALUE&...]``, e.g.
``smollm2``, ``tiny=/models/tiny?dtype=float32`` or ``chat=/m/x.gguf?prompt_type=zephyr``:
the alias is what clients put in ``model``; options are the manager's load options
(h2oGPT's names). Options given with ``--load-option`` apply to every model; a model's own
``?`` options win. Values are text unless they look like JSON (``{...}`` for ``prompt_dict`` or
``rope_scaling``); the load options themselves convert ``true``/``8`` and refuse bad ones.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from h2ogpt_jupyter.errors import InvalidOptionError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000  # h2oGPT's OpenAI-compatible server port
DEFAULT_MAX_QUEUE = 64
KEYS_ENV = "H2OGPT_API_KEYS"
_ALIAS = re.compile(r"[\w.\-]+")


@dataclass
class ModelArg:
    """One ``--model``: the name to resolve, the alias to serve it as, its load options."""

    name: str
    alias: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServerConfig:
    """Everything :func:`h2ogpt_jupyter.server.create_app` needs.

    With no ``models`` the server answers with whatever the manager holds (a server started
    inside a kernel next to its notebook); ``embedding_model`` None means the documents'
    configured or packaged model. ``api_keys`` empty means no key is asked for.
    """

    models: list[ModelArg] = field(default_factory=list)
    load_options: dict[str, Any] = field(default_factory=dict)
    api_keys: list[str] = field(default_factory=list)
    max_queue: int = DEFAULT_MAX_QUEUE
    embedding_model: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    root_path: str = ""

    def __post_init__(self) -> None:
        if self.max_queue < 1:
            raise InvalidOptionError(f"max_queue must be at least 1, not {self.max_queue}")


def _value(text: str) -> Any:
    if text[:1] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise InvalidOptionError(f"option value is not valid JSON: {text}") from None
    return text


def parse_option(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from ``--load-option``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InvalidOptionError(f"expected KEY=VALUE, not {text!r}")
    return key.strip().replace("-", "_"), _value(value.strip())


def parse_model(text: str) -> ModelArg:
    """``[ALIAS=]NAME[?KEY=VALUE&...]`` from ``--model``.

    Only a plain word before the first ``=`` is an alias, so a path such as ``/a=b/model`` is
    still read as a path.
    """
    text = text.strip()
    alias: str | None = None
    head, sep, rest = text.partition("=")
    if sep and _ALIAS.fullmatch(head) and rest:
        alias, text = head, rest
    name, _, query = text.partition("?")
    if not name:
        raise InvalidOptionError(f"no model name in {text!r}")
    options: dict[str, Any] = {}
    if query:
        for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
            options[key.replace("-", "_")] = _value(value)
    return ModelArg(name=name, alias=alias, options=options)


def read_keys_file(path: str | os.PathLike[str]) -> list[str]:
    """API keys from a file: a JSON list of strings, or one key per line (``#`` comments)."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidOptionError(f"cannot read API keys file {file}: {exc.strerror}") from None
    if text.lstrip().startswith("["):
        try:
            keys = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidOptionError(f"API keys file {file} is not valid JSON: {exc}") from None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise InvalidOptionError(f"API keys file {file} must hold a list of strings")
        return [k.strip() for k in keys if k.strip()]
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def collect_keys(
    given: list[str] | None = None,
    files: list[str] | None = None,
    environ: dict[str, str] | None = None,
) -> list[str]:
    """Keys from ``--api-key``, ``--api-keys-file`` and ``H2OGPT_API_KEYS`` (comma-separated),
    without duplicates, in that order."""
    env = os.environ if environ is None else environ
    keys = [k.strip() for k in given or [] if k.strip()]
    for path in files or []:
        keys.extend(read_keys_file(path))
    keys.extend(k.strip() for k in env.get(KEYS_ENV, "").split(",") if k.strip())
    return list(dict.fromkeys(keys))
