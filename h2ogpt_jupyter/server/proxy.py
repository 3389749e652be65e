"""The server behind Jupyter: jupyter-server-proxy's ``h2ogpt`` entry, at ``<base_url>/h2ogpt/``.

jupyter-server-proxy calls :func:`setup_h2ogpt` once, when the Jupyter server starts, and
launches the command on the first request to ``<base_url>/h2ogpt/``. Choices, and why:

* **Prefix.** The proxy strips ``<base_url>/h2ogpt`` (``absolute_url`` False) and the server is
  told the prefix with ``--root-path``, the way uvicorn expects a path-stripping proxy, so the
  routes stay ``/v1/...`` and generated links (``/openapi.json``) carry the prefix.
* **Readiness.** jupyter-server-proxy calls a server ready when ``/`` answers anything; ours
  answers as soon as it listens, before the models load, and ``/health`` then says 503
  ``model_loading``. So ``timeout`` only covers start-up until the socket listens (Python and
  imports, slow on a cold disk), not the model load, and clients see "loading" instead of
  a request hanging.
* **Auth.** Jupyter's own authentication guards the route. The loopback port, though, is open
  to every user of a shared machine, so the server gets a random key of its own (through its
  environment, which only its owner can read) and the proxy sends it on every request in
  place of the client's ``Authorization`` header: proxied clients never need a server key, and
  the Jupyter token never reaches the server.
* **Restarts.** jupyter-server-proxy restarts a process that exits with a non-zero code. A model
  that cannot load would fail the same way every time, so the command exits 0 after a failure
  (the reason stays in the Jupyter log); a crash by signal is still restarted.
* **Activity.** Proxied requests keep the Jupyter server from being culled as idle, except
  polls of ``/health`` and ``/metrics``.

Streaming: jupyter-server-proxy passes a response on chunk by chunk only when the request has
``Accept: text/event-stream``; otherwise it sends the whole response once complete. So the
route itself is served by :mod:`.jupyter_extension`, which streams every POST and answers API
clients without a token in JSON; the entry point here still names the server and its tile.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import secrets
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from h2ogpt_jupyter.errors import H2OGPTError

from .config import KEYS_ENV

NAME = "h2ogpt"  # the URL is <base_url>/h2ogpt/
TITLE = "h2oGPT"
ICON = Path(__file__).with_name("h2ogpt.svg")
MODEL_ENV = "H2OGPT_PROXY_MODEL"
ARGS_ENV = "H2OGPT_PROXY_ARGS"
TIMEOUT_ENV = "H2OGPT_PROXY_TIMEOUT"
DEFAULT_TIMEOUT = 300.0
QUIET_PATHS = re.compile(rf".*/{NAME}/(health|status|metrics)$")


def _literal(text: str) -> str:
    """Escape braces: jupyter-server-proxy fills ``{port}`` and ``{base_url}`` with
    :meth:`str.format`, and a model option may hold JSON."""
    return text.replace("{", "{{").replace("}", "}}")


def proxy_timeout(environ: Mapping[str, str]) -> float:
    text = environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise H2OGPTError(f"{TIMEOUT_ENV} must be a positive number of seconds, not {text!r}")
    return value


def serve_args(environ: Mapping[str, str]) -> list[str]:
    """The user's part of the ``serve`` arguments: ``H2OGPT_PROXY_ARGS``, then
    ``--model H2OGPT_PROXY_MODEL``. Without a model the server uses ``H2OGPT_DEFAULT_MODEL``,
    else smollm2."""
    try:
        args = shlex.split(environ.get(ARGS_ENV, ""))
    except ValueError as exc:
        raise H2OGPTError(f"{ARGS_ENV} cannot be split into arguments: {exc}") from None
    model = environ.get(MODEL_ENV, "").strip()
    if model:
        args += ["--model", model]
    return args


def check_args(args: Sequence[str]) -> None:
    """Refuse bad arguments when Jupyter starts, in one line, rather than in a server that
    would fail on every request."""
    from .serve import config_from, parser

    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):
            parsed = parser().parse_args(args)
    except SystemExit:
        lines = usage.getvalue().strip().splitlines() or ["invalid arguments"]
        raise H2OGPTError(f"{ARGS_ENV}: {lines[-1]}") from None
    if parsed.ssl_keyfile or parsed.ssl_certfile:
        raise H2OGPTError(f"{ARGS_ENV}: no TLS behind the proxy (it connects over loopback)")
    try:
        config_from(parsed)
    except H2OGPTError as exc:
        raise H2OGPTError(f"{MODEL_ENV} or {ARGS_ENV}: {exc}") from None


def _last_activity_options() -> dict[str, Any]:
    """Leave health polls out of Jupyter's activity where the installed version can (4.6+)."""
    try:
        from jupyter_server_proxy.config import ServerProcess
    except ImportError:
        return {}
    if "exclude_last_activity_patterns" not in ServerProcess.class_trait_names():
        return {}
    return {"exclude_last_activity_patterns": [QUIET_PATHS]}


def setup_h2ogpt(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``jupyter_serverproxy_servers`` entry point: how to start and reach the server.

    Read once, when the Jupyter server starts: ``H2OGPT_PROXY_MODEL`` (a ``--model`` value),
    ``H2OGPT_PROXY_ARGS`` (more ``serve`` arguments), ``H2OGPT_PROXY_TIMEOUT`` (seconds until
    the server must listen, default 300).
    """
    env = os.environ if environ is None else environ
    args = serve_args(env)
    check_args(args)
    key = secrets.token_urlsafe(32)
    keys = ",".join(k for k in (env.get(KEYS_ENV, "").strip(), key) if k)
    command = [
        sys.executable,
        "-m",
        "h2ogpt_jupyter.server.proxy",
        *(_literal(a) for a in args),
        # last, so they win over the same options in H2OGPT_PROXY_ARGS
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--root-path",
        "{base_url}" + NAME,
    ]
    return {
        "command": command,
        "timeout": proxy_timeout(env),
        "absolute_url": False,
        "environment": {KEYS_ENV: _literal(keys)},
        "request_headers_override": {"Authorization": f"Bearer {key}"},
        "new_browser_tab": False,
        "launcher_entry": {
            "title": TITLE,
            "icon_path": str(ICON),
            "path_info": f"{NAME}/",  # the server's page: status, how to connect, a chat
        },
        "update_last_activity": True,
        **_last_activity_options(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``serve ARGS``, exiting 0 even when it fails (see the module docstring)."""
    from .serve import main as serve

    try:
        code = serve(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    if code not in (0, 130):
        print(
            f"h2ogpt server: stopped ({code}) and not restarted; "
            "fix the cause above, then restart the Jupyter server",
            file=sys.stderr,
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
