// What "safe" means for the markdown renderer's output, checked the way a browser reads it:
// parsed by parse5 (the WHATWG HTML parser) as the fragment innerHTML gets, then every element
// and attribute held against the short list of what the renderer makes. Anything else (an
// element, an attribute, a comment, a link that is not http(s)) is a problem: script could
// hide in it.
import { parseFragment } from "parse5";

const CLASS = /^(h2o-(code|tok-[cskn])|language-[\w+#.-]+)$/;
const ALLOWED = {
  p: {}, br: {}, strong: {}, em: {}, del: {}, hr: {}, blockquote: {},
  h1: {}, h2: {}, h3: {}, h4: {}, h5: {}, h6: {},
  ul: {}, li: {}, table: {}, thead: {}, tbody: {}, tr: {},
  ol: { start: /^\d{1,10}$/ },
  th: { style: /^text-align:(center|right)$/ },
  td: { style: /^text-align:(center|right)$/ },
  code: { class: CLASS },
  span: { class: CLASS },
  pre: { class: CLASS, "data-lang": /^[\w+#.-]*$/ },
  a: { href: /^https?:\/\/[^\s\p{Cc}]+$/u, target: /^_blank$/, rel: /^noopener noreferrer$/ },
};
const REQUIRED = { a: ["href", "target", "rel"] };

/** Every way `html` could do more than show text and the renderer's own markup. */
export function problems(html) {
  const found = [];
  const walk = (node, path) => {
    for (const child of node.childNodes || []) {
      const name = child.nodeName;
      if (name === "#text") continue;
      if (name.startsWith("#")) {
        found.push(`${path} > ${name}`);
        continue;
      }
      const where = `${path} > ${name}`;
      const allowed = ALLOWED[name];
      if (!allowed) {
        found.push(`element ${where}`);
      } else {
        const seen = new Set();
        for (const { name: attr, value } of child.attrs) {
          seen.add(attr);
          const rule = allowed[attr];
          if (!rule) found.push(`attribute ${where}[${attr}=${JSON.stringify(value)}]`);
          else if (!rule.test(value)) found.push(`value ${where}[${attr}=${JSON.stringify(value)}]`);
        }
        for (const attr of REQUIRED[name] || []) {
          if (!seen.has(attr)) found.push(`missing ${where}[${attr}]`);
        }
      }
      walk(child.content || child, where);
    }
  };
  walk(parseFragment(html), "");
  return found;
}

function textOfNode(node) {
  return (node.childNodes || [])
    .map((child) => (child.nodeName === "#text" ? child.value : textOfNode(child.content || child)))
    .join("");
}

/** The text a browser shows for `html`. */
export function textOf(html) {
  return textOfNode(parseFragment(html));
}

/** The elements of `html` named `tag`, as {attrs, text}, in document order. */
export function elements(html, tag) {
  const found = [];
  const walk = (node) => {
    for (const child of node.childNodes || []) {
      if (child.nodeName === tag) {
        found.push({ attrs: Object.fromEntries(child.attrs.map((a) => [a.name, a.value])), text: textOfNode(child) });
      }
      walk(child.content || child);
    }
  };
  walk(parseFragment(html));
  return found;
}
