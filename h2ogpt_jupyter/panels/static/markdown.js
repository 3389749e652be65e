// @ts-check
// Markdown for chat answers, rendered to an HTML string.
//
// A deliberately small subset: headings, paragraphs (single newlines kept as line breaks, as
// chat models mean them), bold, italic, strike-through, inline code, fenced code blocks with
// light highlighting, bullet and numbered lists (nested by indentation), block quotes, tables,
// rules and http(s) links. Every piece of text is HTML-escaped before any markup is added, and
// markup once made is held aside where later passes cannot reach into it, so a model's output
// can never inject elements, attributes or scripts. An unclosed code fence (an answer still
// streaming) renders as a code block so far. Every pass takes time linear in the text: a
// model stuck repeating "[" or "**" must not freeze the page, which re-renders the answer on
// each frame while it streams.

/** @type {Record<string, string>} */
const H2O_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Text as HTML text or a quoted attribute value.
 * @param {unknown} text
 * @returns {string}
 */
function h2oEscape(text) {
  return String(text).replace(/[&<>"']/g, (c) => H2O_ESCAPES[c]);
}

const H2O_KEYWORDS = new Set(
  (
    "and as assert async await break case catch class const continue def default del do elif " +
    "else enum except export extends False false finally fn for from func function go if impl " +
    "import in interface is lambda let loop match mod mut new None nil nonlocal not null or " +
    "package pass pub raise return self Self static struct super switch this throw True true " +
    "try type typeof use var void where while with yield SELECT FROM WHERE JOIN GROUP BY ORDER " +
    "INSERT UPDATE DELETE"
  ).split(" "),
);

const H2O_HASH_COMMENT_LANGS = new Set([
  "py", "python", "python3", "sh", "bash", "shell", "zsh", "console", "r", "yaml", "yml",
  "toml", "ruby", "rb", "perl", "dockerfile", "make", "makefile", "ini", "conf", "cfg",
]);

// One token per match: comment | string | number | word.
const H2O_TOKENS_HASH =
  /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|([A-Za-z_]\w*)/g;
// A block comment not closed yet (still streaming) runs to the end, as in an editor.
const H2O_TOKENS_SLASH =
  /(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|--[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|([A-Za-z_$][\w$]*)/g;

/**
 * A code block's text, escaped, with comments, strings, numbers and keywords in spans.
 * @param {string} code
 * @param {string} lang
 * @returns {string}
 */
function h2oHighlight(code, lang) {
  const lower = (lang || "").toLowerCase();
  if (["", "text", "txt", "plain", "markdown", "md"].includes(lower)) return h2oEscape(code);
  const source = H2O_HASH_COMMENT_LANGS.has(lower) ? H2O_TOKENS_HASH : H2O_TOKENS_SLASH;
  const re = new RegExp(source.source, "g");
  let out = "";
  let last = 0;
  let m;
  while ((m = re.exec(code)) !== null) {
    out += h2oEscape(code.slice(last, m.index));
    const text = h2oEscape(m[0]);
    if (m[1] !== undefined) out += `<span class="h2o-tok-c">${text}</span>`;
    else if (m[2] !== undefined) out += `<span class="h2o-tok-s">${text}</span>`;
    else if (m[3] !== undefined) out += `<span class="h2o-tok-n">${text}</span>`;
    else if (H2O_KEYWORDS.has(m[4])) out += `<span class="h2o-tok-k">${text}</span>`;
    else out += text;
    last = m.index + m[0].length;
  }
  return out + h2oEscape(code.slice(last));
}

// Markup made for code spans and links is held aside as it is made and put back at the end,
// where NUL marks its place: the passes after it never see inside a tag, so no text can ever
// become part of one.
// eslint-disable-next-line no-control-regex -- NUL marks held markup
const H2O_HELD = /\u0000(\d+)\u0000/g;

/**
 * One line (or a table cell) of inline markdown as HTML.
 * @param {string} text
 * @returns {string}
 */
function h2oInline(text) {
  /** @type {string[]} */
  const held = [];
  /** @param {string} html */
  const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
  // A NUL in the text is dropped (as HTML drops it), so it can never pose as a marker.
  // eslint-disable-next-line no-control-regex -- NUL is the marker
  let s = text.includes("\u0000") ? text.replace(/\u0000/g, "") : text;
  // Code spans first, so nothing inside them is formatted.
  s = h2oCodeSpans(s, (code) => hold(`<code>${h2oEscape(code)}</code>`));
  s = h2oEscape(s);
  s = h2oLinks(s, (label, url) => `${hold(h2oLinkTag(url))}${label}</a>`);
  if (s.includes("http")) {
    s = s.replace(
      // eslint-disable-next-line no-control-regex -- a URL stops at held markup
      /(^|[\s(])(https?:\/\/[^\s<)\u0000]+[^\s<).,;:!?'"\u0000])/g,
      (_, /** @type {string} */ pre, /** @type {string} */ url) => `${pre}${hold(`${h2oLinkTag(url)}${url}</a>`)}`,
    );
  }
  s = h2oPairs(s, "**", H2O_STARS_OPEN, H2O_STARS_CLOSE, "strong");
  s = h2oPairs(s, "__", H2O_UNDERS_OPEN, H2O_UNDERS_CLOSE, "strong");
  if (s.includes("*")) s = s.replace(/(^|[^*\w])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?!\*)/g, "$1<em>$2</em>");
  if (s.includes("_")) s = s.replace(/(^|[^\w])_(?=[^\s_])([^_\n]*?[^\s_])_(?!\w)/g, "$1<em>$2</em>");
  s = h2oPairs(s, "~~", H2O_TILDES_OPEN, H2O_TILDES_CLOSE, "del");
  return held.length ? s.replace(H2O_HELD, (_, /** @type {string} */ i) => held[Number(i)]) : s;
}

/**
 * A link's opening tag. `url` is escaped text that starts with http:// or https://.
 * @param {string} url
 */
function h2oLinkTag(url) {
  return `<a href="${url}" target="_blank" rel="noopener noreferrer">`;
}

/**
 * Code spans replaced by `make(code)`, as one global replace of
 * /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g would, but in linear time (that regex rescans the rest
 * of the line for every run of backticks that has no closing run). A span opens with a run of
 * backticks (or the end of one) and closes at the next run of exactly as many.
 * @param {string} s
 * @param {(code: string) => string} make
 * @returns {string}
 */
function h2oCodeSpans(s, make) {
  if (!s.includes("`")) return s;
  /** @type {[number, number][]} */
  const runs = []; // [start, length] of each run of backticks
  for (const m of s.matchAll(/`+/g)) runs.push([m.index, m[0].length]);
  /** @type {Map<number, number[]>} */
  const byLength = new Map(); // run length -> indices in `runs`, ascending
  runs.forEach(([, n], k) => {
    const list = byLength.get(n);
    if (list) list.push(k);
    else byLength.set(n, [k]);
  });
  /** The first run after run `k` that has length `n`, or -1. */
  const nextRun = (/** @type {number} */ k, /** @type {number} */ n) => {
    const list = byLength.get(n) || [];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid] <= k) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length ? list[lo] : -1;
  };
  let out = "";
  let done = 0; // s[0, done) is in `out`
  for (let k = 0; k < runs.length; k += 1) {
    const [start, length] = runs[k];
    const after = start + length;
    if (start < done || after >= s.length) continue; // inside a span already, or at the end
    for (let skip = 0; skip < length; skip += 1) {
      const close = nextRun(k, length - skip);
      if (close < 0) continue;
      const [closeStart, closeLength] = runs[close];
      out += s.slice(done, start + skip) + make(s.slice(after, closeStart));
      done = closeStart + closeLength;
      k = close;
      break;
    }
  }
  return out + s.slice(done);
}

// eslint-disable-next-line no-control-regex -- a URL stops at held markup
const H2O_LINK_TAIL = /\]\((https?:\/\/[^\s)\u0000]+)\)/y;
const H2O_LABEL_END = /[\]\n]/g;

/**
 * Markdown links [label](http(s)://url) replaced by `make(label, url)`, as one global replace
 * of /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g would, but in linear time (that regex rescans
 * the rest of the line for every "[" of a line full of them). The URL never takes held markup.
 * @param {string} s
 * @param {(label: string, url: string) => string} make
 * @returns {string}
 */
function h2oLinks(s, make) {
  if (!s.includes("](")) return s;
  const tail = H2O_LINK_TAIL;
  const stop = H2O_LABEL_END;
  let out = "";
  let done = 0;
  let open = s.indexOf("[");
  while (open >= 0) {
    // The label runs to the first "]" with no line break before it. Every "[" before that
    // "]" has it as its end too, so when this one makes no link, neither do they.
    stop.lastIndex = open + 1;
    const end = stop.exec(s)?.index ?? s.length;
    if (end > open + 1 && s[end] === "]") {
      tail.lastIndex = end;
      const m = tail.exec(s);
      if (m) {
        out += s.slice(done, open) + make(s.slice(open + 1, end), m[1]);
        done = tail.lastIndex;
        open = s.indexOf("[", done);
        continue;
      }
    }
    open = s.indexOf("[", end);
  }
  return out + s.slice(done);
}

// Bold (** or __) and strike-through: what opens one (the first group is text before it, kept) and
// what closes it (the last character inside, then the delimiter).
const H2O_STARS_OPEN = /\*\*(?=\S)/g;
const H2O_STARS_CLOSE = /\S\*\*/g;
const H2O_UNDERS_OPEN = /(^|[^\w])__(?=\S)/g;
const H2O_UNDERS_CLOSE = /\S__(?!\w)/g;
const H2O_TILDES_OPEN = /~~(?=\S)/g;
const H2O_TILDES_CLOSE = /\S~~/g;

/**
 * Text between a matching `opener` and `closer` wrapped in `<tag>`, as one global replace of
 * `opener([\s\S]*?\S)closer` would, in linear time. `opener` may capture text before the
 * delimiter, which is kept; `closer` matches the last character inside and the delimiter.
 * `delimiter` is in every match of both (a quick test for none).
 * Whether a closer follows does not depend on the opener, so once an opener has none, no later
 * one has either (the regex would rescan the rest of the line for each of them).
 * @param {string} s
 * @param {string} delimiter
 * @param {RegExp} opener global
 * @param {RegExp} closer global
 * @param {string} tag
 * @returns {string}
 */
function h2oPairs(s, delimiter, opener, closer, tag) {
  if (!s.includes(delimiter)) return s;
  let out = "";
  let done = 0;
  opener.lastIndex = 0;
  for (let m = opener.exec(s); m !== null; m = opener.exec(s)) {
    const inside = m.index + m[0].length;
    closer.lastIndex = inside;
    const c = closer.exec(s);
    if (c === null) break;
    const end = c.index + 1;
    out += `${s.slice(done, m.index)}${m[1] || ""}<${tag}>${s.slice(inside, end)}</${tag}>`;
    done = c.index + c[0].length;
    opener.lastIndex = done;
  }
  return out + s.slice(done);
}

const H2O_LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const H2O_FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+#.-]*)/;
const H2O_TABLE_RULE = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

/**
 * A line's indentation in columns (a tab counts four).
 * @param {string} line
 */
function h2oIndent(line) {
  const [space] = /** @type {RegExpMatchArray} */ (line.match(/^\s*/)); // always matches
  return space.replace(/\t/g, "    ").length;
}

/**
 * A table row's cells (`\|` is a literal bar).
 * @param {string} line
 */
function h2oCells(line) {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
}

/**
 * Whether `line` (followed by `next`) starts a block, ending the paragraph or list item above.
 * @param {string} line
 * @param {string} [next]
 */
function h2oIsBlockStart(line, next) {
  return (
    /^\s*#{1,6}\s/.test(line) ||
    H2O_FENCE.test(line) ||
    /^\s*>/.test(line) ||
    H2O_LIST_ITEM.test(line) ||
    /^\s*([-*_])(\s*\1){2,}\s*$/.test(line) ||
    (line.includes("|") && next !== undefined && H2O_TABLE_RULE.test(next))
  );
}

/**
 * The list starting at `lines[start]`, as HTML, and the index of the first line after it.
 * @param {string[]} lines
 * @param {number} start
 * @param {number} depth how many lists and quotes it is inside
 * @returns {[string, number]}
 */
function h2oList(lines, start, depth) {
  // Items at the first line's indentation; deeper lines belong to the item above them.
  const base = h2oIndent(lines[start]);
  const ordered = /^\s*\d/.test(lines[start]);
  /** @type {string[][]} */
  const items = [];
  // How much indentation the item's deeper lines lose: as much as its first one has (at most
  // four more than the item), so a list nested inside keeps its own levels.
  let cut = -1;
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const m = line.match(H2O_LIST_ITEM);
    if (m && h2oIndent(line) === base && /^\d/.test(m[2]) === ordered) {
      items.push([m[3]]);
      cut = -1;
      i += 1;
      continue;
    }
    if (line.trim() === "") {
      const next = lines[i + 1];
      const nm = next === undefined ? null : next.match(H2O_LIST_ITEM);
      const sameList = nm && h2oIndent(next) === base && /^\d/.test(nm[2]) === ordered;
      if (items.length && next !== undefined && ((next.trim() && h2oIndent(next) > base) || sameList)) {
        if (!sameList) items[items.length - 1].push("");
        i += 1;
        continue;
      }
      break;
    }
    if (items.length && h2oIndent(line) > base) {
      if (cut < 0) cut = Math.min(h2oIndent(line), base + 4);
      items[items.length - 1].push(line.slice(Math.min(h2oIndent(line), cut)));
      i += 1;
      continue;
    }
    if (items.length && !h2oIsBlockStart(line)) {
      items[items.length - 1].push(line.trim()); // a lazy continuation line
      i += 1;
      continue;
    }
    break;
  }
  // the caller found an item on this line
  const first = /** @type {RegExpMatchArray} */ (lines[start].match(H2O_LIST_ITEM))[2];
  const startAt = ordered && parseInt(first, 10) !== 1 ? ` start="${parseInt(first, 10)}"` : "";
  const body = items
    .map((item) => {
      const inner = item.length === 1 ? h2oInline(item[0]) : h2oBlocks(item.join("\n"), true, depth + 1);
      return `<li>${inner}</li>`;
    })
    .join("");
  return [ordered ? `<ol${startAt}>${body}</ol>` : `<ul>${body}</ul>`, i];
}

// Lists and quotes nest this deep at most; deeper lines are paragraphs. Each level renders the
// text inside it again, so a thousand ">" (a model stuck repeating one) would cost a thousand
// passes and overflow the stack.
const H2O_MAX_DEPTH = 16;

/**
 * Markdown blocks as HTML. `tight`: a list item's single paragraph gets no <p>.
 * @param {string} text
 * @param {boolean} [tight]
 * @param {number} [depth] how many lists and quotes the text is inside
 * @returns {string}
 */
function h2oBlocks(text, tight = false, depth = 0) {
  const nest = depth < H2O_MAX_DEPTH;
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "") {
      i += 1;
      continue;
    }
    const fence = line.match(H2O_FENCE);
    if (fence) {
      const marker = fence[2];
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(marker)) {
        body.push(lines[i]);
        i += 1;
      }
      i += 1; // the closing fence, if any
      const lang = fence[3] || "";
      const cls = lang ? ` class="language-${h2oEscape(lang)}"` : "";
      out.push(
        `<pre class="h2o-code" data-lang="${h2oEscape(lang)}"><code${cls}>` +
          `${h2oHighlight(body.join("\n"), lang)}</code></pre>`,
      );
      continue;
    }
    const heading = line.match(/^\s*(#{1,6})\s+(.*?)\s*#*\s*$/);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${h2oInline(heading[2])}</h${level}>`);
      i += 1;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push("<hr>");
      i += 1;
      continue;
    }
    if (nest && /^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) {
        quoted.push(lines[i].replace(/^\s*>\s?/, ""));
        i += 1;
      }
      out.push(`<blockquote>${h2oBlocks(quoted.join("\n"), false, depth + 1)}</blockquote>`);
      continue;
    }
    if (nest && H2O_LIST_ITEM.test(line)) {
      const [html, next] = h2oList(lines, i, depth);
      out.push(html);
      i = next;
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && H2O_TABLE_RULE.test(lines[i + 1])) {
      const head = h2oCells(line);
      const aligns = h2oCells(lines[i + 1]).map((c) =>
        c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : "",
      );
      /** @type {(tag: string, c: string, k: number) => string} */
      const cell = (tag, c, k) =>
        `<${tag}${aligns[k] ? ` style="text-align:${aligns[k]}"` : ""}>${h2oInline(c)}</${tag}>`;
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].includes("|") && lines[i].trim() !== "") {
        rows.push(`<tr>${h2oCells(lines[i]).map((c, k) => cell("td", c, k)).join("")}</tr>`);
        i += 1;
      }
      out.push(
        `<table><thead><tr>${head.map((c, k) => cell("th", c, k)).join("")}</tr></thead>` +
          `<tbody>${rows.join("")}</tbody></table>`,
      );
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() !== "") {
      if (para.length && h2oIsBlockStart(lines[i], lines[i + 1])) break;
      para.push(lines[i].trim());
      i += 1;
    }
    const html = para.map(h2oInline).join("<br>");
    out.push(tight && out.length === 0 && i >= lines.length ? html : `<p>${html}</p>`);
  }
  return out.join("\n");
}

/**
 * A chat answer (markdown, maybe still streaming) as safe HTML.
 * @param {unknown} text
 * @returns {string}
 */
function h2oMarkdown(text) {
  return h2oBlocks(String(text || ""));
}
