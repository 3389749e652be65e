// Markdown for chat answers, rendered to an HTML string.
//
// A deliberately small subset: headings, paragraphs (single newlines kept as line breaks, as
// chat models mean them), bold, italic, strike-through, inline code, fenced code blocks with
// light highlighting, bullet and numbered lists (nested by indentation), block quotes, tables,
// rules and http(s) links. Every piece of text is HTML-escaped before any markup is added, so
// a model's output can never inject elements or scripts. An unclosed code fence (an answer
// still streaming) renders as a code block so far.

const H2O_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

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
const H2O_TOKENS_SLASH =
  /(\/\/[^\n]*|\/\*[\s\S]*?\*\/|--[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|([A-Za-z_$][\w$]*)/g;

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

function h2oInline(text) {
  const codes = [];
  // Code spans first, so nothing inside them is formatted.
  let s = text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, ticks, code) => {
    codes.push(code);
    return `\u0000${codes.length - 1}\u0000`;
  });
  s = h2oEscape(s);
  s = s.replace(
    /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g,
    (_, label, url) => `<a href="${url}" target="_blank" rel="noopener noreferrer">${label}</a>`,
  );
  s = s.replace(
    /(^|[\s(])(https?:\/\/[^\s<)]+[^\s<).,;:!?'"])/g,
    (_, pre, url) => `${pre}<a href="${url}" target="_blank" rel="noopener noreferrer">${url}</a>`,
  );
  s = s.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>");
  s = s.replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>");
  s = s.replace(/(^|[^*\w])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?!\*)/g, "$1<em>$2</em>");
  s = s.replace(/(^|[^\w])_(?=[^\s_])([^_\n]*?[^\s_])_(?!\w)/g, "$1<em>$2</em>");
  s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${h2oEscape(codes[Number(i)])}</code>`);
}

const H2O_LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const H2O_FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+#.-]*)/;
const H2O_TABLE_RULE = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

function h2oIndent(line) {
  return line.match(/^\s*/)[0].replace(/\t/g, "    ").length;
}

function h2oCells(line) {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
}

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

function h2oList(lines, start) {
  // Items at the first line's indentation; deeper lines belong to the item above them.
  const base = h2oIndent(lines[start]);
  const ordered = /^\s*\d/.test(lines[start]);
  const items = [];
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    const m = line.match(H2O_LIST_ITEM);
    if (m && h2oIndent(line) === base && /^\d/.test(m[2]) === ordered) {
      items.push([m[3]]);
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
      items[items.length - 1].push(line.slice(Math.min(h2oIndent(line), base + 4)));
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
  const first = lines[start].match(H2O_LIST_ITEM)[2];
  const startAt = ordered && parseInt(first, 10) !== 1 ? ` start="${parseInt(first, 10)}"` : "";
  const body = items
    .map((item) => {
      const inner = item.length === 1 ? h2oInline(item[0]) : h2oBlocks(item.join("\n"), true);
      return `<li>${inner}</li>`;
    })
    .join("");
  return [ordered ? `<ol${startAt}>${body}</ol>` : `<ul>${body}</ul>`, i];
}

function h2oBlocks(text, tight = false) {
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
    if (/^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) {
        quoted.push(lines[i].replace(/^\s*>\s?/, ""));
        i += 1;
      }
      out.push(`<blockquote>${h2oBlocks(quoted.join("\n"))}</blockquote>`);
      continue;
    }
    if (H2O_LIST_ITEM.test(line)) {
      const [html, next] = h2oList(lines, i);
      out.push(html);
      i = next;
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && H2O_TABLE_RULE.test(lines[i + 1])) {
      const head = h2oCells(line);
      const aligns = h2oCells(lines[i + 1]).map((c) =>
        c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : "",
      );
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

function h2oMarkdown(text) {
  return h2oBlocks(String(text || ""));
}
