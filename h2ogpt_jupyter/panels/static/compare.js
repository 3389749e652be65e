// Model comparison: one prompt, a column per model or setting. Each column streams its own
// {type: "delta", column, text} messages; `columns` (synced) holds each one's final text and
// statistics. Actions: {type: "run", prompt}, {type: "stop"}.

function h2oFmt(value, digits, unit) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(digits)}${unit}`;
}

function h2oColumnView(col, index, streamText, scoring) {
  const body = h2oEl("div", { class: "h2o-msg-body" });
  h2oSetMarkdown(body, col.text || streamText || "");
  if (col.status === "running" && !streamText) body.append(h2oEl("span", { class: "h2o-typing" }, "…"));
  const stats = [
    ["first token", h2oFmt(col.time_to_first_token, 2, " s")],
    ["speed", h2oFmt(col.tokens_per_second, 1, " tok/s")],
    ["time", h2oFmt(col.elapsed, 2, " s")],
    ["tokens", col.tokens ?? "–"],
  ];
  if (scoring) stats.push(["score", h2oFmt(col.score, 3, "")]);
  return h2oEl(
    "div",
    { class: `h2o-column h2o-status-${col.status}`, "data-column": index },
    h2oEl("div", { class: "h2o-column-head" },
      h2oEl("strong", { title: col.model || "default model" }, col.label),
      h2oEl("span", { class: "h2o-badge" }, col.finish_reason && col.finish_reason !== "stop" ? col.finish_reason : col.status)),
    col.error ? h2oEl("div", { class: "h2o-error" }, col.error) : null,
    body,
    h2oEl("dl", { class: "h2o-stats" }, stats.map(([k, v]) => [h2oEl("dt", {}, k), h2oEl("dd", {}, String(v))])),
  );
}

// A column's answer scrolls on its own (long answers). Each redraw builds a new column, so
// its scroll position is carried over: one following the end keeps following it as text
// streams in, one the user scrolled up stays where it is.
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

function render({ model, el }) {
  const dropKeys = h2oOwnKeys(el);
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
  let streams = {};

  const draw = () => {
    const cols = model.get("columns") || [];
    grid.style.gridTemplateColumns = `repeat(${Math.max(cols.length, 1)}, minmax(0, 1fr))`;
    const scrolls = Array.from(grid.querySelectorAll("[data-column]"), h2oBodyScroll);
    grid.replaceChildren(...cols.map((c, i) => h2oColumnView(c, i, streams[i] || "", model.get("scoring"))));
    grid.querySelectorAll("[data-column]").forEach((node, i) => scrolls[i] && scrolls[i](node));
  };
  const drawColumn = {};
  const redraw = (i) => {
    if (!drawColumn[i]) {
      drawColumn[i] = h2oThrottle(() => {
        const col = (model.get("columns") || [])[i];
        const old = grid.querySelector(`[data-column="${i}"]`);
        if (!col || !old) return draw();
        const restore = h2oBodyScroll(old);
        const view = h2oColumnView(col, i, streams[i] || "", model.get("scoring"));
        old.replaceWith(view);
        restore(view);
      });
    }
    drawColumn[i]();
  };
  const onColumns = () => {
    const cols = model.get("columns") || [];
    cols.forEach((c, i) => {
      if (c.status === "idle") streams[i] = "";
    });
    draw();
  };
  const onMessage = (msg) => {
    if (msg && msg.type === "delta") {
      streams[msg.column] = (streams[msg.column] || "") + msg.text;
      redraw(msg.column);
    }
  };
  const drawBusy = () => {
    const busy = Boolean(model.get("busy"));
    runBtn.hidden = busy;
    stopBtn.hidden = !busy;
    if (document.activeElement !== prompt && !prompt.value) prompt.value = model.get("prompt") || "";
  };
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
    events.forEach(([event, fn]) => model.off(event, fn));
    dropErrors();
    dropStatus();
  };
}

export default { render };
