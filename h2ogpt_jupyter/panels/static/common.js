// @ts-check
// Helpers shared by every panel: building elements, the errors area, the status line,
// downloads and reading files for upload. Colours come from JupyterLab's --jp-* variables
// (see panels.css), so the panels follow the light and dark themes.

// --- types (JSDoc, checked by tsc: see tsconfig.json) --------------------------------------

/**
 * The widget model anywidget gives `render`: the panel's synced state `S` (the Python traits
 * tagged sync=True), its events, and messages to Python. `M` is what Python sends as custom
 * messages (`Panel.emit`).
 * @template S
 * @template [M=H2oMessage]
 * @typedef {{
 *   get<K extends keyof S & string>(name: K): S[K],
 *   set<K extends keyof S & string>(name: K, value: S[K]): void,
 *   on<E extends H2oEvent<S>>(event: E, fn: H2oListener<E, M>): void,
 *   off<E extends H2oEvent<S>>(event: E, fn: H2oListener<E, M>): void,
 *   send(content: {type: string, [key: string]: unknown}, callbacks?: unknown, buffers?: ArrayBuffer[]): void,
 *   save_changes(): void,
 * }} H2oModel
 */
/**
 * A model event: a synced trait changed, or a custom message arrived.
 * @template S
 * @typedef {`change:${keyof S & string}` | "msg:custom" | H2oCommEvent} H2oEvent
 */
/**
 * @template {string} E
 * @template M
 * @typedef {E extends "msg:custom" ? (msg: M) => void : () => void} H2oListener
 */
/**
 * The widget model's own news of its kernel link: `comm_live_update` when the widget manager
 * drops the link (the kernel restarts or dies), `comm:close` when the kernel closes it.
 * @typedef {"comm_live_update" | "comm:close"} H2oCommEvent
 */
/** @typedef {{type: string}} H2oMessage */
/**
 * An event and its listener, for panels that subscribe and unsubscribe a list of them.
 * @template S
 * @template [M=H2oMessage]
 * @typedef {{[E in H2oEvent<S>]: [E, H2oListener<E, M>]}[H2oEvent<S>]} H2oSubscription
 */
/**
 * A row of the errors area (`_base.error_entry`).
 * @typedef {{message: string, kind: string, detail: string, time: string}} H2oErrorRow
 */
/**
 * What every panel syncs (`_base.Panel`).
 * @typedef {{errors: H2oErrorRow[], busy: boolean, status: string}} H2oPanelState
 */
/**
 * A chunk an answer was given (`_chat.source_rows`).
 * @typedef {{source: string, page: number | null, score: number | null, label: string, text: string}} H2oSource
 */
/** @typedef {Node | string | number | null | undefined | false} H2oLeaf */
/** @typedef {H2oLeaf | H2oLeaf[] | H2oLeaf[][]} H2oChild a child, or lists of them (flattened) */
/**
 * Element attributes and properties for h2oEl; `on…` keys take listeners.
 * @typedef {Record<string, unknown>} H2oProps
 */
/** @typedef {() => void} H2oCleanup */

/**
 * An element with attributes, properties, listeners and children (strings become text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {H2oProps | null} [props]
 * @param {...H2oChild} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function h2oEl(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = String(value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (key === "value" || key === "checked" || key === "disabled" || key === "multiple") {
      Object.assign(node, { [key]: value });
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * @param {string} label
 * @param {string} title
 * @param {(() => unknown) | null} [onclick]
 * @param {string} [cls] extra classes
 */
function h2oButton(label, title, onclick, cls = "") {
  return h2oEl("button", { class: `h2o-btn ${cls}`.trim(), type: "button", title, onclick }, label);
}

/**
 * Put markdown in `node` and give each code block a copy button.
 * @param {HTMLElement} node
 * @param {string} text
 */
function h2oSetMarkdown(node, text) {
  // eslint-disable-next-line no-restricted-syntax -- h2oMarkdown escapes all text (tests/js)
  node.innerHTML = h2oMarkdown(text);
  for (const pre of node.querySelectorAll("pre.h2o-code")) {
    const copy = h2oButton("Copy", "Copy this code", () => {
      const code = pre.querySelector("code")?.textContent ?? "";
      if (navigator.clipboard) navigator.clipboard.writeText(code).catch(() => {});
      copy.textContent = "Copied";
      setTimeout(() => (copy.textContent = "Copy"), 1200);
    }, "h2o-copy");
    pre.prepend(copy);
  }
}

/**
 * The errors area: one row per error, dismissable; unexpected ones can show their traceback.
 * @template M
 * @param {H2oModel<H2oPanelState, M>} model
 * @returns {[HTMLElement, H2oCleanup]}
 */
function h2oErrorsArea(model) {
  const box = h2oEl("div", { class: "h2o-errors", role: "alert" });
  const draw = () => {
    /** @type {H2oErrorRow[]} */
    const errors = model.get("errors") || [];
    box.replaceChildren();
    box.hidden = errors.length === 0;
    errors.forEach((error, index) => {
      const detail = error.detail
        ? h2oEl("details", {}, h2oEl("summary", {}, "details"), h2oEl("pre", {}, error.detail))
        : null;
      box.append(
        h2oEl(
          "div",
          { class: "h2o-error" },
          h2oEl("span", { class: "h2o-error-time" }, error.time || ""),
          h2oEl("span", { class: "h2o-error-text" }, error.message, detail),
          h2oButton("✕", "Dismiss", () => model.send({ type: "dismiss", index }), "h2o-icon"),
        ),
      );
    });
    if (errors.length > 1) {
      box.append(h2oButton("Dismiss all", "", () => model.send({ type: "clear_errors" })));
    }
  };
  model.on("change:errors", draw);
  draw();
  return [box, () => model.off("change:errors", draw)];
}

/**
 * The status line: the panel's last word on what it did.
 * @template M
 * @param {H2oModel<H2oPanelState, M>} model
 * @returns {[HTMLElement, H2oCleanup]}
 */
function h2oStatusLine(model) {
  const line = h2oEl("div", { class: "h2o-status", "aria-live": "polite" });
  const draw = () => {
    line.textContent = model.get("status") || "";
  };
  model.on("change:status", draw);
  draw();
  return [line, () => model.off("change:status", draw)];
}

/**
 * Save `text` as a file through the browser's download.
 * @param {string} filename
 * @param {string} text
 * @param {string} [mime]
 */
function h2oDownload(filename, text, mime = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const link = h2oEl("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * Read browser File objects into {names, buffers} for one widget message.
 * @param {FileList | File[] | null | undefined} files
 * @returns {Promise<{names: string[], buffers: ArrayBuffer[]}>}
 */
async function h2oReadFiles(files) {
  const list = Array.from(files || []);
  const buffers = await Promise.all(list.map((file) => file.arrayBuffer()));
  return { names: list.map((file) => file.name), buffers };
}

/**
 * An answer's sources, folded.
 * @param {H2oSource[] | undefined} sources
 */
function h2oSourcesView(sources) {
  if (!sources || sources.length === 0) return null;
  return h2oEl(
    "details",
    { class: "h2o-sources" },
    h2oEl("summary", {}, `Sources (${sources.length})`),
    h2oEl(
      "ol",
      {},
      sources.map((src) =>
        h2oEl(
          "li",
          {},
          h2oEl("span", { class: "h2o-source-label" }, src.label || src.source),
          src.text ? h2oEl("blockquote", { class: "h2o-source-text" }, src.text) : null,
        ),
      ),
    ),
  );
}

/**
 * Re-render at most once per animation frame, however fast tokens arrive.
 * @param {() => void} fn
 * @returns {() => void}
 */
function h2oThrottle(fn) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      fn();
    });
  };
}

/**
 * @param {H2oOption[]} options
 * @param {string} value
 * @param {(() => void) | null} onchange
 * @param {string} [title]
 */
function h2oSelect(options, value, onchange, title = "") {
  const select = h2oEl("select", { class: "h2o-select", title, onchange });
  h2oFillSelect(select, options, value);
  return select;
}

// options: [value] or [[value, label]]. The options are rebuilt only when they changed: the
// chat redraws its toolbar on every model, mode or token-count change and asks for fresh
// models and collections as its selects get focus, so a list the user has just opened is
// not rebuilt under them.
/** @typedef {string | [string, string]} H2oOption */
/**
 * @param {HTMLSelectElement} select
 * @param {H2oOption[]} options
 * @param {string} value
 */
function h2oFillSelect(select, options, value) {
  const pairs = options.map((opt) => (Array.isArray(opt) ? opt : [opt, opt]).map(String));
  const current = Array.from(select.options, (o) => [o.value, o.textContent]);
  if (JSON.stringify(current) !== JSON.stringify(pairs)) {
    select.replaceChildren(...pairs.map(([val, label]) => h2oEl("option", { value: val }, label)));
  }
  select.value = value;
}

// Keys typed into a panel's fields belong to the panel. JupyterLab and Notebook 7 read every
// keydown on the page: Shift/Ctrl/Alt+Enter run the cell that holds the panel (which replaces
// the panel), and any key pressed inside a cell arms a guard that swallows the next line
// break, so Shift+Enter in the message box would give no new line. Keydowns in the panel's
// fields therefore stop here; Ctrl/Cmd shortcuts (save, command palette) still reach the
// notebook.
const H2O_FIELDS = "input, textarea, select, [contenteditable]";

/**
 * @param {HTMLElement} el
 * @returns {H2oCleanup}
 */
function h2oOwnKeys(el) {
  /** @param {KeyboardEvent} event */
  const keep = (event) => {
    const target = /** @type {Element | null} */ (event.target);
    if (!target || !target.closest || !target.closest(H2O_FIELDS)) return;
    if ((event.ctrlKey || event.metaKey) && event.key !== "Enter") return;
    event.stopPropagation();
  };
  el.addEventListener("keydown", keep);
  return () => el.removeEventListener("keydown", keep);
}

const H2O_KERNEL_GONE = "The kernel restarted or stopped: run this cell again to use the panel.";
const H2O_KERNEL_SILENT =
  "No answer from the kernel yet: it may be busy running a cell. If it restarted, run this cell again.";
const H2O_ACK_MS = 10_000; // Python acknowledges every message at once (Panel._on_message)

/**
 * The panel's link to its kernel. When the kernel is gone (restarted, shut down), the panel
 * says so and takes no more input: its fields and buttons are disabled, one line on top tells
 * what to do. Otherwise it would look alive while Send does nothing and typed text piles up.
 *
 * Front ends tell a widget in different ways. JupyterLab and Notebook 7 drop the model's link
 * (`comm_live_update`) or close it (`comm:close`). VS Code disposes its widget manager and
 * kernel connection on a restart and tells the model nothing: sending then throws, or the
 * message waits forever. So the panel sends through the model returned here: a send that
 * throws means the kernel is gone, and a message Python has not acknowledged within
 * `H2O_ACK_MS` shows a line saying the kernel has not answered (it goes when the answer comes).
 * @template {H2oModel<any, any>} T
 * @param {T} widget
 * @param {HTMLElement} el
 * @returns {[T, H2oCleanup]}
 */
function h2oWhenKernelGone(widget, el) {
  /** @type {H2oModel<Record<string, unknown>, unknown>} */
  const model = widget;
  let isGone = false;
  let pending = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const panel = () => el.querySelector(".h2o-panel");
  const quiet = () => {
    clearTimeout(timer);
    timer = undefined;
    el.querySelectorAll(".h2o-silent-note").forEach((note) => note.remove());
  };
  const gone = () => {
    const root = panel();
    if (isGone || !root) return;
    isGone = true;
    quiet();
    root.classList.add("h2o-gone");
    for (const field of root.querySelectorAll("button, input, textarea, select")) {
      /** @type {HTMLButtonElement} */ (field).disabled = true;
    }
    root.prepend(h2oEl("div", { class: "h2o-gone-note", role: "status" }, H2O_KERNEL_GONE));
  };
  const silent = () => {
    const root = panel();
    if (isGone || !root || root.querySelector(".h2o-silent-note")) return;
    root.prepend(h2oEl("div", { class: "h2o-silent-note", role: "status" }, H2O_KERNEL_SILENT));
  };
  /** @param {unknown} msg */
  const answered = (msg) => {
    if (!msg || /** @type {{type?: unknown}} */ (msg).type !== "ack") return;
    pending = Math.max(0, pending - 1);
    quiet();
    if (pending) timer = setTimeout(silent, H2O_ACK_MS);
  };
  /** @param {() => void} act */
  const guard = (act) => {
    if (isGone) return false;
    try {
      act();
      return true;
    } catch (error) {
      console.warn("h2oGPT panel: the kernel link failed", error);
      gone();
      return false;
    }
  };
  /** @type {H2oModel<Record<string, unknown>, unknown>} */
  const linked = {
    get: (name) => model.get(name),
    set: (name, value) => { guard(() => model.set(name, value)); },
    on: (event, fn) => model.on(event, fn),
    off: (event, fn) => model.off(event, fn),
    save_changes: () => { guard(() => model.save_changes()); },
    send: (content, callbacks, buffers) => {
      if (isGone) return;
      pending += 1; // before sending: an ack may come back within the call
      if (timer === undefined) timer = setTimeout(silent, H2O_ACK_MS);
      if (!guard(() => model.send(content, callbacks, buffers))) pending -= 1;
    },
  };
  // Whatever still reaches the panel (a drop, a key) stops before any handler can send.
  /** @param {Event} event */
  const refuse = (event) => {
    if (!isGone) return;
    event.stopPropagation();
    event.preventDefault();
  };
  const inputs = ["click", "keydown", "change", "input", "drop", "submit"];
  for (const name of inputs) el.addEventListener(name, refuse, true);
  /** @type {H2oCommEvent[]} */
  const events = ["comm_live_update", "comm:close"];
  for (const event of events) model.on(event, gone);
  model.on("msg:custom", answered);
  return [
    /** @type {T} */ (/** @type {unknown} */ (linked)),
    () => {
      quiet();
      events.forEach((event) => model.off(event, gone));
      model.off("msg:custom", answered);
      inputs.forEach((name) => el.removeEventListener(name, refuse, true));
    },
  ];
}
