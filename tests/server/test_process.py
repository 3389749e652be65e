"""The server as a process: readiness line and runtime file, 503 while loading, a full queue,
a client that goes away, keys from files and the environment, TLS, a proxy prefix, a model
that fails to load, and the command line."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from h2ogpt_jupyter.errors import H2OGPTError
from h2ogpt_jupyter.server.config import collect_keys, parse_model, read_keys_file
from h2ogpt_jupyter.server.process import start_server
from tests.support.servers import env_for, free_port, tiny_args

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


def metrics(url: str, **headers: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{url}/metrics?format=json", headers=headers).json()
    return data


def test_two_models_ready_line_runtime_file_and_keys_from_file_and_env(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("# team keys\nfile-key-1\n\nfile-key-2\n")
    env = env_for(tmp_path / "data", H2OGPT_API_KEYS="env-key-1, env-key-2")
    second = ["--model", f"tiny2={tiny_model_dir}", "-o", "dtype=float32"]
    args = tiny_args(tiny_model_dir, "--api-keys-file", str(keys_file), *second)
    srv = start_server(args, env=env)
    try:
        assert srv.url.startswith("http://127.0.0.1:")
        runtime = tmp_path / "data" / "servers" / f"{srv.port}.json"
        info = json.loads(runtime.read_text())
        assert info["url"] == srv.url and info["api_base"] == srv.url + "/v1"
        assert info["pid"] == srv.pid and info["models"] == ["tiny", "tiny2"]
        assert info["default_model"] == "tiny" and info["api_key_required"] is True
        assert "key" not in json.dumps(info).replace("api_key_required", "")
        for key in ("file-key-1", "file-key-2", "env-key-2"):
            r = httpx.get(srv.api_base + "/models", headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200, key
        assert httpx.get(srv.api_base + "/models").status_code == 401
        client = openai.OpenAI(base_url=srv.api_base, api_key="file-key-1", max_retries=0)
        assert [m.id for m in client.models.list().data][:2] == ["tiny", "tiny2"]
        picked = client.completions.create(model="tiny2", prompt="Hi", max_tokens=2)
        assert picked.model == "tiny2" and picked.usage and picked.usage.completion_tokens == 2
    finally:
        srv.stop()
    assert not runtime.exists()


def test_health_is_503_and_status_says_loading_while_models_load(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    args = ["--model", f"tiny={tiny_model_dir}?dtype=float32", "--port", str(port)]
    command = [sys.executable, "-m", "h2ogpt_jupyter.server", *args]  # 'serve' may be left out
    env = {**os.environ, **env_for(tmp_path / "data")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    seen: list[int] = []
    states: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
            except httpx.TransportError:
                time.sleep(0.02)
                continue
            if not seen or seen[-1] != r.status_code:
                seen.append(r.status_code)
            status = httpx.get(f"http://127.0.0.1:{port}/status", timeout=5)
            assert status.status_code == 200  # always: front ends poll it
            if r.status_code == 503:
                error = r.json()["error"]
                assert error["code"] == "model_loading" and r.headers["retry-after"] == "1"
                models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=5)
                assert models.status_code in (503, 200)
                states.append(status.json()["state"])
            if r.status_code == 200:
                assert status.json()["state"] == "ready" and status.json()["models"] == ["tiny"]
                break
            time.sleep(0.02)
        assert seen == [503, 200]
        assert set(states) <= {"loading", "ready"} and "loading" in states
        assert process.stdout is not None
        assert process.stdout.readline().decode().startswith("h2ogpt server ready at ")
    finally:
        process.terminate()
        process.wait(15)


def test_full_queue_answers_429_and_a_gone_client_stops_its_generation(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    # Sampled: the tiny model's greedy text has no spaces, and transformers' streamer only
    # lets text out at word ends.
    long = {
        "prompt": "Once",
        "max_tokens": 900,
        "min_new_tokens": 900,
        "n": 3,
        "stream": True,
        "temperature": 1.0,
        "seed": 1,
    }
    with start_server(tiny_args(tiny_model_dir, "--max-queue", "1"), env=env_for(tmp_path)) as srv:
        client = openai.OpenAI(base_url=srv.api_base, api_key="unused", max_retries=0)
        with httpx.stream("POST", srv.api_base + "/completions", json=long, timeout=60) as r:
            lines = r.iter_lines()
            while '"text": ""' in (line := next(lines)) or not line.startswith("data:"):
                pass  # until the first token arrives: the model is busy with this request
            with pytest.raises(openai.RateLimitError) as refused:
                client.completions.create(model="tiny", prompt="Me too", max_tokens=1)
            response = refused.value.response
            assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
            assert response.json()["error"]["code"] == "rate_limit_exceeded"
            busy = metrics(srv.url)["queue"]
            assert busy == {"depth": 0, "in_flight": 1, "limit": 1, "rejected": 1}
        gone = time.monotonic()  # leaving the block closed the connection mid-stream
        while metrics(srv.url)["queue"]["in_flight"] and time.monotonic() - gone < 5:
            time.sleep(0.02)
        assert time.monotonic() - gone < 1.0, "the generation did not stop within a second"
        after = metrics(srv.url)
        assert after["generations"] == {"tiny/cancelled": 1}  # the other two never started
        assert 0 < after["tokens"]["completion"] < 900
        again = client.completions.create(model="tiny", prompt="Free again", max_tokens=2)
        assert again.usage is not None and again.usage.completion_tokens == 2


def test_a_model_that_fails_to_load_stops_the_server(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(H2OGPTError) as failed:
        start_server(["--model", str(missing), "--port", "0"], env=env_for(tmp_path))
    assert "exited (1)" in str(failed.value) and "nowhere" in str(failed.value)
    assert not list((tmp_path / "servers").glob("*.json"))


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.mark.skipif(
    not any(
        os.access(os.path.join(p, "openssl"), os.X_OK)
        for p in os.environ.get("PATH", "").split(":")
    ),
    reason="needs the openssl command",
)
def test_tls_and_a_proxy_prefix(tiny_model_dir: Path, tmp_path: Path) -> None:
    key, cert = _self_signed(tmp_path)
    args = tiny_args(
        tiny_model_dir,
        "--ssl-keyfile",
        str(key),
        "--ssl-certfile",
        str(cert),
        "--root-path",
        "/user/me/proxy/5000/",
        "--api-key",
        "k",
    )
    with start_server(args, env=env_for(tmp_path)) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(cert))
        headers = {"Authorization": "Bearer k"}
        assert httpx.get(srv.url + "/health", verify=trusted).status_code == 200
        schema = httpx.get(srv.url + "/openapi.json", headers=headers, verify=trusted).json()
        assert schema["servers"] == [{"url": "/user/me/proxy/5000"}]
        client = openai.OpenAI(
            base_url=srv.api_base, api_key="k", http_client=httpx.Client(verify=trusted)
        )
        assert client.completions.create(model="tiny", prompt="Hi", max_tokens=2).choices
        with pytest.raises(httpx.ConnectError):
            httpx.get(srv.url + "/health")  # not trusted without the certificate
        info = json.loads((tmp_path / "servers" / f"{srv.port}.json").read_text())
        assert info["tls"] is True and info["root_path"] == "/user/me/proxy/5000"


# --- the command line, in process ----------------------------------------------------------------
def test_model_arguments_and_key_files(tmp_path: Path) -> None:
    arg = parse_model('tiny=/models/tiny?dtype=float32&prompt_dict={"a":1}')
    assert (arg.alias, arg.name, arg.options) == (
        "tiny",
        "/models/tiny",
        {"dtype": "float32", "prompt_dict": {"a": 1}},
    )
    assert parse_model("smollm2").alias is None
    assert parse_model("/data/a=b/model.gguf").name == "/data/a=b/model.gguf"
    listed = tmp_path / "keys.json"
    listed.write_text('["a", "b"]')
    assert read_keys_file(listed) == ["a", "b"]
    assert collect_keys(["a", "c"], [str(listed)], {"H2OGPT_API_KEYS": "d,a"}) == [
        "a",
        "c",
        "b",
        "d",
    ]
    with pytest.raises(H2OGPTError):
        read_keys_file(tmp_path / "missing.txt")


def test_cli_lists_serve_and_refuses_bad_arguments() -> None:
    from h2ogpt_jupyter import cli

    assert "serve" in cli.commands()
    done = subprocess.run(
        [sys.executable, "-m", "h2ogpt_jupyter.server", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        done.returncode == 0 and "--max-queue" in done.stdout and "--api-keys-file" in done.stdout
    )
    assert cli.main(["serve", "--ssl-keyfile", "k.pem", "--port", "0"]) == 2
    script = shutil.which("h2ogpt-jupyter", path=os.path.dirname(sys.executable))
    if script:  # the console script exists once the package is (re)installed
        done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "serve" in done.stdout
    with pytest.raises(SystemExit):
        cli.main(["no-such-command"])
