"""The Jupyter server extension that serves ``<base_url>/h2ogpt/`` so that a stock client works.

jupyter-server-proxy alone has two faults for an OpenAI client. It passes a response on as it
arrives only when the request says ``Accept: text/event-stream``, which the ``openai`` client
does not send: every chunk of a stream then arrives at once, at the end. And a request without
Jupyter's token gets the login page (a 302, or a 403 page in HTML), which a client cannot read.

So this extension puts its own handler at ``<base_url>/h2ogpt/``. The handler is the one
jupyter-server-proxy builds from :func:`~.proxy.setup_h2ogpt`, made through its public
``ServerProcess`` API, so it starts, supervises and authenticates the server exactly as
before. Two things change:

* Every POST is passed on as the proxy does for event streams, chunk by chunk as the server
  writes. A JSON answer loses nothing by it, and a stream reaches the client as it is made.
* On API paths (``v1/``, ``health``, ``status``, ``metrics``, ``openapi.json``), a request
  without a valid token gets 401 and an OpenAI-shaped JSON error. Other pages still redirect
  to the login page.

It also answers ``<base_url>h2ogpt-jupyter/locate?path=P``: where a document's file is under the
Jupyter root, so the lab extension can open a cited source (:func:`locate_handler`).

Jupyter loads server extensions in alphabetical order. ``h2ogpt_jupyter.server`` comes before
``jupyter_server_proxy``, and Tornado takes the first handler that matches, so this route
wins over the proxy's own one for the same server. The proxy's entry point stays registered,
since the launcher tile comes from it.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

from .proxy import NAME, setup_h2ogpt

API_PATHS = re.compile(r"^(v1(/.*)?|health|status|metrics|openapi\.json)$")
STREAM_ACCEPT = "text/event-stream"
NO_TOKEN = "Jupyter's token is missing or wrong"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # 599 and other codes of no standard
        return "error"


def _error_body(status: int, message: str) -> str:
    kind = "authentication_error" if status in (401, 403) else "proxy_error"
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": status}})


def streaming_handler(environ: dict[str, str] | None = None) -> tuple[type, dict[str, Any]]:
    """The route's handler class and its arguments: jupyter-server-proxy's handler for our
    server (it starts, supervises and authenticates it), passing POST responses on as they
    come and answering API clients in JSON."""
    from jupyter_server_proxy.config import ServerProcess
    from tornado import web

    process = ServerProcess(name=NAME, **setup_h2ogpt(environ))
    base, kwargs = process.make_proxy_handler()
    if base is None:  # pragma: no cover - setup_h2ogpt always gives a command
        raise RuntimeError("jupyter-server-proxy made no handler for the h2oGPT server")

    class StreamingProxy(base):  # type: ignore[misc,valid-type]
        """jupyter-server-proxy's handler for the h2oGPT server, for API clients."""

        def _is_api(self) -> bool:
            path = self.path_args[0] if self.path_args else ""
            return bool(API_PATHS.match(str(path).lstrip("/")))

        async def prepare(self, *args: Any, **kw: Any) -> None:
            try:
                await super().prepare(*args, **kw)
            except web.HTTPError as error:
                # web.authenticated refuses a POST with 403; an API client is told why
                if error.status_code == 403 and not self.current_user and self._is_api():
                    raise web.HTTPError(401, NO_TOKEN) from None
                raise

        def get_login_url(self) -> str:
            # web.authenticated sends a GET to the login page: an API client gets 401 instead
            if self._is_api():
                raise web.HTTPError(401, NO_TOKEN)
            return str(super().get_login_url())

        def write_error(self, status_code: int, **kw: Any) -> None:
            if not self._is_api():
                super().write_error(status_code, **kw)
                return
            error = kw.get("exc_info", (None, None, None))[1]
            message = getattr(error, "log_message", None) or _phrase(status_code)
            if status_code == 401:
                message = (
                    f"{message}: send it as 'Authorization: token <token>' or as the API key "
                    "('Authorization: Bearer <token>')"
                )
            self.set_header("Content-Type", "application/json")
            self.finish(_error_body(status_code, str(message)))

        async def proxy(self, *args: Any) -> Any:
            if self.request.method == "POST":
                # passed on chunk by chunk: a stream arrives as made, a JSON answer whole
                self.request.headers["Accept"] = STREAM_ACCEPT
            return await super().proxy(*args)

    return StreamingProxy, kwargs


LOCATE = "h2ogpt-jupyter/locate"  # <base_url>h2ogpt-jupyter/locate?path=/abs/file


def locate_handler() -> type:
    """``GET <base_url>h2ogpt-jupyter/locate?path=P``: where the file ``P`` (a document's
    source, an absolute path as the h2oGPT server knows it) is for JupyterLab, its path under
    the Jupyter root; 404 when it is not a file there. The lab extension asks before opening a
    cited source. Jupyter's login and its ``contents`` read permission guard it."""
    from pathlib import Path

    from jupyter_server.auth.decorator import authorized
    from jupyter_server.base.handlers import APIHandler
    from tornado import web

    class LocateHandler(APIHandler):
        auth_resource = "contents"

        @web.authenticated
        @authorized("read")  # type: ignore[untyped-decorator]
        def get(self) -> None:
            asked = self.get_argument("path", "")
            root = Path(self.contents_manager.root_dir).expanduser().resolve()
            target = Path(asked).expanduser()
            found = target.resolve() if target.is_absolute() else None
            if found is None or not found.is_file() or not found.is_relative_to(root):
                raise web.HTTPError(404, "not a file under the Jupyter root")
            self.finish(json.dumps({"path": found.relative_to(root).as_posix()}))

    return LocateHandler


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Jupyter's hook: the locate route, and the streaming route before jupyter-server-proxy
    adds its own."""
    from jupyter_server.utils import url_path_join

    base_url = server_app.web_app.settings["base_url"]
    server_app.web_app.add_handlers(".*", [(url_path_join(base_url, LOCATE), locate_handler())])
    try:
        from jupyter_server_proxy.handlers import AddSlashHandler
    except ImportError:
        server_app.log.info("h2ogpt: jupyter-server-proxy is not installed; no /h2ogpt/ route")
        return
    try:
        handler, kwargs = streaming_handler()
    except Exception as exc:  # a bad H2OGPT_PROXY_* setting: the proxy reports it as well
        server_app.log.warning("h2ogpt: no streaming /h2ogpt/ route: %s", exc)
        return
    server_app.web_app.add_handlers(
        ".*",
        [
            (url_path_join(base_url, NAME, r"(.*)"), handler, kwargs),
            (url_path_join(base_url, NAME), AddSlashHandler),
        ],
    )
