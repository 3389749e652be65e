"""The server's page in a real browser, where a JupyterLab user meets it: a real Jupyter server
at a JupyterHub-style base URL proxies the server (tiny model) at ``/user/alice/h2ogpt/``,
and headless Chromium opens it with Jupyter's token. Every request the page makes is recorded:
none may leave the machine.

Checked: the status says ready and lists the model with the queue; the Connect part gives the
base URL of this very server and snippets naming it and the model; a question typed in the
chat streams an answer that visibly grows, Stop ends it and the chat takes the next question;
the API reference renders its operations offline. Screenshots go to ``test-output/browser/``
(``page-*``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from h2ogpt_jupyter.server import proxy
from tests.support.browser import (
    assert_grows,
    fresh_output,
    record_lengths,
    recorded_lengths,
    wait_growing,
)
from tests.support.jupyter_server import JupyterServer, jupyter_server
from tests.support.models import build_talking_llama

BASE_URL = "/user/alice/"
LOAD_SECONDS = 120
TIMEOUT = 120_000  # ms


@pytest.fixture(scope="module")
def jupyter(
    tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JupyterServer]:
    """Jupyter proxying the tiny Llama that answers in words (the plain one answers blanks),
    loaded and ready."""
    folder = tmp_path_factory.mktemp("jupyter-page")
    talking = build_talking_llama(tiny_model_dir, folder / "talking")
    env = {
        proxy.MODEL_ENV: f"tiny={talking}?dtype=float32",
        proxy.TIMEOUT_ENV: str(LOAD_SECONDS),
        "H2OGPT_DATA_DIR": str(folder / "h2ogpt-data"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    with jupyter_server(folder, base_url=BASE_URL, env=env) as server:
        deadline = time.monotonic() + LOAD_SECONDS
        health = f"{server.url}{proxy.NAME}/health"
        while httpx.get(health, headers=server.headers, timeout=60).status_code != 200:
            assert time.monotonic() < deadline, server.log_tail()
            time.sleep(0.3)
        yield server


@pytest.fixture
def page(jupyter: JupyterServer, browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """The page open in Chromium with Jupyter's token, and every URL outside the machine it
    asked for (refused)."""
    context = browser.new_context(
        viewport={"width": 1300, "height": 900},
        extra_http_headers={"Authorization": f"token {jupyter.token}"},
    )
    outside: list[str] = []

    def guard(route: Any) -> None:
        host = httpx.URL(route.request.url).host
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    errors: list[str] = []  # the page is all ours: any error in it counts
    tab.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    tab.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
    try:
        yield tab, outside
        assert errors == []
    finally:
        context.close()


def test_status_connect_and_a_streaming_chat(
    jupyter: JupyterServer, page: tuple[Any, list[str]]
) -> None:
    from playwright.sync_api import expect

    tab, outside = page
    output = fresh_output("page-")
    tab.goto(f"{jupyter.url}{proxy.NAME}/")
    expect(tab.locator("#state")).to_have_text("ready", timeout=TIMEOUT)
    first = tab.locator("#models tr").first
    expect(first.locator("td").nth(0)).to_have_text("tiny")
    expect(first.locator("td").nth(1)).to_have_text("chat")
    expect(tab.locator("#queue")).to_have_text(re.compile(r"^Queue: 0 running, 0 waiting"))
    base = f"{jupyter.url}{proxy.NAME}/v1"
    expect(tab.locator("#base-url")).to_have_text(base)
    python = tab.locator("#python-snippet")
    expect(python).to_contain_text(f'base_url="{base}"')
    expect(python).to_contain_text('model="tiny"')
    expect(python).to_contain_text('api_key="<your Jupyter token>"')
    expect(tab.locator("#curl-snippet")).to_contain_text(f"curl -N {base}/chat/completions")
    tab.screenshot(path=output / "page-01-ready.png")

    # a question streams into a growing answer; Stop ends it and the next question is taken
    record_lengths(tab.locator("#messages"), "answer", ".message.assistant")
    tab.locator("#question").fill("Tell me a story")
    tab.locator("#question").press("Enter")
    expect(tab.locator(".message.user")).to_have_text("Tell me a story")
    wait_growing(tab, "answer", 4, TIMEOUT)
    tab.screenshot(path=output / "page-02-streaming.png")
    tab.locator("#stop").click()
    expect(tab.locator(".message.streaming")).to_have_count(0, timeout=TIMEOUT)
    assert_grows(recorded_lengths(tab, "answer"))
    expect(tab.locator("#send")).to_be_enabled()
    expect(tab.locator("#error")).to_be_hidden()
    stopped = tab.locator(".message.assistant").first.text_content() or ""
    assert stopped.strip()
    tab.locator("#question").fill("And then?")
    tab.locator("#send").click()
    expect(tab.locator(".message.user")).to_have_count(2)
    expect(tab.locator(".message.assistant")).to_have_count(2, timeout=TIMEOUT)
    tab.locator("#stop").click()
    expect(tab.locator(".message.streaming")).to_have_count(0, timeout=TIMEOUT)
    tab.screenshot(path=output / "page-03-stopped.png")
    assert outside == []


def test_the_api_reference_renders_offline(
    jupyter: JupyterServer, page: tuple[Any, list[str]]
) -> None:
    from playwright.sync_api import expect

    tab, outside = page
    tab.goto(f"{jupyter.url}{proxy.NAME}/")
    tab.get_by_role("link", name="API reference").click()
    expect(tab.locator(".swagger-ui .opblock").first).to_be_visible(timeout=TIMEOUT)
    paths = tab.locator(".swagger-ui .opblock-summary-path").all_text_contents()
    assert "/v1/chat/completions" in [p.strip() for p in paths], paths
    tab.screenshot(path=fresh_output("page-docs") / "page-docs.png")
    assert outside == []
