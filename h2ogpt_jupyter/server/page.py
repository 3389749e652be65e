"""The server's own page at ``/``: its status, how to connect a client, and a small chat.

It works with nothing fetched from the network, as air-gapped users need: its script and style
ship in ``static/``. (So do the API docs: ``fastapi-offline`` serves ``/docs`` and ``/redoc``
with Swagger UI's and ReDoc's files from its package, where FastAPI's own pages load them from
a CDN and are blank offline; see :mod:`.app`.) Every link is relative to the server's
``root_path``, so the page works at ``/`` on a port of its own and at ``<base_url>/h2ogpt/``
behind Jupyter.

The page and its assets need no API key (they hold nothing secret). What the page then asks
the API goes through the same keys as any client, and behind Jupyter the proxy adds the key.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from h2ogpt_jupyter._version import __version__

STATIC = Path(__file__).with_name("static")
DOCS_ASSETS = "/static/docs"  # where Swagger UI's and ReDoc's files are served


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def index(request: Request) -> HTMLResponse:
    """The page, told where it is (its root path) and whether the API wants a key."""
    state = request.app.state.h2ogpt
    facts = {
        "rootPath": _root(request),
        "keyRequired": bool(state.config.api_keys),
        "version": __version__,
    }
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace("{{root}}", html.escape(_root(request)))
    page = page.replace("{{facts}}", html.escape(json.dumps(facts)))
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    """Add ``/`` and its assets to ``app`` (after the docs' assets, which sit under them)."""
    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC))
