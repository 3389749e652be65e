// Hostile text through markdown.js: whatever a model writes (or a document it quotes tells it
// to write), the HTML must hold nothing that could run script. Each output is parsed as a
// browser parses innerHTML and checked element by element, attribute by attribute
// (safe_html.mjs), and the text must still show as written.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadPanel } from "./load.mjs";
import { elements, problems, textOf } from "./safe_html.mjs";

const { h2oMarkdown: render } = await loadPanel("chat", ["h2oMarkdown"]);

function assertSafe(text) {
  const html = render(text);
  assert.deepEqual(problems(html), [], `${JSON.stringify(text)}\n-> ${html}`);
  return html;
}

const HTML = [
  "<img src=x onerror=alert(1)>",
  "<script>alert(1)</script>",
  "<svg/onload=alert(1)>",
  "<iframe src=javascript:alert(1)></iframe>",
  '<a href="javascript:alert(1)">x</a>',
  "<style>*{background:url(javascript:alert(1))}</style>",
  "<!-- comment --><!DOCTYPE html><![CDATA[x]]>",
  "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
  "<template><script>alert(1)</script></template>",
  "&lt;script&gt; &#60;script&#62; &amp;",
  "<</script>script>alert(1)<</script>/script>",
];

test("HTML in the text shows as text, in every block", () => {
  for (const bad of HTML) {
    for (const text of [
      bad,
      `# ${bad}`,
      `**${bad}**`,
      `- ${bad}\n  - ${bad}`,
      `1. x\n   > ${bad}`,
      `> ${bad}`,
      `| ${bad} | b |\n|---|---|\n| ${bad} | [x](${bad}) |`,
      `\`${bad}\``,
      `\`\`\`html\n${bad}\n\`\`\``,
      `\`\`\`js\n${bad}`,
    ]) {
      assertSafe(text);
    }
    assert.equal(textOf(render(bad)), bad);
    assert.equal(textOf(render(`\`\`\`\n${bad}\n\`\`\``)), bad);
  }
});

const SCHEMES = [
  "javascript:alert(1)",
  "JaVaScRiPt:alert(1)",
  " javascript:alert(1)",
  "java\tscript:alert(1)",
  "java\nscript:alert(1)",
  "&#106;avascript:alert(1)",
  "&#x6A;avascript:alert(1)",
  "javascript&colon;alert(1)",
  "javascript&#58;alert(1)",
  "%6Aavascript:alert(1)",
  "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
  "DATA:text/html,<script>alert(1)</script>",
  "vbscript:msgbox(1)",
  "VBScript:msgbox(1)",
  "file:///etc/passwd",
  "//evil.example/x",
  "https:javascript:alert(1)",
];

test("links to anything but http(s) stay text", () => {
  for (const url of SCHEMES) {
    for (const text of [`[click](${url})`, `[click](<${url}>)`, `[click]( ${url} )`, url, `see ${url} now`]) {
      const html = assertSafe(text);
      for (const a of elements(html, "a")) assert.match(a.attrs.href, /^https?:\/\//, text);
    }
  }
});

test("quotes cannot leave an attribute: in link text, in URLs, in code", () => {
  const texts = [
    '[a" onmouseover="alert(1)](https://e.com)',
    "[a' onmouseover='alert(1)](https://e.com)",
    '[a](https://e.com/" onmouseover="alert(1))',
    '[a](https://e.com/"onmouseover="alert(1))',
    "[a](https://e.com/'onmouseover='alert(1)')",
    'https://e.com/"onmouseover="alert(1)',
    "https://e.com/'><script>alert(1)</script>",
    "https://e.com/?a=1&b=2&quot;onmouseover=&quot;alert(1)",
    '`" onmouseover="alert(1)`',
    '```js" onload="alert(1)\ncode\n```',
    '```" onclick="alert(1)\n"quoted" \'single\'\n```',
    '| "a" | \'b\' |\n|:-:|--:|\n| " onmouseover="x | y |',
  ];
  for (const text of texts) {
    const html = assertSafe(text);
    for (const a of elements(html, "a")) {
      assert.equal(Object.keys(a.attrs).join(","), "href,target,rel", text);
    }
  }
});

test("markup made by one pass is out of reach of the next", () => {
  // An autolink inside a link's URL used to close the href and write attributes after it:
  // `<a href="https://x.com/(<a href="https://e/x/onmouseover=...` ran script on hover.
  const breakout = "[a](https://x.com/(https://e/x/onmouseover=location='javascript:alert%281%29'//)";
  const html = assertSafe(breakout);
  assert.equal(elements(html, "a").length, 1);
  assert.equal(textOf(html), "a");
  // emphasis and strike-through marks inside URLs and around links
  for (const text of [
    "**[x](https://e.com/**)",
    "__[x](https://e.com/__init__.py)__",
    "_[x](https://e.com/_)_ and x_",
    "~~https://e.com/~~x~~",
    "*https://e.com/*x*",
    "[x](https://e.com/`code`)",
    "`[x](https://e.com/)` [y](https://e.com/`)`",
    "[x](https://e.com/)[y](https://f.com/(https://g.com/))",
    "(https://a.com/(https://b.com/(https://c.com/)))",
  ]) {
    const out = assertSafe(text);
    for (const a of elements(out, "a")) assert.doesNotMatch(a.attrs.href, /<\/?(a|strong|em|del|code)\b/, text);
  }
});

test("NUL characters cannot pose as held markup", () => {
  for (const text of ["x \u00000\u0000 y", "`a` \u00000\u0000 \u00001\u0000", "[x](https://e.com/\u00000\u0000)", "\u0000".repeat(50)]) {
    const html = assertSafe(text);
    assert.ok(!html.includes("\u0000"), JSON.stringify(html));
    assert.ok(!html.includes("undefined"), html);
  }
  assert.equal(elements(render("`a` \u00000\u0000"), "code").length, 1);
});

test("answers cut off anywhere while streaming stay safe", () => {
  const answer =
    "Look: [site](https://e.com/a_b?c=\"d\") and `<b>` then\n```html\n<img src=x onerror=alert(1)>\n" +
    "```\n> <script>x</script>\n- [x](javascript:alert(1)) **bold <i>**";
  for (let n = 0; n <= answer.length; n += 1) assertSafe(answer.slice(0, n));
});

test("random mixes of markdown and markup never make anything but the renderer's own tags", () => {
  const pieces = [
    "<", ">", '"', "'", "`", "``", "```", "```js\n", "*", "**", "_", "__", "~~", "[", "]", "(", ")", "](",
    "https://e.com/", "http://", "javascript:", "data:", "&#", "&amp;", ";", "onerror=", "alert(1)",
    "<img src=x ", "<script>", "</a>", "|", "|---|\n", "- ", "1. ", "> ", "# ", "\n", "\n\n", " ", "  ", "a",
    "\u0000", "=", "/", "\\",
  ];
  let state = 99;
  const next = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  for (let n = 0; n < 20000; n += 1) {
    let text = "";
    const length = 1 + Math.floor(next() * 24);
    for (let i = 0; i < length; i += 1) text += pieces[Math.floor(next() * pieces.length)];
    assertSafe(text);
  }
});
