"""The server behind jupyter-server-proxy: a real ``jupyter server`` at a JupyterHub-style base
URL (``/user/alice/``) starts it with the tiny model on the first request to
``<base>/h2ogpt/``. Checked: Jupyter's token guards the route, the official ``openai`` client
works through it, streams arrive as they are generated, links carry the prefix, the loopback
port needs the server's own key, and the launcher entry with its icon; plus the entry point's
settings and errors without a server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import httpx
import openai
import psutil
import pytest

from h2ogpt_jupyter.errors import H2OGPTError
from h2ogpt_jupyter.server import proxy
from tests.support.jupyter_server import JupyterServer, jupyter_server

BASE_URL = "/user/alice/"
LOAD_SECONDS = 120
SAMPLED: dict[str, Any] = {"temperature": 1.0, "seed": 7}  # greedy chat answers are blank

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


@dataclass
class Proxied:
    jupyter: JupyterServer
    url: str  # <jupyter>/user/alice/h2ogpt, no slash
    data_dir: Path  # the h2oGPT server's, for its runtime file

    @property
    def api_base(self) -> str:
        return f"{self.url}/v1"

    def runtime_info(self) -> dict[str, Any]:
        files = list((self.data_dir / "servers").glob("*.json"))
        assert len(files) == 1, files
        info: dict[str, Any] = json.loads(files[0].read_text())
        return info


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _stop_leftovers(children: list[psutil.Process]) -> None:
    """The proxied server gets Jupyter's SIGTERM; end it by pid only if it outlived Jupyter."""
    _, alive = psutil.wait_procs(children, timeout=15)
    for child in alive:
        child.terminate()
    psutil.wait_procs(alive, timeout=10)


@pytest.fixture(scope="module")
def jupyter(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    """One Jupyter server for the module, told to proxy the tiny model."""
    folder = tmp_path_factory.mktemp("jupyter")
    data_dir = folder / "h2ogpt-data"
    env = {
        proxy.MODEL_ENV: f"tiny={tiny_model_dir}?dtype=float32",
        proxy.TIMEOUT_ENV: str(LOAD_SECONDS),
        "H2OGPT_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    with jupyter_server(folder, base_url=BASE_URL, env=env) as server:
        try:
            yield Proxied(server, f"{server.url}{proxy.NAME}", data_dir)
        finally:
            children = _children(server.process.pid)
    _stop_leftovers(children)


@pytest.fixture(scope="module")
def proxied(jupyter: Proxied) -> Proxied:
    """The proxied server once its model has loaded (the first request starts it)."""
    deadline = time.monotonic() + LOAD_SECONDS
    seen: list[int] = []
    while time.monotonic() < deadline:
        r = httpx.get(f"{jupyter.url}/health", headers=jupyter.jupyter.headers, timeout=60)
        seen.append(r.status_code)
        if r.status_code == 200:
            assert r.json() == {"status": "ok", "models": ["tiny"]}
            assert set(seen) <= {503, 200}, seen  # "loading", then ready: never a proxy error
            return jupyter
        time.sleep(0.2)
    pytest.fail(f"not ready: {seen[-5:]}\n{jupyter.jupyter.log_tail()}")


# --- the entry point, without a server -------------------------------------------------------
def render(config: dict[str, Any], base_url: str, port: int = 4321) -> list[str]:
    """The command as jupyter-server-proxy fills it in."""
    return [part.format(port=port, base_url=base_url, unix_socket="") for part in config["command"]]


def test_entry_point_is_registered_and_accepted_by_the_installed_proxy() -> None:
    from jupyter_server_proxy.config import ServerProcess

    (found,) = [e for e in entry_points(group="jupyter_serverproxy_servers") if e.name == "h2ogpt"]
    config = found.load()({})
    assert set(config) <= set(ServerProcess.class_trait_names())
    process = ServerProcess(name="h2ogpt", **config)
    assert process.launcher_entry.title == "h2oGPT" and process.absolute_url is False
    assert Path(process.launcher_entry.icon_path).read_text().lstrip().startswith("<svg")
    assert process.timeout == proxy.DEFAULT_TIMEOUT
    for base, root in [("/", "/h2ogpt"), ("/user/alice/", "/user/alice/h2ogpt")]:
        command = render(config, base)
        assert command[:3] == [sys.executable, "-m", "h2ogpt_jupyter.server.proxy"]
        assert command[-6:] == ["--host", "127.0.0.1", "--port", "4321", "--root-path", root]


def test_installing_the_package_enables_its_server_extension() -> None:
    """The wheel puts a jupyter_server_config.d file in the environment, as jupyter-server-proxy
    does; the extension's name sorts before the proxy's, so its route is the one served."""
    from jupyter_core.paths import jupyter_config_path

    enabled: dict[str, bool] = {}
    for folder in jupyter_config_path():
        for file in sorted(Path(folder, "jupyter_server_config.d").glob("*.json")):
            enabled.update(json.loads(file.read_text())["ServerApp"]["jpserver_extensions"])
    assert enabled.get("h2ogpt_jupyter.server") is True
    assert enabled.get("jupyter_server_proxy") is True
    assert sorted(["jupyter_server_proxy", "h2ogpt_jupyter.server"])[0] == "h2ogpt_jupyter.server"


def test_settings_come_from_the_environment() -> None:
    env = {
        proxy.MODEL_ENV: 'a=/m/x?prompt_dict={"promptA": "Q:"}',
        proxy.ARGS_ENV: "--max-queue 4 -o dtype=float32 --port 1",
        proxy.TIMEOUT_ENV: "42.5",
        "H2OGPT_API_KEYS": "mine",
    }
    config = proxy.setup_h2ogpt(env)
    command = render(config, "/")
    # braces survive the proxy's formatting; our --port comes last, so it wins
    assert command[3:12] == [
        "--max-queue",
        "4",
        "-o",
        "dtype=float32",
        "--port",
        "1",
        "--model",
        'a=/m/x?prompt_dict={"promptA": "Q:"}',
        "--host",
    ]
    assert config["timeout"] == 42.5
    mine, generated = config["environment"]["H2OGPT_API_KEYS"].split(",")
    assert mine == "mine" and len(generated) > 30
    assert config["request_headers_override"] == {"Authorization": f"Bearer {generated}"}
    assert generated not in json.dumps(proxy.setup_h2ogpt(env)["environment"])  # fresh each time


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({proxy.TIMEOUT_ENV: "soon"}, "H2OGPT_PROXY_TIMEOUT must be a positive number"),
        ({proxy.TIMEOUT_ENV: "-1"}, "H2OGPT_PROXY_TIMEOUT must be a positive number"),
        ({proxy.ARGS_ENV: "--max-queue 'x"}, "H2OGPT_PROXY_ARGS cannot be split"),
        ({proxy.ARGS_ENV: "--speed 11"}, "H2OGPT_PROXY_ARGS: "),
        ({proxy.ARGS_ENV: "--max-queue 0"}, "max_queue must be at least 1"),
        ({proxy.MODEL_ENV: "?dtype=float32"}, "H2OGPT_PROXY_MODEL or H2OGPT_PROXY_ARGS: no model"),
        ({proxy.ARGS_ENV: "--ssl-keyfile k --ssl-certfile c"}, "no TLS behind the proxy"),
    ],
)
def test_bad_settings_are_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(H2OGPTError) as info:
        proxy.setup_h2ogpt(env)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_model_that_cannot_load_is_not_restarted(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "h2ogpt_jupyter.server.proxy"]
    args = ["--model", str(tmp_path / "missing"), "--port", "0"]
    env = {**os.environ, "H2OGPT_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0  # jupyter-server-proxy restarts only non-zero exits
    assert "not restarted" in done.stderr and "missing" in done.stderr


# --- through a real Jupyter server -----------------------------------------------------------
def _refused(response: httpx.Response) -> str:
    """An API client without Jupyter's token is told so in JSON, as OpenAI's API would."""
    assert response.status_code == 401, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["type"] == "authentication_error" and error["code"] == 401
    return str(error["message"])


def test_the_route_needs_jupyters_token(proxied: Proxied) -> None:
    health = f"{proxied.url}/health"
    assert "token is missing or wrong" in _refused(httpx.get(health))
    wrong = {"Authorization": "token not-the-token"}
    _refused(httpx.get(health, headers=wrong))
    _refused(httpx.get(f"{proxied.api_base}/models", headers={"Authorization": "Bearer nope"}))
    _refused(httpx.post(f"{proxied.api_base}/chat/completions", json={}))
    assert httpx.get(health, params={"token": proxied.jupyter.token}).status_code == 200
    # a page (not the API) still sends a person to Jupyter's login
    page = httpx.get(f"{proxied.url}/")
    assert page.status_code == 302 and "/user/alice/login" in page.headers["location"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=proxied.api_base, api_key="nope", max_retries=0).models.list()


def test_locate_gives_a_files_path_under_the_root_and_needs_the_token(jupyter: Proxied) -> None:
    server = jupyter.jupyter
    (server.root / "docs").mkdir(exist_ok=True)
    pdf = server.root / "docs" / "Q3 report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    outside = server.root.parent / "outside.txt"
    outside.write_text("x")
    url = f"{server.url}h2ogpt-jupyter/locate"
    r = httpx.get(url, params={"path": str(pdf)}, headers=server.headers)
    assert r.status_code == 200 and r.json() == {"path": "docs/Q3 report.pdf"}
    for path in (str(outside), "docs/Q3 report.pdf", str(server.root / "docs"), ""):
        assert httpx.get(url, params={"path": path}, headers=server.headers).status_code == 404
    link = server.root / "docs" / "escape.txt"
    link.symlink_to(outside)  # a link out of the root is outside it
    assert httpx.get(url, params={"path": str(link)}, headers=server.headers).status_code == 404
    assert httpx.get(url, params={"path": str(pdf)}).status_code == 403


def test_every_route_of_the_extension_refuses_a_request_without_the_token(
    jupyter: Proxied,
) -> None:
    """Each handler the server extension adds is listed here, and each refuses a request
    without Jupyter's token: a new handler fails this test until it is guarded and listed."""
    from h2ogpt_jupyter.server import jupyter_extension

    added: list[str] = []

    class App:
        class web_app:
            settings: ClassVar[dict[str, str]] = {"base_url": "/user/alice/"}

            @staticmethod
            def add_handlers(host: str, rules: list[tuple[Any, ...]]) -> None:
                added.extend(str(rule[0]) for rule in rules)

        log = None

    jupyter_extension._load_jupyter_server_extension(App())
    assert added == [
        "/user/alice/h2ogpt-jupyter/locate",
        "/user/alice/h2ogpt/(.*)",
        "/user/alice/h2ogpt",
    ]
    base = jupyter.jupyter.url.removesuffix("/user/alice/")
    for route in (
        "/user/alice/h2ogpt-jupyter/locate?path=/etc/passwd",
        "/user/alice/h2ogpt/v1/models",
    ):
        for method in ("GET", "POST"):
            r = httpx.request(method, base + route, follow_redirects=False)
            assert r.status_code in (401, 403, 405), (method, route, r.status_code)
            assert r.status_code != 200


def test_openai_client_through_the_proxy(proxied: Proxied) -> None:
    # Jupyter's token in its own header scheme; the key is a placeholder the proxy replaces.
    client = openai.OpenAI(
        base_url=proxied.api_base,
        api_key="unused",
        default_headers=proxied.jupyter.headers,
        max_retries=0,
    )
    served = [m.id for m in client.models.list().data]
    assert served[0] == "tiny"  # then the embedding model
    answer = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "Hi"}], max_tokens=8, **SAMPLED
    )
    assert answer.choices[0].message.content and answer.usage
    assert answer.usage.completion_tokens <= 8
    # Jupyter also takes its token as the bearer key, so api_key alone is enough
    bearer = openai.OpenAI(base_url=proxied.api_base, api_key=proxied.jupyter.token, max_retries=0)
    text = bearer.completions.create(model="tiny", prompt="Once", max_tokens=4)
    assert text.usage and text.usage.completion_tokens == 4


def test_the_loopback_port_needs_the_servers_own_key(proxied: Proxied) -> None:
    info = proxied.runtime_info()
    assert info["root_path"] == "/user/alice/h2ogpt" and info["host"] == "127.0.0.1"
    assert info["api_key_required"] is True and info["models"] == ["tiny"]
    direct = info["url"]
    assert httpx.get(f"{direct}/health").status_code == 200
    assert httpx.get(f"{direct}/v1/models").status_code == 401
    bearer = {"Authorization": f"Bearer {proxied.jupyter.token}"}
    assert httpx.get(f"{direct}/v1/models", headers=bearer).status_code == 401
    # ... while the proxy adds it, whatever the client's Authorization header says
    assert httpx.get(f"{proxied.api_base}/models", headers=bearer).status_code == 200


def test_links_carry_the_prefix(proxied: Proxied) -> None:
    headers = proxied.jupyter.headers
    spec = httpx.get(f"{proxied.url}/openapi.json", headers=headers)
    assert spec.status_code == 200
    assert spec.json()["servers"] == [{"url": "/user/alice/h2ogpt"}]
    docs = httpx.get(f"{proxied.url}/docs", headers=headers)
    assert docs.status_code == 200 and "/user/alice/h2ogpt/openapi.json" in docs.text
    unknown = httpx.get(f"{proxied.api_base}/models/nope", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"


def _timed_events(proxied: Proxied, body: dict[str, Any]) -> tuple[float, list[float], str]:
    """(start, arrival time of each content chunk, the content)."""
    headers = {**proxied.jupyter.headers, "Accept": "text/event-stream"}
    arrivals: list[float] = []
    text = []
    start = time.monotonic()
    url = f"{proxied.api_base}/chat/completions"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=120) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
            if delta:
                arrivals.append(time.monotonic())
                text.append(delta)
    return start, arrivals, "".join(text)


def test_streams_arrive_as_they_are_generated(proxied: Proxied) -> None:
    tokens = 48  # sampled, so the text has word ends for the streamer to release at
    body = {
        "model": "tiny",
        "messages": [{"role": "user", "content": "Tell me a story"}],
        "max_tokens": tokens,
        "min_new_tokens": tokens,
        "stream": True,
        **SAMPLED,
    }
    start, arrivals, text = _timed_events(proxied, body)
    assert text and len(arrivals) >= 10, len(arrivals)
    # Buffered, every chunk would come at once when the answer is complete (spread ~0).
    spread, total = arrivals[-1] - arrivals[0], arrivals[-1] - start
    assert spread >= 0.3 * total, (spread, total)


def test_the_stock_openai_client_streams_through_jupyter(proxied: Proxied) -> None:
    """OpenAI's client sends no ``Accept: text/event-stream``; the chunks still arrive as they
    are generated, not all at once at the end."""
    client = openai.OpenAI(base_url=proxied.api_base, api_key=proxied.jupyter.token, max_retries=0)
    tokens = 48
    arrivals: list[float] = []
    text: list[str] = []
    start = time.monotonic()
    for chunk in client.chat.completions.create(
        model="tiny",
        messages=[{"role": "user", "content": "Tell me a story"}],
        max_tokens=tokens,
        extra_body={"min_new_tokens": tokens},
        stream=True,
        **SAMPLED,
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic())
            text.append(chunk.choices[0].delta.content)
    assert "".join(text) and len(arrivals) >= 10, len(arrivals)
    spread, total = arrivals[-1] - arrivals[0], arrivals[-1] - start
    assert spread >= 0.3 * total, (spread, total)
    # a plain completion through the same route is one JSON answer, as before
    whole = client.completions.create(model="tiny", prompt="Once", max_tokens=4)
    assert whole.usage and whole.usage.completion_tokens == 4
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tiny", messages=[], max_tokens=2)


def test_openai_client_streams_with_the_proxys_accept_header(proxied: Proxied) -> None:
    client = openai.OpenAI(
        base_url=proxied.api_base,
        api_key="unused",
        default_headers={**proxied.jupyter.headers, "Accept": "text/event-stream"},
        max_retries=0,
    )
    ask: dict[str, Any] = {
        "model": "tiny",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 8,
        "extra_body": {"min_new_tokens": 8},
        **SAMPLED,
    }
    chunks = [
        c.choices[0].delta.content
        for c in client.chat.completions.create(**ask, stream=True)
        if c.choices and c.choices[0].delta.content
    ]
    # the header is harmless without a stream: JSON answers and errors pass as usual
    whole = client.chat.completions.create(**ask).choices[0].message.content
    assert len(chunks) > 1 and "".join(chunks) == whole
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_launcher_entry_and_icon(proxied: Proxied) -> None:
    jupyter = proxied.jupyter
    info = httpx.get(f"{jupyter.url}server-proxy/servers-info", headers=jupyter.headers)
    assert info.status_code == 200
    (entry,) = [s for s in info.json()["server_processes"] if s["name"] == "h2ogpt"]
    launcher = entry["launcher_entry"]
    assert launcher["title"] == "h2oGPT" and launcher["enabled"] is True
    assert launcher["path_info"] == "h2ogpt/" and entry["new_browser_tab"] is False
    assert launcher["icon_url"] == "/user/alice/server-proxy/icon/h2ogpt"
    icon = httpx.get(f"http://{httpx.URL(jupyter.url).netloc.decode()}{launcher['icon_url']}")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.lstrip().startswith("<svg")
    # the launcher opens the server's page, whose links carry the prefix
    opened = httpx.get(f"{jupyter.url}{launcher['path_info']}", headers=jupyter.headers)
    assert opened.status_code == 200 and opened.headers["content-type"].startswith("text/html")
    assert 'src="/user/alice/h2ogpt/static/page.js"' in opened.text
    script = httpx.get(f"{jupyter.url}h2ogpt/static/page.js", headers=jupyter.headers)
    assert script.status_code == 200 and "export function readEvents" in script.text
    bare = httpx.get(f"{jupyter.url}h2ogpt", headers=jupyter.headers, follow_redirects=False)
    assert bare.status_code in (301, 302) and bare.headers["location"].endswith("/h2ogpt/")
