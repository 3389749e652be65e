"""Servers next to a notebook, from Python: start one for a loaded model, find the servers on
this machine, stop them. The magics (``%h2ogpt server …``) and the panels call this; it
prints nothing and says what happened in its return values and one-line errors.

A server started here runs ``h2ogpt-jupyter serve`` in a process of its own for the model the
kernel holds (same name, alias and load options), so clients never wait on the notebook and a
crash on one side leaves the other running; the model is loaded again, over there. It stops
when this process (the kernel) exits, even when killed, unless started with ``keep``. Every
process on the machine finds running servers through their runtime files
(:mod:`.runtime`); :func:`find` picks the one to talk to.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from h2ogpt_jupyter.config import settings
from h2ogpt_jupyter.errors import H2OGPTError

from .config import DEFAULT_HOST, DEFAULT_PORT, KEYS_ENV, parse_model
from .process import ServerProcess, start_server
from .runtime import running_servers

if TYPE_CHECKING:
    from h2ogpt_jupyter.models import LoadedModel, ModelManager

NO_SERVER = "no h2oGPT server is running; start one with %h2ogpt server start"
KEY_ENV = "H2OGPT_API_KEY"  # the key a client sends to an h2oGPT server
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Load options that only make sense for a server model, never passed on to a served one.
_CLIENT_ONLY = {"api_key", "inference_server", "base_model"}
# Settings the server process must share with the kernel (where runtime files and collections
# live), passed as the H2OGPT_* variables it reads, since kernel config files are not read there.
_SHARED = ("hf_embedding_model", "userdata_dir", "chroma_url", "pre_prompt_query", "prompt_query")


@dataclass
class Started:
    """A server this process started: ``keep`` ones outlive it; ``api_key`` is the key it
    asks for (None: none)."""

    process: ServerProcess
    keep: bool
    api_key: str | None


_STARTED: dict[int, Started] = {}  # port -> a server this process started


def ours() -> dict[int, Started]:
    """Servers this process started that are still running (one that died is forgotten)."""
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
def served_model(model: LoadedModel) -> str:
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


def what_to_serve(manager: ModelManager, requested: str | None) -> tuple[str, str]:
    """The ``--model`` argument for a server and how to name it to the user: a loaded alias
    (the default model when ``requested`` is None), else any model name, else the configured
    default model."""
    if requested is not None and requested not in manager:
        text = requested.strip()
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
    model = manager.get(requested)
    if model.spec.kind == "server":
        raise H2OGPTError(
            f"'{model.alias}' is already a server ({model.spec.location}); "
            "serve a local model instead (--model NAME)"
        )
    return served_model(model), f"'{model.alias}'"


def is_free(host: str, port: int) -> bool:
    from .serve import bind

    try:
        bind(host, port).close()
    except H2OGPTError:
        return False
    return True


def pick_port(host: str, port: int | None) -> int:
    """h2oGPT's port when none is asked for and it is free, else any free one (0); a port
    asked for must be free."""
    if port is None:
        return DEFAULT_PORT if is_free(host, DEFAULT_PORT) else 0
    if port and not is_free(host, port):
        raise H2OGPTError(f"port {port} on {host} is in use; choose another --port (0: any free)")
    return port


def _environment(api_key: str | None) -> dict[str, str]:
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


def start(
    model: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    api_key: str | None = None,
    keep: bool = False,
) -> ServerProcess:
    """Start a server for ``model`` (a ``--model`` argument, see :func:`what_to_serve`) and
    return it once it is ready; it stops with this process unless ``keep``."""
    args = ["--model", model, "--host", host, "--port", str(port)]
    if not keep:  # the server ends with this process, even a killed one
        args += ["--parent-pid", str(os.getpid())]
    try:
        server = start_server(args, env=_environment(api_key), own_session=True)
    except H2OGPTError as exc:
        raise H2OGPTError(_one_line(exc)) from None
    _STARTED[server.port] = Started(server, keep, api_key)
    atexit.unregister(_stop_at_exit)  # registered once, however many servers
    atexit.register(_stop_at_exit)
    return server


# --- find ----------------------------------------------------------------------------------------
def info(port: int) -> dict[str, Any] | None:
    """The runtime file of the server on ``port``, if one is running there."""
    return next((i for i in running_servers() if i.get("port") == port), None)


def none_on(port: int) -> Any:
    raise H2OGPTError(f"no h2oGPT server is running on port {port}")


def find(port: int | None = None) -> dict[str, Any]:
    """The server on ``port``; else the newest this process started; else the newest running."""
    servers = running_servers()
    if port is not None:
        servers = [i for i in servers if i.get("port") == port] or none_on(port)
    mine = [i for i in servers if i.get("port") in ours()]
    if mine or servers:
        return (mine or servers)[0]
    raise H2OGPTError(NO_SERVER)


def started_by(info: dict[str, Any]) -> str:
    """Who started the server of runtime file ``info``, as the status table says it."""
    mine = ours()
    port = info.get("port")
    if port in mine:
        return "this kernel" + (" (kept)" if mine[port].keep else "")
    if info.get("root_path"):
        return f"Jupyter, at {info['root_path']}/"
    if info.get("parent_pid"):
        return f"another kernel (pid {info['parent_pid']})"
    return "a command (h2ogpt-jupyter serve)"


def served_by_jupyter(model: str) -> dict[str, Any] | None:
    """The server Jupyter runs for this user (its h2oGPT launcher, ``<base_url>/h2ogpt/``), if
    it is running and serves ``model`` (a ``--model`` argument) under the same name: starting
    another would load a second copy."""
    arg = parse_model(model)
    alias = arg.alias or arg.name
    for info in running_servers():
        if info.get("root_path") and alias in (info.get("models") or []):
            return info
    return None


def uptime(started: Any) -> str:
    minutes = max(0, int(time.time() - float(started or time.time()))) // 60
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def client_key(info: dict[str, Any], given: str | None) -> str | None:
    """The key to send to the server of ``info``: the one given, the one it was started with
    here, or ``H2OGPT_API_KEY``; refuses (saying how to get one) when it needs one."""
    started = _STARTED.get(int(info["port"]))
    key = given or (started.api_key if started else None) or os.environ.get(KEY_ENV)
    if info.get("api_key_required") and not key:
        how = f"pass --api-key KEY or set {KEY_ENV}"
        if info.get("root_path"):  # Jupyter started it, with a key only Jupyter's proxy knows
            how = f"Jupyter serves it: %h2ogpt load https://<jupyter>{info['root_path']}/v1"
        raise H2OGPTError(f"the server at {info['api_base']} needs an API key: {how}")
    return key


# --- stop ----------------------------------------------------------------------------------------
def stop(port: int | None = None) -> list[tuple[str, int | None]]:
    """Stop the servers this process started (or the one on ``port``, whoever started it);
    returns ``(api_base, pid)`` for each, pid None for one that had already stopped."""
    mine = ours()
    if port is None and not mine:
        raise H2OGPTError(
            "this kernel has no server running; %h2ogpt server status lists them, "
            "and %h2ogpt server stop --port N stops one"
        )
    if port is not None and port not in mine:
        return [_stop_other(info(port) or none_on(port))]
    stopped: list[tuple[str, int | None]] = []
    for number in [port] if port is not None else list(mine):
        started = mine.pop(number)
        started.process.stop()
        Path(started.process.log).unlink(missing_ok=True)
        stopped.append((started.process.api_base, started.process.pid))
    return stopped


def _stop_other(info: dict[str, Any]) -> tuple[str, int | None]:
    """Stop a server another kernel (or a terminal) started, by the pid in its runtime file."""
    import psutil

    pid, where = int(info["pid"]), str(info.get("api_base"))
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
        return where, None
    except psutil.AccessDenied:
        raise H2OGPTError(f"the server at {where} (pid {pid}) is not yours to stop") from None
    return where, pid
