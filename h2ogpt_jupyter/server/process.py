"""Start a server as a child process and wait until it is ready.

For kernels that want a server of their own and for the tests: the child is
``python -m h2ogpt_jupyter.server serve ARGS``; readiness is its one ``ready at`` line on
stdout, so ``--port 0`` works and the URL is known without guessing. The child's stderr goes
to a log file whose tail is shown if it fails to start.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from h2ogpt_jupyter.errors import H2OGPTError

READY = "h2ogpt server ready at "


class ServerProcess:
    """A running server: ``url`` (no ``/v1``), ``api_base`` (with it), ``stop()``."""

    def __init__(self, process: subprocess.Popen[str], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    @property
    def api_base(self) -> str:
        return f"{self.url}/v1"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM (a graceful stop that removes the runtime file), then SIGKILL if need be."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return int(self.process.returncode)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def start_server(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 180.0,
    log: str | os.PathLike[str] | None = None,
    own_session: bool = False,
) -> ServerProcess:
    """Run ``serve ARGS`` in a new process; return once it is ready, or raise with its log.

    ``own_session`` puts the server in a session of its own, out of the caller's process
    group: Jupyter interrupts a kernel by signalling its group, and ipykernel ends the group's
    processes when it shuts down, so a kernel's server needs this to survive either.
    """
    log_path = (
        Path(log) if log else Path(tempfile.mkstemp(prefix="h2ogpt-server-", suffix=".log")[1])
    )
    command = [sys.executable, "-m", "h2ogpt_jupyter.server", "serve", *args]
    with log_path.open("w") as err:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, **(env or {})},
            start_new_session=own_session,
        )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    server = ServerProcess(process, "", log_path)
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            server.stop()
            raise H2OGPTError(
                f"the server was not ready in {timeout:.0f} s:\n{server.log_tail()}"
            ) from None
        if line is None:
            code = process.wait()
            raise H2OGPTError(
                f"the server exited ({code}) before it was ready:\n{server.log_tail()}"
            )
        if line.startswith(READY):
            server.url = line[len(READY) :].strip()
            return server
