// The lab extension's stream reader (labextension/src/sse.ts), compiled by esbuild as it is,
// fed bytes the way a network delivers them: split anywhere (inside a line, inside a CRLF,
// inside a multi-byte character), with keep-alive comments, a final event without its blank
// line, an error event mid-stream, and an abort.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadLabModule } from "./load.mjs";

const { sseData, chatDeltas, responseError, StreamError } = await loadLabModule("sse");

/** A body that delivers `text` as bytes, cut at every one of `cuts` (byte offsets). */
function body(text, cuts = []) {
  const bytes = new TextEncoder().encode(text);
  const ends = [...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length];
  let start = 0;
  const parts = ends.map((end) => {
    const part = bytes.slice(start, end);
    start = end;
    return part;
  });
  return new ReadableStream({
    pull(controller) {
      const next = parts.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

async function all(generator) {
  const out = [];
  for await (const item of generator) out.push(item);
  return out;
}

const chunk = (content, finish = null) =>
  `data: ${JSON.stringify({ model: "m", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\r\n\r\n`;
const STREAM = `: keep-alive\r\n\r\n${chunk("Hé")}${chunk("llo, ")}${chunk("wörld", "stop")}data: [DONE]\r\n\r\n`;

test("events come out whole wherever the bytes are cut", async () => {
  const whole = await all(chatDeltas(body(STREAM)));
  assert.deepEqual(whole.map((d) => d.text).join(""), "Héllo, wörld");
  assert.equal(whole.at(-1).finishReason, "stop");
  const length = new TextEncoder().encode(STREAM).length;
  for (let cut = 1; cut < length; cut++) {
    const split = await all(chatDeltas(body(STREAM, [cut])));
    assert.deepEqual(split, whole, `cut at byte ${cut}`);
  }
  const everyByte = await all(chatDeltas(body(STREAM, Array.from({ length }, (_, i) => i))));
  assert.deepEqual(everyByte, whole, "one byte at a time");
});

test("the event-stream format: LF, CR and CRLF lines, multi-line data, fields and comments", async () => {
  const text = "data: one\n\ndata:two\rdata:  three\r\rid: 7\nevent: x\nretry: 5\n: note\ndata: four\r\n\r\ndata\n\n";
  assert.deepEqual(await all(sseData(body(text))), ["one", "two\n three", "four", ""]);
  assert.deepEqual(await all(sseData(body("data: last, no blank line"))), ["last, no blank line"]);
  assert.deepEqual(await all(sseData(body("\n\n: only comments\n\n"))), []);
});

test("an error event mid-stream throws the server's message after the text before it", async () => {
  const text = chunk("partial ") + `data: ${JSON.stringify({ error: { message: "model crashed", code: "server_error" } })}\n\n`;
  const seen = [];
  await assert.rejects(
    async () => {
      for await (const d of chatDeltas(body(text))) seen.push(d.text);
    },
    (error) => error instanceof StreamError && error.message === "model crashed" && error.code === "server_error",
  );
  assert.deepEqual(seen, ["partial "]);
  await assert.rejects(all(chatDeltas(body("data: {not json\n\n"))), /not JSON/);
});

test("nothing after [DONE] is read, and a usage chunk without choices is passed on", async () => {
  const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } })}\n\n`;
  const out = await all(chatDeltas(body(chunk("a") + usage + "data: [DONE]\n\n" + chunk("never"))));
  assert.deepEqual(out.map((d) => d.text), ["a", ""]);
  assert.deepEqual(out[1].usage, { prompt_tokens: 3, completion_tokens: 2 });
});

test("an aborted body ends the reading with the abort", async () => {
  const controller = new AbortController();
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(chunk("first ")));
      controller.signal.addEventListener("abort", () => c.error(new DOMException("aborted", "AbortError")));
    },
  });
  const seen = [];
  await assert.rejects(async () => {
    for await (const d of chatDeltas(stream)) {
      seen.push(d.text);
      controller.abort();
    }
  }, /aborted/);
  assert.deepEqual(seen, ["first "]);
});

test("an error response is one line: OpenAI's message, or the start of a proxy's page", async () => {
  const json = new Response(JSON.stringify({ error: { message: "Models are loading", code: "model_loading" } }), { status: 503 });
  const loading = await responseError(json);
  assert.equal(loading.message, "Models are loading");
  assert.equal(loading.status, 503);
  assert.equal(loading.code, "model_loading");
  const page = await responseError(new Response("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway" }));
  assert.equal(page.status, 502);
  assert.match(page.message, /Bad Gateway/);
});
