"""Nothing leaves the machine: loading and chatting with the packaged model opens no
connection and resolves no host name. A Python audit hook in a fresh process records, and
blocks before it happens, every connect or name lookup that is not loopback."""

import os
import subprocess
import sys
import textwrap

import pytest

GUARD = textwrap.dedent(
    """
    import sys

    attempts = []
    LOCAL = ("127.0.0.1", "::1", "localhost", None)

    def audit(event, args):
        if event == "socket.connect":
            address = args[1]
            host = address[0] if isinstance(address, tuple) else None  # unix sockets: None
        elif event == "socket.getaddrinfo":
            host = args[0]
        else:
            return
        if host not in LOCAL:
            attempts.append((event, host))
            raise ConnectionRefusedError(f"blocked by test: {host}")

    sys.addaudithook(audit)
    """
)

RUN_MODELS = """
import h2ogpt_jupyter as h2o

for backend in ("llamacpp", "transformers"):
    h2o.load("smollm2", alias=backend, backend=backend)
    h2o.ask("Which city is the capital of France?", model=backend, max_new_tokens=8)
print("ATTEMPTS", attempts)
"""

SELF_CHECK = """
import socket
try:
    socket.getaddrinfo("example.com", 443)
except ConnectionRefusedError:
    pass
print("ATTEMPTS", attempts)
"""


def run(body: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    result = subprocess.run(
        [sys.executable, "-c", GUARD + body], capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_guard_sees_a_lookup_and_blocks_it_before_it_happens():
    assert "ATTEMPTS [('socket.getaddrinfo', 'example.com')]" in run(SELF_CHECK)


@pytest.mark.integration
def test_packaged_model_runs_without_any_network_access():
    assert "ATTEMPTS []" in run(RUN_MODELS)
