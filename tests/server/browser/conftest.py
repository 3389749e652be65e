"""Browser tests of the server's page share the panels' browser fixtures: skipped with
``H2OGPT_SKIP_BROWSER_TESTS=1``, failed when Playwright or Chromium is missing, one headless
Chromium per module (see :mod:`tests.support.browser`)."""

from tests.support.browser import browser, browser_wanted

__all__ = ["browser", "browser_wanted"]
