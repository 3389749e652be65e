"""Every failure as OpenAI's error object, with the status code a client can act on.

OpenAI clients read ``{"error": {"message", "type", "param", "code"}}`` and decide on the
status whether to retry, so the mapping matters: a mistake in the request is a 4xx that says
what to change (never a 5xx), a full queue is a 429 with ``Retry-After``, loading models a 503.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from h2ogpt_jupyter.errors import (
    H2OGPTError,
    ModelNotLoadedError,
    UnknownCollectionError,
    UnknownModelError,
)

log = logging.getLogger("h2ogpt_jupyter.server")

INVALID = "invalid_request_error"


class APIError(Exception):
    """An error answered as OpenAI's error object with ``status``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(
    message: str, type: str = INVALID, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def model_not_found(name: str, served: list[str]) -> APIError:
    known = ", ".join(served) or "none"
    return APIError(
        404,
        f"The model '{name}' does not exist on this server (served: {known})",
        param="model",
        code="model_not_found",
    )


def from_exception(exc: BaseException) -> APIError:
    """The API error for anything raised while preparing or running a request."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, (ModelNotLoadedError, UnknownModelError)):
        return APIError(404, str(exc), param="model", code="model_not_found")
    if isinstance(exc, UnknownCollectionError):
        return APIError(404, str(exc), param="collection", code="collection_not_found")
    if isinstance(exc, H2OGPTError):
        from h2ogpt_jupyter.chat.turns import PromptTooLongError

        if isinstance(exc, PromptTooLongError):
            return APIError(400, str(exc), param="messages", code="context_length_exceeded")
        return APIError(400, str(exc), code="invalid_value")
    if isinstance(exc, (OverflowError, RecursionError)):  # absurd numbers or nesting in a body
        return APIError(400, f"a value in the request is out of range: {exc}")
    log.error("request failed", exc_info=exc)
    return APIError(500, f"internal error: {type(exc).__name__}: {exc}", type="server_error")


def _validation_error(exc: RequestValidationError) -> APIError:
    errors = list(exc.errors())
    if not errors:
        return APIError(400, "invalid request")
    first = errors[0]
    if first.get("type") == "json_invalid":
        return APIError(400, "the request body is not valid JSON", code="invalid_json")
    param = ".".join(_field_path(first.get("loc", ()))) or None
    message = str(first.get("msg", "invalid value"))
    if param:
        message = f"{param}: {message}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return APIError(400, message, param=param, code="invalid_value")


_UNION_TAGS = frozenset({"str", "int", "float", "bool", "none"})


def _field_path(loc: Any) -> list[str]:
    """Field names and list indices of a pydantic location, without the union member tags
    (``constrained-str``, ``list[str]``, ...) it puts in between."""
    path = []
    where = ("body", "query", "path", "header", "cookie")
    for part in loc[1:] if loc and loc[0] in where else loc:
        if isinstance(part, int) or (
            str(part).isidentifier() and str(part).islower() and str(part) not in _UNION_TAGS
        ):
            path.append(str(part))
    return path


_HTTP_TYPES = {401: "authentication_error", 404: "not_found_error", 405: INVALID}


def install_handlers(app: FastAPI) -> None:
    """Route FastAPI's own errors (validation, 404/405, crashes) through the same shape."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        return from_exception(exc).response()

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return _validation_error(exc).response()

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = _HTTP_TYPES.get(
            exc.status_code, INVALID if exc.status_code < 500 else "server_error"
        )
        err = APIError(exc.status_code, str(exc.detail), type=kind, headers=dict(exc.headers or {}))
        return err.response()

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(H2OGPTError, api_error)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, api_error)
