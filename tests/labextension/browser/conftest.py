"""What every browser test of the panels shares: whether to run at all (skipped with
``H2OGPT_SKIP_BROWSER_TESTS=1``, which ``make test-fast`` sets; failed rather than passed
untested when Playwright or Debian Chromium is missing) and a headless Chromium per module.
No browser is ever downloaded. The fixtures live in :mod:`tests.support.browser`."""

from tests.support.browser import browser, browser_wanted

__all__ = ["browser", "browser_wanted"]
