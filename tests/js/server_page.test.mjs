// The server page's logic: reading an event stream that arrives in arbitrary pieces, the text
// each chunk adds, and what the Connect part tells a user to type.
import assert from "node:assert/strict";
import test from "node:test";

import { chunkText, connection, readEvents } from "../../h2ogpt_jupyter/server/static/page.js";

const chunk = (content) => JSON.stringify({ choices: [{ delta: { content } }] });

test("events split across reads come out whole, in order, once", () => {
  const stream = `data: ${chunk("Hel")}\n\ndata: ${chunk("lo")}\n\r\ndata: [DONE]\n\n`;
  for (let cut = 0; cut <= stream.length; cut += 1) {
    const first = readEvents(stream.slice(0, cut));
    const second = readEvents(first.rest + stream.slice(cut));
    const data = [...first.data, ...second.data];
    assert.deepEqual(data, [chunk("Hel"), chunk("lo"), "[DONE]"], `cut at ${cut}`);
    assert.equal(second.rest, "");
  }
});

test("comments and other fields are not data; multi-line data is joined", () => {
  const got = readEvents(": keep-alive\n\nevent: x\ndata: a\ndata: b\n\nid: 3\n\n");
  assert.deepEqual(got.data, ["a\nb"]);
});

test("a chunk gives its text, the end gives null, an error event throws its message", () => {
  assert.equal(chunkText(chunk("Paris")), "Paris");
  assert.equal(chunkText(JSON.stringify({ choices: [{ delta: {}, finish_reason: "stop" }] })), "");
  assert.equal(chunkText(JSON.stringify({ choices: [] })), "");
  assert.equal(chunkText("[DONE]"), null);
  assert.throws(() => chunkText(JSON.stringify({ error: { message: "queue full" } })), /queue full/);
});

test("behind Jupyter the key is a Jupyter token; on a port, the server's key or none", () => {
  const base = "https://hub.example/user/ana/h2ogpt/v1";
  const proxied = connection(base, "smollm2", { rootPath: "/user/ana/h2ogpt", keyRequired: true, version: "x" });
  assert.match(proxied.note, /Jupyter/);
  assert.match(proxied.python, /base_url="https:\/\/hub\.example\/user\/ana\/h2ogpt\/v1"/);
  assert.match(proxied.python, /api_key="<your Jupyter token>"/);
  assert.match(proxied.python, /model="smollm2"/);
  assert.match(proxied.curl, /^curl -N https:\/\/hub\.example\/user\/ana\/h2ogpt\/v1\/chat\/completions/);
  assert.match(proxied.curl, /"stream":true/);
  const open = connection("http://127.0.0.1:5000/v1", "tiny", { rootPath: "", keyRequired: false, version: "x" });
  assert.match(open.python, /api_key="unused"/);
  assert.match(open.note, /no key/);
  const keyed = connection("http://127.0.0.1:5000/v1", "tiny", { rootPath: "", keyRequired: true, version: "x" });
  assert.match(keyed.python, /api_key="<a server key>"/);
});

test("a model name with quotes stays one string in both snippets", () => {
  const shown = connection("http://h/v1", 'a"b', { rootPath: "", keyRequired: false, version: "x" });
  assert.match(shown.python, /model="a\\"b"/);
  assert.match(shown.curl, /"model":"a\\"b"/);
});
