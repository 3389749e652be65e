// What each cell command of the lab extension asks (labextension/src/prompts.ts): the cell's
// code in a fence that its own backticks cannot close, the error without terminal colours,
// long text cut with both ends kept, and one line for what the user must do first.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadLabModule } from "./load.mjs";

const p = await loadLabModule("prompts");
const cell = (extra = {}) => ({ source: "x = 1 / 0", language: "python", ...extra });

test("explain, optimize and document carry the cell's code in a fence of its language", () => {
  for (const build of [p.explainCell, p.optimizeCell, p.documentCell]) {
    const { label, text } = build(cell());
    assert.ok(label);
    assert.match(text, /```python\nx = 1 \/ 0\n```/);
  }
});

test("a cell holding fences gets a longer fence around it", () => {
  const source = 'doc = """\n```\ncode\n```\n"""';
  const { text } = p.explainCell(cell({ source }));
  assert.ok(text.includes("````python\n" + source + "\n````"), text);
});

test("fix error sends the code and the traceback without its colours, and asks for a code block", () => {
  const error = { ename: "ZeroDivisionError", evalue: "division by zero", traceback: ["\u001b[31mZeroDivisionError\u001b[0m: division by zero", "  line 1"] };
  const { label, text } = p.fixError(cell({ error }));
  assert.equal(label, "Fix ZeroDivisionError");
  assert.ok(text.includes("x = 1 / 0") && text.includes("ZeroDivisionError: division by zero\n  line 1"));
  assert.ok(!text.includes("\u001b"));
  assert.match(text, /corrected code in one code block/);
  assert.throws(() => p.fixError(cell()), /no error to fix: run it first/);
});

test("explain output needs an output; ask about selection needs a selection and takes the typed question", () => {
  assert.match(p.explainOutput(cell({ output: "42\n" })).text, /```\n42\n```/);
  assert.throws(() => p.explainOutput(cell({ output: "  " })), /no output to explain/);
  const asked = p.askSelection(cell({ selection: "1 / 0" }), "Why does this fail?");
  assert.equal(asked.label, "Why does this fail?");
  assert.ok(asked.text.startsWith("```python\n1 / 0\n```\n\nWhy does this fail?"));
  assert.equal(p.askSelection(cell({ selection: "1 / 0" }), "").label, "Explain this code.");
  assert.throws(() => p.askSelection(cell(), "q"), /select some code/);
});

test("generate takes the cell's wish and refuses an empty cell", () => {
  assert.match(p.generateCell(cell({ source: "# plot a sine wave" })).text, /does this:\n\n# plot a sine wave\n\nAnswer with the code in one code block/);
  assert.throws(() => p.generateCell(cell({ source: " \n" })), /write what the code should do/);
});

test("long code is cut with its start and end kept", () => {
  const source = "a".repeat(5000) + "MIDDLE" + "z".repeat(5000);
  const { text } = p.explainCell(cell({ source }));
  assert.ok(text.length < p.MAX_CODE_CHARS + 300);
  assert.ok(text.includes("aaaa") && text.includes("zzzz") && !text.includes("MIDDLE"));
  assert.match(text, /characters cut/);
});

test("the first code block of an answer, closed or cut short", () => {
  assert.equal(p.firstCodeBlock("Here:\n```python\ndef f():\n    return 1\n```\nMore.\n```\nx\n```"), "def f():\n    return 1");
  assert.equal(p.firstCodeBlock("~~~\nprint(1)\n~~~"), "print(1)");
  assert.equal(p.firstCodeBlock("````\n```inner```\n````"), "```inner```");
  assert.equal(p.firstCodeBlock("```python\nprint('cut sh"), "print('cut sh");
  assert.equal(p.firstCodeBlock("no code here"), null);
});
