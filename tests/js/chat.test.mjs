// The chat's answer as it streams: the plain state functions (what each delta, commit or
// failure does to the turn being streamed), then the panel itself on a DOM, driven as Python
// drives it (state updates, then "delta", "done" and "restore_input" messages).
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { FakeModel, installDom, loadPanel, runFrames } from "./load.mjs";

const chat = await loadPanel("chat", ["h2oChatStreamed", "h2oChatSettled", "h2oTurnShown", "H2O_NO_STREAM"]);
const { h2oChatStreamed: streamed, h2oChatSettled: settled, h2oTurnShown: shown, H2O_NO_STREAM } = chat;

const user = (content) => ({ role: "user", content });
const answer = (content, extra = {}) => ({ role: "assistant", content, ...extra });
const placeholder = () => answer("", { streaming: true });

test("deltas add up on their turn; a delta for another turn starts that one afresh", () => {
  let stream = H2O_NO_STREAM;
  stream = streamed(stream, { type: "delta", index: 1, text: "Hel" });
  stream = streamed(stream, { type: "delta", index: 1, text: "lo" });
  assert.deepEqual(stream, { index: 1, text: "Hello" });
  const next = streamed(stream, { type: "delta", index: 3, text: "Hi" });
  assert.deepEqual(next, { index: 3, text: "Hi" });
  assert.deepEqual(stream, { index: 1, text: "Hello" }, "the earlier stream is left as it was");
  for (const msg of [{ type: "done", index: 1, finish_reason: "stop" }, { type: "restore_input", text: "q" }, { type: "redraw_settings" }]) {
    assert.equal(streamed(stream, msg), stream);
  }
});

test("the stream lasts while an answer streams and ends when its turn is committed or fails", () => {
  const stream = { index: 1, text: "partial" };
  assert.equal(settled(stream, [user("q"), placeholder()]), stream);
  assert.equal(settled(stream, [user("q"), answer("partial and the rest", { finish_reason: "stop" })]), H2O_NO_STREAM);
  assert.equal(settled(stream, []), H2O_NO_STREAM); // failed: the history without the turn
});

test("what a turn shows: streamed text, the typing mark, and how it ended", () => {
  assert.deepEqual(shown(placeholder(), ""), { text: "", typing: true, badge: "" });
  assert.deepEqual(shown(placeholder(), "So far"), { text: "So far", typing: false, badge: "" });
  assert.deepEqual(shown(answer("All", { finish_reason: "stop" }), ""), { text: "All", typing: false, badge: "" });
  assert.equal(shown(answer("Cut", { finish_reason: "cancelled" }), "").badge, "cancelled");
  assert.equal(shown(answer("Long", { finish_reason: "length" }), "").badge, "length");
  assert.equal(shown(user("question"), "").badge, "");
});

// --- the panel --------------------------------------------------------------------------------
let document;
beforeEach(() => {
  document = installDom();
});

function open(state = {}) {
  const model = new FakeModel({ messages: [], modes: ["ChatLLM", "LLM"], mode: "ChatLLM", token_count: -1, ...state });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = chat.default.render({ model, el });
  const $ = (selector) => el.querySelector(selector);
  const $$ = (selector) => [...el.querySelectorAll(selector)];
  const bodies = () => $$(".h2o-msg-body").map((b) => b.textContent);
  return { model, el, cleanup, $, $$, bodies };
}

function button(view, label) {
  return view.$$("button").find((b) => b.textContent === label);
}

function key(target, keyName, extra = {}) {
  const event = new document.defaultView.Event("keydown", { bubbles: true, cancelable: true });
  Object.assign(event, { key: keyName, shiftKey: false, isComposing: false, ...extra });
  target.dispatchEvent(event);
  return event;
}

test("a turn streams in, is committed with its statistics, and Stop shows while it runs", () => {
  const view = open();
  assert.match(view.$(".h2o-empty").textContent, /Ask anything/);
  view.model.update({ busy: true, messages: [user("Tell me"), placeholder()] });
  assert.equal(button(view, "Send").hidden, true);
  assert.equal(button(view, "■ Stop").hidden, false);
  assert.ok(view.$(".h2o-bot .h2o-typing"), "the typing mark before any text");

  view.model.emit({ type: "delta", index: 1, text: "Once " });
  view.model.emit({ type: "delta", index: 1, text: "upon **a** time" });
  assert.equal(runFrames(), 1, "one redraw per frame however many deltas arrive");
  assert.deepEqual(view.bodies(), ["Tell me", "Once upon a time"]);
  assert.equal(view.$(".h2o-bot strong").textContent, "a");
  assert.equal(view.$(".h2o-bot .h2o-typing"), null);

  // an unrelated redraw of the list while streaming keeps what streamed in
  view.model.update({ messages: [user("Tell me"), placeholder()] });
  assert.deepEqual(view.bodies(), ["Tell me", "Once upon a time"]);

  view.model.update({
    busy: false,
    messages: [user("Tell me"), answer("Once upon a time", { finish_reason: "cancelled", stats: "+5 tokens, 9.0 tok/s" })],
  });
  view.model.emit({ type: "done", index: 1, finish_reason: "cancelled" });
  runFrames();
  assert.deepEqual(view.bodies(), ["Tell me", "Once upon a time"]);
  assert.equal(view.$(".h2o-bot .h2o-badge").textContent, "cancelled");
  assert.equal(view.$(".h2o-bot .h2o-msg-stats").textContent, "+5 tokens, 9.0 tok/s");
  assert.equal(button(view, "Send").hidden, false);
  assert.equal(button(view, "■ Stop").hidden, true);
});

test("a regenerated answer starts from nothing, not from the last one's stream", () => {
  const view = open({ messages: [user("q"), answer("first", { finish_reason: "stop" })] });
  view.model.update({ busy: true, messages: [user("q"), placeholder()] });
  view.model.emit({ type: "delta", index: 1, text: "second" });
  runFrames();
  assert.deepEqual(view.bodies(), ["q", "second"]);
  view.model.update({ busy: false, messages: [user("q"), answer("second", { finish_reason: "stop" })] });
  view.model.update({ busy: true, messages: [user("q"), placeholder()] });
  view.model.emit({ type: "delta", index: 1, text: "third" });
  runFrames();
  assert.deepEqual(view.bodies(), ["q", "third"]);
  assert.equal(view.$(".h2o-badge"), null);
});

test("a failed turn goes back to the history and gives the question back", () => {
  const view = open();
  const input = view.$("textarea.h2o-input");
  view.model.update({ busy: true, messages: [user("Why?"), placeholder()] });
  view.model.emit({ type: "delta", index: 1, text: "Because" });
  view.model.update({ busy: false, messages: [] });
  view.model.emit({ type: "restore_input", text: "Why?" });
  runFrames();
  assert.deepEqual(view.bodies(), []);
  assert.ok(view.$(".h2o-empty"));
  assert.equal(input.value, "Why?");
  // text typed meanwhile is not overwritten
  input.value = "Something else";
  view.model.emit({ type: "restore_input", text: "Why?" });
  assert.equal(input.value, "Something else");
});

test("Enter sends (Shift+Enter does not), not while busy; the box empties", () => {
  const view = open();
  const input = view.$("textarea.h2o-input");
  input.value = "Hello there";
  assert.equal(key(input, "Enter", { shiftKey: true }).defaultPrevented, false);
  assert.equal(view.model.sent.length, 0);
  assert.equal(key(input, "Enter").defaultPrevented, true);
  assert.deepEqual(view.model.sent.map((m) => m.content), [{ type: "send", text: "Hello there" }]);
  assert.equal(input.value, "");
  view.model.update({ busy: true });
  input.value = "Again";
  key(input, "Enter");
  assert.equal(view.model.sent.length, 1);
  input.value = "   ";
  view.model.update({ busy: false });
  key(input, "Enter");
  assert.equal(view.model.sent.length, 1, "nothing to send");
});

test("the toolbar shows models, modes and tokens; closing the view unsubscribes it", () => {
  const view = open({
    models: [{ alias: "tiny", model: "/m", backend: "transformers", dtype: "float32", quantization: "", context_length: 1024, memory: "1 MiB", prompt_type: "", default: true }],
    default_model: "tiny",
    model: "",
    token_count: 12,
    chat_name: "notes",
  });
  const [modelSelect, modeSelect] = view.$$("select.h2o-select");
  assert.deepEqual([...modelSelect.querySelectorAll("option")].map((o) => o.textContent), ["default (tiny)", "tiny"]);
  assert.deepEqual([...modeSelect.querySelectorAll("option")].map((o) => o.value), ["ChatLLM", "LLM"]);
  assert.match(view.el.textContent, /12 tokens/);
  assert.equal(view.$(".h2o-chat-title").textContent, "notes");
  modelSelect.value = "tiny";
  modelSelect.dispatchEvent(new document.defaultView.Event("change"));
  assert.equal(view.model.get("model"), "tiny");
  assert.equal(view.model.saved, 1);
  assert.ok(view.model.listening() > 0);
  view.cleanup();
  assert.equal(view.model.listening(), 0);
});
