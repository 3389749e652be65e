"""Runtime files: how kernels on this machine find a running server.

A server that is ready writes ``<data_dir>/servers/<port>.json`` and removes it when it stops::

    {"url": "http://127.0.0.1:5000", "api_base": "http://127.0.0.1:5000/v1",
     "host": "127.0.0.1", "port": 5000, "pid": 4242, "models": ["smollm2"],
     "default_model": "smollm2", "embedding_model": "all-MiniLM-L6-v2",
     "api_key_required": true, "tls": false, "root_path": "", "started": 1764000000.0,
     "version": "0.1.0"}

``url`` is where to connect from this machine (a server bound to every interface is reached on
loopback); ``root_path`` is the prefix a proxy in front of it adds. Keys are never written.
A file whose ``pid`` is no longer running is left over from a crash; :func:`running_servers`
skips it. :func:`proxied_url` is where Jupyter's proxy reaches a server, on the Jupyter
server's own address: the one Jupyter starts at ``<base_url>h2ogpt/v1``, one started in a
kernel at ``<base_url>proxy/<port>/v1``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def servers_dir() -> Path:
    from h2ogpt_jupyter.config import settings

    return settings().data_path / "servers"


def write(port: int, info: dict[str, Any]) -> Path:
    """Write the file for ``port`` atomically (readers never see half of it)."""
    folder = servers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{port}.json"
    fd, tmp = tempfile.mkstemp(prefix=f".{port}-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info, fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove(path: Path, pid: int | None = None) -> None:
    """Remove ``path`` if it is still ours (another server may have reused the port)."""
    try:
        if pid is not None and json.loads(path.read_text(encoding="utf-8")).get("pid") != pid:
            return
        path.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    import psutil

    return bool(psutil.pid_exists(pid))


def running_servers() -> list[dict[str, Any]]:
    """The runtime files of servers still running, newest first."""
    folder = servers_dir()
    found = []
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(info, dict) and _alive(info.get("pid")):
            found.append(info)
    return sorted(found, key=lambda i: i.get("started", 0), reverse=True)


def proxied_url(info: Mapping[str, Any]) -> str | None:
    """Where Jupyter forwards to the server of runtime file ``info`` (a path on the Jupyter
    server's address), when this kernel runs under Jupyter with jupyter-server-proxy.

    The server Jupyter itself starts (the ``h2ogpt`` proxy entry) knows its prefix, its
    ``root_path``; any other local server is reached on the proxy's port route.
    """
    under_jupyter = os.environ.get("JPY_PARENT_PID") or os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if not under_jupyter or importlib.util.find_spec("jupyter_server_proxy") is None:
        return None
    if info.get("root_path"):
        return f"{str(info['root_path']).rstrip('/')}/v1"
    base = os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/"
    return f"{base.rstrip('/')}/proxy/{info['port']}/v1"
