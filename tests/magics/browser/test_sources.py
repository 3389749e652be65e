"""An answer's sources in a real front end: a notebook in a subfolder asks ``%h2ogpt ask`` about
documents in a sibling folder, in JupyterLab and in Notebook 7, served by real Jupyter servers
and driven by headless Chromium.

Checked: every source is a link, its excerpt is folded under it and opens on a click, and the
link opens the document (JupyterLab: in a tab of its own, PDFs in its viewer; Notebook 7: in a
new browser tab), a PDF at the page the chunk came from. Screenshots go to
``test-output/browser/`` (``sources-*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.documents.corpus import make_pdf
from tests.support.browser import (
    KERNEL_ENV,
    FrontEnd,
    JupyterServer,
    PageWatch,
    fresh_output,
    keep_evidence,
    recorded,
    run_all_cells,
    stop_all,
    wait_for_kernel,
    write_notebook,
)

KERNEL_TIMEOUT = 120.0
ANSWER_TIMEOUT = 180_000  # ms: the cells import torch, ingest and load the model first
PAGES = [
    "Introduction. This report looks at the coast.",
    "Glaciers carve fjords in western Norway, deep and narrow.",
]
QUESTION = "What do glaciers carve in western Norway?"


def cells(model_dir: Path) -> list[str]:
    return [
        "%load_ext h2ogpt_jupyter",
        "%h2ogpt ingest ../docs --collection Coast",
        f"%h2ogpt load {model_dir} --as t --dtype float32",
        f"%h2ogpt ask --collection Coast --max-new-tokens 4 {QUESTION}",
    ]


@pytest.fixture(scope="module")
def output_dir() -> Path:
    return fresh_output("sources-")


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, tiny_embedder_dir: Path
) -> Iterator[dict[str, JupyterServer]]:
    """JupyterLab and Notebook 7, each serving a root with ``docs/`` and ``work/``."""
    started: dict[str, JupyterServer] = {}
    env = {**KERNEL_ENV, "H2OGPT_HF_EMBEDDING_MODEL": str(tiny_embedder_dir)}
    try:
        for app in ("lab", "notebook"):
            base = tmp_path_factory.mktemp(f"jupyter-sources-{app}")
            root = base / "root"
            (root / "docs").mkdir(parents=True)
            (root / "work").mkdir()
            (base / "home").mkdir()
            (root / "docs" / "fjords.pdf").write_bytes(make_pdf(PAGES))
            (root / "docs" / "tides.txt").write_text("Tides rise twice a day.\n")
            started[app] = JupyterServer(app, root, base / "home", env)
            started[app].launch()
        yield started
    finally:
        stop_all(started.values())


@pytest.fixture(scope="module")
def fronts(
    servers: dict[str, JupyterServer], tiny_model_dir: Path, browser: Any, output_dir: Path
) -> Iterator[dict[str, FrontEnd]]:
    plans = {"lab": "lab/tree/work/ask.ipynb", "nb7": "notebooks/work/ask.ipynb"}
    opened: dict[str, FrontEnd] = {}
    try:
        for name, url in plans.items():
            server = servers["lab" if name == "lab" else "notebook"]
            write_notebook(server.root / "work" / "ask.ipynb", cells(tiny_model_dir))
            server.wait_ready()
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(60_000)
            page = context.new_page()
            opened[name] = FrontEnd(name, server, context, page, PageWatch(page, server), 4)
            page.goto(server.url(url))
        for front in opened.values():
            wait_for_kernel(front.page, front.server, KERNEL_TIMEOUT)
            run_all_cells(front.page)
        yield opened
    except BaseException:
        for front in opened.values():
            keep_evidence(front, output_dir)
        raise
    finally:
        for front in opened.values():
            front.context.close()


def _sources(page: Any) -> Any:
    """The folded sources under the answer, once the answer is complete."""
    from playwright.sync_api import expect

    output = page.locator(".jp-OutputArea-output").filter(has_text="Sources").last
    expect(output).to_be_visible(timeout=ANSWER_TIMEOUT)
    folded = output.locator("details")
    expect(folded.first).to_be_visible()
    return output


def test_in_jupyterlab_a_source_unfolds_and_opens_the_pdf_at_its_page(
    fronts: dict[str, FrontEnd], output_dir: Path
) -> None:
    from playwright.sync_api import expect

    front = fronts["lab"]
    with recorded(front, output_dir) as page:
        output = _sources(page)
        pdf = output.locator("details", has=page.locator("a", has_text="fjords.pdf")).first
        expect(pdf.locator("summary")).to_contain_text(
            re.compile(r"^1\. \d\.\d\d · fjords\.pdf p\.2")
        )
        excerpt = pdf.locator("blockquote")
        expect(excerpt).to_be_hidden()  # folded
        pdf.locator("summary").click(position={"x": 4, "y": 4})  # the marker, not the link
        expect(excerpt).to_be_visible()
        expect(excerpt).to_contain_text("Glaciers carve fjords")
        output.scroll_into_view_if_needed()
        page.screenshot(path=output_dir / "sources-lab-01-unfolded.png")

        pdf.locator("a", has_text="fjords.pdf").click()
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="fjords.pdf")
        expect(tab).to_be_visible()
        # JupyterLab's PDF viewer: an <object> in an iframe, its data the file's blob URL
        # with the fragment the link carried
        viewer = page.frame_locator(".jp-PDFContainer iframe").last.locator("object")
        expect(viewer).to_have_attribute("data", re.compile(r"^blob:.*#page=2$"))
        page.screenshot(path=output_dir / "sources-lab-02-opened.png")

        # a text source opens in JupyterLab's editor
        page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="ask.ipynb").click()
        text = output.locator("a", has_text="tides.txt")
        if text.count():
            text.first.click()
            expect(
                page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="tides.txt")
            ).to_be_visible()


def test_in_notebook_7_a_source_opens_the_file_in_a_new_tab(
    fronts: dict[str, FrontEnd], output_dir: Path
) -> None:
    from playwright.sync_api import expect

    front = fronts["nb7"]
    with recorded(front, output_dir) as page:
        output = _sources(page)
        link = output.locator("a", has_text="fjords.pdf").first
        # Notebook 7 resolves it from the notebook's folder to the file itself, for a new tab
        expect(link).to_have_attribute("href", re.compile(r"/files/docs/fjords\.pdf\?.*#page=2$"))
        output.scroll_into_view_if_needed()
        page.screenshot(path=output_dir / "sources-nb7-01-answer.png")
        with front.context.expect_page() as opened:
            link.click()
        tab = opened.value
        tab.wait_for_load_state()
        assert "/files/docs/fjords.pdf" in tab.url, tab.url  # the page is the link's fragment
