// @ts-check
// Model comparison: one prompt, a column per model or setting. Each column streams its own
// {type: "delta", column, text} messages; `columns` (synced) holds each one's final text and
// statistics. Actions: {type: "run", prompt}, {type: "stop"}.

/**
 * A column (`_compare.blank`, filled in as it runs). `status`: idle, running, scoring, done
 * or error.
 * @typedef {{label: string, model: string, settings: string, text: string, status: string,
 *   error: string, finish_reason: string, time_to_first_token: number | null,
 *   tokens_per_second: number | null, elapsed: number | null, tokens: number | null,
 *   score: number | null, started: number | null, finished: number | null}} CompareColumn
 */
/** @typedef {H2oPanelState & {prompt: string, columns: CompareColumn[], scoring: boolean}} CompareState */
/** @typedef {{type: "delta", column: number, text: string}} CompareIncoming */
/** @typedef {H2oModel<CompareState, CompareIncoming>} CompareModel */

// --- what streams in: plain state, drawn by render() ------------------------------------

/**
 * The text each column's deltas brought so far, by column index.
 * @typedef {Readonly<Record<number, string>>} CompareStreams
 */

/**
 * The streams after a message from Python: a delta adds to its column's text.
 * @param {CompareStreams} streams
 * @param {CompareIncoming} msg
 * @returns {CompareStreams}
 */
function h2oColumnsStreamed(streams, msg) {
  if (!msg || msg.type !== "delta") return streams;
  return { ...streams, [msg.column]: (streams[msg.column] || "") + msg.text };
}

/**
 * The streams once `columns` changed: an idle column (a new run is starting) has streamed
 * nothing yet.
 * @param {CompareStreams} streams
 * @param {CompareColumn[]} columns
 * @returns {CompareStreams}
 */
function h2oColumnsSettled(streams, columns) {
  /** @type {Record<number, string>} */
  const next = { ...streams };
  columns.forEach((c, i) => {
    if (c.status === "idle") next[i] = "";
  });
  return next;
}

/**
 * What a column shows: its final text once committed, else what streamed in so far; the
 * typing mark while it runs with no text yet; its badge (how it ended when that was not by
 * itself, else its status); and its statistics.
 * @param {CompareColumn} col
 * @param {string} streamText
 * @param {boolean} scoring whether a reward model scores the answers
 * @returns {{text: string, typing: boolean, badge: string, stats: [string, string][]}}
 */
function h2oColumnShown(col, streamText, scoring) {
  /** @type {[string, string][]} */
  const stats = [
    ["first token", h2oFmt(col.time_to_first_token, 2, " s")],
    ["speed", h2oFmt(col.tokens_per_second, 1, " tok/s")],
    ["time", h2oFmt(col.elapsed, 2, " s")],
    ["tokens", String(col.tokens ?? "–")],
  ];
  if (scoring) stats.push(["score", h2oFmt(col.score, 3, "")]);
  return {
    text: col.text || streamText || "",
    typing: col.status === "running" && !streamText,
    badge: col.finish_reason && col.finish_reason !== "stop" ? col.finish_reason : col.status,
    stats,
  };
}

/**
 * A statistic: "–" when there is none yet.
 * @param {number | null | undefined} value
 * @param {number} digits
 * @param {string} unit
 */
function h2oFmt(value, digits, unit) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(digits)}${unit}`;
}

/**
 * @param {CompareColumn} col
 * @param {number} index
 * @param {string} streamText
 * @param {boolean} scoring
 */
function h2oColumnView(col, index, streamText, scoring) {
  const body = h2oEl("div", { class: "h2o-msg-body" });
  const shown = h2oColumnShown(col, streamText, scoring);
  h2oSetMarkdown(body, shown.text);
  if (shown.typing) body.append(h2oEl("span", { class: "h2o-typing" }, "…"));
  return h2oEl(
    "div",
    { class: `h2o-column h2o-status-${col.status}`, "data-column": index },
    h2oEl("div", { class: "h2o-column-head" },
      h2oEl("strong", { title: col.model || "default model" }, col.label),
      h2oEl("span", { class: "h2o-badge" }, shown.badge)),
    col.error ? h2oEl("div", { class: "h2o-error" }, col.error) : null,
    body,
    h2oEl("dl", { class: "h2o-stats" }, shown.stats.map(([k, v]) => [h2oEl("dt", {}, k), h2oEl("dd", {}, v)])),
  );
}

// A column's answer scrolls on its own (long answers). Each redraw builds a new column, so
// its scroll position is carried over: one following the end keeps following it as text
// streams in, one the user scrolled up stays where it is.
/**
 * @param {Element} oldColumn
 * @returns {(newColumn: Element) => void}
 */
function h2oBodyScroll(oldColumn) {
  const body = oldColumn.querySelector(".h2o-msg-body");
  if (!body) return () => {};
  const follow = body.scrollHeight - body.scrollTop - body.clientHeight < 24;
  const top = body.scrollTop;
  return (newColumn) => {
    const next = newColumn.querySelector(".h2o-msg-body");
    if (next) next.scrollTop = follow ? next.scrollHeight : top;
  };
}

/**
 * @param {{model: CompareModel, el: HTMLElement}} args
 * @returns {H2oCleanup}
 */
function render({ model: widget, el }) {
  const dropKeys = h2oOwnKeys(el);
  const [model, dropGone] = h2oWhenKernelGone(widget, el);
  const [errors, dropErrors] = h2oErrorsArea(model);
  const [status, dropStatus] = h2oStatusLine(model);
  const prompt = h2oEl("textarea", { class: "h2o-input", rows: 2, placeholder: "One prompt for every column (Enter to run)" });
  const run = () => {
    if (!prompt.value.trim() || model.get("busy")) return;
    model.send({ type: "run", prompt: prompt.value });
  };
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      run();
    }
  });
  const runBtn = h2oButton("▶ Run", "Run every column", run, "h2o-primary");
  const stopBtn = h2oButton("■ Stop", "Stop every column", () => model.send({ type: "stop" }), "h2o-danger");
  const grid = h2oEl("div", { class: "h2o-columns" });
  /** @type {CompareStreams} */
  let streams = {};

  const draw = () => {
    const cols = model.get("columns") || [];
    grid.style.gridTemplateColumns = `repeat(${Math.max(cols.length, 1)}, minmax(0, 1fr))`;
    const scrolls = Array.from(grid.querySelectorAll("[data-column]"), h2oBodyScroll);
    grid.replaceChildren(...cols.map((c, i) => h2oColumnView(c, i, streams[i] || "", model.get("scoring"))));
    grid.querySelectorAll("[data-column]").forEach((node, i) => scrolls[i] && scrolls[i](node));
  };
  /** @type {Record<number, () => void>} */
  const drawColumn = {};
  /** @param {number} i */
  const redraw = (i) => {
    if (!drawColumn[i]) {
      drawColumn[i] = h2oThrottle(() => {
        const col = (model.get("columns") || [])[i];
        const old = grid.querySelector(`[data-column="${i}"]`);
        if (!col || !old) {
          draw();
          return;
        }
        const restore = h2oBodyScroll(old);
        const view = h2oColumnView(col, i, streams[i] || "", model.get("scoring"));
        old.replaceWith(view);
        restore(view);
      });
    }
    drawColumn[i]();
  };
  const onColumns = () => {
    streams = h2oColumnsSettled(streams, model.get("columns") || []);
    draw();
  };
  /** @param {CompareIncoming} msg */
  const onMessage = (msg) => {
    if (msg && msg.type === "delta") {
      streams = h2oColumnsStreamed(streams, msg);
      redraw(msg.column);
    }
  };
  const drawBusy = () => {
    const busy = Boolean(model.get("busy"));
    runBtn.hidden = busy;
    stopBtn.hidden = !busy;
    if (document.activeElement !== prompt && !prompt.value) prompt.value = model.get("prompt") || "";
  };
  /** @type {H2oSubscription<CompareState, CompareIncoming>[]} */
  const events = [
    ["change:columns", onColumns],
    ["change:scoring", draw],
    ["change:busy", drawBusy],
    ["change:prompt", drawBusy],
    ["msg:custom", onMessage],
  ];
  for (const [event, fn] of events) model.on(event, fn);
  el.replaceChildren(
    h2oEl("div", { class: "h2o-panel h2o-compare" },
      errors,
      h2oEl("div", { class: "h2o-compose" }, prompt, h2oEl("div", { class: "h2o-row" }, runBtn, stopBtn)),
      grid,
      status),
  );
  streams = {};
  draw();
  drawBusy();
  return () => {
    dropKeys();
    dropGone();
    events.forEach(([event, fn]) => model.off(event, fn));
    dropErrors();
    dropStatus();
  };
}

export default { render };
