"""``h2ogpt-jupyter serve``: bind, load the models in the background, announce readiness.

The socket is bound first (``--port 0`` picks a free port), so the server answers ``/health``
with 503 while the models load. Once they have, it prints one line to stdout,
``h2ogpt server ready at http://HOST:PORT``, and writes its runtime file
(:mod:`h2ogpt_jupyter.server.runtime`); both go away with it. A model that fails to load stops
the server with exit code 1 and the reason on stderr.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from h2ogpt_jupyter._version import __version__
from h2ogpt_jupyter.errors import H2OGPTError

from .config import (
    DEFAULT_HOST,
    DEFAULT_MAX_QUEUE,
    DEFAULT_PORT,
    KEYS_ENV,
    ServerConfig,
    collect_keys,
    parse_model,
    parse_option,
)

GRACEFUL_SECONDS = 3  # streams still open at shutdown are cut after this
PARENT_POLL_SECONDS = 1.0  # how often --parent-pid is checked


def arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--model",
        "-m",
        action="append",
        default=[],
        metavar="[ALIAS=]NAME[?OPT=V&...]",
        help="model to serve (repeatable; the first is the default), e.g. smollm2, "
        "tiny=/models/tiny?dtype=float32; default: H2OGPT_DEFAULT_MODEL or smollm2",
    )
    add(
        "--load-option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="load option for every model (h2oGPT names: dtype, load_4bit, prompt_type, ...)",
    )
    add("--host", default=DEFAULT_HOST, help=f"interface to bind (default {DEFAULT_HOST})")
    add(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"0 picks a free one (default {DEFAULT_PORT})",
    )
    add(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help=f"accepted API key (repeatable; visible to other users in the process list: "
        f"prefer --api-keys-file or {KEYS_ENV})",
    )
    add(
        "--api-keys-file",
        action="append",
        default=[],
        metavar="FILE",
        help="file of API keys: a JSON list, or one per line",
    )
    add(
        "--max-queue",
        type=int,
        default=DEFAULT_MAX_QUEUE,
        metavar="N",
        help="requests held at once, running or waiting; more get 429 "
        f"(default {DEFAULT_MAX_QUEUE})",
    )
    add(
        "--embedding-model",
        metavar="PATH",
        help="sentence-transformers folder for /v1/embeddings (default: the documents' model)",
    )
    add("--root-path", default="", help="path prefix added by a proxy in front of the server")
    add("--ssl-keyfile", help="TLS private key (with --ssl-certfile)")
    add("--ssl-certfile", help="TLS certificate chain")
    add(
        "--parent-pid",
        type=int,
        metavar="PID",
        help="stop when process PID ends (a kernel's server stops with its kernel)",
    )
    add(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
    )


def config_from(args: argparse.Namespace) -> ServerConfig:
    names = args.model or [os.environ.get("H2OGPT_DEFAULT_MODEL") or "smollm2"]
    models = [parse_model(text) for text in names]
    aliases = [m.alias for m in models if m.alias]
    if len(aliases) != len(set(aliases)):
        raise H2OGPTError("two --model entries use the same alias")
    return ServerConfig(
        models=models,
        load_options=dict(parse_option(text) for text in args.load_option),
        api_keys=collect_keys(args.api_key, args.api_keys_file),
        max_queue=args.max_queue,
        embedding_model=args.embedding_model,
        host=args.host,
        port=args.port,
        root_path=args.root_path.rstrip("/"),
    )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise H2OGPTError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def local_url(host: str, port: int, tls: bool) -> str:
    """Where a client on this machine connects (a wildcard bind is reached on loopback)."""
    reach = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in reach and not reach.startswith("["):
        reach = f"[{reach}]"
    return f"{'https' if tls else 'http'}://{reach}:{port}"


def _announce(
    server: Any, state: Any, config: ServerConfig, url: str, result: dict[str, Any]
) -> None:
    """Wait for the models and the listening socket, then say so (or stop on a failure)."""
    from . import runtime

    state.ready.wait()
    while not server.started and not server.should_exit:
        time.sleep(0.02)
    if state.load_error is not None:
        print(f"h2ogpt server: {state.load_error}", file=sys.stderr, flush=True)
        result["code"] = 1
        server.should_exit = True
        return
    if server.should_exit:
        return
    port = int(url.rsplit(":", 1)[1])
    info = {
        "url": url,
        "api_base": f"{url}/v1",
        "host": config.host,
        "port": port,
        "pid": os.getpid(),
        "models": state.served(),
        "default_model": (state.served() or [None])[0],
        "embedding_model": state.embedding_name,
        "api_key_required": bool(config.api_keys),
        "tls": url.startswith("https"),
        "root_path": config.root_path,
        "parent_pid": result.get("parent_pid"),  # the kernel that started it, if one did
        "started": time.time(),
        "version": __version__,
    }
    try:
        file = runtime.write(port, info)
    except OSError as exc:
        print(f"h2ogpt server: runtime file not written: {exc}", file=sys.stderr, flush=True)
    else:
        # Removed in the app's shutdown: uvicorn re-raises SIGTERM after it, which ends the
        # process before the command's own cleanup could run.
        state.on_stop.append(lambda: runtime.remove(file, os.getpid()))
        result["file"] = file
    print(f"h2ogpt server ready at {url}", flush=True)


def _watch_parent(server: Any, pid: int) -> None:
    """Stop the server (gracefully: runtime file removed) once process ``pid`` has ended.

    A kernel starts its server in a session of its own so that interrupts spare it; so nothing
    else ends the server when the kernel is killed rather than shut down. psutil's
    ``is_running`` also tells a reused pid from the original process; a zombie has ended too.
    """
    import psutil

    try:
        parent: psutil.Process | None = psutil.Process(pid)
    except psutil.Error:
        parent = None  # gone already: stop at once
    while not server.should_exit:
        try:
            ended = parent is None or not parent.is_running() or parent.status() == "zombie"
        except psutil.Error:
            ended = True
        if ended:
            print(f"h2ogpt server: process {pid} ended; stopping", file=sys.stderr, flush=True)
            server.should_exit = True
            return
        time.sleep(PARENT_POLL_SECONDS)


def run(args: argparse.Namespace) -> int:
    """``h2ogpt-jupyter serve``."""
    import uvicorn

    from . import runtime
    from .app import create_app

    try:
        config = config_from(args)
        if bool(args.ssl_keyfile) != bool(args.ssl_certfile):
            raise H2OGPTError("TLS needs both --ssl-keyfile and --ssl-certfile")
        sock = bind(args.host, args.port)
    except H2OGPTError as exc:
        print(f"h2ogpt-jupyter serve: {exc}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    url = local_url(args.host, port, tls=bool(args.ssl_certfile))
    if not config.api_keys and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"h2ogpt server: listening on {args.host} without an API key", file=sys.stderr)
    app = create_app(config)
    uv_config = uvicorn.Config(
        app,
        log_level=args.log_level,
        root_path=config.root_path,
        ssl_keyfile=args.ssl_keyfile,
        ssl_certfile=args.ssl_certfile,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        lifespan="on",
    )
    server = uvicorn.Server(uv_config)
    models = ", ".join(m.alias or m.name for m in config.models)
    print(f"h2ogpt server: loading {models}; listening on {url}", file=sys.stderr, flush=True)
    result: dict[str, Any] = {"code": 0, "parent_pid": args.parent_pid}
    watcher = threading.Thread(
        target=_announce,
        args=(server, app.state.h2ogpt, config, url, result),
        name="h2ogpt-announce",
        daemon=True,
    )
    watcher.start()
    if args.parent_pid:
        threading.Thread(
            target=_watch_parent, args=(server, args.parent_pid), name="h2ogpt-parent", daemon=True
        ).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown
        result["code"] = 130
    finally:
        file: Path | None = result.get("file")
        if file is not None:
            runtime.remove(file, os.getpid())
        sock.close()
    if not server.started and result["code"] == 0:
        return 1  # uvicorn could not start (it said why)
    return int(result["code"])


def parser() -> argparse.ArgumentParser:
    """The ``serve`` arguments on their own, for ``python -m h2ogpt_jupyter.server``."""
    found = argparse.ArgumentParser(
        prog="h2ogpt-jupyter serve", description="Serve models over an OpenAI-compatible HTTP API."
    )
    found.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    arguments(found)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """``serve ARGS``; a leading ``serve`` is skipped, as the command line would take it."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:
        args = args[1:]
    return run(parser().parse_args(args))
