"""The panels in VS Code's own widget manager, and a kernel restart done the way VS Code does it.

VS Code's notebook renderer shows ipywidgets with its own widget manager, published on npm as
``@vscode/jupyter-ipywidgets8`` (``make setup`` unpacks its one built file). Here that manager
runs in headless Chromium with a real ``@jupyterlab/services`` kernel connection to a real
kernel of a real Jupyter server, as VS Code's webview connects it, and loads anywidget's
front end the way VS Code does, from anywidget's notebook extension in this environment.

On a restart VS Code's webview disposes its widget manager and kernel connection and tells the
widget models nothing (vscode-jupyter's ``ipywidgets/kernel/manager.ts``): no link dropped, no
comm closed. The panel must still say its kernel is gone and take no more input. VS Code
itself cannot run here (its builds and its Jupyter extension come from VS Code's own servers);
what it runs for widgets, does. Screenshots go to ``test-output/browser/`` (``vscode-*``).
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import KERNEL_ENV, OWN_CODE, fresh_output
from tests.support.jupyter_server import JupyterServer, jupyter_server

ROOT = Path(__file__).resolve().parents[3]
NODE_MODULES = ROOT / "node_modules"
VSCODE_MANAGER = NODE_MODULES / ".vscode-ipywidgets8" / "package" / "dist" / "ipywidgets.js"
REQUIREJS = NODE_MODULES / "requirejs" / "require.js"
ESBUILD = NODE_MODULES / ".bin" / "esbuild"
ANYWIDGET = Path(sys.prefix) / "share" / "jupyter" / "nbextensions" / "anywidget" / "index.js"
RENDER_TIMEOUT = 120_000  # ms: the kernel imports the panels first
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>VS Code's widgets</title>
</head><body><div id="out" class="vscode-output"></div>
<script src="require.js"></script><script src="harness.js"></script>
<script type="module">
import { activate } from "./ipywidgets.js";
activate();  // as VS Code's renderer: window.vscIPyWidgets8, then the manager class
window.vscIPyWidgets8.load();
window.h2oReady = true;
</script></body></html>
"""

# VS Code's renderWidget: the manager on the kernel connection, the cell run, and the widget's
# view created and displayed once its display_data arrives.
RENDER = """async ([base, token, id, code]) => {
  const kernel = window.h2oKernel(base, token, id);
  const out = document.getElementById("out");
  const scripts = {
    widgetsRegisteredInRequireJs: new Set(),
    errorHandler: (cls, module, version, error) =>
      console.error("widget load failed", module, error),
    successHandler: () => {},
    // VS Code serves a widget's AMD module from the kernel's environment
    loadWidgetScript: async (module) =>
      window.requirejs.config({ paths: { [module]: "anywidget/index" } }),
  };
  const manager = new window.vscIPyWidgets.WidgetManager(kernel, out, scripts, () => {}, undefined);
  window.h2oVscode = { kernel, manager };
  const future = kernel.requestExecute({ code });
  future.onIOPub = async (msg) => {
    const view = msg.content && msg.content.data && msg.content.data[WIDGET_VIEW];
    if (!view) return;
    const model = await manager.get_model(view.model_id);
    const shown = await manager.create_view(model, { el: out });
    await manager.display_view(view, shown, { node: out });
  };
}""".replace("WIDGET_VIEW", repr(WIDGET_VIEW))

# VS Code's IPyWidgets_onRestartKernel: the manager and the kernel connection are disposed.
RESTARTED = "() => { window.h2oVscode.manager.dispose(); window.h2oVscode.kernel.dispose(); }"


@pytest.fixture(scope="module")
def output_dir() -> Path:
    return fresh_output("vscode-")


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The webview stand-in: VS Code's manager, requirejs, the kernel link and anywidget's
    notebook extension, served from loopback."""
    missing = [str(p) for p in (VSCODE_MANAGER, REQUIREJS, ESBUILD, ANYWIDGET) if not p.exists()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: `make setup` installs them")
    folder = tmp_path_factory.mktemp("vscode-webview")
    (folder / "anywidget").mkdir()
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    (folder / "require.js").write_bytes(REQUIREJS.read_bytes())
    (folder / "ipywidgets.js").write_bytes(VSCODE_MANAGER.read_bytes())
    (folder / "anywidget" / "index.js").write_bytes(ANYWIDGET.read_bytes())
    subprocess.run(
        [str(ESBUILD), str(Path(__file__).with_name("vscode_harness.mjs")), "--bundle",
         "--format=iife", f"--outfile={folder / 'harness.js'}", "--log-level=warning"],
        cwd=ROOT, check=True, timeout=120,
    )  # fmt: skip
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A Jupyter server that takes the webview's socket (another origin, as VS Code's is)."""
    folder = tmp_path_factory.mktemp("vscode-jupyter")
    with jupyter_server(
        folder, env=KERNEL_ENV, extensions=(), args=["--ServerApp.allow_origin=*"]
    ) as server:
        yield server


def _kernel(jupyter: JupyterServer) -> str:
    r = httpx.post(f"{jupyter.url}api/kernels", headers=jupyter.headers, json={"name": "python3"})
    r.raise_for_status()
    return str(r.json()["id"])


@pytest.mark.parametrize(
    ("panel", "cell"),
    [("chat", "h2o.ChatPanel()"), ("settings", "h2o.SettingsPanel()")],
)
def test_after_a_restart_as_vscode_does_it_the_panel_says_its_kernel_is_gone(
    panel: str,
    cell: str,
    jupyter: JupyterServer,
    page_url: str,
    browser: Any,
    output_dir: Path,
) -> None:
    from playwright.sync_api import expect

    kernel = _kernel(jupyter)
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    try:
        page.goto(page_url)
        page.wait_for_function("window.h2oReady === true")
        code = f"import h2ogpt_jupyter as h2o\n{cell}"
        page.evaluate(RENDER, [jupyter.url, jupyter.token, kernel, code])
        root = page.locator(f".h2o-panel.h2o-{panel}, .h2o-panel.h2o-{panel}-panel").first
        expect(root).to_be_visible(timeout=RENDER_TIMEOUT)

        # live: a message goes to Python and its answer comes back
        if panel == "chat":
            box = root.locator("textarea.h2o-input")
            box.fill("Hello?")
            root.get_by_role("button", name="Send", exact=True).click()
            expect(root.locator(".h2o-errors")).to_contain_text("no model", timeout=60_000)
        else:
            root.locator("input[placeholder^='alias']").fill("x")
            root.get_by_role("button", name="Load", exact=True).click()
            expect(root.locator(".h2o-errors")).to_be_visible(timeout=60_000)
        page.screenshot(path=output_dir / f"vscode-{panel}-01-live.png")

        r = httpx.post(
            f"{jupyter.url}api/kernels/{kernel}/restart", headers=jupyter.headers, timeout=60
        )
        assert r.status_code == 200, r.text
        page.evaluate(RESTARTED)

        # what a user does next: type and send, or press a button
        if panel == "chat":
            box.fill("Still there?")
            root.get_by_role("button", name="Send", exact=True).click()
        else:
            root.get_by_role("button", name="↻ Refresh").click()
        note = root.locator(".h2o-gone-note")
        expect(note).to_have_text(
            "The kernel restarted or stopped: run this cell again to use the panel."
        )
        fields = root.locator("button, input, textarea, select")
        assert fields.count() > 3
        expect(root.locator("button:enabled, input:enabled, textarea:enabled")).to_have_count(0)
        page.screenshot(path=output_dir / f"vscode-{panel}-02-gone.png")
        ours = [text for text in errors if OWN_CODE.search(text)]
        assert not ours, ours
    except BaseException:
        page.screenshot(path=output_dir / f"vscode-{panel}-failure.png")
        raise
    finally:
        context.close()
        httpx.delete(f"{jupyter.url}api/kernels/{kernel}", headers=jupyter.headers, timeout=30)
