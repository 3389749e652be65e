"""``%h2ogpt server start|stop|status|url`` and ``%h2ogpt load server``: an OpenAI-compatible
server next to the notebook.

``server start`` runs ``h2ogpt-jupyter serve`` as a separate process for the model loaded in
this kernel (same name, alias and load options), so clients never wait on the notebook and a
crash on one side leaves the other running; the model is loaded a second time, over there.
A server this kernel started stops when the kernel exits, unless started with ``--keep``.
Every kernel on the machine finds running servers through their runtime files
(:mod:`h2ogpt_jupyter.server.runtime`): ``status`` lists them and ``load server`` connects to
the newest. ``load`` is registered here to catch ``server[:MODEL]`` and ``--token``; any other
``load`` goes on to the usual command unchanged.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from h2ogpt_jupyter.config import settings
from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.server.runtime import proxied_url, running_servers

from ._args import Parsed
from ._display import show_markdown

if TYPE_CHECKING:
    from h2ogpt_jupyter.models.manager import LoadedModel
    from h2ogpt_jupyter.server.process import ServerProcess

    from ._commands import Commands

HELP = """
| `server start [--model ALIAS\\|NAME] [--port 5000] [--host H] [--api-key K] [--keep] [-o VAR]` | serve the kernel's model over an OpenAI-compatible API, in its own process |
| `server status` · `server url [--port N]` · `server stop [--port N]` | running servers; a server's address; stop ours (or the one on port N) |
| `load server[:MODEL] [--port N] [--api-key K]` · `load URL --token T` | use a running server (`--token`: Jupyter's, for one behind jupyter-server-proxy) |
"""  # noqa: E501 (rows of the help table)

NO_SERVER = "no h2oGPT server is running; start one with %h2ogpt server start"
KEY_ENV = "H2OGPT_API_KEY"  # the key a client sends to an h2oGPT server
# Load options that only make sense for a server model, never passed on to a served one.
_CLIENT_ONLY = {"api_key", "inference_server", "base_model"}
# Settings the server process must share with the kernel (where runtime files and collections
# live), passed as the H2OGPT_* variables it reads, since kernel config files are not read there.
_SHARED = ("hf_embedding_model", "userdata_dir", "chroma_url", "pre_prompt_query", "prompt_query")


@dataclass
class _Started:
    process: ServerProcess
    keep: bool
    api_key: str | None


_STARTED: dict[int, _Started] = {}  # port -> a server this kernel started


def _check(p: Parsed, allowed: set[str], what: str) -> None:
    unknown = set(p.options) - allowed
    if unknown:
        flag = sorted(unknown)[0].replace("_", "-")
        raise InvalidOptionError(f"{what} takes no option --{flag}")
    if p.words[1:]:
        raise InvalidOptionError(f"{what} takes options only, not {' '.join(p.words[1:])!r}")


def _port(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise InvalidOptionError(f"--port needs a whole number from 0 to 65535, not {value!r}")
    return value


def _text(p: Parsed, name: str) -> str | None:
    value = p.options.get(name)
    if value is None:
        return None
    if value is True or not str(value).strip():
        raise InvalidOptionError(f"--{name.replace('_', '-')} needs a value")
    return str(value).strip()


def _live() -> dict[int, _Started]:
    """Servers this kernel started that are still running (one that died is forgotten)."""
    for port in [p for p, s in _STARTED.items() if s.process.process.poll() is not None]:
        del _STARTED[port]
    return _STARTED


def _stop_at_exit() -> None:
    """Ask each server to stop (a graceful stop that removes its runtime file) without waiting:
    Jupyter gives an exiting kernel 2.5 s before it signals the kernel's whole process group,
    kept servers included."""
    for started in _STARTED.values():
        if not started.keep and started.process.process.poll() is None:
            started.process.process.terminate()


# --- start ---------------------------------------------------------------------------------------
def _served_model(model: LoadedModel) -> str:
    """``ALIAS=NAME?OPTIONS`` for ``serve --model``: the kernel's model as it was loaded."""
    from h2ogpt_jupyter.models.backends import PACKAGED, LoadOptions

    defaults = LoadOptions()
    query: dict[str, str] = {}
    for f in dataclasses.fields(LoadOptions):
        value = getattr(model.options, f.name)
        if f.name in _CLIENT_ONLY or value == getattr(defaults, f.name):
            continue
        if isinstance(value, (dict, list)):
            query[f.name] = json.dumps(value)
        else:
            query[f.name] = str(value).lower() if isinstance(value, bool) else str(value)
    name = model.spec.name
    path = Path(name).expanduser()
    if name.lower() not in PACKAGED and path.exists():
        name = str(path.resolve())  # the same file whatever the server's working folder
    return f"{model.alias}={name}" + (f"?{urlencode(query)}" if query else "")


def _model_argument(cmds: Commands, requested: Any) -> tuple[str, str]:
    """What to serve, and how to name it to the user: a loaded alias, or any model name."""
    from h2ogpt_jupyter.server.config import parse_model

    manager = cmds.manager
    if requested is not None and str(requested) not in manager:
        text = str(requested).strip()
        parse_model(text)  # a malformed name is refused here, not in the other process
        return text, text
    if requested is None and len(manager) == 0:
        default = settings().default_model
        if not default:
            raise H2OGPTError(
                "no model is loaded to serve; load one first (%h2ogpt load smollm2) "
                "or name one: %h2ogpt server start --model smollm2"
            )
        return default, default
    model = manager.get(None if requested is None else str(requested))
    if model.spec.kind == "server":
        raise H2OGPTError(
            f"'{model.alias}' is already a server ({model.spec.location}); "
            "serve a local model instead (--model NAME)"
        )
    return _served_model(model), f"'{model.alias}'"


def _free(host: str, port: int) -> bool:
    from h2ogpt_jupyter.server.serve import bind

    try:
        bind(host, port).close()
    except H2OGPTError:
        return False
    return True


def _environment(api_key: str | None) -> dict[str, str]:
    from h2ogpt_jupyter.server.config import KEYS_ENV

    s = settings()
    env = {f"H2OGPT_{n.upper()}": getattr(s, n) for n in _SHARED if getattr(s, n)}
    env["H2OGPT_DATA_DIR"] = str(s.data_path)
    env["H2OGPT_ALLOW_UPLOAD_TO_USER_DATA"] = "1" if s.allow_upload_to_user_data else "0"
    if api_key:
        env[KEYS_ENV] = api_key  # in the environment: the process list would show an argument
    return env


def _one_line(error: H2OGPTError) -> str:
    """``start_server``'s error with its log tail, as one line: the cause is the last line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else "the server did not start"
    cause = lines[-1].removeprefix("h2ogpt server: ").removeprefix("h2ogpt-jupyter serve: ")
    return f"{lines[0].rstrip(':')}: {cause}"


def start(cmds: Commands, p: Parsed) -> None:
    from h2ogpt_jupyter.server.config import DEFAULT_HOST, DEFAULT_PORT
    from h2ogpt_jupyter.server.process import start_server

    _check(p, {"model", "port", "host", "api_key", "keep", "out"}, "server start")
    host = _text(p, "host") or DEFAULT_HOST
    port = _port(p.options.get("port"))
    key = _text(p, "api_key")
    out = p.options.get("out")
    if out is not None and not str(out).isidentifier():
        raise InvalidOptionError(f"-o needs a variable name, not {out!r}")
    model, label = _model_argument(cmds, p.options.get("model"))
    if port is None:  # h2oGPT's port when it is free, else any free one
        port = DEFAULT_PORT if _free(host, DEFAULT_PORT) else 0
    elif port and not _free(host, port):
        raise H2OGPTError(f"port {port} on {host} is in use; choose another --port (0: any free)")
    print(f"Starting a server for {label} (it loads the model in its own process)…", flush=True)
    args = ["--model", model, "--host", host, "--port", str(port)]
    keep = bool(p.options.get("keep"))
    if not keep:  # the server ends with this kernel, even a killed one
        args += ["--parent-pid", str(os.getpid())]
    try:
        server = start_server(args, env=_environment(key), own_session=True)
    except H2OGPTError as exc:
        raise H2OGPTError(_one_line(exc)) from None
    _STARTED[server.port] = _Started(server, keep, key)
    atexit.unregister(_stop_at_exit)  # registered once, however many servers
    atexit.register(_stop_at_exit)
    if out is not None:
        cmds.shell.user_ns[str(out)] = server
    info = _info(server.port) or {}
    served = ", ".join(info.get("models") or []) or label
    print(f"Serving {served} at {server.api_base} (pid {server.pid}).")
    secret = '"<your key>"' if info.get("api_key_required") else '"unused"'
    print(f'Use it with openai.OpenAI(base_url="{server.api_base}", api_key={secret}).')
    _print_proxied(info or {"port": server.port})
    if host not in ("127.0.0.1", "localhost", "::1") and not info.get("api_key_required"):
        print(f"Note: it listens on {host} without an API key (--api-key K asks for one).")


# --- status, url, stop ---------------------------------------------------------------------------
def _info(port: int) -> dict[str, Any] | None:
    return next((i for i in running_servers() if i.get("port") == port), None)


def _none_on(port: int) -> Any:
    raise H2OGPTError(f"no h2oGPT server is running on port {port}")


def _pick(port: int | None) -> dict[str, Any]:
    """The server on ``port``; else the newest this kernel started; else the newest running."""
    servers = running_servers()
    if port is not None:
        servers = [i for i in servers if i.get("port") == port] or _none_on(port)
    ours = [i for i in servers if i.get("port") in _live()]
    if ours or servers:
        return (ours or servers)[0]
    raise H2OGPTError(NO_SERVER)


def _uptime(started: Any) -> str:
    minutes = max(0, int(time.time() - float(started or time.time()))) // 60
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def status(cmds: Commands, p: Parsed) -> None:
    _check(p, {"out"}, "server status")
    rows = running_servers()
    if p.options.get("out") is not None:
        cmds.shell.user_ns[str(p.options["out"])] = rows
    if not rows:
        print("No h2oGPT server is running; start one with %h2ogpt server start")
        return
    mine = _live()
    lines = ["| url | models | pid | uptime | API key | started by |", "|---|---|---|---|---|---|"]
    for i in rows:
        port = i.get("port")
        by = "-" if port not in mine else "this kernel" + (" (kept)" if mine[port].keep else "")
        lines.append(
            f"| {i.get('api_base')} | {', '.join(i.get('models') or [])} | {i.get('pid')} "
            f"| {_uptime(i.get('started'))} | {'required' if i.get('api_key_required') else 'no'} "
            f"| {by} |"
        )
    show_markdown("\n".join(lines))


def _print_proxied(info: dict[str, Any]) -> None:
    proxied = proxied_url(info)
    if proxied:
        print(f"Through Jupyter: {proxied} (on this Jupyter server's address)")


def url(cmds: Commands, p: Parsed) -> None:
    _check(p, {"port", "out"}, "server url")
    info = _pick(_port(p.options.get("port")))
    if p.options.get("out") is not None:
        cmds.shell.user_ns[str(p.options["out"])] = info["api_base"]
    print(info["api_base"])
    _print_proxied(info)


def _stop_other(info: dict[str, Any]) -> None:
    """Stop a server another kernel (or a terminal) started, by the pid in its runtime file."""
    import psutil

    pid, where = int(info["pid"]), info.get("api_base")
    try:
        process = psutil.Process(pid)
        if not any("h2ogpt" in part for part in process.cmdline()):
            raise H2OGPTError(f"pid {pid} (port {info.get('port')}) is not an h2oGPT server")
        process.terminate()
        try:
            process.wait(15)
        except psutil.TimeoutExpired:
            process.kill()
    except psutil.NoSuchProcess:
        print(f"The server at {where} had already stopped.")
        return
    except psutil.AccessDenied:
        raise H2OGPTError(f"the server at {where} (pid {pid}) is not yours to stop") from None
    print(f"Stopped the server at {where} (pid {pid}).")


def stop(cmds: Commands, p: Parsed) -> None:
    _check(p, {"port"}, "server stop")
    port = _port(p.options.get("port"))
    mine = _live()
    if port is None and not mine:
        raise H2OGPTError(
            "this kernel has no server running; %h2ogpt server status lists them, "
            "and %h2ogpt server stop --port N stops one"
        )
    if port is not None and port not in mine:
        _stop_other(_info(port) or _none_on(port))
        return
    for number in [port] if port is not None else list(mine):
        started = mine.pop(number)
        started.process.stop()
        Path(started.process.log).unlink(missing_ok=True)
        print(f"Stopped the server at {started.process.api_base} (pid {started.process.pid}).")


# --- load server ---------------------------------------------------------------------------------
def _load_server(cmds: Commands, p: Parsed, name: str) -> None:
    _check(p, {"as", "port", "api_key", "max_seq_len"}, f"load {name}")
    info = _pick(_port(p.options.get("port")))
    served = list(info.get("models") or [])
    model = name.partition(":")[2].strip()
    if model and model not in served:
        raise H2OGPTError(
            f"the server at {info['api_base']} serves {', '.join(served) or 'nothing'}, "
            f"not '{model}'"
        )
    started = _STARTED.get(int(info["port"]))
    key = _text(p, "api_key") or (started.api_key if started else None) or os.environ.get(KEY_ENV)
    if info.get("api_key_required") and not key:
        how = f"pass --api-key KEY or set {KEY_ENV}"
        if info.get("root_path"):  # Jupyter started it, with a key only Jupyter's proxy knows
            how = f"Jupyter serves it: %h2ogpt load https://<jupyter>{info['root_path']}/v1"
        raise H2OGPTError(f"the server at {info['api_base']} needs an API key: {how}")
    alias = p.options.get("as") or (
        "server-" + re.sub(r"[^\w.-]+", "-", model) if model else "server"
    )
    options: dict[str, Any] = {"backend": "openai", "api_key": key or ""}
    if model:  # else the server's default, which it lists first (with its context length)
        options["base_model"] = model
    if "max_seq_len" in p.options:
        options["max_seq_len"] = p.options["max_seq_len"]
    print(f"Using the server at {info['api_base']} ({model or info.get('default_model')}).")
    cmds._load(info["api_base"], str(alias), **options)


def load(cmds: Commands, p: Parsed, cell: str | None = None) -> None:
    """``load server[:MODEL]`` and ``load URL --token T`` here; everything else as usual."""
    from h2ogpt_jupyter.models.backends.names import remember_token

    name = p.text.strip()
    if name == "server" or name.startswith("server:"):
        _load_server(cmds, p, name)
        return
    if "token" in p.options:
        token = _text(p, "token")
        if not name.startswith(("http://", "https://")):
            raise InvalidOptionError("--token is for a server address, e.g. load https://…/v1")
        assert token is not None
        remember_token(name, token)
        p = dataclasses.replace(p, options={k: v for k, v in p.options.items() if k != "token"})
    cmds.load(p)


_ACTIONS: dict[str, Callable[[Commands, Parsed], None]] = {
    "start": start,
    "stop": stop,
    "status": status,
    "url": url,
}


def server(cmds: Commands, p: Parsed, cell: str | None = None) -> None:
    action = p.words[0].lower() if p.words else ""
    if action in ("", "help"):
        show_markdown("| command | what it does |\n|---|---|" + HELP.rstrip())
    elif action not in _ACTIONS:
        raise H2OGPTError(f"server takes one of: {', '.join(_ACTIONS)}; e.g. %h2ogpt server start")
    else:
        _ACTIONS[action](cmds, p)


COMMANDS: dict[str, Callable[[Commands, Parsed, str | None], None]] = {
    "server": server,
    "load": load,
}
