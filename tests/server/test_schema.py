"""Property-based requests from the server's own ``/openapi.json`` (schemathesis): whatever a
client sends, the answer is never a server error.

Kept short: 20 examples an operation, and generated bodies are nudged to stay cheap (at most
8 new tokens, 2 choices, 2 prompts, the served model's name) without changing their shape, so
the generation paths really run instead of stopping at "unknown model"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from h2ogpt_jupyter.server.process import ServerProcess, start_server
from tests.support.servers import env_for, tiny_args

KEY = "schema-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}

pytestmark = pytest.mark.filterwarnings("ignore")  # hypothesis/schemathesis deprecations


@pytest.fixture(scope="module")
def server(
    tiny_model_dir: Path, tiny_embedder_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("schema-data")
    env = env_for(data, tiny_embedder_dir)
    args = tiny_args(tiny_model_dir, "--api-key", KEY)
    with start_server(args, env=env) as srv:
        yield srv


@pytest.fixture(scope="module")
def api_schema(server: ServerProcess) -> Any:
    return schemathesis.openapi.from_url(server.url + "/openapi.json", headers=HEADERS)


OPERATIONS = [
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/status"),
    ("GET", "/v1/collections"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{model}"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/completions"),
    ("POST", "/v1/embeddings"),
]
CAPS = {"max_tokens": 8, "max_completion_tokens": 8, "max_new_tokens": 8, "min_new_tokens": 4}


def cheap(body: Any) -> Any:
    """Same shape, less work: small token budgets, few choices and prompts, a served model."""
    if not isinstance(body, dict):
        return body
    for name, cap in CAPS.items():
        value = body.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > cap:
            body[name] = cap  # JSON numbers: 198152.0 is a valid integer too
    if "input" not in body and all(body.get(name) is None for name in CAPS if name[:3] == "max"):
        body["max_tokens"] = 8  # instead of the 1024 a chat answers by default
    for name in ("n", "best_of"):
        value = body.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 2:
            body[name] = 2
    for name in ("prompt", "input"):
        if isinstance(body.get(name), list):
            body[name] = body[name][:2]
    messages = body.get("messages")
    if isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages):
        if messages[-1].get("role") != "user":  # a question to answer, so the model runs
            messages.append({"role": "user", "content": "Hi"})
        if not (isinstance(messages[-1].get("content"), str) and messages[-1]["content"].strip()):
            messages[-1]["content"] = "Hi"
    if isinstance(body.get("model"), str):
        body["model"] = "tiny-embedder" if "input" in body else "tiny"
    return body


def test_the_schema_lists_every_route(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


# Negative cases need something to get wrong: routes without parameters have none, and any
# text is a valid model name in a path.
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE
    or path not in ("/health", "/status", "/v1/collections", "/v1/models", "/v1/models/{model}")
]


@pytest.mark.parametrize(
    ("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES]
)
def test_no_request_gets_a_server_error(
    api_schema: Any, server: ServerProcess, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: each try is a request
    )
    def check(case: Any) -> None:
        case.body = cheap(case.body)
        case.call_and_validate(
            base_url=server.url, headers=HEADERS, checks=[not_a_server_error], timeout=60
        )

    check()
