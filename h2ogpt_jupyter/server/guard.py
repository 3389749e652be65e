"""API keys on every route but ``/health``, ``/status`` and the page, and the request counter:
one ASGI layer.

A plain ASGI middleware rather than a FastAPI dependency: it answers before the body is read
or validated (an unauthenticated client learns nothing about the API, not even that its JSON
was malformed) and it passes streams through untouched, so client disconnects still reach the
streaming response. Keys are compared with :func:`hmac.compare_digest` against every
configured key, so timing says nothing about which key or how much of it matched.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import APIError

if TYPE_CHECKING:
    from .metrics import Metrics

OPEN_PATHS = frozenset({"/health", "/status", "/"})  # "/": the page, which holds no secret
OPEN_PREFIX = "/static/"  # the page's script and style, Swagger UI's files


def _route_path(scope: Scope) -> str:
    """The path the app routes on: uvicorn puts ``root_path`` in front of ``path``."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path


def presented_key(scope: Scope) -> str | None:
    """The key a client sent: ``Authorization: Bearer K``, or ``api-key: K`` (Azure style)."""
    headers = dict(scope.get("headers") or [])
    auth = str(headers.get(b"authorization", b"").decode("latin-1")).strip()
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    other = str(headers.get(b"api-key", b"").decode("latin-1")).strip()
    return other or None


def key_matches(key: str | None, keys: Iterable[bytes]) -> bool:
    if key is None:
        return False
    given = key.encode("utf-8", "surrogateescape")
    found = False
    for known in keys:  # no early exit: every key is compared every time
        found |= hmac.compare_digest(given, known)
    return found


class Guard:
    """Refuses requests without a valid key (when keys are set) and counts every request."""

    def __init__(self, app: ASGIApp, keys: list[str], metrics: Metrics) -> None:
        self.app = app
        self.keys = [k.encode("utf-8") for k in keys]
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        status = {"code": 500}

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            if (
                self.keys
                and path not in OPEN_PATHS
                and not path.startswith(OPEN_PREFIX)
                and not key_matches(presented_key(scope), self.keys)
            ):
                error = APIError(
                    401,
                    "Missing or invalid API key: send 'Authorization: Bearer <key>'",
                    type="invalid_request_error",
                    code="invalid_api_key",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await error.response()(scope, receive, send_counted)
                return
            await self.app(scope, receive, send_counted)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or ("/health" if path == "/health" else "other")
            self.metrics.count_request(label, status["code"])
