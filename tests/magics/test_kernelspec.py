"""``h2ogpt-jupyter install-kernel``: the spec agrees with the repository's copy, installs where
asked, is listed by ``jupyter kernelspec list``, and the kernel it starts has ``%h2ogpt``
without ``%load_ext``. In that kernel, a server it started stops when it shuts down or is
killed, unless started with ``--keep``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from h2ogpt_jupyter import cli
from h2ogpt_jupyter.magics import kernelspec

REPO_SPEC = Path(__file__).resolve().parents[2] / "kernels" / "h2ogpt" / "kernel.json"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_generated_spec_is_the_repository_copy() -> None:
    assert json.loads(REPO_SPEC.read_text()) == kernelspec.kernel_spec(executable="python")
    assert kernelspec.kernel_spec()["argv"][0] == sys.executable


def test_bad_names_and_choices_are_refused(tmp_path: Path, capsys: Any) -> None:
    assert cli.main(["install-kernel", "--prefix", str(tmp_path), "--name", "no spaces"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("h2ogpt-jupyter install-kernel: ") and err.count("\n") == 1
    with pytest.raises(SystemExit):
        cli.main(["install-kernel", "--user", "--sys-prefix"])
    assert "install-kernel" in cli.commands()


@pytest.fixture
def installed(tmp_path: Path, capsys: Any) -> Path:
    """The kernel installed under a temporary prefix; its kernels folder."""
    assert cli.main(["install-kernel", "--prefix", str(tmp_path / "prefix")]) == 0
    kernels = tmp_path / "prefix" / "share" / "jupyter" / "kernels"
    out = capsys.readouterr().out
    assert out == f"Installed kernel 'h2ogpt' (Python 3 (h2oGPT)) in {kernels / 'h2ogpt'}\n"
    return kernels


@pytest.fixture
def kernel(installed: Path) -> Iterator[Any]:
    """A running h2oGPT kernel and a client to it."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    specs = KernelSpecManager(kernel_dirs=[str(installed)])
    manager = KernelManager(kernel_name="h2ogpt", kernel_spec_manager=specs)
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    try:
        yield manager, client
    finally:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


def run(client: Any, code: str, timeout: float = 240) -> str:
    """Execute ``code``; its stdout, with errors and stderr appended."""
    parts: list[str] = []

    def keep(msg: dict[str, Any]) -> None:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            parts.append(content["text"])
        elif msg["msg_type"] == "error":
            parts.append("\n".join(content["traceback"]))

    reply = client.execute_interactive(code, output_hook=keep, timeout=timeout)
    assert reply["content"]["status"] == "ok", "".join(parts)
    return "".join(parts)


def test_install_list_and_start_the_kernel(installed: Path, kernel: Any) -> None:
    spec = json.loads((installed / "h2ogpt" / "kernel.json").read_text())
    assert spec == kernelspec.kernel_spec()  # this Python, not a bare `python`
    assert list((installed / "h2ogpt").glob("logo-*.png"))
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter"), "kernelspec", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "JUPYTER_PATH": str(installed.parent)},
        check=True,
    )
    found = json.loads(listed.stdout)["kernelspecs"]["h2ogpt"]
    assert found["spec"]["display_name"] == "Python 3 (h2oGPT)"
    assert Path(found["resource_dir"]) == installed / "h2ogpt"

    _, client = kernel
    assert run(client, "print('h2ogpt' in get_ipython().magics_manager.magics['line'])") == (
        "True\n"
    )
    assert run(client, "%h2ogpt server status").startswith("No h2oGPT server is running")


def _gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie":
            return True
        time.sleep(0.1)
    return False


def _server_pids(client: Any, *aliases: str, keep: bool = False) -> dict[str, int]:
    from h2ogpt_jupyter.config import settings

    for alias in aliases:
        command = f"%h2ogpt server start --model {alias} --port 0" + (" --keep" if keep else "")
        shown = run(client, command)
        assert f"Serving {alias.split('=')[0]} at " in shown, shown
    files = (settings().data_path / "servers").glob("*.json")
    return {info["models"][0]: info["pid"] for info in map(json.loads, map(Path.read_text, files))}


def test_a_server_stops_with_the_kernel(kernel: Any, tiny_model_dir: Path) -> None:
    manager, client = kernel
    pids = _server_pids(client, f"t={tiny_model_dir}?dtype=float32")
    manager.shutdown_kernel(now=False)  # as Jupyter does: a shutdown request, then it exits
    assert _gone(pids["t"]), "the server outlived the kernel that started it"


def test_a_server_stops_when_its_kernel_is_killed(kernel: Any, tiny_model_dir: Path) -> None:
    from h2ogpt_jupyter.server import runtime

    manager, client = kernel
    pids = _server_pids(client, f"t={tiny_model_dir}?dtype=float32")
    manager.shutdown_kernel(now=True)  # killed: no exit handlers run in the kernel
    assert _gone(pids["t"]), "the server outlived the kernel that was killed"
    assert all(info["pid"] != pids["t"] for info in runtime.running_servers())


def test_a_kept_server_outlives_the_kernel(kernel: Any, tiny_model_dir: Path) -> None:
    manager, client = kernel
    pids = _server_pids(client, f"k={tiny_model_dir}?dtype=float32", keep=True)
    manager.shutdown_kernel(now=False)
    time.sleep(2)
    try:
        assert psutil.pid_exists(pids["k"]) and psutil.Process(pids["k"]).status() != "zombie"
    finally:
        if psutil.pid_exists(pids["k"]):
            psutil.Process(pids["k"]).terminate()


def test_a_server_survives_an_interrupted_cell(kernel: Any, tiny_model_dir: Path) -> None:
    manager, client = kernel
    pids = _server_pids(client, f"t={tiny_model_dir}?dtype=float32")
    client.execute("import time; time.sleep(60)")
    time.sleep(1)
    manager.interrupt_kernel()  # the toolbar's stop button
    time.sleep(3)
    try:
        assert psutil.pid_exists(pids["t"]) and psutil.Process(pids["t"]).status() != "zombie"
    finally:  # the fixture kills the kernel (no exit handlers run), so stop the server here
        if psutil.pid_exists(pids["t"]):
            psutil.Process(pids["t"]).terminate()


def test_the_environment_offers_the_kernel() -> None:
    """``make setup`` (and so ``make lab``) installs "Python 3 (h2oGPT)" into the environment
    it made, for the JupyterLab installed there, with no separate step."""
    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "h2ogpt" / "kernel.json"
    assert spec.is_file(), f"no kernel spec at {spec}: run `make setup`"
    kernel = json.loads(spec.read_text())
    assert kernel["display_name"] == "Python 3 (h2oGPT)"
    assert Path(kernel["argv"][0]).resolve() == Path(sys.executable).resolve()
