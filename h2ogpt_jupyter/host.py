"""The Jupyter server this kernel runs under: its address, its token, its root folder, and the
notebook's folder.

A kernel needs them twice. To reach the h2oGPT server Jupyter runs for the user at
``<base_url>/h2ogpt/v1`` (its loopback port takes only the proxy's own key, so the way in is
Jupyter's address with Jupyter's token). And to turn a document's path into a link that opens
it in JupyterLab, which resolves links from the notebook's folder and opens only files under
its root.

Jupyter starts each kernel with its own pid in ``JPY_PARENT_PID`` and, for every server it
runs, writes ``jpserver-<pid>.json`` (url, token, root_dir) in its runtime folder, which the
kernel shares. A kernel started otherwise (plain IPython, another front end) has no host, and
callers fall back to what they did without one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

PARENT_ENV = "JPY_PARENT_PID"
SESSION_ENV = "JPY_SESSION_NAME"  # the notebook's path, as Jupyter knew it at kernel start
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}


@dataclass(frozen=True)
class JupyterHost:
    url: str  # http://127.0.0.1:8888/base/, ending with a slash
    token: str  # "" when the server takes none (or a password only)
    root_dir: Path
    pid: int

    def url_for(self, path: str) -> str:
        """``path`` (like ``h2ogpt/v1``) on this server's address."""
        return self.url + path.lstrip("/")


def _runtime_dir() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def _reachable(url: str) -> str:
    """The server's URL as this machine reaches it: one bound to every address on loopback."""
    parts = urlsplit(url)
    if parts.hostname in _ANY_ADDRESS:
        netloc = f"127.0.0.1:{parts.port}" if parts.port else "127.0.0.1"
        parts = parts._replace(netloc=netloc)
    text = urlunsplit(parts)
    return text if text.endswith("/") else text + "/"


def this_jupyter() -> JupyterHost | None:
    """The Jupyter server that started this kernel, or None outside one (or when it serves on
    a Unix socket, which no HTTP client here can use)."""
    pid = os.environ.get(PARENT_ENV, "")
    if not pid.isdigit():
        return None
    try:
        info = json.loads((_runtime_dir() / f"jpserver-{pid}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = str(info.get("url") or "")
    if not url.startswith(("http://", "https://")) or info.get("sock"):
        return None
    root = Path(str(info.get("root_dir") or os.getcwd()))
    return JupyterHost(_reachable(url), str(info.get("token") or ""), root, int(pid))


def notebook_dir(host: JupyterHost | None = None) -> Path:
    """The folder of the notebook this kernel runs for: where JupyterLab resolves a relative
    link from. The kernel's working folder unless Jupyter named the notebook."""
    name = os.environ.get(SESSION_ENV, "")
    if name.endswith(".ipynb"):
        path = Path(name)
        if not path.is_absolute() and host is not None:
            path = host.root_dir / path
        if path.parent.is_dir():
            return path.parent.resolve()
    return Path.cwd().resolve()


def file_link(path: str, page: int | None = None, host: JupyterHost | None = None) -> str | None:
    """A link target that opens the file ``path`` in JupyterLab from the notebook's output (a
    PDF at ``page``), or None when no Jupyter runs this kernel or the file lies outside its
    root, where JupyterLab cannot open it."""
    host = host or this_jupyter()
    if host is None or not path or "://" in path:
        return None
    target = Path(path)
    if not target.is_absolute() or not target.is_file():
        return None
    target = target.resolve()
    if not target.is_relative_to(host.root_dir.resolve()):
        return None
    relative = Path(os.path.relpath(target, notebook_dir(host))).as_posix()
    fragment = f"#page={page}" if page and target.suffix.lower() == ".pdf" else ""
    return quote(relative) + fragment
