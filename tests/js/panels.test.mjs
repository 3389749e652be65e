// Every panel of manifest.json as it ships: one self-contained module that parses, renders on
// empty state and lets go of the model when closed. Then the ingest and settings panels'
// views, driven as Python drives them.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { FakeModel, installDom, loadPanel, runFrames } from "./load.mjs";
import { moduleText, panels } from "./manifest.mjs";

let document;
beforeEach(() => {
  document = installDom();
});

function mount(mod, state) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = mod.default.render({ model, el });
  const buttons = () => [...el.querySelectorAll("button")];
  const button = (label) => buttons().find((b) => b.textContent === label);
  return { model, el, cleanup, button };
}

const change = (node, value) => {
  node.value = value;
  node.dispatchEvent(new document.defaultView.Event("change"));
};

test("each panel is one module: only its last file exports, nothing is imported", () => {
  for (const [panel, files] of Object.entries(panels())) {
    const text = moduleText(panel);
    assert.equal(text.match(/^export default /gm)?.length, 1, panel);
    assert.ok(moduleText(panel).trimEnd().endsWith("export default { render };"), panel);
    assert.doesNotMatch(text, /^\s*import[\s{*]/m, panel);
    assert.ok(!text.includes("import("), panel);
    assert.ok(files.length >= 2 && files[0] === "markdown.js", panel);
  }
});

for (const panel of Object.keys(panels())) {
  test(`the ${panel} panel renders on empty state and unsubscribes when closed`, async () => {
    const view = mount(await loadPanel(panel), {});
    runFrames();
    assert.ok(view.el.querySelector(".h2o-panel"), panel);
    assert.ok(view.el.querySelector(".h2o-errors").hidden, "no errors, no errors area");
    view.model.update({ errors: [{ message: "bad value", kind: "InvalidOptionError", detail: "", time: "12:00:00" }], status: "Loaded." });
    assert.match(view.el.querySelector(".h2o-errors").textContent, /bad value/);
    assert.equal(view.el.querySelector(".h2o-status").textContent, "Loaded.");
    view.button("✕").click();
    assert.deepEqual(view.model.sent.at(-1).content, { type: "dismiss", index: 0 });
    view.cleanup();
    assert.equal(view.model.listening(), 0, `${panel} left listeners behind`);
  });
}

for (const panel of Object.keys(panels())) {
  for (const event of ["comm_live_update", "comm:close"]) {
    test(`the ${panel} panel says so when its kernel is gone (${event}) and takes no input`, async () => {
      const view = mount(await loadPanel(panel), {});
      runFrames();
      const fields = () => [...view.el.querySelectorAll("button, input, textarea, select")];
      assert.ok(fields().some((f) => !f.disabled), "live before");
      view.model.fire(event);
      view.model.fire(event); // told twice, said once
      const notes = view.el.querySelectorAll(".h2o-gone-note");
      assert.equal(notes.length, 1);
      assert.match(notes[0].textContent, /kernel restarted or stopped: run this cell again/);
      assert.deepEqual(fields().filter((f) => !f.disabled), []);
      // (that a click then sends nothing is for a real browser: tests/panels/browser)
      view.cleanup();
      assert.equal(view.model.listening(), 0);
    });
  }
}

for (const panel of Object.keys(panels())) {
  test(`the ${panel} panel is gone when sending throws, as in VS Code after a restart`, async () => {
    const view = mount(await loadPanel(panel), {});
    runFrames();
    view.model.update({ errors: [{ message: "x", kind: "H2OGPTError", detail: "", time: "12:00:00" }] });
    view.model.send = () => {
      throw new Error("Kernel is disposed"); // VS Code disposes the kernel connection, says nothing
    };
    const warn = console.warn;
    console.warn = () => {};
    try {
      view.button("✕").click();
    } finally {
      console.warn = warn;
    }
    assert.equal(view.el.querySelectorAll(".h2o-gone-note").length, 1);
    const live = [...view.el.querySelectorAll("button, input, textarea, select")].filter((f) => !f.disabled);
    assert.deepEqual(live, []);
    view.cleanup();
    assert.equal(view.model.listening(), 0);
  });

  test(`the ${panel} panel says when the kernel has not answered, until it does`, async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const view = mount(await loadPanel(panel), {});
    runFrames();
    view.model.acks = false;
    view.model.update({ errors: [{ message: "x", kind: "H2OGPTError", detail: "", time: "12:00:00" }] });
    view.button("✕").click();
    t.mock.timers.tick(9_999);
    assert.equal(view.el.querySelector(".h2o-silent-note"), null, "not before 10 s");
    t.mock.timers.tick(1);
    const note = view.el.querySelector(".h2o-silent-note");
    assert.match(note.textContent, /No answer from the kernel yet: it may be busy running a cell/);
    assert.ok([...view.el.querySelectorAll("button")].some((b) => !b.disabled), "still usable");
    view.model.emit({ type: "ack" }); // the kernel was busy, and answers now
    assert.equal(view.el.querySelector(".h2o-silent-note"), null);
    view.cleanup();
    assert.equal(view.model.listening(), 0);
  });
}

// --- ingest ---------------------------------------------------------------------------------
const ingest = await loadPanel("ingest");

test("ingest: chosen files go to Python as one message with a buffer each", async () => {
  const view = mount(ingest, { collection: "MyData", collections: ["MyData", "UserData"], progress: {}, results: [], sources: [] });
  const input = view.el.querySelector("input[type=file]");
  const file = (name, text) => ({ name, arrayBuffer: async () => new TextEncoder().encode(text).buffer });
  Object.defineProperty(input, "files", { value: [file("a.txt", "alpha"), file("b.md", "# beta")], configurable: true });
  view.button("Upload").click();
  await new Promise((resolve) => {
    setTimeout(resolve, 0);
  });
  const [sent] = view.model.sent;
  assert.deepEqual(sent.content, { type: "upload", names: ["a.txt", "b.md"] });
  assert.deepEqual(sent.buffers.map((b) => new TextDecoder().decode(b)), ["alpha", "# beta"]);
});

test("ingest: progress while busy, a row per result, the sources table and Delete", () => {
  const view = mount(ingest, { collection: "MyData", collections: ["MyData"], progress: {}, results: [], sources: [] });
  const progress = view.el.querySelector("progress");
  assert.equal(progress.parentNode.hidden, true);
  view.model.update({ busy: true, progress: { done: 1, total: 2, current: "b.md" } });
  assert.equal(progress.parentNode.hidden, false);
  assert.equal(progress.value, 1);
  assert.equal(progress.max, 2);
  assert.match(progress.parentNode.textContent, /1\/2 · b\.md/);
  assert.equal(view.button("Upload").disabled, true);
  view.model.update({
    busy: false,
    progress: { done: 2, total: 2, current: "" },
    results: [
      { source: "/up/a.txt", status: "added", chunks: 1, pages: 0, message: "" },
      { source: "/up/b.bin", status: "error", message: "unsupported file type" },
    ],
    summary: "MyData: 1 added, 1 error; 1 chunks",
    sources: [{ source: "/up/a.txt", name: "a.txt", chunks: 1, pages: 0, parser: "text", date: "2024-01-01 10:00:00", bytes: 5, warnings: "" }],
  });
  const [results, sources] = view.el.querySelectorAll("table.h2o-table");
  const rows = [...results.querySelectorAll("tbody tr")];
  assert.deepEqual(rows.map((r) => r.className), ["h2o-result-added", "h2o-result-error"]);
  assert.match(rows[1].textContent, /unsupported file type/);
  assert.match(view.el.querySelector(".h2o-summary").textContent, /1 added, 1 error/);
  const row = sources.querySelector("tbody tr");
  assert.match(row.textContent, /a\.txt/);
  row.querySelector("button").click();
  assert.deepEqual(view.model.sent.at(-1).content, { type: "delete", sources: ["/up/a.txt"] });
  view.model.update({ sources: [] });
  assert.match(sources.textContent, /No documents yet/);
});

test("ingest: a new collection is named in its own box", () => {
  const view = mount(ingest, { collection: "MyData", collections: ["MyData"], progress: {}, results: [], sources: [] });
  const select = view.el.querySelector("select");
  const name = view.el.querySelector("input[placeholder='new collection name']");
  assert.equal(name.hidden, true);
  change(select, "\u0000new");
  assert.equal(name.hidden, false);
  change(name, " Papers ");
  assert.equal(view.model.get("collection"), "Papers");
  assert.equal(view.model.saved, 1);
  assert.equal(name.hidden, true);
});

// --- settings -------------------------------------------------------------------------------
const settings = await loadPanel("settings");
const SPECS = [
  { name: "temperature", default: 0.1, help: "", kind: "float", min: 0, max: 3, step: 0.01, slider: true },
  { name: "max_new_tokens", default: 1024, help: "", kind: "int", min: 1, max: 100000, step: 1, slider: false },
  { name: "early_stopping", default: false, help: "", kind: "bool" },
  { name: "stop", default: [], help: "", kind: "list" },
];

function settingsView() {
  return mount(settings, {
    param_specs: SPECS,
    params: { temperature: 0.1, max_new_tokens: 256, early_stopping: false, stop: ["###"] },
    chat_options: { system_prompt: "auto", context: "", iinput: "", top_k_docs: 3, document_subset: "Relevant" },
    choices: { backends: ["auto", "transformers"], dtypes: ["auto", "float32"], prompt_types: ["", "plain"], subsets: ["Relevant", "All"] },
    models: [],
    default_model: "",
  });
}

const param = (view, name) =>
  [...view.el.querySelectorAll(".h2o-param")].find((row) => row.querySelector(".h2o-param-name").textContent === name);

test("settings: one control per parameter, showing the values in force", () => {
  const view = settingsView();
  assert.equal(param(view, "temperature").querySelector("input[type=range]").value, "0.1");
  assert.equal(param(view, "max new tokens").querySelector("input[type=number]").value, "256");
  assert.equal(param(view, "max new tokens").querySelector("input[type=range]"), null, "wide ranges get no slider");
  assert.equal(param(view, "early stopping").querySelector("input[type=checkbox]").checked, false);
  assert.equal(param(view, "stop").querySelector("textarea").value, "###");
});

test("settings: a change is sent as typed; a refused one snaps back when Python says so", () => {
  const view = settingsView();
  const box = param(view, "max new tokens").querySelector("input[type=number]");
  change(box, "0");
  assert.deepEqual(view.model.sent.at(-1).content, { type: "settings", values: { max_new_tokens: 0 } });
  assert.equal(box.value, "0");
  // Python refuses it: the same params come back and a redraw is asked for
  view.model.update({ errors: [{ message: "max_new_tokens must be at least 1", kind: "InvalidOptionError", detail: "", time: "" }] });
  view.model.emit({ type: "redraw_settings" });
  assert.equal(box.value, "256");
  assert.match(view.el.querySelector(".h2o-errors").textContent, /at least 1/);
  const stop = param(view, "stop").querySelector("textarea");
  change(stop, "END\n\nSTOP");
  assert.deepEqual(view.model.sent.at(-1).content, { type: "settings", values: { stop: ["END", "STOP"] } });
  param(view, "temperature").querySelector("button").click(); // back to the default
  assert.deepEqual(view.model.sent.at(-1).content, { type: "settings", values: { temperature: 0.1 } });
});

test("settings: models are listed with Use and Unload, and Load sends the form", () => {
  const view = settingsView();
  assert.match(view.el.textContent, /No model loaded/);
  const row = (alias, isDefault) => ({ alias, model: `/models/${alias}`, backend: "transformers", dtype: "float32", quantization: "", context_length: 1024, memory: "10 MiB", prompt_type: "plain", default: isDefault });
  view.model.update({ models: [row("tiny", true), row("tiny2", false)] });
  const rows = [...view.el.querySelectorAll(".h2o-settings table tbody tr")];
  assert.equal(rows.length, 2);
  assert.equal(rows[0].querySelector("td").textContent, "★");
  assert.deepEqual([...rows[0].querySelectorAll("button")].map((b) => b.textContent), ["Unload"]);
  rows[1].querySelector("button").click();
  assert.deepEqual(view.model.sent.at(-1).content, { type: "use_model", alias: "tiny2" });
  rows[1].querySelectorAll("button")[1].click();
  assert.deepEqual(view.model.sent.at(-1).content, { type: "unload_model", alias: "tiny2" });
  view.el.querySelector("input[placeholder^='smollm2']").value = "/models/other";
  view.el.querySelector("input[placeholder^='alias']").value = "other";
  view.button("Load").click();
  assert.deepEqual(view.model.sent.at(-1).content, {
    type: "load_model", name: "/models/other", alias: "other", backend: "auto", dtype: "auto",
    quantization: "", lora_weights: "", prompt_type: "",
  });
  view.model.update({ busy: true });
  assert.equal(view.button("Load").disabled, true);
});
