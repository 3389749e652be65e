// The kernel link of VS Code's notebook webview, for tests/panels/browser/test_vscode.py: a
// real @jupyterlab/services KernelConnection (VS Code's webview makes one over its own socket
// proxy; here the socket is the Jupyter server's own), bundled by esbuild for the page.
import { ServerConnection } from "@jupyterlab/services";
import { KernelConnection } from "@jupyterlab/services/lib/kernel/default";

/**
 * A connection to the running kernel `id` of the Jupyter server at `baseUrl`.
 * @param {string} baseUrl
 * @param {string} token
 * @param {string} id
 */
window.h2oKernel = (baseUrl, token, id) =>
  new KernelConnection({
    model: { id, name: "python3" },
    serverSettings: ServerConnection.makeSettings({
      baseUrl,
      wsUrl: baseUrl.replace(/^http/, "ws"),
      token,
      appendToken: true,
    }),
  });
