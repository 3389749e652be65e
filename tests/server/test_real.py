"""The server with the real packaged SmolLM2 (llama.cpp): the OpenAI client gets a right
answer, whole and streamed, and the two agree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from h2ogpt_jupyter.server.process import ServerProcess, start_server

pytestmark = pytest.mark.integration

CAPITAL = "Which city is the capital of France?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data: Path = tmp_path_factory.mktemp("server-real")
    env = {"H2OGPT_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    with start_server(["--model", "smollm2", "--port", "0"], env=env) as srv:
        yield srv


def test_smollm2_knows_the_capital_of_france(server: ServerProcess) -> None:
    client = openai.OpenAI(base_url=server.api_base, api_key="unused", max_retries=0)
    assert client.models.list().data[0].id == "smollm2"
    messages = [{"role": "user", "content": CAPITAL}]
    whole = client.chat.completions.create(model="smollm2", messages=messages, max_tokens=48)  # type: ignore[arg-type]
    answer = whole.choices[0].message.content or ""
    assert "Paris" in answer, answer
    stream = client.chat.completions.create(
        model="smollm2",
        messages=messages,  # type: ignore[arg-type]
        max_tokens=48,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == answer
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]
