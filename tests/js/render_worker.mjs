// Renders one text with a panel's markdown in a worker thread and reports how long it took,
// so a test can give up on a render that runs away (a catastrophic regex cannot be
// interrupted on the thread it runs on, but a worker can be terminated).
import { parentPort, workerData } from "node:worker_threads";
import { loadPanel } from "./load.mjs";

const { h2oMarkdown } = await loadPanel(workerData.panel, ["h2oMarkdown"]);
const started = performance.now();
const html = h2oMarkdown(workerData.text);
parentPort.postMessage({ ms: performance.now() - started, length: html.length });
