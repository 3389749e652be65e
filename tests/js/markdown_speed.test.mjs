// markdown.js re-renders the whole answer on every animation frame while it streams, so it
// must stay fast on anything a model can emit: a megabyte of ordinary text, and the runs of
// one character a model gets stuck repeating, which made its regexes rescan the rest of the
// line at every step (seconds for 100 KB, minutes for 1 MB). Each render runs in a worker with
// a deadline, so a regression fails in seconds instead of hanging the suite.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";

const MB = 1 << 20;
const LIMIT_MS = 2000; // generous: these take tens of milliseconds on a busy laptop
const DEADLINE_MS = 20000;

function megabyte(unit) {
  return unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
}

function timedRender(text) {
  const worker = new Worker(new URL("./render_worker.mjs", import.meta.url), {
    workerData: { panel: "chat", text },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.terminate();
      reject(new Error(`no result after ${DEADLINE_MS} ms`));
    }, DEADLINE_MS);
    worker.once("message", (result) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(result);
    });
    worker.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

const ANSWER =
  "## Summary\n\nThe **report** covers `Q3` results; see [the filing](https://e.com/q3?x=1) and " +
  "https://e.com/notes. Revenue grew *12%* while costs ~~rose~~ fell.\n\n" +
  "1. First point with _emphasis_\n   - nested detail\n2. Second point\n\n> A quoted line.\n\n" +
  "| metric | value |\n|:--|--:|\n| revenue | 1.2 |\n\n```python\ndef total(xs):\n    return sum(xs)  # all\n```\n\n";

const CASES = {
  "an ordinary answer": megabyte(ANSWER),
  "one long line of words": megabyte("word "),
  "short lines": megabyte("a\n"),
  "[ without ]": megabyte("["),
  "[label]( without a URL": megabyte("[a]("),
  "( before URLs": megabyte("(https://"),
  "** that never close": megabyte("**a "),
  "__ that never close": megabyte(" __a"),
  "~~ that never close": megabyte("~~a "),
  "* and _ alone": megabyte("*_"),
  "backtick runs of growing length": Array.from({ length: 1500 }, (_, i) => `${"`".repeat(i + 1)}a `).join("").slice(0, MB),
  "backticks": megabyte("`"),
  "> quotes in one line": megabyte(">"),
  "> quotes on each line": megabyte("> > > x\n"),
  "lists nested ever deeper": Array.from({ length: 1000 }, (_, i) => `${"  ".repeat(i)}- x`).join("\n").slice(0, MB),
  "table rows": "a|b\n-|-\n" + megabyte("| <b> | `c` |\n"),
  "markup characters": megabyte("<&\"'>"),
  "an unclosed /* comment in code": "```js\n" + megabyte("/* "),
  "unclosed strings in code": "```py\n" + megabyte("\"'\"\"\" x"),
  "headings of spaces": megabyte("# " + " ".repeat(1000) + "x\n"),
};

for (const [name, text] of Object.entries(CASES)) {
  test(`1 MB of ${name} renders in under ${LIMIT_MS / 1000} s`, async () => {
    const { ms, length } = await timedRender(text);
    assert.ok(length > 0);
    assert.ok(ms < LIMIT_MS, `${name}: ${ms.toFixed(0)} ms`);
  });
}
