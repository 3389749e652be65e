// Loads a panel's front end as the browser gets it: the module joined from manifest.json's
// files, imported unchanged as an ES module (one line appended exports the internals a test
// calls), on a DOM from linkedom. Also a stand-in for anywidget's model, driven by the test as
// Python would drive it, and animation frames the test runs when it chooses.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseHTML } from "linkedom";
import { moduleText } from "./manifest.mjs";

const MODULES = mkdtempSync(join(tmpdir(), "h2o-panels-"));
process.on("exit", () => rmSync(MODULES, { recursive: true, force: true }));

let frames = [];

/** Put a fresh DOM (document, window, element classes) and frame and dialog stubs on globalThis. */
export function installDom() {
  const { window, document } = parseHTML("<!doctype html><html><head></head><body></body></html>");
  for (const name of ["Node", "Element", "HTMLElement", "Event", "CustomEvent", "KeyboardEvent"]) {
    if (window[name]) globalThis[name] = window[name];
  }
  // linkedom's <select> reads its value but cannot set it; the panels set it
  Object.defineProperty(window.HTMLSelectElement.prototype, "value", {
    configurable: true,
    get() {
      const options = [...this.querySelectorAll("option")];
      const chosen = options.find((o) => o.selected) || options[0];
      return chosen ? chosen.value : "";
    },
    set(value) {
      for (const o of this.querySelectorAll("option")) o.selected = o.value === String(value);
    },
  });
  globalThis.window = window;
  globalThis.document = document;
  globalThis.requestAnimationFrame = (fn) => frames.push(fn);
  globalThis.confirm = () => true;
  frames = [];
  return document;
}

/** Run the animation frames requested so far (the throttled redraws). */
export function runFrames() {
  const due = frames;
  frames = [];
  due.forEach((fn) => fn());
  return due.length;
}

/**
 * Import `panel`'s module with `names` (top-level functions or constants of its files)
 * exported besides its default export.
 */
export async function loadPanel(panel, names = []) {
  const text = `${moduleText(panel)}\nexport { ${names.join(", ")} };\n`;
  // a file (not a data: URL) so that stack traces name the panel and a line in it
  const file = join(MODULES, `${panel}-${names.join("-").slice(0, 80) || "default"}.mjs`);
  writeFileSync(file, text);
  return import(pathToFileURL(file).href);
}

/** anywidget's model as a panel sees it; `update` and `emit` play Python's part. */
export class FakeModel {
  constructor(state = {}) {
    this.state = { errors: [], busy: false, status: "", ...state };
    this.listeners = new Map();
    this.sent = [];
    this.saved = 0;
    this.acks = true;
  }

  get(name) {
    return this.state[name];
  }

  set(name, value) {
    this.state[name] = value;
  }

  save_changes() {
    this.saved += 1;
  }

  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, []);
    this.listeners.get(event).push(fn);
  }

  off(event, fn) {
    const fns = this.listeners.get(event) || [];
    const at = fns.indexOf(fn);
    if (at >= 0) fns.splice(at, 1);
  }

  send(content, callbacks, buffers) {
    this.sent.push({ content, buffers });
    if (this.acks) this.emit({ type: "ack" }); // as Python does first (Panel._on_message)
  }

  /** Synced state from Python: the new values, then one change event each. */
  update(values) {
    Object.assign(this.state, values);
    for (const name of Object.keys(values)) this.fire(`change:${name}`);
  }

  /** A custom message from Python. */
  emit(msg) {
    this.fire("msg:custom", msg);
  }

  fire(event, ...args) {
    for (const fn of [...(this.listeners.get(event) || [])]) fn(...args);
  }

  /** How many listeners are still subscribed (0 after the view's cleanup). */
  listening() {
    return [...this.listeners.values()].reduce((n, fns) => n + fns.length, 0);
  }
}

/** A module of the lab extension (`labextension/src/<name>.ts`), compiled by esbuild as it
 * is (imports of JupyterLab packages are not bundled: only modules without them load here). */
export async function loadLabModule(name) {
  const { buildSync } = await import("esbuild");
  const source = fileURLToPath(new URL(`../../labextension/src/${name}.ts`, import.meta.url));
  const [built] = buildSync({ entryPoints: [source], format: "esm", write: false, target: "es2022" }).outputFiles;
  const file = join(MODULES, `lab-${name}.mjs`);
  writeFileSync(file, built.text);
  return import(pathToFileURL(file).href);
}
