"""``%h2ogpt server start|stop|status|url`` and ``%h2ogpt load server``: an OpenAI-compatible
server next to the notebook.

Each command parses its options, calls :mod:`h2ogpt_jupyter.server.lifecycle` (which starts,
finds and stops servers) and prints what happened. ``load`` is registered here to catch
``server[:MODEL]`` and ``--token``; any other ``load`` goes on to the usual command unchanged.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from h2ogpt_jupyter.errors import H2OGPTError, InvalidOptionError
from h2ogpt_jupyter.host import JupyterHost, this_jupyter
from h2ogpt_jupyter.server import lifecycle, via_jupyter
from h2ogpt_jupyter.server.config import DEFAULT_HOST
from h2ogpt_jupyter.server.runtime import proxied_url, running_servers

from ._args import Parsed
from ._display import show_markdown, transient

if TYPE_CHECKING:
    from ._commands import Commands

HELP = """
| `server start [--model ALIAS\\|NAME] [--port 5000] [--host H] [--api-key K] [--keep] [-o VAR]` | serve the kernel's model over an OpenAI-compatible API, in its own process |
| `server status` · `server url [--port N]` · `server stop [--port N]` | running servers; a server's address; stop ours (or the one on port N) |
| `load server[:MODEL] [--port N] [--api-key K]` · `load URL --token T` | use a running server (`--token`: Jupyter's, for one behind jupyter-server-proxy) |
"""  # noqa: E501 (rows of the help table)


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


def _out(p: Parsed) -> str | None:
    out = p.options.get("out")
    if out is not None and not str(out).isidentifier():
        raise InvalidOptionError(f"-o needs a variable name, not {out!r}")
    return None if out is None else str(out)


def _print_proxied(info: dict[str, Any]) -> None:
    proxied = proxied_url(info)
    if proxied:
        print(f"Through Jupyter: {proxied} (on this Jupyter server's address)")


# --- the commands --------------------------------------------------------------------------------
def start(cmds: Commands, p: Parsed) -> None:
    _check(p, {"model", "port", "host", "api_key", "keep", "out"}, "server start")
    host = _text(p, "host") or DEFAULT_HOST
    port, key, out = _port(p.options.get("port")), _text(p, "api_key"), _out(p)
    requested = p.options.get("model")
    model, label = lifecycle.what_to_serve(
        cmds.manager, None if requested is None else str(requested)
    )
    shared = lifecycle.served_by_jupyter(model)
    if shared is not None and not (set(p.options) - {"model", "out"}):
        _use_jupyters(cmds, shared, label, out)
        return
    port = lifecycle.pick_port(host, port)
    print(f"Starting a server for {label} (it loads the model in its own process)…", flush=True)
    server = lifecycle.start(
        model, host=host, port=port, api_key=key, keep=bool(p.options.get("keep"))
    )
    if out is not None:
        cmds.shell.user_ns[out] = server
    info = lifecycle.info(server.port) or {}
    served = ", ".join(info.get("models") or []) or label
    print(f"Serving {served} at {server.api_base} (pid {server.pid}).")
    secret = '"<your key>"' if info.get("api_key_required") else '"unused"'
    print(f'Use it with openai.OpenAI(base_url="{server.api_base}", api_key={secret}).')
    _print_proxied(info or {"port": server.port})
    if host not in lifecycle.LOOPBACK and not info.get("api_key_required"):
        print(f"Note: it listens on {host} without an API key (--api-key K asks for one).")


def _use_jupyters(cmds: Commands, info: dict[str, Any], label: str, out: str | None) -> None:
    """The server Jupyter already runs serves this model: say where, load nothing again."""
    if out is not None:
        cmds.shell.user_ns[out] = info
    host = this_jupyter()
    proxied = via_jupyter.api_base(host, info) if host else proxied_url(info)
    print(
        f"Jupyter already serves {label} at {proxied or info['api_base']} (pid {info.get('pid')}):"
        " using it, so the model is not loaded a second time."
    )
    if host:
        print("Clients send a Jupyter token as the API key; %h2ogpt load server uses it here.")
    elif proxied:
        print(f"Clients use Jupyter's address with {proxied} and a Jupyter token as the API key.")


def status(cmds: Commands, p: Parsed) -> None:
    _check(p, {"out"}, "server status")
    rows = running_servers()
    if p.options.get("out") is not None:
        cmds.shell.user_ns[str(p.options["out"])] = rows
    if not rows:
        print("No h2oGPT server is running; start one with %h2ogpt server start")
        return
    lines = ["| url | models | pid | uptime | API key | started by |", "|---|---|---|---|---|---|"]
    for i in rows:
        lines.append(
            f"| {i.get('api_base')} | {', '.join(i.get('models') or [])} | {i.get('pid')} "
            f"| {lifecycle.uptime(i.get('started'))} "
            f"| {'required' if i.get('api_key_required') else 'no'} "
            f"| {lifecycle.started_by(i)} |"
        )
    show_markdown("\n".join(lines))


def url(cmds: Commands, p: Parsed) -> None:
    _check(p, {"port", "out"}, "server url")
    info = lifecycle.find(_port(p.options.get("port")))
    if p.options.get("out") is not None:
        cmds.shell.user_ns[str(p.options["out"])] = info["api_base"]
    print(info["api_base"])
    _print_proxied(info)


def stop(cmds: Commands, p: Parsed) -> None:
    _check(p, {"port"}, "server stop")
    for where, pid in lifecycle.stop(_port(p.options.get("port"))):
        if pid is None:
            print(f"The server at {where} had already stopped.")
        else:
            print(f"Stopped the server at {where} (pid {pid}).")


def _server_to_use(port: int | None, host: JupyterHost | None) -> dict[str, Any] | None:
    """The runtime file of the server ``load server`` talks to; None for the one Jupyter
    would start (nothing runs, but this kernel's Jupyter has the route)."""
    if port is not None or host is None:
        return lifecycle.find(port)
    try:
        return lifecycle.find()
    except H2OGPTError:
        return None


def _load_server(cmds: Commands, p: Parsed, name: str) -> None:
    _check(p, {"as", "port", "api_key", "max_seq_len"}, f"load {name}")
    host = this_jupyter()
    info = _server_to_use(_port(p.options.get("port")), host)
    model = name.partition(":")[2].strip()
    if host is not None and (info is None or info.get("root_path")):
        base, key = via_jupyter.api_base(host, info), None
        if host.token:
            from h2ogpt_jupyter.models.backends.names import remember_token

            remember_token(base, host.token)
        doing = "Starting" if info is None else "Waiting for"
        with transient(cmds.shell, f"{doing} Jupyter's h2oGPT server (it loads its model)…"):
            served = via_jupyter.wait_until_ready(base, host)
        where = f"Jupyter's server at {base}"
        default = served[0] if served else None
    else:
        assert info is not None
        base, served = str(info["api_base"]), list(info.get("models") or [])
        key = lifecycle.client_key(info, _text(p, "api_key"))
        where, default = f"the server at {base}", info.get("default_model")
    if model and model not in served:
        raise H2OGPTError(f"{where} serves {', '.join(served) or 'nothing'}, not '{model}'")
    alias = p.options.get("as") or (
        "server-" + re.sub(r"[^\w.-]+", "-", model) if model else "server"
    )
    options: dict[str, Any] = {"backend": "openai", "api_key": key or ""}
    if model:  # else the server's default, which it lists first (with its context length)
        options["base_model"] = model
    if "max_seq_len" in p.options:
        options["max_seq_len"] = p.options["max_seq_len"]
    print(f"Using {where} ({model or default}).")
    cmds._load(base, str(alias), **options)


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
