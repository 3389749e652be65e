// @ts-check
// The server's page: its status (models, loading, queue), how to connect a client, and a chat
// that streams. Plain DOM, no framework and nothing fetched but this server's own API, so it
// works offline. The pieces with logic (the event-stream reader, the snippets) are exported for
// the node tests; the page starts only in a browser.

/** @typedef {{rootPath: string, keyRequired: boolean, version: string}} Facts */
/** @typedef {{id: string, owned_by?: string, h2ogpt?: {type?: string, backend?: string}}} ModelCard */

const POLL_MS = 3000;

/**
 * Complete server-sent events from `buffer`, and what is left over (an event still arriving).
 * @param {string} buffer
 * @returns {{data: string[], rest: string}}
 */
export function readEvents(buffer) {
  const normalized = buffer.replace(/\r\n?/g, "\n");
  const blocks = normalized.split("\n\n");
  const rest = blocks.pop() ?? "";
  /** @type {string[]} */
  const data = [];
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.startsWith("data:"));
    if (lines.length) data.push(lines.map((l) => l.slice(5).replace(/^ /, "")).join("\n"));
  }
  return { data, rest };
}

/**
 * The text a chat completion chunk adds, or null for the end of the stream.
 * @param {string} data one event's data
 * @returns {string | null}
 */
export function chunkText(data) {
  if (data === "[DONE]") return null;
  const chunk = JSON.parse(data);
  if (chunk.error) throw new Error(chunk.error.message || "the server reported an error");
  const choice = (chunk.choices || [])[0];
  return (choice && choice.delta && choice.delta.content) || "";
}

/**
 * How a client connects: the OpenAI base URL, what its key is, and two snippets.
 * @param {string} base the base URL, ending in /v1
 * @param {string} model
 * @param {Facts} facts
 */
export function connection(base, model, facts) {
  const proxied = Boolean(facts.rootPath);
  const key = proxied ? "<your Jupyter token>" : facts.keyRequired ? "<a server key>" : "unused";
  const note = proxied
    ? "The API key is a token your Jupyter server accepts (in JupyterHub: one from Token in the hub's menu)."
    : facts.keyRequired
      ? "The API key is one of the keys the server was started with."
      : "This server asks for no key: any text will do.";
  const python = [
    "from openai import OpenAI",
    "",
    "client = OpenAI(",
    `    base_url=${JSON.stringify(base)},`,
    `    api_key=${JSON.stringify(key)},`,
    ")",
    "stream = client.chat.completions.create(",
    `    model=${JSON.stringify(model)},`,
    '    messages=[{"role": "user", "content": "Hello"}],',
    "    stream=True,",
    ")",
    "for chunk in stream:",
    '    print(chunk.choices[0].delta.content or "", end="")',
  ].join("\n");
  const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hello" }], stream: true });
  const curl = [
    `curl -N ${base}/chat/completions \\`,
    `  -H "Authorization: Bearer ${key}" \\`,
    '  -H "Content-Type: application/json" \\',
    `  -d '${body}'`,
  ].join("\n");
  return { note, python, curl };
}

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

/** @param {Document} doc */
function start(doc) {
  /** @type {Facts} */
  const facts = JSON.parse(doc.body.dataset.facts || "{}");
  const root = facts.rootPath || "";
  const base = new URL(`${root}/v1`, window.location.origin).href;
  const keyBox = /** @type {HTMLInputElement} */ (byId("api-key"));
  keyBox.value = window.sessionStorage.getItem("h2ogpt-key") || "";
  keyBox.addEventListener("change", () => window.sessionStorage.setItem("h2ogpt-key", keyBox.value));
  const modelBox = /** @type {HTMLSelectElement} */ (byId("model"));
  const question = /** @type {HTMLTextAreaElement} */ (byId("question"));
  const send = /** @type {HTMLButtonElement} */ (byId("send"));
  const stop = /** @type {HTMLButtonElement} */ (byId("stop"));
  const errorLine = byId("error");
  /** @type {{role: string, content: string}[]} */
  const turns = [];
  /** @type {AbortController | null} */
  let running = null;
  let modelsShown = "";

  /**
   * @param {string} path relative to the root, e.g. "v1/models"
   * @param {RequestInit} [init]
   */
  const api = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (keyBox.value) headers.set("Authorization", `Bearer ${keyBox.value}`);
    return fetch(`${root}/${path}`, { ...init, headers, credentials: "same-origin" });
  };

  /** @param {Response} response */
  const failure = async (response) => {
    if (response.status === 401) byId("key-row").hidden = false;
    try {
      const body = await response.json();
      return (body.error && body.error.message) || `HTTP ${response.status}`;
    } catch {
      return `HTTP ${response.status}`;
    }
  };

  /** @param {string} text */
  const showError = (text) => {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  };

  /** @param {ModelCard[]} cards */
  const showModels = (cards) => {
    const key = JSON.stringify(cards.map((c) => c.id));
    if (key === modelsShown) return;
    modelsShown = key;
    const rows = cards.map((card) => {
      const row = doc.createElement("tr");
      const kind = card.h2ogpt && card.h2ogpt.type === "embedding" ? "embeddings" : "chat";
      for (const text of [card.id, kind]) {
        const cell = doc.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    });
    byId("models").replaceChildren(...rows);
    const chat = cards.filter((c) => !(c.h2ogpt && c.h2ogpt.type === "embedding"));
    modelBox.replaceChildren(
      ...chat.map((c) => {
        const option = doc.createElement("option");
        option.value = option.textContent = c.id;
        return option;
      }),
    );
    const shown = connection(base, chat.length ? chat[0].id : "MODEL", facts);
    byId("key-note").textContent = shown.note;
    byId("python-snippet").textContent = shown.python;
    byId("curl-snippet").textContent = shown.curl;
  };

  const poll = async () => {
    const badge = byId("state");
    const line = byId("status-line");
    try {
      const health = await api("health");
      if (health.ok) {
        badge.textContent = "ready";
        badge.className = "badge ready";
        const models = await api("v1/models");
        if (models.ok) {
          const cards = /** @type {ModelCard[]} */ ((await models.json()).data);
          showModels(cards);
          line.textContent = `Serving ${cards.length} model(s) · h2ogpt-jupyter ${facts.version}`;
        } else {
          line.textContent = await failure(models);
        }
        const metrics = await api("metrics?format=json");
        if (metrics.ok) {
          const queue = (await metrics.json()).queue || {};
          byId("queue").textContent =
            `Queue: ${queue.in_flight ?? 0} running, ${queue.depth ?? 0} waiting (at most ${queue.limit ?? "?"})`;
        }
      } else {
        const why = await failure(health);
        const loading = health.status === 503;
        badge.textContent = loading ? "loading" : "error";
        badge.className = loading ? "badge loading" : "badge failed";
        line.textContent = why;
      }
    } catch (error) {
      badge.textContent = "unreachable";
      badge.className = "badge failed";
      line.textContent = `The server does not answer: ${error}`;
    }
    window.setTimeout(poll, POLL_MS);
  };

  /**
   * @param {string} role
   * @param {string} text
   */
  const bubble = (role, text) => {
    const node = doc.createElement("div");
    node.className = `message ${role}`;
    node.textContent = text;
    byId("messages").append(node);
    return node;
  };

  const ask = async () => {
    const text = question.value.trim();
    if (!text || running) return;
    showError("");
    question.value = "";
    bubble("user", text);
    turns.push({ role: "user", content: text });
    const answer = bubble("assistant", "");
    answer.classList.add("streaming");
    running = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    let said = "";
    try {
      const response = await api("v1/chat/completions", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ model: modelBox.value || undefined, messages: turns, stream: true }),
        signal: running.signal,
      });
      if (!response.ok || !response.body) throw new Error(await failure(response));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const got = readEvents(buffer + value);
        buffer = got.rest;
        for (const data of got.data) {
          const delta = chunkText(data);
          if (delta === null) break;
          said += delta;
          answer.textContent = said;
        }
      }
    } catch (error) {
      const aborted = error instanceof DOMException && error.name === "AbortError";
      if (!aborted) showError(error instanceof Error ? error.message : String(error));
    } finally {
      answer.classList.remove("streaming");
      if (said) turns.push({ role: "assistant", content: said });
      else {
        answer.remove();
        turns.pop();
      }
      running = null;
      send.disabled = false;
      stop.disabled = true;
    }
  };

  byId("ask").addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      ask();
    }
  });
  stop.addEventListener("click", () => running && running.abort());
  for (const button of doc.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => {
      const source = byId(/** @type {HTMLElement} */ (button).dataset.copy || "");
      navigator.clipboard.writeText(source.textContent || "").then(
        () => (button.textContent = "Copied"),
        () => (button.textContent = "Select and copy"),
      );
    });
  }
  byId("base-url").textContent = base;
  showModels([]);
  poll();
}

if (typeof document !== "undefined") start(document);
