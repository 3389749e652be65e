// The panels' front-end files as they ship: each panel's list from
// h2ogpt_jupyter/panels/static/manifest.json (the one list Python, ESLint and these tests
// read), the joined module, and what each shared file gives the files after it.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as espree from "espree";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const STATIC = join(ROOT, "h2ogpt_jupyter", "panels", "static");

/** @returns {Record<string, string[]>} panel name -> its files, in the order they are joined */
export function panels() {
  return JSON.parse(readFileSync(join(STATIC, "manifest.json"), "utf8")).panels;
}

export function read(file) {
  return readFileSync(join(STATIC, file), "utf8");
}

/** A panel's ES module text, joined exactly as `_base.static_text` joins it. */
export function moduleText(panel) {
  return panels()[panel].map(read).join("\n");
}

/** The names a file declares at its top level (functions, classes, const/let/var). */
export function topLevelNames(file) {
  const ast = espree.parse(read(file), { ecmaVersion: "latest", sourceType: "module" });
  const names = [];
  for (const node of ast.body) {
    const decl = node.type === "ExportNamedDeclaration" ? node.declaration : node;
    if (!decl) continue;
    if (decl.type === "FunctionDeclaration" || decl.type === "ClassDeclaration") {
      names.push(decl.id.name);
    } else if (decl.type === "VariableDeclaration") {
      for (const d of decl.declarations) names.push(...patternNames(d.id));
    }
  }
  return names;
}

function patternNames(pattern) {
  switch (pattern.type) {
    case "Identifier":
      return [pattern.name];
    case "ObjectPattern":
      return pattern.properties.flatMap((p) => patternNames(p.type === "RestElement" ? p.argument : p.value));
    case "ArrayPattern":
      return pattern.elements.filter(Boolean).flatMap(patternNames);
    case "RestElement":
      return patternNames(pattern.argument);
    case "AssignmentPattern":
      return patternNames(pattern.left);
    default:
      return [];
  }
}

/** Every identifier a file mentions (a superset of the names it uses). */
function identifiers(file) {
  const tokens = espree.tokenize(read(file), { ecmaVersion: "latest", sourceType: "module" });
  return new Set(tokens.filter((t) => t.type === "Identifier").map((t) => t.value));
}

/**
 * For each file: `given`, the top-level names of the files before it in every panel it is
 * part of (what it may use), and `used`, its own top-level names that a file after it in
 * some panel mentions (what it gives).
 * @returns {Map<string, {given: string[], used: string[]}>}
 */
export function fileScopes() {
  const scopes = new Map();
  for (const files of Object.values(panels())) {
    files.forEach((file, i) => {
      const before = new Set(files.slice(0, i).flatMap(topLevelNames));
      const after = files.slice(i + 1).map(identifiers);
      const used = topLevelNames(file).filter((name) => after.some((ids) => ids.has(name)));
      const scope = scopes.get(file);
      if (!scope) {
        scopes.set(file, { given: before, used: new Set(used) });
      } else {
        scope.given = new Set([...scope.given].filter((name) => before.has(name)));
        used.forEach((name) => scope.used.add(name));
      }
    });
  }
  return new Map(
    [...scopes].map(([file, s]) => [file, { given: [...s.given].sort(), used: [...s.used].sort() }]),
  );
}
