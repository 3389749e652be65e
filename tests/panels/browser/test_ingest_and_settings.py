"""The ingest and settings panels in a real browser: JupyterLab served by a real Jupyter server,
driven by headless Chromium through Playwright, the kernel on a tiny random embedding model and
the tiny random Llama loaded from disk.

What the Python-level panel tests cannot see is checked here. For ``h2o.IngestPanel()``: a file
chosen in the browser's file input reaches the kernel as bytes, progress shows while it is
ingested, each file gets its result row, the sources table lists the document and Delete
removes it. For ``h2o.SettingsPanel()``: a generation parameter typed in is taken, a value
Python refuses shows in the errors area while the control snaps back to the value in force,
and a model loaded from the Models part is listed, then unloaded.

The embedding model reaches the kernel as ``H2OGPT_HF_EMBEDDING_MODEL`` in the server's
environment, as the other browser tests pass their settings. Screenshots and the browser
console go to ``test-output/browser/`` (``ingest-*``, ``settings-*``, ``tools-*``).
``H2OGPT_SKIP_BROWSER_TESTS=1`` skips these tests; a missing Playwright or Chromium fails them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import (
    KERNEL_ENV,
    FrontEnd,
    JupyterServer,
    PageWatch,
    fresh_output,
    keep_evidence,
    param_input,
    record_texts,
    recorded,
    recorded_texts,
    run_all_cells,
    stop_all,
    wait_for_kernel,
    write_notebook,
)

# Waits are generous (the machine may be busy with other work); assertions are about what the
# page shows, never about how fast.
KERNEL_TIMEOUT = 120.0
RENDER_TIMEOUT = 120_000  # ms: the cells import the panels before they appear
WORK_TIMEOUT = 120_000  # ms: ingesting (torch and the embedder load first) or loading a model
CELLS = [
    "import h2ogpt_jupyter as h2o",
    "h2o.IngestPanel()",
    "h2o.SettingsPanel()",
]
TIDES = (
    b"Tides\n\nThe tides rise and fall twice a day, pulled by the moon and, less, by the sun.\n"
    b"Spring tides come at new and full moon; neap tides at the quarters.\n"
)


@pytest.fixture(scope="module")
def output_dir() -> Path:
    return fresh_output("tools-", "ingest-", "settings-")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, tiny_embedder_dir: Path
) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("jupyter-tools")
    (base / "root").mkdir()
    (base / "home").mkdir()
    env = {**KERNEL_ENV, "H2OGPT_HF_EMBEDDING_MODEL": str(tiny_embedder_dir)}
    lab = JupyterServer("lab", base / "root", base / "home", env)
    lab.launch()
    try:
        yield lab
    finally:
        stop_all([lab])


@pytest.fixture(scope="module")
def front(server: JupyterServer, browser: Any, output_dir: Path) -> Iterator[FrontEnd]:
    """A notebook with both panels, open in JupyterLab, its cells run."""
    write_notebook(server.root / "tools.ipynb", CELLS)
    server.wait_ready()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    opened = FrontEnd("tools", server, context, page, PageWatch(page, server), len(CELLS))
    try:
        page.goto(server.url("lab/tree/tools.ipynb"))
        wait_for_kernel(page, server, KERNEL_TIMEOUT)
        run_all_cells(page)
        yield opened
    except BaseException:
        keep_evidence(opened, output_dir)
        raise
    finally:
        context.close()


def test_ingest_panel_uploads_a_file_shows_its_result_and_deletes_it(
    front: FrontEnd, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    with recorded(front, output_dir) as page:
        panel = page.locator(".h2o-panel.h2o-ingest")
        expect(panel).to_be_visible(timeout=RENDER_TIMEOUT)
        tables = panel.locator("table.h2o-table")
        results, sources = tables.nth(0), tables.nth(1)
        expect(panel.locator("select[title='Collection']")).to_have_value("MyData")
        expect(sources).to_contain_text("No documents yet.", timeout=WORK_TIMEOUT)
        expect(results).to_be_hidden()
        panel.scroll_into_view_if_needed()
        panel.screenshot(path=output_dir / "ingest-01-empty.png")

        # two files through the file input: one text file, one that is not the PDF it claims
        record_texts(panel, "progress", "progress + span")
        panel.locator("input[type='file']").set_input_files(
            [
                {"name": "tides.txt", "mimeType": "text/plain", "buffer": TIDES},
                {"name": "broken.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf"},
            ]
        )
        panel.get_by_role("button", name="Upload", exact=True).click()
        summary = panel.locator(".h2o-summary")
        expect(summary).to_have_text(
            re.compile(r"^MyData: 1 added, 1 error; \d+ chunks$"), timeout=WORK_TIMEOUT
        )
        bar = panel.locator("progress")
        expect(bar).to_be_visible()
        expect(bar).to_have_js_property("value", 2)
        expect(bar).to_have_js_property("max", 2)
        expect(panel.locator("progress + span")).to_have_text("2/2")
        # progress showed on the way: a file being ingested, with its name, before the end
        shown = recorded_texts(page, "progress")
        assert any(re.fullmatch(r"[01]/2 · (tides\.txt|broken\.pdf)", t) for t in shown), shown
        assert shown[-1] == "2/2", shown

        added = results.locator("tr.h2o-result-added")
        expect(added).to_have_count(1)
        expect(added.locator("td").nth(1)).to_have_text(re.compile(r"tides\.txt$"))
        expect(added.locator("td").nth(2)).to_have_text(re.compile(r"^[1-9]\d*$"))  # chunks
        failed = results.locator("tr.h2o-result-error")
        expect(failed).to_have_count(1)
        expect(failed.locator("td").nth(1)).to_have_text(re.compile(r"broken\.pdf$"))
        expect(failed.locator("td").nth(4)).not_to_be_empty()  # the reason
        row = sources.locator("tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator("td").first).to_have_text("tides.txt")
        expect(row.locator("td").nth(1)).to_have_text(re.compile(r"^[1-9]\d*$"))
        assert panel.locator(".h2o-errors .h2o-error").count() == 0
        panel.screenshot(path=output_dir / "ingest-02-uploaded.png")

        # Delete asks first (the browser's confirm), then the table is empty again
        page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="Delete").click()
        expect(sources).to_contain_text("No documents yet.", timeout=WORK_TIMEOUT)
        expect(panel.locator(".h2o-status")).to_have_text(
            re.compile(r"^Removed 1 source\(s\), \d+ chunks, from MyData\.$")
        )
        expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(front.cells)
        panel.screenshot(path=output_dir / "ingest-03-deleted.png")


def test_settings_panel_takes_a_value_refuses_a_bad_one_and_loads_a_model(
    front: FrontEnd, output_dir: Path, tiny_model_dir: Path
) -> None:
    from playwright.sync_api import expect

    with recorded(front, output_dir) as page:
        panel = page.locator(".h2o-panel.h2o-settings-panel")
        expect(panel).to_be_visible(timeout=RENDER_TIMEOUT)
        panel.scroll_into_view_if_needed()
        errors = panel.locator(".h2o-errors")
        box = param_input(panel, "max new tokens")
        expect(box).to_have_value("1024")  # h2oGPT's default
        expect(errors).to_be_hidden()
        page.screenshot(path=output_dir / "settings-01-opened.png")

        # a value in range is taken
        box.fill("64")
        box.press("Enter")
        box.blur()
        expect(box).to_have_value("64")
        temperature = param_input(panel, "temperature")
        temperature.fill("0.7")
        temperature.press("Enter")
        temperature.blur()
        label = page.locator("label.h2o-param-name", has_text=re.compile("^temperature$"))
        slider = panel.locator(".h2o-param", has=label).locator("input[type='range']")
        expect(slider).to_have_value("0.7")

        # one out of range is refused in the errors area, and the box shows 64 again, the value
        # in force (so 64 was taken)
        box.fill("0")
        box.press("Enter")
        box.blur()
        refusal = errors.locator(".h2o-error")
        expect(refusal).to_have_count(1, timeout=WORK_TIMEOUT)
        expect(refusal).to_contain_text("max_new_tokens must be between 1 and")
        expect(box).to_have_value("64")
        expect(temperature).to_have_value("0.7")
        panel.screenshot(path=output_dir / "settings-02-refused.png")
        refusal.get_by_role("button", name="✕").click()
        expect(errors).to_be_hidden()

        # the Models part loads a model from disk, lists it, and unloads it
        models = panel.locator("details", has=page.locator("summary", has_text="Models"))
        table = models.locator("table.h2o-table")
        expect(table).to_contain_text("No model loaded.")
        models.locator("input[placeholder^='smollm2']").fill(str(tiny_model_dir))
        models.locator("input[placeholder^='alias']").fill("tiny")
        models.locator("select[title='Engine']").select_option("transformers")
        models.locator("select[title='Weights type']").select_option("float32")
        models.get_by_role("button", name="Load", exact=True).click()
        status = panel.locator(".h2o-status")
        expect(status).to_have_text(
            re.compile(r"^Loaded .+ as 'tiny' in [\d.]+ s\.$"), timeout=WORK_TIMEOUT
        )
        row = table.locator("tbody tr")
        expect(row).to_have_count(1)
        cells = row.locator("td")
        expect(cells.nth(0)).to_have_text("★")  # the only model is the default
        expect(cells.nth(1)).to_have_text("tiny")
        expect(cells.nth(3)).to_have_text("transformers")
        expect(cells.nth(4)).to_have_text("float32")
        expect(cells.nth(7)).to_have_text(re.compile(r"^\d+ MiB$"))
        expect(models.get_by_role("button", name="Load", exact=True)).to_be_enabled()
        panel.screenshot(path=output_dir / "settings-03-loaded.png")

        row.get_by_role("button", name="Unload").click()
        expect(table).to_contain_text("No model loaded.", timeout=WORK_TIMEOUT)
        expect(status).to_have_text("Unloaded 'tiny'.")
        assert errors.locator(".h2o-error").count() == 0
        panel.screenshot(path=output_dir / "settings-04-unloaded.png")
        page.screenshot(path=output_dir / "tools-page.png", full_page=True)
