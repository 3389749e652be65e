// The comparison's columns as they stream: the plain state functions (deltas by column, a new
// run clearing them, what a column shows), then the panel on a DOM driven as Python drives it
// (columns committed one by one while others still stream, errors, a second run).
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { FakeModel, installDom, loadPanel, runFrames } from "./load.mjs";

const compare = await loadPanel("compare", ["h2oColumnsStreamed", "h2oColumnsSettled", "h2oColumnShown"]);
const { h2oColumnsStreamed: streamed, h2oColumnsSettled: settled, h2oColumnShown: shown } = compare;

function column(overrides = {}) {
  return {
    label: "tiny", model: "tiny", settings: "", text: "", status: "idle", error: "", finish_reason: "",
    time_to_first_token: null, tokens_per_second: null, elapsed: null, tokens: null, score: null,
    started: null, finished: null, ...overrides,
  };
}

test("deltas add up per column, and a new run (idle columns) clears them", () => {
  let streams = {};
  streams = streamed(streams, { type: "delta", column: 0, text: "A" });
  streams = streamed(streams, { type: "delta", column: 1, text: "x" });
  streams = streamed(streams, { type: "delta", column: 0, text: "B" });
  assert.deepEqual(streams, { 0: "AB", 1: "x" });
  assert.equal(streamed(streams, null), streams);
  assert.equal(streamed(streams, { type: "other" }), streams);
  const running = settled(streams, [column({ status: "running" }), column({ status: "done", text: "x!" })]);
  assert.deepEqual(running, { 0: "AB", 1: "x" });
  const fresh = settled(streams, [column(), column()]);
  assert.deepEqual(fresh, { 0: "", 1: "" });
  assert.deepEqual(streams, { 0: "AB", 1: "x" }, "the earlier streams are left as they were");
});

test("what a column shows: its committed text over the stream, the typing mark, badge, stats", () => {
  assert.deepEqual(shown(column({ status: "running" }), "", false).typing, true);
  const live = shown(column({ status: "running" }), "so far", false);
  assert.equal(live.text, "so far");
  assert.equal(live.typing, false);
  assert.equal(live.badge, "running");
  const done = shown(
    column({ status: "done", text: "final", finish_reason: "length", time_to_first_token: 0.1234, tokens_per_second: 41.27, elapsed: 1.5, tokens: 48, score: 0.87654 }),
    "final but streamed",
    true,
  );
  assert.equal(done.text, "final");
  assert.equal(done.badge, "length");
  assert.deepEqual(done.stats, [["first token", "0.12 s"], ["speed", "41.3 tok/s"], ["time", "1.50 s"], ["tokens", "48"], ["score", "0.877"]]);
  assert.equal(shown(column({ status: "done", finish_reason: "stop" }), "", false).badge, "done");
  assert.deepEqual(shown(column(), "", false).stats.map(([, v]) => v), ["–", "–", "–", "–"]);
  assert.equal(shown(column({ status: "error", error: "no model" }), "", false).badge, "error");
});

let document;
beforeEach(() => {
  document = installDom();
});

function open(columns) {
  const model = new FakeModel({ columns, scoring: false, prompt: "" });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = compare.default.render({ model, el });
  const col = (i) => el.querySelector(`[data-column="${i}"]`);
  const text = (i) => col(i).querySelector(".h2o-msg-body").textContent;
  const stat = (i, name) => {
    const dt = [...col(i).querySelectorAll("dt")].find((d) => d.textContent === name);
    return dt.nextElementSibling.textContent;
  };
  return { model, el, cleanup, col, text, stat };
}

test("two columns stream side by side; one finishing while the other streams keeps both", () => {
  const view = open([column({ label: "greedy" }), column({ label: "sampled" })]);
  assert.equal(view.el.querySelectorAll(".h2o-column").length, 2);
  view.model.update({ busy: true, columns: [column({ status: "running" }), column({ status: "running" })] });
  assert.ok(view.col(0).querySelector(".h2o-typing"));
  view.model.emit({ type: "delta", column: 0, text: "Tides " });
  view.model.emit({ type: "delta", column: 1, text: "The moon" });
  view.model.emit({ type: "delta", column: 0, text: "rise." });
  assert.equal(runFrames(), 2, "one redraw per column per frame");
  assert.equal(view.text(0), "Tides rise.");
  assert.equal(view.text(1), "The moon");

  view.model.update({
    columns: [
      column({ status: "done", text: "Tides rise.", finish_reason: "length", tokens: 3, tokens_per_second: 12.34, elapsed: 0.25, time_to_first_token: 0.05 }),
      column({ status: "running" }),
    ],
  });
  view.model.emit({ type: "delta", column: 1, text: " pulls." });
  runFrames();
  assert.equal(view.text(0), "Tides rise.");
  assert.equal(view.col(0).querySelector(".h2o-badge").textContent, "length");
  assert.equal(view.stat(0, "speed"), "12.3 tok/s");
  assert.equal(view.stat(0, "tokens"), "3");
  assert.equal(view.text(1), "The moon pulls.");
  assert.equal(view.col(1).querySelector(".h2o-badge").textContent, "running");

  view.model.update({ busy: false, columns: [view.model.get("columns")[0], column({ status: "error", error: "H2OGPTError: out of memory" })] });
  assert.equal(view.col(1).querySelector(".h2o-error").textContent, "H2OGPTError: out of memory");
  assert.equal(view.col(1).querySelector(".h2o-badge").textContent, "error");

  // the next run starts both columns empty
  view.model.update({ busy: true, columns: [column(), column()] });
  view.model.update({ columns: [column({ status: "running" }), column({ status: "running" })] });
  view.model.emit({ type: "delta", column: 1, text: "New" });
  runFrames();
  assert.ok(view.col(0).querySelector(".h2o-typing"), "nothing from the last run, the typing mark");
  assert.equal(view.text(0), "…");
  assert.equal(view.text(1), "New");
  view.cleanup();
  assert.equal(view.model.listening(), 0);
});

test("Enter runs the prompt, unless busy; the score shows when a reward model scores", () => {
  const view = open([column(), column()]);
  const prompt = view.el.querySelector("textarea.h2o-input");
  prompt.value = "Explain RAG";
  const event = new document.defaultView.Event("keydown", { cancelable: true });
  Object.assign(event, { key: "Enter", shiftKey: false, isComposing: false });
  prompt.dispatchEvent(event);
  assert.deepEqual(view.model.sent.map((m) => m.content), [{ type: "run", prompt: "Explain RAG" }]);
  view.model.update({ busy: true });
  prompt.dispatchEvent(event);
  assert.equal(view.model.sent.length, 1);
  const run = [...view.el.querySelectorAll("button")].find((b) => b.textContent === "▶ Run");
  assert.equal(run.hidden, true);
  view.model.update({ scoring: true, columns: [column({ status: "done", score: 0.5 }), column()] });
  assert.equal(view.stat(0, "score"), "0.500");
  assert.equal(view.stat(1, "score"), "–");
});
