"""What every browser test shares: whether to run at all, and a headless Chromium.

``H2OGPT_SKIP_BROWSER_TESTS=1`` skips them (``make test-fast`` sets it). Otherwise a missing
Playwright or Debian Chromium (``make setup`` installs both) fails them rather than letting
them pass untested. No browser is ever downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, chromium_args, have_browser


@pytest.fixture(scope="session", autouse=True)
def _browser_wanted() -> None:
    if os.environ.get("H2OGPT_SKIP_BROWSER_TESTS") == "1":
        pytest.skip("H2OGPT_SKIP_BROWSER_TESTS=1")
    missing = have_browser()
    if missing is not None:
        pytest.fail(f"{missing}; `make setup` installs it (H2OGPT_SKIP_BROWSER_TESTS=1 skips)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright, for one test module. Not for the
    session: Playwright's sync API runs an event loop in the main thread while it is open, and
    later tests' ``asyncio.run`` would find it running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args()
        )
        try:
            yield chromium
        finally:
            chromium.close()
