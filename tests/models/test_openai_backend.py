"""The OpenAI-compatible backend against a real local server: llama-cpp-python's own
``llama_cpp.server`` serving the packaged SmolLM2 GGUF on a free loopback port.

The same server is reached three ways: a plain base URL and ``vllm_chat:`` (chat API: role /
content messages go out and the server applies the model's template) and ``vllm:``
(completions API: the prompt is rendered here, in one of h2oGPT's formats).
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.errors import H2OGPTError, UnknownModelError
from h2ogpt_jupyter.models.backends import packaged_path
from h2ogpt_jupyter.models.manager import ModelManager

pytestmark = pytest.mark.integration

CAPITAL = "Which city is the capital of France?"
SERVER_CTX = 2048


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.port = port
        self.process = process
        self.log = log

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(packaged_path("smollm2")),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(SERVER_CTX),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    srv = Server(port, process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({process.returncode}):\n{srv.log_tail()}")
            try:
                if httpx.get(f"http://{srv.address}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer in 60 s:\n{srv.log_tail()}")
            time.sleep(0.2)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def mgr(server: Server) -> Iterator[ModelManager]:
    manager = ModelManager()
    manager.load(f"http://{server.address}/v1", alias="url")
    manager.load(f"vllm_chat:{server.address}", alias="vllm_chat")
    manager.load(f"vllm:{server.address}", alias="vllm")
    manager.load(f"vllm:{server.address}", alias="vllm_chatml", prompt_type="qwen")
    yield manager
    manager.unload_all()


class Spy:
    """Records what the backend asks the client for, and the stream it got back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, resource: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self.streams: list[Any] = []
        original = resource.create

        def create(**kwargs: Any) -> Any:
            self.calls.append(kwargs)
            stream = original(**kwargs)
            self.streams.append(stream)
            return stream

        monkeypatch.setattr(resource, "create", create)


def spy(monkeypatch: pytest.MonkeyPatch, mgr: ModelManager, alias: str) -> Spy:
    backend = mgr.get(alias).backend
    client = backend.client  # type: ignore[attr-defined]
    resource = client.chat.completions if backend.chat_api else client.completions  # type: ignore[attr-defined]
    return Spy(monkeypatch, resource)


def send(mgr: ModelManager, alias: str, text: str, **options: Any):
    deltas: list[str] = []
    response = Chat(model=alias, manager=mgr).send(text, on_text=deltas.append, **options)
    return response, deltas


def connections_to(port: int) -> list[Any]:
    return [
        c
        for c in psutil.Process().net_connections("tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]


# --- the three ways in -----------------------------------------------------------------------
def test_loaded_specs(mgr, server):
    url = f"http://{server.address}/v1"
    gguf = str(packaged_path("smollm2"))
    expected = {
        "url": ("chat", "openai_chat"),
        "vllm_chat": ("chat", "openai_chat"),
        "vllm": ("completions", "plain"),  # the server's model id names no known format
        "vllm_chatml": ("completions", "qwen"),
    }
    for alias, (api, prompt_type) in expected.items():
        model = mgr.get(alias)
        assert model.spec.api == api
        assert model.spec.location == url
        assert model.prompt_type == prompt_type
        assert model.backend.server_model == gguf  # type: ignore[attr-defined]  # /v1/models
        info = model.info()
        assert info["backend"] == "openai" and info["memory_bytes"] == 0
        assert info["context_length"] == 4096


@pytest.mark.parametrize("alias", ["url", "vllm_chat"])
def test_chat_api_sends_messages_and_streams(mgr, alias, monkeypatch):
    calls = spy(monkeypatch, mgr, alias)
    response, deltas = send(mgr, alias, CAPITAL, max_new_tokens=48)
    assert "Paris" in response.text
    assert len(deltas) >= 3
    assert "".join(deltas).strip() == response.text
    assert response.finish_reason == "stop"
    assert response.usage.prompt_tokens > 0
    assert 0 < response.usage.completion_tokens < 48
    (call,) = calls.calls
    assert call["messages"][-1] == {"role": "user", "content": CAPITAL}
    assert {m["role"] for m in call["messages"]} <= {"system", "user"}
    assert call["stream"] is True and call["temperature"] == 0.0
    assert call["max_tokens"] == 48
    assert "<|im_start|>" not in "".join(m["content"] for m in call["messages"])


def test_chat_api_carries_the_history(mgr, monkeypatch):
    calls = spy(monkeypatch, mgr, "url")
    chat = Chat(model="url", manager=mgr)
    first = chat.send(CAPITAL, max_new_tokens=32)
    chat.send("And of Italy?", max_new_tokens=32)
    messages = calls.calls[-1]["messages"]
    assert messages[-3:] == [
        {"role": "user", "content": CAPITAL},
        {"role": "assistant", "content": first.text},
        {"role": "user", "content": "And of Italy?"},
    ]


def test_completions_api_sends_our_prompt(mgr, monkeypatch):
    calls = spy(monkeypatch, mgr, "vllm")
    response, deltas = send(mgr, "vllm", CAPITAL, max_new_tokens=32)
    (call,) = calls.calls
    assert call["prompt"] == response.prompt == f"{CAPITAL}\n"  # h2oGPT's plain format
    assert "messages" not in call
    assert response.text and deltas
    assert response.usage.completion_tokens > 0


def test_completions_api_in_chatml_answers(mgr, monkeypatch):
    calls = spy(monkeypatch, mgr, "vllm_chatml")
    response, deltas = send(mgr, "vllm_chatml", CAPITAL, max_new_tokens=48)
    prompt = calls.calls[0]["prompt"]
    assert prompt.startswith("<|im_start|>system\n")
    assert prompt.endswith(f"<|im_start|>user\n{CAPITAL}<|im_end|>\n<|im_start|>assistant\n")
    assert "Paris" in response.text
    assert len(deltas) >= 3
    assert "<|im_end|>" not in response.text


# --- Stop ------------------------------------------------------------------------------------
def test_stop_mid_stream_closes_the_connection(server, monkeypatch):
    manager = ModelManager()  # its own client, so the only connection is this stream's
    try:
        manager.load(f"vllm_chat:{server.address}", alias="stopper")
        calls = spy(monkeypatch, manager, "stopper")
        chat = Chat(model="stopper", manager=manager)
        generation = chat.stream("Write a very long story about a dragon.", max_new_tokens=1500)
        stopped_at: list[float] = []
        during: list[int] = []
        count = 0
        for _ in generation:
            count += 1
            if count == 1:
                during.append(len(connections_to(server.port)))
            if count == 5:
                presser = threading.Thread(
                    target=lambda: (stopped_at.append(time.perf_counter()), generation.stop())
                )
                presser.start()
                presser.join()
        ended = time.perf_counter()
        response = generation.response
        assert stopped_at and ended - stopped_at[0] < 1.0
        assert response.finish_reason == "cancelled"
        assert 5 <= response.usage.completion_tokens < 100
        assert during == [1]
        assert calls.streams[0].response.is_closed
        assert connections_to(server.port) == []  # closed, not parked in the pool
        after, _ = send(manager, "stopper", CAPITAL, max_new_tokens=32)  # server still fine
        assert "Paris" in after.text
    finally:
        manager.unload_all()


# --- errors ----------------------------------------------------------------------------------
def assert_one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(err.value)
    assert message and "\n" not in message
    assert "Traceback" not in message
    # No chained library traceback under the message (`raise ... from None`).
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__
    return message


@pytest.mark.parametrize("form", ["http://127.0.0.1:{port}/v1", "vllm:127.0.0.1:{port}"])
def test_unreachable_server_at_load(form):
    port = free_port()  # nothing listens there
    manager = ModelManager()
    start = time.perf_counter()
    with pytest.raises(H2OGPTError, match="cannot reach") as err:
        manager.load(form.format(port=port))
    assert time.perf_counter() - start < 10
    assert f"127.0.0.1:{port}" in assert_one_line(err)
    assert len(manager) == 0


def test_unreachable_server_at_send():
    """With base_model named nothing is asked at load; the first turn reports it."""
    port = free_port()
    manager = ModelManager()
    manager.load(f"vllm_chat:127.0.0.1:{port}", alias="nowhere", base_model="smol")
    chat = Chat(model="nowhere", manager=manager)
    with pytest.raises(H2OGPTError, match="cannot reach the server") as err:
        chat.send(CAPITAL)
    assert f"127.0.0.1:{port}" in assert_one_line(err)
    assert chat.history == []
    manager.unload_all()


def test_wrong_path_is_refused_at_load(server):
    with pytest.raises(UnknownModelError, match=r"refused to list models \(404\)") as err:
        ModelManager().load(f"http://{server.address}/nope/v1")
    assert_one_line(err)


def test_server_error_status_is_one_line(server):
    manager = ModelManager()
    manager.load(f"http://{server.address}/nope/v1", alias="bad", base_model="smol")
    with pytest.raises(H2OGPTError, match="server error 404") as err:
        Chat(model="bad", manager=manager).send(CAPITAL)
    assert_one_line(err)
    manager.unload_all()


@pytest.mark.parametrize("alias", ["vllm_chat", "vllm"])
def test_prompt_longer_than_the_servers_window(mgr, alias):
    """The server's window (2048) is smaller than the 4096 assumed here, so the prompt passes
    our trimming and the server fails after its 200 headers, ending the stream either
    cleanly or mid-chunk: an empty answer must not pass for a reply either way."""
    long_text = "word " * 2500
    failed = "ended the stream without an answer|broke off the answer"
    with pytest.raises(H2OGPTError, match=failed) as err:
        Chat(model=alias, manager=mgr).send(long_text, max_new_tokens=16)
    assert_one_line(err)
    response, _ = send(mgr, alias, CAPITAL, max_new_tokens=16)  # and the model still answers
    assert response.text


def test_max_seq_len_sets_the_servers_window(server):
    """The server does not say how long its window is; max_seq_len tells, and old turns are
    then dropped here, by the estimate, instead of the request being refused there."""
    manager = ModelManager()
    model = manager.load(f"vllm:{server.address}", alias="w", max_seq_len=512)
    assert model.backend.context_length == 512
    history = [(f"question {i} " + "word " * 40, "answer " * 20) for i in range(20)]
    chat = Chat(model="w", manager=manager, chat_conversation=history)
    response = chat.send("Say hi.", max_new_tokens=16)
    assert 0 < response.params["turns_used"] < 20
    assert response.text
    manager.unload_all()


def test_openai_without_api_key(monkeypatch):
    import openai

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def no_client(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("no client may be made without a key")

    monkeypatch.setattr(openai, "OpenAI", no_client)
    for name in ("openai_chat", "openai_chat:gpt-4o", "openai:gpt-3.5-turbo-instruct"):
        with pytest.raises(UnknownModelError, match="OPENAI_API_KEY") as err:
            ModelManager().load(name)
        assert "\n" not in str(err.value)


# --- what llama.cpp's server never does: usage chunks, vLLM's window, broken streams ---------
class FakeServer(http.server.BaseHTTPRequestHandler):
    """A few lines of OpenAI protocol; the request's model name picks the behaviour."""

    protocol_version = "HTTP/1.0"  # the body ends when the connection closes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        models = [{"id": "fake-7b", "object": "model", "owned_by": "me", "max_model_len": 1234}]
        self._json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = body["model"]
        if model == "old" and "stream_options" in body:
            self._json(400, {"error": {"message": "Unrecognized argument: stream_options"}})
            return
        if model == "refuse":
            self._json(400, {"error": {"message": "temperature is not allowed here"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if model == "hangup":  # promises more than it sends, then drops the connection
            self.send_header("Content-Length", "100000")
        self.end_headers()
        for word in ("Bonjour", " de", " Paris"):
            self._event({"choices": [{"index": 0, "delta": {"content": word}}]})
        if model == "sse-error":
            self._event({"error": {"message": "the GPU caught fire"}})
            return
        if model == "hangup":
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if body.get("stream_options", {}).get("include_usage"):
            usage = {"prompt_tokens": 42, "completion_tokens": 3, "total_tokens": 45}
            self._event({"choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, payload: dict[str, Any]) -> None:
        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        self.wfile.write(f"data: {json.dumps({**chunk, **payload})}\n\n".encode())
        self.wfile.flush()


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def fake_chat(fake: str, model: str = "", **options: Any) -> Chat:
    manager = ModelManager()
    manager.load(f"vllm_chat:{fake}", alias="fake", base_model=model, **options)
    return Chat(model="fake", manager=manager)


def test_usage_from_the_server_and_vllm_window(fake):
    chat = fake_chat(fake)
    assert chat.loaded_model().backend.server_model == "fake-7b"
    assert chat.loaded_model().backend.context_length == 1234  # vLLM's max_model_len
    response = chat.send(CAPITAL)
    assert response.text == "Bonjour de Paris"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (42, 3)
    assert fake_chat(fake, max_seq_len=999).loaded_model().backend.context_length == 999


def test_server_without_stream_options_gets_a_plain_retry(fake):
    response = fake_chat(fake, "old").send(CAPITAL)
    assert response.text == "Bonjour de Paris"
    assert response.usage.completion_tokens == 3  # counted here: no usage chunk came


def test_server_refusal_is_one_line(fake):
    with pytest.raises(H2OGPTError, match="server error 400: temperature is not allowed") as err:
        fake_chat(fake, "refuse").send(CAPITAL)
    assert_one_line(err)


@pytest.mark.parametrize(("model", "why"), [("sse-error", "GPU caught fire"), ("hangup", "")])
def test_stream_broken_mid_answer_is_one_line(fake, model, why):
    chat = fake_chat(fake, model)
    with pytest.raises(H2OGPTError, match="broke off the answer") as err:
        chat.send(CAPITAL)
    assert why in assert_one_line(err)
    assert chat.history == []
