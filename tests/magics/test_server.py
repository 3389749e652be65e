"""``%h2ogpt server start|stop|status|url`` and ``%h2ogpt load server`` on a real IPython shell,
with real server processes serving the tiny random model: the kernel's model served with its
options, the table of running servers, the openai SDK and ``load server`` as clients, API keys
(kept out of the process list), stopping another kernel's server by port, a server reached
through a real ``jupyter server``'s proxy with Jupyter's token, and every user mistake as one
line."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import openai
import psutil
import pytest
from IPython.utils.capture import capture_output

from h2ogpt_jupyter.models.manager import get_manager
from h2ogpt_jupyter.models.response import Response
from h2ogpt_jupyter.server import lifecycle
from tests.support.shell import line, one_error

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")

NO_SERVER = "h2ogpt: no h2oGPT server is running; start one with %h2ogpt server start"


def runtime_files(data_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(f.read_text()) for f in (data_dir / "servers").glob("*.json")]


@pytest.fixture
def data_dir() -> Path:
    from h2ogpt_jupyter.config import settings

    return settings().data_path


@pytest.fixture(autouse=True)
def _no_leftover_servers() -> Any:
    """Servers a test started are stopped even when it fails halfway."""
    yield
    for port, started in list(lifecycle._STARTED.items()):
        started.process.stop()
        del lifecycle._STARTED[port]


def test_mistakes_without_a_server_are_one_line(ip: Any, capsys: Any) -> None:
    line(ip, "load server")
    assert one_error(capsys) == NO_SERVER
    line(ip, "load server:tiny")
    assert one_error(capsys) == NO_SERVER
    line(ip, "server url")
    assert one_error(capsys) == NO_SERVER
    line(ip, "server stop")
    assert "this kernel has no server running" in one_error(capsys)
    line(ip, "server stop --port 1")
    assert one_error(capsys) == "h2ogpt: no h2oGPT server is running on port 1"
    line(ip, "server status")
    assert capsys.readouterr().out.startswith("No h2oGPT server is running")
    for bad in ("--port abc", "--port 70000", "--port -1", "--port"):
        line(ip, f"server start {bad}")
        assert "--port" in one_error(capsys), bad
    line(ip, "server start")  # nothing loaded, no default model
    assert "no model is loaded to serve" in one_error(capsys)
    line(ip, "server start --colour red")
    assert one_error(capsys) == "h2ogpt: server start takes no option --colour"
    line(ip, "server launch")
    assert "server takes one of: start, stop, status, url" in one_error(capsys)
    line(ip, "load smollm2 --token abc")
    assert "--token is for a server address" in one_error(capsys)
    line(ip, "load server --dtype float32")
    assert one_error(capsys) == "h2ogpt: load server takes no option --dtype"
    with capture_output() as shown:
        line(ip, "server")
    assert "server start" in shown.outputs[0].data["text/markdown"]


def test_which_addresses_get_jupyters_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from h2ogpt_jupyter.models.backends import LoadOptions, resolve
    from h2ogpt_jupyter.models.backends.names import remember_token

    def headers(url: str, **options: Any) -> dict[str, str]:
        spec = resolve(url, LoadOptions(**options))
        return dict(spec.headers)  # type: ignore[attr-defined]

    monkeypatch.setattr("h2ogpt_jupyter.models.backends.names._TOKENS", {})
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    monkeypatch.setenv("JUPYTER_TOKEN", "env-token")
    local = {"Authorization": "token env-token"}
    assert headers("http://127.0.0.1:8888/proxy/5000/v1") == local
    assert headers("http://localhost:8888/h2ogpt/v1", api_key="k") == {**local, "api-key": "k"}
    assert headers("http://127.0.0.1:5000/v1") == {}  # the server itself: no Jupyter there
    assert headers("https://elsewhere.example/proxy/5000/v1") == {}  # never to another host
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    monkeypatch.delenv("JUPYTER_TOKEN")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "hub-token")
    assert headers("https://hub.example/user/alice/h2ogpt/v1") == {
        "Authorization": "token hub-token"
    }
    assert headers("https://hub.example/user/bob/h2ogpt/v1") == {}  # another user's server
    remember_token("https://hub.example/user/bob/h2ogpt/v1/", "given")  # --token: always
    assert headers("https://hub.example/user/bob/h2ogpt/v1") == {"Authorization": "token given"}
    spec = resolve("https://hub.example/user/bob/h2ogpt/v1", LoadOptions())
    assert "given" not in repr(spec)


def test_a_port_in_use_is_refused_before_anything_starts(t: Any, capsys: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line(t, f"server start --port {port}")
        assert one_error(capsys) == (
            f"h2ogpt: port {port} on 127.0.0.1 is in use; choose another --port (0: any free)"
        )
    assert not lifecycle._STARTED


def test_start_status_url_clients_and_stop(
    t: Any, capsys: Any, data_dir: Path, tiny_model_dir: Path
) -> None:
    line(t, "server start --port 0 -o srv")
    out = capsys.readouterr().out
    srv = t.user_ns["srv"]
    assert f"Serving t at {srv.api_base} (pid {srv.pid})." in out
    assert f'openai.OpenAI(base_url="{srv.api_base}", api_key="unused")' in out
    # The kernel's model, as it was loaded: the same folder, alias and options.
    command = " ".join(psutil.Process(srv.pid).cmdline())
    assert f"--model t={tiny_model_dir}?dtype=float32" in command
    (info,) = runtime_files(data_dir)
    assert info["pid"] == srv.pid and info["models"] == ["t"]

    with capture_output() as shown:
        line(t, "server status")
    table = shown.outputs[0].data["text/markdown"]
    assert f"| {srv.api_base} | t | {srv.pid} |" in table and "| no | this kernel |" in table
    line(t, "server url")
    assert capsys.readouterr().out == f"{srv.api_base}\n"

    client = openai.OpenAI(base_url=srv.api_base, api_key="unused", max_retries=0)
    sampled = {"temperature": 1.0, "seed": 3, "max_tokens": 5}  # greedy tiny text is blank
    whole = client.chat.completions.create(
        model="t", messages=[{"role": "user", "content": "Hi"}], **sampled
    )
    assert whole.usage is not None and whole.usage.completion_tokens == 5
    stream = client.chat.completions.create(
        model="t", messages=[{"role": "user", "content": "Hi"}], stream=True, **sampled
    )
    deltas = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(deltas) == whole.choices[0].message.content

    line(t, "load server")
    out = capsys.readouterr().out
    assert f"Using the server at {srv.api_base} (t)." in out and "as 'server': openai" in out
    model = get_manager().get("server")
    assert model.backend.server_model == "t"  # type: ignore[attr-defined]
    assert model.backend.context_length == 1024  # what the server says of its model
    line(t, "ask --model server --temperature 1 --seed 3 --max-new-tokens 5 Hello")
    capsys.readouterr()
    answer = t.user_ns["_h2ogpt"]
    assert isinstance(answer, Response) and answer.model == "server"
    assert answer.usage.completion_tokens == 5
    line(t, "load server:t --as other")
    assert "as 'other'" in capsys.readouterr().out
    line(t, "load server:nope")
    assert one_error(capsys) == f"h2ogpt: the server at {srv.api_base} serves t, not 'nope'"
    line(t, "server start --model server")
    assert "'server' is already a server" in one_error(capsys)

    line(t, "server stop")
    assert capsys.readouterr().out == f"Stopped the server at {srv.api_base} (pid {srv.pid}).\n"
    assert not psutil.pid_exists(srv.pid) or psutil.Process(srv.pid).status() == "zombie"
    assert runtime_files(data_dir) == [] and not srv.log.exists()
    line(t, "server stop")
    assert "this kernel has no server running" in one_error(capsys)


def test_keys_stay_out_of_the_process_list_and_another_kernels_server_stops_by_port(
    t: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("H2OGPT_API_KEY", raising=False)
    line(t, "server start --port 0 --api-key sekrit-1 --keep -o srv")
    out = capsys.readouterr().out
    srv = t.user_ns["srv"]
    assert 'api_key="<your key>"' in out and "sekrit" not in out
    assert "sekrit" not in " ".join(psutil.Process(srv.pid).cmdline())
    with capture_output() as shown:
        line(t, "server status")
    assert "| required | this kernel (kept) |" in shown.outputs[0].data["text/markdown"]
    line(t, "load server --as mine")  # the kernel knows the key it started the server with
    assert "as 'mine'" in capsys.readouterr().out

    # As seen from another kernel: not ours, and the key must come from somewhere.
    monkeypatch.setattr(lifecycle, "_STARTED", {})
    line(t, "load server")
    assert one_error(capsys) == (
        f"h2ogpt: the server at {srv.api_base} needs an API key: "
        "pass --api-key KEY or set H2OGPT_API_KEY"
    )
    line(t, "load server --api-key wrong")
    assert "(401)" in one_error(capsys)
    monkeypatch.setenv("H2OGPT_API_KEY", "sekrit-1")
    line(t, "load server --as theirs")
    assert "as 'theirs'" in capsys.readouterr().out
    line(t, "server stop")
    assert "this kernel has no server running" in one_error(capsys)
    line(t, f"server stop --port {srv.port}")
    assert capsys.readouterr().out == f"Stopped the server at {srv.api_base} (pid {srv.pid}).\n"
    assert srv.process.wait(10) == 0  # a graceful stop


def test_a_server_behind_jupyters_proxy_with_its_token(
    t: Any, capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.jupyter_server import jupyter_server

    monkeypatch.setattr("h2ogpt_jupyter.models.backends.names._TOKENS", {})
    line(t, "server start --port 0 --api-key k2 -o srv")
    capsys.readouterr()
    srv = t.user_ns["srv"]
    with jupyter_server(tmp_path / "jupyter", base_url="/user/alice/") as jupyter:
        proxied = f"{jupyter.url}proxy/{srv.port}/v1"
        line(t, f"load {proxied} --token {jupyter.token} --api-key k2 --as via")
        assert "as 'via'" in capsys.readouterr().out
        model = get_manager().get("via")
        assert model.spec.headers == {  # type: ignore[attr-defined]
            "Authorization": f"token {jupyter.token}",
            "api-key": "k2",
        }
        assert model.backend._stream_headers == {"Accept": "text/event-stream"}  # type: ignore[attr-defined]
        line(t, "ask --model via --temperature 1 --seed 3 --max-new-tokens 5 Hello")
        capsys.readouterr()
        assert t.user_ns["_h2ogpt"].usage.completion_tokens == 5

        monkeypatch.setattr("h2ogpt_jupyter.models.backends.names._TOKENS", {})  # from the env now
        monkeypatch.setenv("JUPYTER_TOKEN", jupyter.token)
        line(t, f"load {proxied} --api-key k2 --as from-env")
        assert "as 'from-env'" in capsys.readouterr().out
        monkeypatch.setenv("JUPYTER_TOKEN", "not-the-token")
        line(t, f"load {proxied} --api-key k2 --as refused")
        refused = one_error(capsys)  # Jupyter sends a wrong token to its login page
        assert "refused to list models (302): check the Jupyter token" in refused
        monkeypatch.setenv("JPY_PARENT_PID", "1")
        monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
        line(t, "server url")
        assert capsys.readouterr().out == (
            f"{srv.api_base}\nThrough Jupyter: /user/alice/proxy/{srv.port}/v1 "
            "(on this Jupyter server's address)\n"
        )


def test_server_start_uses_the_server_jupyter_runs(
    t: Any, capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> None:
    """With Jupyter already serving the model at <base_url>/h2ogpt/, `server start` says so
    and loads no second copy; `server status` says who started it."""
    import os
    import time

    import httpx

    from h2ogpt_jupyter.server import proxy
    from h2ogpt_jupyter.server.runtime import running_servers
    from tests.support.jupyter_server import jupyter_server

    env = {
        proxy.MODEL_ENV: f"t={tiny_model_dir}?dtype=float32",
        "H2OGPT_DATA_DIR": os.environ["H2OGPT_DATA_DIR"],  # the kernel's: it finds the server
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    with jupyter_server(tmp_path / "jupyter", base_url="/user/alice/", env=env) as jupyter:
        deadline = time.monotonic() + 120
        health = f"{jupyter.url}h2ogpt/health"
        while httpx.get(health, headers=jupyter.headers, timeout=60).status_code != 200:
            assert time.monotonic() < deadline, jupyter.log_tail()
            time.sleep(0.3)
        monkeypatch.setenv("JPY_PARENT_PID", "1")  # this kernel runs under that Jupyter
        (running,) = running_servers()
        capsys.readouterr()
        line(t, "server start -o shared")
        out = capsys.readouterr().out
        assert out.startswith(
            f"Jupyter already serves 't' at /user/alice/h2ogpt/v1 (pid {running['pid']}): using it"
        ), out
        assert [i["pid"] for i in running_servers()] == [running["pid"]]  # no second server
        assert lifecycle.ours() == {} and t.user_ns["shared"]["pid"] == running["pid"]
        with capture_output() as cap:
            line(t, "server status")
        table = cap.outputs[-1].data["text/markdown"]
        assert "| Jupyter, at /user/alice/h2ogpt/ |" in table
        # asked for a server of its own (a port, a key), the kernel still gets one
        line(t, "server start --port 0")
        assert "Starting a server for 't'" in capsys.readouterr().out
        assert len(running_servers()) == 2 and len(lifecycle.ours()) == 1
        lifecycle.stop()


def test_load_server_goes_through_jupyter_and_starts_its_server(
    t: Any, capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> None:
    """A kernel of a real Jupyter server, with no h2oGPT server running: `load server` starts
    the one Jupyter runs (its first request does) and talks to it on Jupyter's address with
    Jupyter's token, read from the server's own runtime file; nothing else is loaded."""
    import os

    from h2ogpt_jupyter.server import proxy
    from h2ogpt_jupyter.server.runtime import running_servers
    from tests.support.jupyter_server import jupyter_server

    monkeypatch.setattr("h2ogpt_jupyter.models.backends.names._TOKENS", {})
    env = {
        proxy.MODEL_ENV: f"t={tiny_model_dir}?dtype=float32",
        "H2OGPT_DATA_DIR": os.environ["H2OGPT_DATA_DIR"],
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    folder = tmp_path / "jupyter"
    with jupyter_server(folder, base_url="/user/alice/", env=env) as jupyter:
        assert running_servers() == []
        monkeypatch.setenv("JPY_PARENT_PID", str(jupyter.process.pid))
        monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(folder / "runtime"))
        line(t, "load server --as shared")
        out = capsys.readouterr().out
        base = f"{jupyter.url}h2ogpt/v1"
        assert f"Using Jupyter's server at {base} (t)." in out, out
        (running,) = running_servers()  # Jupyter's, started by that request
        assert running["root_path"] == "/user/alice/h2ogpt" and lifecycle.ours() == {}
        model = get_manager().get("shared")
        assert model.backend.name == "openai" and model.spec.location == base
        line(t, "ask --model shared --temperature 1 --seed 3 --max-new-tokens 5 Hello")
        capsys.readouterr()
        assert t.user_ns["_h2ogpt"].usage.completion_tokens == 5
        line(t, "load server:other")
        assert one_error(capsys) == f"h2ogpt: Jupyter's server at {base} serves t, not 'other'"
        # running now: the same way in, without waiting
        line(t, "load server:t --as again")
        assert f"Using Jupyter's server at {base} (t)." in capsys.readouterr().out
        monkeypatch.setenv("JPY_PARENT_PID", "1")  # a kernel of no Jupyter server it can find
        line(t, "load server --as direct")
        assert "needs an API key: Jupyter serves it" in one_error(capsys)
