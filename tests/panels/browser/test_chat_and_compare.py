"""The panels in a real browser: JupyterLab and Notebook 7 served by real Jupyter servers,
driven by headless Chromium through Playwright, on a tiny random model the kernel loads from
disk.

What the Python-level panel tests cannot see is checked here: that the shipped ES modules
load in the front ends, that an answer visibly grows while it streams, that the Stop button
ends a generation and the panel returns to idle, that settings typed in the Expert section
reach generation, and that both columns of a comparison fill in with their speed.

Screenshots and a log of the browser console go to ``test-output/browser/``. A missing
Playwright or Debian Chromium (``make setup`` installs both) fails the tests rather than letting
them pass untested; ``H2OGPT_SKIP_BROWSER_TESTS=1`` skips them. They never download a browser.
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
    assert_grows,
    fresh_output,
    keep_evidence,
    param_input,
    record_lengths,
    recorded,
    recorded_lengths,
    restart_kernel,
    run_all_cells,
    stop_all,
    wait_for_kernel,
    wait_growing,
    write_notebook,
)

# Waits are generous (the machine may be busy with other work); assertions are about what
# the page shows, never about how fast.
KERNEL_TIMEOUT = 120.0
RENDER_TIMEOUT = 120_000  # ms: run-all loads torch and the model before the panel appears
STREAM_TIMEOUT = 90_000  # ms
LONG_ANSWER = 900  # tokens: far more than streams before Stop is pressed
SHORT_ANSWER = 40  # tokens: typed into the Expert section for a turn that runs to its end
NB7_ANSWER = 200
COMPARE_ANSWER = 48


def lab_cells(model_dir: Path) -> list[str]:
    load = f"%h2ogpt load {model_dir} --backend transformers --dtype float32"
    return [
        "%load_ext h2ogpt_jupyter",
        f"{load} --as tiny\n{load} --as tiny2\n%h2ogpt use tiny",
        f"%h2ogpt params --max-new-tokens {LONG_ANSWER} --min-new-tokens {LONG_ANSWER}",
        "%h2ogpt panel chat --model tiny",
        "from h2ogpt_jupyter.panels import ComparePanel\n\n"
        "ComparePanel(\n"
        '    [{"model": "tiny", "label": "greedy"},\n'
        '     {"model": "tiny2", "temperature": 0.8, "seed": 7, "label": "sampled"}],\n'
        f"    max_new_tokens={COMPARE_ANSWER},\n"
        f"    min_new_tokens={COMPARE_ANSWER},\n"
        ")",
    ]


def notebook7_cells(model_dir: Path) -> list[str]:
    return [
        "%load_ext h2ogpt_jupyter",
        f"%h2ogpt load {model_dir} --as tiny --backend transformers --dtype float32",
        f"%h2ogpt params --max-new-tokens {NB7_ANSWER} --min-new-tokens {NB7_ANSWER}",
        # a turn from before the panel: the panel opens on the kernel's chat and shows it
        "%%h2ogpt chat --max-new-tokens 8 --min-new-tokens 8\nHello",
        "%h2ogpt panel chat",
    ]


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def output_dir() -> Path:
    return fresh_output("lab-", "nb7-")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, JupyterServer]]:
    """``jupyter lab`` and ``jupyter notebook``, each with its own root, home and kernels.
    Both are launched before anything waits for them, so they start while the test process
    builds the model."""
    started: dict[str, JupyterServer] = {}
    try:
        for app in ("lab", "notebook"):
            base = tmp_path_factory.mktemp(f"jupyter-{app}")
            (base / "root").mkdir()
            (base / "home").mkdir()
            server = JupyterServer(app, base / "root", base / "home", dict(KERNEL_ENV))
            started[app] = server
            server.launch()
        yield started
    finally:
        stop_all(started.values())


@pytest.fixture(scope="module")
def front_ends(
    servers: dict[str, JupyterServer], tiny_model_dir: Path, browser: Any, output_dir: Path
) -> Iterator[dict[str, FrontEnd]]:
    """The panels notebook opened in JupyterLab and in Notebook 7, its kernel confirmed and
    all its cells run, in both front ends at once: the two kernels load torch and the model
    side by side rather than one after the other."""
    plans = {
        "lab": ("lab/tree/panels.ipynb", lab_cells(tiny_model_dir)),
        "nb7": ("notebooks/panels.ipynb", notebook7_cells(tiny_model_dir)),
    }
    opened: dict[str, FrontEnd] = {}
    try:
        for name, (url, cells) in plans.items():
            server = servers["lab" if name == "lab" else "notebook"]
            write_notebook(server.root / "panels.ipynb", cells)
            server.wait_ready()
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(60_000)
            page = context.new_page()
            opened[name] = FrontEnd(
                name, server, context, page, PageWatch(page, server), len(cells)
            )
            page.goto(server.url(url))
        for front in opened.values():
            wait_for_kernel(front.page, front.server, KERNEL_TIMEOUT)
            front.page.screenshot(path=output_dir / f"{front.name}-01-opened.png")
            run_all_cells(front.page)
        yield opened
    except BaseException:
        for front in opened.values():
            keep_evidence(front, output_dir)
        raise
    finally:
        for front in opened.values():
            front.context.close()


# A compare column's statistics list, laid out: whether it is the panel's two-column grid, and
# for each label whether its value sits on the same line to its right. Looked up from the panel
# and measured in one script: the panel redraws its columns while another one still streams,
# so a list found beforehand may be detached by the time it is measured.
STAT_LAYOUT = """
(panel, index) => {
  const dl = panel.querySelector(`[data-column='${index}'] dl.h2o-stats`);
  return [getComputedStyle(dl).display, Array.from(dl.querySelectorAll("dt")).map((dt) => {
    const a = dt.getBoundingClientRect(), b = dt.nextElementSibling.getBoundingClientRect();
    return [dt.textContent, Math.abs(a.top - b.top) < 2 && b.left > a.left];
  })];
}
"""


# --- helpers ------------------------------------------------------------------------------------
def send(chat: Any, *lines: str) -> None:
    """Type the message key by key, as a person does (Shift+Enter between lines), then
    Enter. Real key presses also check that the notebook's own shortcuts (Shift+Enter runs
    the cell, letters insert or delete cells) leave the panel alone."""
    box = chat.locator("textarea.h2o-input")
    box.click()
    for i, line in enumerate(lines):
        if i:
            box.press("Shift+Enter")
        box.press_sequentially(line)
    box.press("Enter")


# --- the tests ----------------------------------------------------------------------------------
def test_jupyterlab_chat_streams_stops_and_compare_fills_both_columns(
    front_ends: dict[str, FrontEnd], output_dir: Path
) -> None:
    from playwright.sync_api import expect

    front = front_ends["lab"]
    with recorded(front, output_dir) as page:
        chat = page.locator(".h2o-panel.h2o-chat")
        compare = page.locator(".h2o-panel.h2o-compare")
        expect(chat).to_be_visible(timeout=RENDER_TIMEOUT)
        expect(compare).to_have_count(1, timeout=RENDER_TIMEOUT)
        send_button = chat.get_by_role("button", name="Send", exact=True)
        stop_button = chat.get_by_role("button", name="■ Stop")
        expect(send_button).to_be_visible()
        expect(chat.locator(".h2o-empty")).to_be_visible()  # a new chat, nothing sent yet
        chat.scroll_into_view_if_needed()
        page.screenshot(path=output_dir / "lab-02-rendered.png")

        # 1. a long answer streams: its text grows on screen, then Stop ends it
        record_lengths(chat.locator(".h2o-messages"), "chat", ".h2o-bot .h2o-msg-body")
        send(chat, "Tell me a long story about the sea.")
        expect(stop_button).to_be_visible(timeout=STREAM_TIMEOUT)
        assert chat.locator("textarea.h2o-input").input_value() == ""
        expect(chat.locator(".h2o-user .h2o-msg-body")).to_have_text(
            "Tell me a long story about the sea."
        )
        growing = wait_growing(page, "chat", 3, STREAM_TIMEOUT)
        chat.screenshot(path=output_dir / "lab-03-streaming.png")
        stop_button.click()
        expect(send_button).to_be_visible(timeout=STREAM_TIMEOUT)
        expect(stop_button).to_be_hidden()
        answer = chat.locator(".h2o-bot").last
        expect(answer.locator(".h2o-badge")).to_have_text("cancelled", timeout=STREAM_TIMEOUT)
        expect(answer.locator(".h2o-msg-stats")).to_contain_text("tok/s")
        stopped_at = len(answer.locator(".h2o-msg-body").text_content() or "")
        page.wait_for_timeout(1500)  # a generation still running would keep adding text
        assert len(answer.locator(".h2o-msg-body").text_content() or "") == stopped_at
        assert_grows(recorded_lengths(page, "chat"))
        assert len(growing) >= 3 and stopped_at > 0
        stats = answer.locator(".h2o-msg-stats").text_content() or ""
        produced = re.search(r"\+(\d+) tokens", stats)
        assert produced and 0 < int(produced.group(1)) < LONG_ANSWER, stats  # stopped early
        chat.screenshot(path=output_dir / "lab-04-stopped.png")

        # 2. settings typed in the Expert section reach generation; this answer runs to its end
        chat.get_by_role("button", name="⚙ Expert").click()
        chat.get_by_role("button", name="Reset all").click()
        expect(param_input(chat, "min new tokens")).to_have_value("0")
        box = param_input(chat, "max new tokens")
        box.fill(str(SHORT_ANSWER))
        box.press("Enter")
        box.blur()
        expect(box).to_have_value(str(SHORT_ANSWER))
        chat.get_by_role("button", name="⚙ Expert").click()
        chat.get_by_role("button", name="Clear", exact=True).click()  # a fresh conversation
        expect(chat.locator(".h2o-empty")).to_be_visible()
        expect(chat.locator(".h2o-status")).to_have_text("Chat cleared.")
        record_lengths(chat.locator(".h2o-messages"), "chat2", ".h2o-bot .h2o-msg-body")
        send(chat, "And now a short one,", "about a boat.")
        expect(chat.locator(".h2o-user .h2o-msg-body")).to_have_text(
            "And now a short one,\nabout a boat."
        )
        answer = chat.locator(".h2o-bot")
        expect(answer.locator(".h2o-msg-stats")).to_contain_text(
            f"+{SHORT_ANSWER} tokens", timeout=STREAM_TIMEOUT
        )
        expect(answer.locator(".h2o-msg-stats")).to_contain_text("tok/s")
        expect(answer.locator(".h2o-badge")).to_have_text("length")
        expect(send_button).to_be_visible()
        assert recorded_lengths(page, "chat2")[-1] > 0
        assert chat.locator(".h2o-errors .h2o-error").count() == 0
        # the keys typed into the panel did nothing to the notebook around it
        expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(front.cells)
        chat.screenshot(path=output_dir / "lab-05-finished.png")

        # 3. compare: two models under different settings, side by side
        compare.scroll_into_view_if_needed()
        columns = compare.locator(".h2o-column")
        expect(columns).to_have_count(2)
        record_lengths(compare, "left", "[data-column='0'] .h2o-msg-body")
        record_lengths(compare, "right", "[data-column='1'] .h2o-msg-body")
        prompt = compare.locator("textarea.h2o-input")
        prompt.fill("Explain the tides in two sentences.")
        prompt.press("Enter")
        for index in (0, 1):
            column = compare.locator(f"[data-column='{index}']")
            expect(column.locator(".h2o-badge")).to_have_text("length", timeout=STREAM_TIMEOUT)
            speed = column.locator("dt:text-is('speed') + dd")
            expect(speed).to_have_text(re.compile(r"^\d+(\.\d)? tok/s$"))
            expect(column.locator("dt:text-is('tokens') + dd")).to_have_text(str(COMPARE_ANSWER))
            assert (column.locator(".h2o-msg-body").text_content() or "").strip()
            # each statistic sits on one row with its label (the front end's own styles for
            # description lists in outputs must not float them apart)
            display, rows = compare.evaluate(STAT_LAYOUT, index)
            assert display == "grid" and rows and all(ok for _, ok in rows), (display, rows)
        for key in ("left", "right"):
            assert recorded_lengths(page, key)[-1] > 0, key
        expect(compare.get_by_role("button", name="▶ Run")).to_be_visible()
        compare.screenshot(path=output_dir / "lab-06-compare.png")
        page.screenshot(path=output_dir / "lab-07-page.png")


def test_notebook7_chat_renders_and_streams(
    front_ends: dict[str, FrontEnd], output_dir: Path
) -> None:
    from playwright.sync_api import expect

    front = front_ends["nb7"]
    with recorded(front, output_dir) as page:
        chat = page.locator(".h2o-panel.h2o-chat")
        expect(chat).to_be_visible(timeout=RENDER_TIMEOUT)
        chat.scroll_into_view_if_needed()
        page.screenshot(path=output_dir / "nb7-02-rendered.png")

        # the turn asked with %%h2ogpt chat before the panel opened is there, without stats
        expect(chat.locator(".h2o-user .h2o-msg-body")).to_have_text(["Hello"])
        expect(chat.locator(".h2o-bot")).to_have_count(1)

        record_lengths(chat.locator(".h2o-messages"), "nb7", ".h2o-bot .h2o-msg-body")
        send(chat, "Describe a lighthouse.")
        answer = chat.locator(".h2o-bot").nth(1)
        expect(answer.locator(".h2o-msg-stats")).to_contain_text(
            f"+{NB7_ANSWER} tokens", timeout=STREAM_TIMEOUT
        )
        expect(answer.locator(".h2o-msg-stats")).to_contain_text("tok/s")
        assert_grows(recorded_lengths(page, "nb7"))
        # this answer's statistics are on this answer, not on the turn from before the panel
        expect(chat.locator(".h2o-bot").first.locator(".h2o-msg-stats")).to_have_count(0)
        expect(chat.get_by_role("button", name="Send", exact=True)).to_be_visible()
        expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(front.cells)
        chat.screenshot(path=output_dir / "nb7-03-answered.png")


@pytest.mark.parametrize("name", ["lab", "nb7"])
def test_panels_say_when_their_kernel_restarted(
    front_ends: dict[str, FrontEnd], output_dir: Path, name: str
) -> None:
    """After a kernel restart no panel looks alive: each says to run its cell again, its
    fields are disabled, and a message typed into the chat goes nowhere."""
    from playwright.sync_api import expect

    front = front_ends[name]
    with recorded(front, output_dir) as page:
        chat = page.locator(".h2o-panel.h2o-chat").first
        expect(chat).to_be_visible(timeout=RENDER_TIMEOUT)
        expect(chat.locator(".h2o-gone-note")).to_have_count(0)
        restart_kernel(page)
        panels = page.locator(".h2o-panel")
        for i in range(panels.count()):
            note = panels.nth(i).locator(".h2o-gone-note")
            expect(note).to_have_text(
                "The kernel restarted or stopped: run this cell again to use the panel.",
                timeout=RENDER_TIMEOUT,
            )
        box = chat.locator("textarea.h2o-input")
        expect(box).to_be_disabled()
        expect(chat.get_by_role("button", name="Send", exact=True)).to_be_disabled()
        messages = chat.locator(".h2o-msg").count()
        box.dispatch_event("keydown", {"key": "Enter"})
        page.wait_for_timeout(500)
        assert chat.locator(".h2o-msg").count() == messages
        chat.scroll_into_view_if_needed()
        chat.screenshot(path=output_dir / f"{name}-08-kernel-gone.png")
