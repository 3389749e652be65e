"""A real Jupyter server and a headless Chromium for the end-to-end panel tests.

The server runs as a subprocess on a free loopback port with a token, in a temporary root
holding the notebooks the test writes. Everything Jupyter, IPython and h2oGPT read or write
(config, runtime files, settings, workspaces, the home folder, saved chats) lives under one
temporary folder, so nothing of the user's set-up changes what the test sees and the test
leaves nothing behind. News, update checks and the extension manager's registry look-ups are
turned off so no network access is attempted.

Teardown is explicit: the server starts its kernels in process groups of their own, so
killing the server's process group alone would leave them running. The server is asked to
shut down (which shuts its kernels down), and every process it started that is still alive
afterwards is killed by its pid.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

CHROMIUM = Path("/usr/bin/chromium")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = PROJECT_ROOT / "test-output" / "browser"  # gitignored (test-output/)
# One torch thread per kernel: kernels and the browser share two cores, and a tiny model gains
# nothing from more (they only contend).
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}

# Plugins whose first-run prompts or network look-ups have no place in a test.
DISABLED_PLUGINS = (
    "@jupyterlab/apputils-extension:announcements",
    "@jupyterlab/extensionmanager-extension",
)

# Chromium switches: no background traffic (updates, safe browsing, metrics, sync), no
# first-run UI, and no throttling of a page that is not in front, so timers and animation
# frames keep their pace while the test waits.
CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--password-store=basic",
    "--use-mock-keychain",
)


def free_port() -> int:
    """A loopback port nobody listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's (and so its kernels') environment: the test's own, minus the user's
    Jupyter/IPython/h2oGPT settings, with every such folder moved under ``home``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JUPYTER", "IPYTHON", "H2OGPT_", "PYTEST_", "XDG_"))
    }
    folders = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "jupyter-config",
        "JUPYTER_RUNTIME_DIR": home / "jupyter-runtime",
        "JUPYTER_DATA_DIR": home / "jupyter-data",
        "IPYTHONDIR": home / "ipython",
        "XDG_CACHE_HOME": home / "cache",
        "XDG_CONFIG_HOME": home / "config",
        "MPLCONFIGDIR": home / "matplotlib",
        "H2OGPT_DATA_DIR": home / "h2ogpt",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    env.update({k: str(v) for k, v in folders.items()})
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env.update(
        {
            "JUPYTER_PLATFORM_DIRS": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def write_config(config_dir: Path) -> None:
    """Server and front-end settings that keep the server off the network."""
    server = {
        "LabApp": {
            "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            "extension_manager": "readonly",
        },
        "ServerApp": {"open_browser": False},
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server, indent=1))
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page = {"disabledExtensions": {name: True for name in DISABLED_PLUGINS}}
    (labconfig / "page_config.json").write_text(json.dumps(page, indent=1))


def write_notebook(path: Path, cells: Iterable[str]) -> Path:
    """A notebook of code cells with the ipykernel kernelspec, so no kernel picker opens."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": uuid.uuid4().hex[:8],
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for source in cells
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


@dataclass
class JupyterServer:
    """``jupyter lab`` or ``jupyter notebook`` serving ``root`` on a free loopback port."""

    app: str
    root: Path
    home: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def launch(self) -> None:
        """Start the server process; :meth:`wait_ready` waits for it to answer. Two servers
        launched one after the other start at the same time."""
        env = isolated_env(self.home, self.env_extra)
        write_config(Path(env["JUPYTER_CONFIG_DIR"]))
        command = [
            sys.executable,
            "-m",
            "jupyter",
            self.app,
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.open_browser=False",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabServerApp.workspaces_dir={self.home / 'workspaces'}",
            f"--LabServerApp.user_settings_dir={self.home / 'user-settings'}",
        ]
        if hasattr(os, "getuid") and os.getuid() == 0:
            command.append("--allow-root")
        self.log_path = self.home / f"jupyter-{self.app}.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group to end at teardown
        )
        log.close()

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the server answers its REST API (it fails at once if the process ends)."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited early:\n{self.log()}")
            try:
                self.api("GET", "api/status", timeout=2)
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise TimeoutError(f"jupyter {self.app} did not answer in {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-6000:]

    def api(self, method: str, path: str, timeout: float = 10.0) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "PUT") else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernels(self) -> list[dict[str, Any]]:
        """The server's kernels; none while it cannot list them (jupyter_server answers 500
        for a kernel caught half-started)."""
        try:
            return list(self.api("GET", "api/kernels"))
        except urllib.error.HTTPError:
            return []

    def stop(self) -> None:
        """Shut the server and its kernels down; kill, by pid, whatever outlives that."""
        process = self.process
        if process is None:
            return
        self.process = None
        try:
            started = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:  # gone already: nothing of it left to find
            started = []
        try:
            self.api("POST", "api/shutdown", timeout=10)  # shuts its kernels down first
        except Exception:
            pass  # not answering: it is killed below
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
        for child in started:
            try:
                if child.is_running():
                    child.kill()
                    child.wait(timeout=10)
            except psutil.Error:
                pass  # ended meanwhile


def stop_all(servers: Iterable[JupyterServer]) -> None:
    """Stop servers side by side: each waits for its kernels to shut down."""
    threads = [threading.Thread(target=server.stop) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def chromium_args() -> list[str]:
    args = list(CHROMIUM_ARGS)
    if hasattr(os, "getuid") and os.getuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
    return args


def have_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements/cpu.txt)"
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


# --- driving the notebook front ends ----------------------------------------------------------
KERNEL_NAME = "Python 3 (ipykernel)"
OWN_CODE = re.compile(r"h2o|anywidget|\bblob:", re.IGNORECASE)


class PageWatch:
    """What a page does behind the test's back: uncaught errors, console errors, and any
    request to somewhere other than the Jupyter server."""

    def __init__(self, page: Any, server: JupyterServer) -> None:
        self.origin = server.base_url
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        page.on("pageerror", self._page_error)
        page.on("console", self._console)
        page.on("request", self._request)

    def _page_error(self, error: Any) -> None:
        self.page_errors.append(f"{error.name}: {error.message}\n{error.stack or ''}")

    def _console(self, message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            self.console_errors.append(f"{message.text} ({location.get('url', '')})")

    def _request(self, request: Any) -> None:
        url = str(request.url)
        # chrome: and chrome-extension: are the browser's own pages (its PDF viewer), on disk
        local = (self.origin, "data:", "blob:", "about:", "chrome:", "chrome-extension:")
        if not url.startswith(local):
            self.external_requests.append(url)

    def problems(self) -> list[str]:
        """Uncaught errors and console errors from the panels (their modules run from blob:
        URLs made by anywidget; their functions are named h2o…), and any network request
        that left for somewhere other than the Jupyter server. The front ends' own errors
        are only logged: Notebook 7.6 throws one of its own while loading its settings."""
        uncaught = [text for text in self.page_errors if OWN_CODE.search(text)]
        console = [text for text in self.console_errors if OWN_CODE.search(text)]
        return [
            *(f"uncaught: {text}" for text in uncaught),
            *(f"console: {text}" for text in console),
            *(f"external request: {url}" for url in self.external_requests),
        ]

    def write(self, path: Path) -> None:
        """Everything seen, for the test output folder."""
        lines = [
            *(f"pageerror: {text}" for text in self.page_errors),
            *(f"console.error: {text}" for text in self.console_errors),
            *(f"request: {url}" for url in self.external_requests),
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def accept_kernel_dialog(page: Any) -> bool:
    """Confirm the 'Select Kernel' dialog with the ipykernel kernel, when it is showing."""
    dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
    if dialog.count() == 0:
        return False
    choice = dialog.locator("select")
    if choice.count():
        choice.first.select_option(label=KERNEL_NAME)
    dialog.get_by_role("button", name="Select", exact=True).click()
    return True


def wait_for_kernel(page: Any, server: JupyterServer, timeout: float = 120.0) -> None:
    """Until the notebook's kernel is connected and idle. The page's indicator alone says
    'idle' for a moment before any kernel exists, so the server is asked too."""
    deadline = time.monotonic() + timeout
    indicator = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    while time.monotonic() < deadline:
        accept_kernel_dialog(page)
        ready = any(
            k["execution_state"] == "idle" and k["connections"] > 0 for k in server.kernels()
        )
        if ready and indicator.count() > 0:
            # the notebook's toolbar names the kernel it runs on
            page.locator(".jp-Toolbar").get_by_text(KERNEL_NAME, exact=True).first.wait_for()
            return
        page.wait_for_timeout(250)
    raise TimeoutError(f"no idle {KERNEL_NAME} kernel after {timeout:.0f} s")


def run_all_cells(page: Any) -> None:
    """Run > Run All Cells, from the menu bar (the same in JupyterLab and Notebook 7)."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
    accept_kernel_dialog(page)


def restart_kernel(page: Any) -> None:
    """Kernel > Restart Kernel…, confirmed (the same in JupyterLab and Notebook 7)."""
    page.get_by_role("menuitem", name="Kernel", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Restart Kernel…")).first.click()
    page.locator(".jp-Dialog").filter(has_text="Restart Kernel?").locator(
        "button.jp-mod-accept"
    ).click()


# Records, in the page, the length of the text in ``selector`` (last match under ``root``)
# each time the DOM under ``root`` changes: how the answer grows, as the browser showed it,
# however fast tokens arrive and whatever the test process is doing meanwhile.
_RECORD = """
([root, key, selector]) => {
  const store = (window.__h2oLengths = window.__h2oLengths || {});
  if (store[key] && store[key].observer) store[key].observer.disconnect();
  const entry = { lengths: [] };
  const measure = () => {
    const nodes = root.querySelectorAll(selector);
    const node = nodes[nodes.length - 1];
    const typing = node ? node.querySelector(".h2o-typing") : null;  // the "…" placeholder
    const text = node ? (node.textContent || "").length : 0;
    const length = text - (typing ? typing.textContent.length : 0);
    const rows = entry.lengths;
    if (rows.length === 0 || rows[rows.length - 1][1] !== length) {
      rows.push([performance.now(), length]);
    }
  };
  entry.observer = new MutationObserver(measure);
  entry.observer.observe(root, { childList: true, subtree: true, characterData: true });
  measure();
  store[key] = entry;
}
"""


def record_lengths(locator: Any, key: str, selector: str) -> None:
    handle = locator.element_handle()
    locator.page.evaluate(_RECORD, [handle, key, selector])


def recorded_lengths(page: Any, key: str) -> list[int]:
    """The distinct text lengths seen so far, in order."""
    rows = page.evaluate(
        "(key) => ((window.__h2oLengths || {})[key] || {lengths: []}).lengths", key
    )
    return [int(length) for _, length in rows]


def wait_growing(page: Any, key: str, at_least: int, timeout_ms: float) -> list[int]:
    """Until the recorded text has taken ``at_least`` distinct non-empty lengths."""
    page.wait_for_function(
        "([key, n]) => {"
        "  const e = (window.__h2oLengths || {})[key];"
        "  return !!e && e.lengths.filter(([, len]) => len > 0).length >= n;"
        "}",
        arg=[key, at_least],
        timeout=timeout_ms,
    )
    return recorded_lengths(page, key)


def assert_grows(lengths: list[int]) -> None:
    shown = [n for n in lengths if n > 0]
    assert len(shown) >= 2, f"the answer never grew on screen: lengths {lengths}"
    # the markdown view re-renders the whole answer; its text only ever gets longer
    assert shown == sorted(shown) and len(set(shown)) == len(shown), lengths


# Records, in the page, each distinct text of ``selector`` (first match under ``root``) as the DOM
# under ``root`` changes: what a progress line said on the way, however briefly it said it.
_RECORD_TEXTS = """
([root, key, selector]) => {
  const store = (window.__h2oTexts = window.__h2oTexts || {});
  if (store[key] && store[key].observer) store[key].observer.disconnect();
  const entry = { texts: [] };
  const measure = () => {
    const node = root.querySelector(selector);
    const text = node ? node.textContent || "" : "";
    if (entry.texts[entry.texts.length - 1] !== text) entry.texts.push(text);
  };
  entry.observer = new MutationObserver(measure);
  entry.observer.observe(root, { childList: true, subtree: true, characterData: true });
  measure();
  store[key] = entry;
}
"""


def record_texts(locator: Any, key: str, selector: str) -> None:
    locator.page.evaluate(_RECORD_TEXTS, [locator.element_handle(), key, selector])


def recorded_texts(page: Any, key: str) -> list[str]:
    """The distinct texts seen so far, in order."""
    texts = page.evaluate("(key) => ((window.__h2oTexts || {})[key] || {texts: []}).texts", key)
    return [str(text) for text in texts]


def param_input(panel: Any, name: str) -> Any:
    """The number box of one generation parameter in a settings view."""
    label = panel.page.locator("label.h2o-param-name", has_text=re.compile(f"^{name}$"))
    return panel.locator(".h2o-param", has=label).locator("input[type='number']")


# --- evidence -----------------------------------------------------------------------------------
def fresh_output(*prefixes: str) -> Path:
    """The screenshots folder, without the files an earlier run of these tests left there
    (those named with ``prefixes``); other tests' files stay."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    for path in OUTPUT_DIR.iterdir():
        if path.name.startswith(prefixes):
            path.unlink(missing_ok=True)
    return OUTPUT_DIR


@dataclass
class FrontEnd:
    """One notebook open in one front end, its cells run."""

    name: str
    server: JupyterServer
    context: Any
    page: Any
    watch: PageWatch
    cells: int


def keep_evidence(front: FrontEnd, output: Path) -> None:
    """A screenshot and the console log of a failed run; never a second error on top."""
    with suppress(Exception):
        front.watch.write(output / f"{front.name}-console.log")
        front.page.screenshot(path=output / f"{front.name}-failure.png")


@contextmanager
def recorded(front: FrontEnd, output: Path) -> Iterator[Any]:
    """The front end's page; on failure a screenshot and the console log are kept, and at
    the end errors from the panels fail the test."""
    try:
        yield front.page
    except BaseException:
        keep_evidence(front, output)
        raise
    front.watch.write(output / f"{front.name}-console.log")
    problems = front.watch.problems()
    assert not problems, "\n".join(problems) + "\n--- server log ---\n" + front.server.log()


# --- fixtures, for the conftest.py of each folder of browser tests ----------------------------
@pytest.fixture(scope="session", autouse=True)
def browser_wanted() -> None:
    """Skip with ``H2OGPT_SKIP_BROWSER_TESTS=1``; fail when Playwright or Chromium is missing."""
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
