"""The FastAPI application: routes, error shapes, keys and the model-loading lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from h2ogpt_jupyter._version import __version__
from h2ogpt_jupyter.models.manager import ModelManager

from . import completions, page, routes
from .config import ServerConfig
from .errors import install_handlers
from .guard import Guard
from .page import DOCS_ASSETS
from .state import ServerState


def create_app(config: ServerConfig | None = None, manager: ModelManager | None = None) -> FastAPI:
    """An OpenAI-compatible app over ``manager`` (default: this process's manager).

    Models named in ``config`` start loading when the app starts (its lifespan); until they
    have, ``/health`` and the API answer 503. ``app.state.h2ogpt`` is the :class:`ServerState`.
    """
    config = config or ServerConfig()
    state = ServerState(config, manager)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.start_loading()
        yield
        state.stop_all()  # answers still running end within a token

    # FastAPI's own /docs and /redoc load their scripts from a CDN; these ship in a package.
    app = FastAPIOffline(
        title="h2ogpt-jupyter",
        version=__version__,
        summary="OpenAI-compatible API over h2oGPT's local models and document collections.",
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
    )
    app.state.h2ogpt = state
    install_handlers(app)
    app.include_router(completions.router)
    app.include_router(routes.router)
    page.install(app)
    app.add_middleware(Guard, keys=config.api_keys, metrics=state.metrics)
    return app
