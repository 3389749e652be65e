"""A real ``jupyter server`` for tests, isolated from the user's Jupyter setup.

It listens on a free loopback port with a known token, serves a temporary folder and keeps its
config, data and runtime files in its own folders, so the user's config and running servers
neither affect it nor see it. Of the server extensions installed in the environment only the
ones asked for are enabled (by default jupyter-server-proxy and this package's): JupyterLab,
the language server and the rest would triple the start-up time and are not what the tests
look at.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from jupyter_core.paths import jupyter_config_path

# Jupyter variables that would point the server at the user's files or give it a token.
_USER_VARS = ("JUPYTER_CONFIG_PATH", "JUPYTER_PATH", "JUPYTER_TOKEN", "JUPYTER_PREFER_ENV_PATH")


@dataclass
class JupyterServer:
    process: subprocess.Popen[bytes]
    url: str  # http://127.0.0.1:PORT/BASE_URL/, ending with a slash
    token: str
    log: Path
    root: Path  # the folder it serves

    @property
    def headers(self) -> dict[str, str]:
        """How an API client authenticates to Jupyter."""
        return {"Authorization": f"token {self.token}"}

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (Jupyter stops its proxied processes too), then SIGKILL if need be."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _installed_extensions() -> set[str]:
    """Server extensions enabled by the environment's ``jupyter_server_config.d`` files."""
    names: set[str] = set()
    for folder in jupyter_config_path():
        for file in sorted(Path(folder, "jupyter_server_config.d").glob("*.json")):
            try:
                config = json.loads(file.read_text())
            except (OSError, ValueError):
                continue
            names.update(config.get("ServerApp", {}).get("jpserver_extensions", {}))
    return names


def _write_config(config_dir: Path, extensions: Sequence[str]) -> None:
    """Enable ``extensions`` and disable every other installed one (the user config dir wins
    over the environment's)."""
    enabled = {name: name in extensions for name in _installed_extensions() | set(extensions)}
    config = {"ServerApp": {"jpserver_extensions": enabled}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config, indent=1))


def _environment(folder: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _USER_VARS}
    for name in ("config", "data", "runtime"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    env.update(
        JUPYTER_CONFIG_DIR=str(folder / "config"),
        JUPYTER_DATA_DIR=str(folder / "data"),
        JUPYTER_RUNTIME_DIR=str(folder / "runtime"),
        IPYTHONDIR=str(folder / "ipython"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    env.update(extra)
    return env


def _launch(
    folder: Path, base_url: str, token: str, env: dict[str, str], args: Sequence[str] = ()
) -> JupyterServer:
    port = free_port()
    root = folder / "root"
    root.mkdir(exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.base_url={base_url}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        f"--IdentityProvider.token={token}",
        *args,
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = folder / f"jupyter-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    return JupyterServer(process, f"http://127.0.0.1:{port}{base_url}", token, log, root)


def _wait_ready(server: JupyterServer, deadline: float) -> bool:
    """True once the REST API answers; False if the process ended first."""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            r = httpx.get(server.url + "api/status", headers=server.headers, timeout=5)
            if r.status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise TimeoutError(f"jupyter server not ready in time:\n{server.log_tail()}")


@contextmanager
def jupyter_server(
    folder: Path,
    *,
    base_url: str = "/",
    env: Mapping[str, str] | None = None,
    extensions: Sequence[str] = ("jupyter_server_proxy", "h2ogpt_jupyter.server"),
    timeout: float = 60.0,
    args: Sequence[str] = (),
) -> Iterator[JupyterServer]:
    """Run ``jupyter server`` until the block ends. ``base_url`` must start and end with ``/``;
    ``args`` are more ``--ServerApp.…`` options.

    Tries three ports, as another process may take the free one before Jupyter binds it.
    """
    token = secrets.token_hex(24)
    environment = _environment(folder, env or {})
    _write_config(folder / "config", extensions)
    deadline = time.monotonic() + timeout
    for _ in range(3):
        server = _launch(folder, base_url, token, environment, args)
        if _wait_ready(server, deadline):
            break
    else:
        raise RuntimeError(f"jupyter server did not start:\n{server.log_tail()}")
    try:
        yield server
    finally:
        server.stop()
