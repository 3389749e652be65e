"""The OpenAI-compatible server as clients see it: a real server process on loopback serving
the tiny random Llama (and the tiny embedder), driven by the official ``openai`` client (sync,
async, streaming), raw HTTP where the wire format itself is checked, and LangChain.

The tiny model's greedy chat answers are blank lines (trimmed to ""), so chat checks that need
text sample with a fixed seed, which is just as reproducible."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from h2ogpt_jupyter.server.process import ServerProcess, start_server
from tests.support.servers import env_for, tiny_args

KEY = "sk-test-key-1"
SAMPLED = {"temperature": 1.0, "seed": 7}
FACTS = {
    "rivers": "The Danube flows through ten countries before reaching the Black Sea.",
    "space": "Jupiter has the shortest day of all planets, under ten hours long.",
    "food": "Saffron is harvested by hand from the stigmas of crocus flowers.",
}

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, tiny_embedder_dir: Path) -> Path:
    """The server's data folder, with a 'Facts' collection embedded by the tiny embedder."""
    from h2ogpt_jupyter import config
    from h2ogpt_jupyter.documents import Text, get_collection
    from h2ogpt_jupyter.documents.embeddings import get_embedder

    folder = tmp_path_factory.mktemp("server-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("H2OGPT_DATA_DIR", str(folder))
        mp.setenv("H2OGPT_USERDATA_DIR", str(folder / "userdata"))
        config.reset()
        docs = get_collection("Facts", embedder=get_embedder(tiny_embedder_dir, dtype="float32"))
        assert docs.add([Text(text, name=name) for name, text in FACTS.items()]).ok
    config.reset()
    return folder


@pytest.fixture(scope="module")
def server(
    tiny_model_dir: Path, tiny_embedder_dir: Path, data_dir: Path
) -> Iterator[ServerProcess]:
    env = env_for(data_dir, tiny_embedder_dir)
    args = tiny_args(tiny_model_dir, "--api-key", KEY)
    with start_server(args, env=env) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_base, api_key=KEY, max_retries=0)


def ask(**extra: Any) -> dict[str, Any]:
    return {"model": "tiny", "messages": [{"role": "user", "content": "Hi"}], **extra}


def sse(server: ServerProcess, path: str, body: dict[str, Any]) -> list[Any]:
    """The data of every server-sent event, parsed; ``[DONE]`` kept as the string."""
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.stream("POST", server.api_base + path, json=body, headers=headers) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        data = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    return [d if d == "[DONE]" else json.loads(d) for d in data]


# --- models and plain answers -------------------------------------------------------------------
def test_models_lists_the_served_alias_first_then_the_embedder(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list().data]
    assert ids == ["tiny", "tiny-embedder"]
    assert client.models.retrieve("tiny").id == "tiny"


def test_chat_completion_has_openai_shape(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(max_tokens=6, **ask(**SAMPLED))
    assert r.id.startswith("chatcmpl-") and r.object == "chat.completion" and r.model == "tiny"
    choice = r.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 6
    assert r.usage.total_tokens == r.usage.prompt_tokens + 6


def test_model_defaults_to_the_first_and_n_gives_choices(server: ServerProcess) -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3, "n": 2, **SAMPLED}
    r = httpx.post(
        server.api_base + "/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["model"] == "tiny" and [c["index"] for c in data["choices"]] == [0, 1]
    assert data["usage"]["completion_tokens"] == 6
    # choice i samples with seed + i: different answers, each reproducible
    texts = [c["message"]["content"] for c in data["choices"]]
    assert texts[0] != texts[1]


def test_history_and_system_prompt_go_into_the_prompt(client: openai.OpenAI) -> None:
    def prompt_tokens(messages: list[dict[str, str]]) -> int:
        r = client.chat.completions.create(model="tiny", messages=messages, max_tokens=1)  # type: ignore[arg-type]
        assert r.usage is not None
        return r.usage.prompt_tokens

    alone = prompt_tokens([{"role": "user", "content": "And Spain?"}])
    history = prompt_tokens(
        [
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "And Spain?"},
        ]
    )
    system = prompt_tokens(
        [
            {"role": "system", "content": "You answer in one word, always, to everyone."},
            {"role": "user", "content": "And Spain?"},
        ]
    )
    assert history > alone + 10 and system != alone


# --- streaming -------------------------------------------------------------------------------
def test_chat_stream_invariants(server: ServerProcess, client: openai.OpenAI) -> None:
    body = ask(max_tokens=12, stream=True, stream_options={"include_usage": True}, **SAMPLED)
    events = sse(server, "/chat/completions", body)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("chatcmpl-")
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert not any("role" in c["choices"][0]["delta"] for c in chunks[1:] if c["choices"])
    usage = chunks[-1]
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 12
    assert all(c["usage"] is None for c in chunks[:-1])
    finish = chunks[-2]["choices"][0]
    assert finish["finish_reason"] == "length" and finish["delta"] == {}
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    whole = client.chat.completions.create(max_tokens=12, **ask(**SAMPLED))
    assert streamed and streamed == whole.choices[0].message.content


def test_completions_stream_equals_greedy_answer(
    server: ServerProcess, client: openai.OpenAI
) -> None:
    whole = client.completions.create(model="tiny", prompt="Once upon a time", max_tokens=10)
    assert whole.object == "text_completion" and whole.choices[0].text
    events = sse(
        server, "/completions", {"prompt": "Once upon a time", "max_tokens": 10, "stream": True}
    )
    assert events[-1] == "[DONE]" and len({e["id"] for e in events[:-1]}) == 1
    assert "".join(e["choices"][0]["text"] for e in events[:-1]) == whole.choices[0].text
    assert events[-2]["choices"][0]["finish_reason"] == "length"


def test_a_prompt_of_only_dropped_characters_is_answered(client: openai.OpenAI) -> None:
    """The tokenizer drops a lone control character; the answer starts from the model's first
    token (schemathesis found this as a 500)."""
    r = client.completions.create(model="tiny", prompt=["\u0006", "Hi"], max_tokens=3)
    assert [c.finish_reason for c in r.choices] == ["length", "length"]
    assert r.usage is not None and r.usage.completion_tokens == 6


def test_completions_default_to_16_tokens_and_echo(client: openai.OpenAI) -> None:
    r = client.completions.create(model="tiny", prompt="Hello", echo=True)
    assert r.usage is not None and r.usage.completion_tokens == 16
    assert r.choices[0].text.startswith("Hello") and len(r.choices[0].text) > 5


def test_openai_client_streams_sync_and_async(server: ServerProcess, client: openai.OpenAI) -> None:
    prompt = {"model": "tiny", "prompt": "The river", "max_tokens": 8}
    stream = client.completions.create(stream=True, **prompt)
    sync_text = "".join(c.choices[0].text for c in stream if c.choices)

    async def run() -> list[str]:
        aclient = openai.AsyncOpenAI(base_url=server.api_base, api_key=KEY, max_retries=0)

        async def one() -> str:
            s = await aclient.completions.create(stream=True, **prompt)
            return "".join([c.choices[0].text async for c in s if c.choices])

        async with aclient:
            whole = await aclient.chat.completions.create(max_tokens=3, **ask(**SAMPLED))
            assert whole.choices[0].message.content
            return list(await asyncio.gather(one(), one(), one()))

    assert sync_text and asyncio.run(run()) == [sync_text] * 3


# --- errors and keys ---------------------------------------------------------------------------
def _post(server: ServerProcess, path: str, body: Any, **headers: str) -> httpx.Response:
    headers.setdefault("Authorization", f"Bearer {KEY}")
    if isinstance(body, (bytes, str)):
        return httpx.post(server.api_base + path, content=body, headers=headers, timeout=60)
    return httpx.post(server.api_base + path, json=body, headers=headers, timeout=60)


@pytest.mark.parametrize(
    ("path", "body", "status", "param"),
    [
        ("/chat/completions", ask(model="nope"), 404, "model"),
        ("/chat/completions", ask(temperature=9), 400, "temperature"),
        ("/chat/completions", ask(top_k_doc=3), 400, "top_k_doc"),
        ("/chat/completions", ask(n=11), 400, "n"),
        ("/chat/completions", {"messages": []}, 400, "messages"),
        ("/chat/completions", {"messages": [{"role": "assistant", "content": "x"}]}, 400, None),
        ("/chat/completions", {"messages": [{"role": "tool", "content": "x"}]}, 400, None),
        ("/chat/completions", {"messages": [{"role": "user", "content": "  "}]}, 400, None),
        ("/chat/completions", ask(min_new_tokens=5, max_tokens=2), 400, None),
        ("/chat/completions", ask(tools=[{"type": "function"}]), 400, "tools"),
        ("/chat/completions", ask(collection="No/Such"), 400, None),
        ("/chat/completions", ask(collection="Missing"), 404, "collection"),
        ("/chat/completions", ask(collection="Missing", stream=True), 404, "collection"),
        ("/chat/completions", ask(prompt_type="llama2"), 400, "prompt_type"),
        ("/chat/completions", b"{not json", 400, None),
        ("/chat/completions", b"[1, 2]", 400, None),
        ("/completions", {"prompt": [1, 2, 3]}, 400, None),
        ("/completions", {"prompt": ""}, 400, "prompt"),
        ("/completions", {"prompt": "x" * 20000}, 400, "prompt"),
        ("/embeddings", {"input": ""}, 400, "input"),
        ("/embeddings", {"input": "x", "model": "text-embedding-3-small"}, 404, "model"),
    ],
)
def test_bad_requests_get_openai_errors(
    server: ServerProcess, path: str, body: Any, status: int, param: str | None
) -> None:
    r = _post(server, path, body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    if param is not None:
        assert error["param"] == param


def test_vllm_style_no_top_k_and_a_tiny_temperature_are_accepted(server: ServerProcess) -> None:
    free = _post(server, "/chat/completions", ask(top_k=-1, max_tokens=6, **SAMPLED))
    zero = _post(server, "/chat/completions", ask(top_k=0, max_tokens=6, **SAMPLED))
    assert (
        free.status_code == 200
        and free.json()["choices"][0]["message"] == zero.json()["choices"][0]["message"]
    )
    cold = _post(server, "/chat/completions", ask(temperature=1e-300, seed=3, max_tokens=6))
    assert cold.status_code == 200 and cold.json()["usage"]["completion_tokens"] >= 1


def test_keys_are_required_everywhere_but_health_and_status(server: ServerProcess) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}):
        r = httpx.get(server.api_base + "/models", headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert httpx.post(server.api_base + "/chat/completions", content=b"{bad").status_code == 401
    assert httpx.get(server.url + "/metrics").status_code == 401
    assert httpx.get(server.url + "/openapi.json").status_code == 401
    assert httpx.get(server.url + "/health").status_code == 200
    status = httpx.get(server.url + "/status")
    assert status.status_code == 200 and status.json()["state"] == "ready"
    assert httpx.get(server.api_base + "/models", headers={"api-key": KEY}).status_code == 200
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.api_base, api_key="nope", max_retries=0).models.list()


# --- embeddings ---------------------------------------------------------------------------------
def test_embeddings_float_and_base64(client: openai.OpenAI, server: ServerProcess) -> None:
    r = client.embeddings.create(model="tiny-embedder", input=["first text", "second text"])
    vectors = np.array([d.embedding for d in r.data])
    assert vectors.shape == (2, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert r.usage.prompt_tokens > 0
    raw = _post(server, "/embeddings", {"input": "first text", "encoding_format": "float"}).json()
    packed = _post(server, "/embeddings", {"input": "first text", "encoding_format": "base64"})
    decoded = np.frombuffer(base64.b64decode(packed.json()["data"][0]["embedding"]), "<f4")
    assert np.allclose(decoded, raw["data"][0]["embedding"]) and np.allclose(decoded, vectors[0])


# --- documents ----------------------------------------------------------------------------------
def test_collections_are_listed_for_a_picker(server: ServerProcess) -> None:
    r = httpx.get(server.api_base + "/collections", headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 200 and r.json()["object"] == "list"
    (facts,) = [c for c in r.json()["data"] if c["id"] == "Facts"]
    assert facts["object"] == "collection" and facts["documents"] >= 1 and facts["chunks"] >= 1
    assert httpx.get(server.api_base + "/collections").status_code == 401  # a key, as for all


def test_chat_with_a_collection_returns_its_sources(client: openai.OpenAI) -> None:
    # Random vectors carry no meaning: the question is a chunk's own text, its nearest neighbour.
    question = FACTS["space"]
    r = client.chat.completions.create(
        model="tiny",
        messages=[{"role": "user", "content": question}],
        max_tokens=2,
        extra_body={"collection": "Facts", "top_k_docs": 2},
    )
    sources = r.model_extra["sources"] if r.model_extra else None
    assert sources and len(sources) == 2
    assert sources[0]["source"] == "text:space" and sources[0]["text"] == question
    assert set(sources[0]) == {"source", "page", "score", "distance", "text"}
    assert sources[0]["score"] == pytest.approx(1.0, abs=1e-3)
    # without documents there is no sources field at all
    plain = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "x"}], max_tokens=1
    )
    assert "sources" not in (plain.model_extra or {})


def test_stream_with_documents_puts_sources_in_the_finish_chunk(server: ServerProcess) -> None:
    body = {
        "messages": [{"role": "user", "content": FACTS["food"]}],
        "max_tokens": 2,
        "stream": True,
        "langchain_mode": "Facts",
        "document_choice": ["text:food", "text:rivers"],
        "top_k_docs": 3,
    }
    events = sse(server, "/chat/completions", body)
    finish = [e for e in events[:-1] if e["choices"] and e["choices"][0]["finish_reason"]]
    assert len(finish) == 1
    sources = finish[0]["sources"]
    assert sources[0]["source"] == "text:food"
    assert {s["source"] for s in sources} <= {"text:food", "text:rivers"}
    assert all("sources" not in e for e in events[:-1] if e is not finish[0])


def test_rel_sources_answers_with_the_chunks_themselves(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="tiny",
        messages=[{"role": "user", "content": FACTS["rivers"]}],
        extra_body={"collection": "Facts", "document_subset": "RelSources", "top_k_docs": 1},
    )
    assert FACTS["rivers"] in (r.choices[0].message.content or "")
    assert r.model_extra and r.model_extra["sources"][0]["source"] == "text:rivers"


# --- metrics and LangChain ---------------------------------------------------------------------
def test_metrics_count_requests_tokens_and_queue(
    server: ServerProcess, client: openai.OpenAI
) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    before = httpx.get(server.url + "/metrics?format=json", headers=headers).json()
    client.completions.create(model="tiny", prompt="Count me", max_tokens=5)
    after = httpx.get(server.url + "/metrics?format=json", headers=headers).json()
    assert after["tokens"]["by_model"]["tiny"]["completion"] == (
        before["tokens"]["by_model"].get("tiny", {}).get("completion", 0) + 5
    )
    assert after["requests"]["by_route"]["/v1/completions"]["200"] >= 1
    assert after["queue"] == {"depth": 0, "in_flight": 0, "limit": 64, "rejected": 0}
    text = httpx.get(server.url + "/metrics", headers=headers)
    assert text.headers["content-type"].startswith("text/plain")
    assert 'h2ogpt_completion_tokens_total{model="tiny"}' in text.text
    assert "h2ogpt_queue_depth 0" in text.text and "h2ogpt_models_ready 1" in text.text


def test_langchain_chat_openai(server: ServerProcess) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        base_url=server.api_base,
        api_key=KEY,
        model="tiny",
        max_tokens=6,
        max_retries=0,  # type: ignore[arg-type]
        temperature=1.0,
        seed=7,
    )
    answer = llm.invoke("Hi")
    assert isinstance(answer.content, str) and answer.content
    assert "".join(str(c.content) for c in llm.stream("Hi")) == answer.content
