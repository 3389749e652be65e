// markdown.js renders what chat models write: these pin down the subset it supports, and
// check that the linear-time scanners replacing regexes (which rescanned the rest of a line for
// every unmatched delimiter) give exactly what those regexes gave.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadPanel } from "./load.mjs";
import { elements, problems, textOf } from "./safe_html.mjs";

const md = await loadPanel("chat", ["h2oMarkdown", "h2oPairs", "h2oCodeSpans", "h2oLinks", "H2O_MAX_DEPTH"]);
const render = md.h2oMarkdown;

test("headings, paragraphs and line breaks", () => {
  assert.equal(render("# Title ##\n\nOne\ntwo"), "<h1>Title</h1>\n<p>One<br>two</p>");
  assert.equal(render("###### six"), "<h6>six</h6>");
  assert.equal(render("####### seven"), "<p>####### seven</p>");
  assert.equal(render("a\r\nb\rc"), "<p>a<br>b<br>c</p>");
  assert.equal(render(""), "");
  assert.equal(render(null), "");
  assert.equal(render(undefined), "");
});

test("bold, italic, strike-through and what is left alone", () => {
  assert.equal(render("**b** __b__ *i* _i_ ~~s~~"), "<p><strong>b</strong> <strong>b</strong> <em>i</em> <em>i</em> <del>s</del></p>");
  assert.equal(render("snake_case_name and 2*3*4"), "<p>snake_case_name and 2*3*4</p>");
  assert.equal(render("** not bold **"), "<p>** not bold **</p>");
  assert.equal(render("an ** unclosed"), "<p>an ** unclosed</p>");
});

test("code spans keep their text as it is", () => {
  assert.equal(render("use `a**b**c` here"), "<p>use <code>a**b**c</code> here</p>");
  assert.equal(render("``a ` b``"), "<p><code>a ` b</code></p>");
  assert.equal(render("`<b>`"), "<p><code>&lt;b&gt;</code></p>");
  assert.equal(render("a `b"), "<p>a `b</p>");
});

test("fenced code: language class, highlighting, and an unclosed fence while streaming", () => {
  const html = render("```python\ndef f(x):  # add\n    return 'a' + 1\n```");
  assert.match(html, /^<pre class="h2o-code" data-lang="python"><code class="language-python">/);
  assert.match(html, /<span class="h2o-tok-k">def<\/span>/);
  assert.match(html, /<span class="h2o-tok-c"># add<\/span>/);
  assert.match(html, /<span class="h2o-tok-s">&#39;a&#39;<\/span>/);
  assert.match(html, /<span class="h2o-tok-n">1<\/span>/);
  const streaming = render("Here:\n```js\nconst a = 1; /* still");
  assert.equal(elements(streaming, "pre").length, 1);
  assert.equal(textOf(streaming), "Here:\nconst a = 1; /* still");
  assert.match(streaming, /<span class="h2o-tok-c">\/\* still<\/span>/); // open comment to the end
  assert.equal(render("~~~\n**x**\n~~~"), '<pre class="h2o-code" data-lang=""><code>**x**</code></pre>');
});

test("lists: bullets, numbers with their start, nesting, continuation lines", () => {
  assert.equal(render("- a\n- b"), "<ul><li>a</li><li>b</li></ul>");
  assert.equal(render("3. c\n4. d"), '<ol start="3"><li>c</li><li>d</li></ol>');
  assert.equal(render("- a\n  - b\n  - c\n- d"), "<ul><li><p>a</p>\n<ul><li>b</li><li>c</li></ul></li><li>d</li></ul>");
  // two spaces a level, or four: each level nests in the one above
  const levels = (html) => elements(html, "ul").length;
  assert.equal(levels(render("- a\n  - b\n    - c\n      - d")), 4);
  assert.equal(levels(render("- a\n    - b\n        - c")), 3);
  assert.match(render("1. Step\n   ```py\n   x = 1\n   ```"), /<code class="language-py">x = <span/);
  assert.match(render("- Step\n    ```\n    x = 1\n    ```"), /<code>x = 1<\/code>/);
  assert.equal(render("- a\ncontinued"), "<ul><li>a<br>continued</li></ul>");
  assert.equal(render("1. x\n\n2. y"), "<ol><li>x</li><li>y</li></ol>");
});

test("quotes, rules and tables", () => {
  assert.equal(render("> a\n> > b"), "<blockquote><p>a</p>\n<blockquote><p>b</p></blockquote></blockquote>");
  assert.equal(render("---"), "<hr>");
  assert.equal(
    render("| a | b | c |\n|:--|:-:|--:|\n| **1** | x\\|y | `z` |"),
    '<table><thead><tr><th>a</th><th style="text-align:center">b</th><th style="text-align:right">c</th></tr></thead>' +
      '<tbody><tr><td><strong>1</strong></td><td style="text-align:center">x|y</td><td style="text-align:right"><code>z</code></td></tr></tbody></table>',
  );
});

test("links and bare URLs open in a new tab; a URL is never reformatted", () => {
  const tag = (url) => `<a href="${url}" target="_blank" rel="noopener noreferrer">`;
  assert.equal(render("[**docs**](https://e.com/a?b=1&c=2)"), `<p>${tag("https://e.com/a?b=1&amp;c=2")}<strong>docs</strong></a></p>`);
  assert.equal(render("see https://e.com/x."), `<p>see ${tag("https://e.com/x")}https://e.com/x</a>.</p>`);
  assert.equal(render("(https://e.com/y)"), `<p>(${tag("https://e.com/y")}https://e.com/y</a>)</p>`);
  const init = "https://e.com/pkg/__init__.py";
  assert.equal(render(`at ${init} now`), `<p>at ${tag(init)}${init}</a> now</p>`);
  assert.equal(render("[x](ftp://e.com)"), "<p>[x](ftp://e.com)</p>");
  assert.equal(render("[a [b](https://e.com)"), `<p>${tag("https://e.com")}a [b</a></p>`);
  assert.equal(render("snake_ [x](https://e.com) x_"), `<p>snake_ ${tag("https://e.com")}x</a> x_</p>`);
});

test("lists and quotes nest so deep at most, then go on as text", () => {
  const depth = md.H2O_MAX_DEPTH;
  const html = render(">".repeat(depth + 5) + " deep");
  assert.equal(elements(html, "blockquote").length, depth);
  assert.match(textOf(html), />{5} deep$/);
  const nested = Array.from({ length: depth + 5 }, (_, i) => `${"  ".repeat(i)}- level ${i}`).join("\n");
  const lists = render(nested);
  assert.equal(elements(lists, "ul").length, depth);
  assert.match(textOf(lists), /level 20/);
});

test("every prefix of an answer renders (it streams in piece by piece)", () => {
  const answer =
    "# Plan\n\n1. **Read** the `config`\n   - check [docs](https://e.com/d)\n\n> note\n\n" +
    "| k | v |\n|---|---|\n| a | b |\n\n```py\nprint('hi')  # done\n```\nBye ~~now~~.";
  for (let n = 0; n <= answer.length; n += 1) {
    const html = render(answer.slice(0, n));
    assert.deepEqual(problems(html), [], answer.slice(0, n));
  }
});

// --- the scanners against the regexes they replace ------------------------------------------

function randomTexts(alphabet, count, seed) {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  return Array.from({ length: count }, () => {
    let text = "";
    const length = Math.floor(next() * 16);
    for (let i = 0; i < length; i += 1) text += alphabet[Math.floor(next() * alphabet.length)];
    return text;
  });
}

test("h2oPairs makes what one global regex replace made", () => {
  const cases = [
    ["**", /\*\*(?=\S)/g, /\S\*\*/g, /\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>", "strong"],
    ["__", /(^|[^\w])__(?=\S)/g, /\S__(?!\w)/g, /(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>", "strong"],
    ["~~", /~~(?=\S)/g, /\S~~/g, /~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>", "del"],
  ];
  for (const [delim, open, close, regex, replacement, tag] of cases) {
    const alphabet = [delim, delim[0], "a", "_", " ", "\n", ".", "*", "~"];
    for (const text of randomTexts(alphabet, 20000, 7)) {
      assert.equal(md.h2oPairs(text, delim, open, close, tag), text.replace(regex, replacement), JSON.stringify(text));
    }
  }
});

test("h2oCodeSpans makes what one global regex replace made", () => {
  const regex = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g;
  for (const text of randomTexts(["`", "``", "```", "a", " ", "\n"], 30000, 11)) {
    const expected = text.replace(regex, (_, ticks, code) => `<${code}>`);
    assert.equal(md.h2oCodeSpans(text, (code) => `<${code}>`), expected, JSON.stringify(text));
  }
});

test("h2oLinks makes what one global regex replace made", () => {
  const regex = /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g;
  const alphabet = ["[", "]", "(", ")", "](", "https://e", "http://", "a", " ", "\n", "x)"];
  for (const text of randomTexts(alphabet, 30000, 13)) {
    const expected = text.replace(regex, (_, label, url) => `{${label}|${url}}`);
    assert.equal(md.h2oLinks(text, (label, url) => `{${label}|${url}}`), expected, JSON.stringify(text));
  }
});
