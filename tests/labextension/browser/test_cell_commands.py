"""The lab extension's cell commands in a real JupyterLab, on the packaged SmolLM2 that the
h2oGPT server Jupyter runs serves: Fix Error (from the cell's context menu) carries the cell and
its traceback, Explain Cell (its shortcut) carries the cell's code, Generate Cell Below adds the
answer's code as a new cell, and a code block's Insert below adds it under the active cell.
Screenshots go to ``test-output/browser/`` (``commands-*``).
"""

from __future__ import annotations

import json
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
    recorded,
    run_all_cells,
    stop_all,
    wait_for_kernel,
    write_notebook,
)

pytestmark = pytest.mark.integration  # the packaged model

ANSWER_TIMEOUT = 180_000  # ms: the first answer waits for the server and model to start
CELLS = ["print(1 / 0)", "# a Python function that adds two numbers"]


@pytest.fixture(scope="module")
def output_dir() -> Path:
    return fresh_output("commands-")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("jupyter-commands")
    (base / "root").mkdir()
    settings = base / "home" / "user-settings" / "h2ogpt-jupyterlab"
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps({"maxTokens": 96}))
    env = {**KERNEL_ENV, "H2OGPT_PROXY_MODEL": "smollm2", "H2OGPT_PROXY_TIMEOUT": "180"}
    server = JupyterServer("lab", base / "root", base / "home", env)
    server.launch()
    try:
        yield server
    finally:
        stop_all([server])


@pytest.fixture(scope="module")
def front(lab: JupyterServer, browser: Any, output_dir: Path) -> Iterator[FrontEnd]:
    write_notebook(lab.root / "cells.ipynb", CELLS)
    lab.wait_ready()
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.set_default_timeout(60_000)
    page = context.new_page()
    opened = FrontEnd("commands", lab, context, page, PageWatch(page, lab), len(CELLS))
    try:
        page.goto(lab.url("lab/tree/cells.ipynb"))
        wait_for_kernel(page, lab)
        run_all_cells(page)
        page.locator(".jp-OutputArea-output").filter(has_text="ZeroDivisionError").wait_for()
        yield opened
    except BaseException:
        keep_evidence(opened, output_dir)
        raise
    finally:
        context.close()


def _finished(turn: Any) -> None:
    from playwright.sync_api import expect

    expect(turn).to_have_attribute(
        "data-finish", re.compile("^(stop|length)$"), timeout=ANSWER_TIMEOUT
    )


def test_fix_error_explain_generate_and_insert(front: FrontEnd, output_dir: Path) -> None:
    from playwright.sync_api import expect

    with recorded(front, output_dir) as page:
        cells = page.locator(".jp-Notebook .jp-Cell")
        expect(cells).to_have_count(len(CELLS))
        sidebar = page.locator("#h2ogpt-chat")

        # Fix Error, from the cell's context menu
        cells.nth(0).locator(".jp-InputPrompt").click()  # the active cell: the one that failed
        cells.nth(0).locator(".jp-InputArea-editor").click(button="right")
        page.locator(".lm-Menu-item[data-type='submenu']", has_text="h2oGPT").hover()
        page.locator(".lm-Menu-item", has_text="h2oGPT: Fix Error").click()
        expect(sidebar).to_be_visible()
        turn = sidebar.locator(".h2o-lab-turn").last
        expect(turn.locator(".h2o-lab-command summary")).to_have_text("Fix ZeroDivisionError")
        sent = turn.locator(".h2o-lab-command pre")
        expect(sent).to_contain_text("print(1 / 0)")
        expect(sent).to_contain_text("ZeroDivisionError: division by zero")
        _finished(turn)
        page.screenshot(path=output_dir / "commands-01-fix-error.png")

        # Explain Cell, by its shortcut, on the same cell
        cells.nth(0).locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Alt+Shift+E")
        turn = sidebar.locator(".h2o-lab-turn").last
        expect(turn.locator(".h2o-lab-command summary")).to_have_text("Explain this cell")
        expect(turn.locator(".h2o-lab-command pre")).to_contain_text("```python\nprint(1 / 0)\n```")
        _finished(turn)

        # Generate Cell Below, from the comment in the second cell: a new cell with the code
        cells.nth(1).locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Alt+Shift+G")
        turn = sidebar.locator(".h2o-lab-turn").last
        expect(turn.locator(".h2o-lab-command summary")).to_have_text("Generate a cell")
        _finished(turn)
        expect(cells).to_have_count(len(CELLS) + 1)
        generated = cells.nth(2).locator(".jp-InputArea-editor")
        expect(generated).to_contain_text("def ")
        page.screenshot(path=output_dir / "commands-02-generated.png")

        # a code block's Insert below: one more cell, holding the block's code
        block = turn.locator(".h2o-lab-code").first
        code = block.locator("pre").inner_text().strip()
        block.get_by_role("button", name="Insert below").click()
        expect(cells).to_have_count(len(CELLS) + 2)
        first_line = code.splitlines()[0]
        expect(cells.nth(3).locator(".jp-InputArea-editor")).to_contain_text(first_line)
        page.screenshot(path=output_dir / "commands-03-inserted.png")


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp("jupyter-commands-nb7")
    (base / "root").mkdir()
    (base / "home").mkdir()
    env = {**KERNEL_ENV, "H2OGPT_PROXY_MODEL": "smollm2", "H2OGPT_PROXY_TIMEOUT": "180"}
    server = JupyterServer("notebook", base / "root", base / "home", env)
    server.launch()
    try:
        yield server
    finally:
        stop_all([server])


def test_in_notebook_7_fix_error_opens_the_chat_with_the_traceback(
    notebook7: JupyterServer, browser: Any, output_dir: Path
) -> None:
    from playwright.sync_api import expect

    write_notebook(notebook7.root / "cells.ipynb", CELLS[:1])
    notebook7.wait_ready()
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.set_default_timeout(60_000)
    page = context.new_page()
    front = FrontEnd("commands-nb7", notebook7, context, page, PageWatch(page, notebook7), 1)
    try:
        with recorded(front, output_dir):
            page.goto(notebook7.url("notebooks/cells.ipynb"))
            wait_for_kernel(page, notebook7)
            run_all_cells(page)
            page.locator(".jp-OutputArea-output").filter(has_text="ZeroDivisionError").wait_for()
            page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").click()
            page.keyboard.press("Escape")
            page.keyboard.press("Alt+Shift+F")
            sidebar = page.locator("#h2ogpt-chat")
            expect(sidebar).to_be_visible()
            turn = sidebar.locator(".h2o-lab-turn").last
            expect(turn.locator(".h2o-lab-command summary")).to_have_text("Fix ZeroDivisionError")
            expect(turn.locator(".h2o-lab-command pre")).to_contain_text("division by zero")
            _finished(turn)
            expect(turn.locator(".h2o-lab-answer")).not_to_be_empty()
            page.screenshot(path=output_dir / "commands-nb7-01-fix-error.png")
    finally:
        context.close()
