"""The lab extension in a real JupyterLab: the chat sidebar on the h2oGPT server Jupyter runs
at ``<base_url>/h2ogpt/`` (the tiny Llama, started by the sidebar's first request), driven by
headless Chromium.

Checked: the extension is listed enabled and OK; the shortcut opens the sidebar; it and the
status bar say the model is loading, then the sidebar lists the server's model; an answer
streams (its text grows on screen) and ends with its timing, which the status bar shows; Stop
ends a long answer as stopped; New empties the chat. Screenshots go to
``test-output/browser/`` (``sidebar-*``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.documents.corpus import make_pdf
from tests.support.browser import (
    KERNEL_ENV,
    JupyterServer,
    PageWatch,
    assert_grows,
    fresh_output,
    record_lengths,
    recorded_lengths,
    stop_all,
    wait_growing,
)
from tests.support.models import build_talking_llama

LOAD_TIMEOUT = 180_000  # ms: the server starts (Python, torch) and loads the model
STREAM_TIMEOUT = 90_000


@pytest.fixture(scope="module")
def output_dir() -> Path:
    return fresh_output("sidebar-")


PAGES = ["Introduction to the coast.", "Glaciers carve fjords in western Norway."]

# Run with the server's own data folder: the collection the sidebar answers from.
INGEST = """
import sys
from h2ogpt_jupyter.documents import get_collection
from h2ogpt_jupyter.documents.embeddings import get_embedder
report = get_collection("Coast", embedder=get_embedder(sys.argv[1], dtype="float32")).add(
    [sys.argv[2]]
)
assert report.ok, report
"""


@pytest.fixture(scope="module")
def lab(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, tiny_embedder_dir: Path
) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("jupyter-sidebar")
    (base / "root" / "docs").mkdir(parents=True)
    (base / "home" / "h2ogpt").mkdir(parents=True)
    pdf = base / "root" / "docs" / "fjords.pdf"
    pdf.write_bytes(make_pdf(PAGES))
    data = {**os.environ, "H2OGPT_DATA_DIR": str(base / "home" / "h2ogpt")}
    subprocess.run(
        [sys.executable, "-c", INGEST, str(tiny_embedder_dir), str(pdf)],
        env=data, check=True, timeout=300,
    )  # fmt: skip
    talking = build_talking_llama(tiny_model_dir, base / "talking")
    env = {
        **KERNEL_ENV,
        "H2OGPT_PROXY_MODEL": f"tiny={talking}?dtype=float32",
        "H2OGPT_PROXY_TIMEOUT": "180",
    }
    server = JupyterServer("lab", base / "root", base / "home", env)
    server.launch()
    try:
        server.wait_ready()
        yield server
    finally:
        stop_all([server])


def test_the_extension_is_installed_enabled_and_ok() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert re.search(r"h2ogpt-jupyterlab v\S+ enabled OK", text), text


def test_the_sidebar_streams_an_answer_and_stop_stops_one(
    lab: JupyterServer, browser: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    watch = PageWatch(page, lab)
    try:
        page.goto(lab.url("lab"))
        page.locator("#jp-main-dock-panel").wait_for()
        page.keyboard.press("Alt+Shift+H")
        sidebar = page.locator("#h2ogpt-chat")
        expect(sidebar).to_be_visible()
        status = sidebar.locator(".h2o-lab-status")
        item = page.locator(".h2o-lab-statusbar")  # the status bar says the same
        expect(status).to_contain_text("Loading the model", timeout=LOAD_TIMEOUT)
        expect(item).to_have_attribute("data-state", "loading")
        page.screenshot(path=output_dir / "sidebar-01-loading.png")
        expect(status).to_be_hidden(timeout=LOAD_TIMEOUT)
        expect(sidebar.locator("select.h2o-lab-model option")).to_have_text(["tiny"])
        expect(item).to_have_text("h2oGPT · tiny · ready")

        record_lengths(sidebar, "sidebar", ".h2o-lab-answer")
        box = sidebar.locator("textarea.h2o-lab-input")
        box.fill("Tell me about the sea.")
        box.press("Enter")
        turn = sidebar.locator(".h2o-lab-turn").last
        expect(turn.locator(".h2o-lab-question")).to_have_text("Tell me about the sea.")
        wait_growing(page, "sidebar", 3, STREAM_TIMEOUT)
        expect(turn).to_have_attribute("data-finish", re.compile("^(stop|length)$"),
                                       timeout=STREAM_TIMEOUT)  # fmt: skip
        assert_grows(recorded_lengths(page, "sidebar"))
        expect(turn.locator(".h2o-lab-meta")).to_have_text(re.compile(r"^(stop|length) · \d"))
        expect(item).to_have_text(re.compile(r"^h2oGPT · tiny · ready · \d+\.\d tok/s$"))
        page.screenshot(path=output_dir / "sidebar-02-answered.png")

        # Stop: the request is aborted while the answer streams
        box.fill("And about the mountains?")
        sidebar.get_by_role("button", name="Send", exact=True).click()
        second = sidebar.locator(".h2o-lab-turn").nth(1)
        expect(second.locator(".h2o-lab-answer")).not_to_be_empty(timeout=STREAM_TIMEOUT)
        sidebar.get_by_role("button", name="Stop", exact=True).click()
        expect(second).to_have_attribute("data-finish", "cancelled", timeout=10_000)
        expect(second.locator(".h2o-lab-meta")).to_contain_text("stopped")
        expect(sidebar.get_by_role("button", name="Send", exact=True)).to_be_enabled()
        page.screenshot(path=output_dir / "sidebar-03-stopped.png")

        sidebar.get_by_role("button", name="New", exact=True).click()
        expect(sidebar.locator(".h2o-lab-turn")).to_have_count(0)
        watch.write(output_dir / "sidebar-console.log")
        assert not [p for p in watch.problems() if "external request" in p], watch.problems()
    except BaseException:
        page.screenshot(path=output_dir / "sidebar-failure.png")
        watch.write(output_dir / "sidebar-console.log")
        raise
    finally:
        context.close()


def test_an_answer_from_a_collection_cites_its_sources_and_a_click_opens_the_pdf_at_its_page(
    lab: JupyterServer, browser: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(lab.url("lab"))
        page.locator("#jp-main-dock-panel").wait_for()
        page.keyboard.press("Alt+Shift+H")
        sidebar = page.locator("#h2ogpt-chat")
        picker = sidebar.locator("select.h2o-lab-collection")
        expect(picker.locator("option")).to_have_text(
            ["none (chat)", "Coast"], timeout=LOAD_TIMEOUT
        )
        picker.select_option("Coast")
        box = sidebar.locator("textarea.h2o-lab-input")
        box.fill(PAGES[1])  # random vectors: a chunk's own text finds it first
        box.press("Enter")
        turn = sidebar.locator(".h2o-lab-turn").last
        expect(turn).to_have_attribute("data-finish", re.compile("^(stop|length)$"),
                                       timeout=STREAM_TIMEOUT)  # fmt: skip
        first = turn.locator(".h2o-lab-sources li").first
        expect(first).to_have_text(re.compile(r"^\d\.\d\d · fjords\.pdf p\.2"))
        first.locator("summary").click()
        expect(first.locator("blockquote")).to_have_text(PAGES[1])
        page.screenshot(path=output_dir / "sidebar-04-sources.png")
        first.get_by_role("link", name="fjords.pdf").click()
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="fjords.pdf")
        expect(tab).to_be_visible()
        viewer = page.frame_locator(".jp-PDFContainer iframe").last.locator("object")
        expect(viewer).to_have_attribute("data", re.compile(r"^blob:.*#page=2$"))
        page.screenshot(path=output_dir / "sidebar-05-opened.png")
    except BaseException:
        page.screenshot(path=output_dir / "sidebar-failure.png")
        raise
    finally:
        context.close()


def test_inline_completion_shows_ghost_text_on_request_and_tab_accepts_it(
    lab: JupyterServer, browser: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    from tests.support.browser import wait_for_kernel, write_notebook

    write_notebook(lab.root / "code.ipynb", ["def add(a, b):"])
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(lab.url("lab/tree/code.ipynb"))
        wait_for_kernel(page, lab)
        editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
        editor.click()
        page.keyboard.press("End")
        page.keyboard.press("Enter")
        before = editor.inner_text()
        page.wait_for_timeout(1500)  # manual by default: typing alone asks for nothing
        expect(page.locator(".jp-GhostText")).to_have_count(0)
        page.keyboard.press("Alt+Backslash")
        ghost = page.locator(".jp-GhostText").first
        expect(ghost).not_to_be_empty(timeout=STREAM_TIMEOUT)
        page.screenshot(path=output_dir / "sidebar-06-ghost-text.png")
        suggested = ghost.inner_text()
        page.keyboard.press("Tab")
        expect(page.locator(".jp-GhostText")).to_have_count(0)
        after = editor.inner_text()
        assert len(after) > len(before) and suggested.strip()[:8] in after, (before, after)
    except BaseException:
        page.screenshot(path=output_dir / "sidebar-failure.png")
        raise
    finally:
        context.close()
