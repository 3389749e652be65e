"""The server Jupyter runs for the user (``<base_url>/h2ogpt/``), reached from a kernel.

Its loopback port takes only the key Jupyter's proxy holds, so a kernel goes the way a browser
does: Jupyter's own address with Jupyter's token, both read from the server that started the
kernel (:mod:`h2ogpt_jupyter.host`). The first request starts the server if it is not running
yet; ``/health`` says 503 while its model loads, so :func:`wait_until_ready` waits on that
and turns every other answer into one line a user can act on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from h2ogpt_jupyter.errors import H2OGPTError
from h2ogpt_jupyter.host import JupyterHost

from .proxy import DEFAULT_TIMEOUT, NAME

POLL_SECONDS = 0.5


def api_base(host: JupyterHost, info: Mapping[str, Any] | None = None) -> str:
    """The OpenAI base URL of Jupyter's server on Jupyter's address: at the prefix its runtime
    file ``info`` names, else where Jupyter would start it."""
    root = str((info or {}).get("root_path") or "").rstrip("/")
    if not root:
        return host.url_for(f"{NAME}/v1")
    parts = urlsplit(host.url)
    return f"{parts.scheme}://{parts.netloc}{root}/v1"


def _reason(response: Any) -> tuple[str, str]:
    """The error code and message of an OpenAI-shaped error body, if it is one."""
    try:
        error = json.loads(response.text).get("error") or {}
    except (ValueError, AttributeError):
        return "", ""
    return str(error.get("code") or ""), str(error.get("message") or "")


def wait_until_ready(base: str, host: JupyterHost, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
    """Wait until the server at ``base`` (from :func:`api_base`) has loaded its models, and
    return their names. Starts it, if Jupyter has not yet."""
    import httpx

    health = base.removesuffix("/v1") + "/health"
    headers = {"Authorization": f"token {host.token}"} if host.token else {}
    deadline = time.monotonic() + timeout
    while True:
        try:
            # the first request waits while Jupyter starts the process
            wait = max(5.0, deadline - time.monotonic())
            r = httpx.get(health, headers=headers, timeout=wait, follow_redirects=False)
        except httpx.TransportError as exc:
            raise H2OGPTError(f"cannot reach Jupyter at {host.url}: {exc}") from None
        code, message = _reason(r)
        if r.status_code == 200:
            return [str(m) for m in r.json().get("models") or []]
        if r.status_code == 404:
            raise H2OGPTError(
                f"Jupyter at {host.url} has no /{NAME}/ route: install h2ogpt-jupyter (with "
                "jupyter-server-proxy) where Jupyter runs, then restart Jupyter"
            )
        if r.status_code in (301, 302, 401, 403):
            raise H2OGPTError(
                f"Jupyter at {host.url} refused this kernel's token ({r.status_code}); "
                "use %h2ogpt load <url>/h2ogpt/v1 --token TOKEN"
            )
        if code == "model_load_failed":
            raise H2OGPTError(f"Jupyter's h2oGPT server could not load its model: {message}")
        if r.status_code != 503:
            raise H2OGPTError(
                f"Jupyter's h2oGPT server answered {r.status_code}: {message or r.text[:200]}"
            )
        if time.monotonic() > deadline:
            raise H2OGPTError(
                f"Jupyter's h2oGPT server was not ready in {timeout:.0f} s ({message})"
            )
        time.sleep(POLL_SECONDS)
