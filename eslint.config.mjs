// ESLint for the panels' front ends (h2ogpt_jupyter/panels/static/) and their node tests.
//
// Each panel's files are joined, in manifest.json's order, into one ES module. So a file may
// use the top-level names of the files before it in every panel it is part of (its globals
// here: a name it may not count on is undefined), and a shared file's top-level name counts
// as used when a file after it mentions it (otherwise it is dead code, reported as unused).
import js from "@eslint/js";
import globals from "globals";
import { fileScopes } from "./tests/js/manifest.mjs";

const STATIC = "h2ogpt_jupyter/panels/static";

// Mistakes that run: loose equality, implicit globals, shadowed or reassigned names, dead code.
const rules = {
  eqeqeq: ["error", "always"],
  "no-implicit-globals": ["error", { lexicalBindings: true }],
  "no-shadow": ["error", { builtinGlobals: false, hoist: "functions" }],
  "no-redeclare": ["error", { builtinGlobals: true }],
  "no-var": "error",
  "prefer-const": "error",
  "no-param-reassign": "error",
  "no-self-compare": "error",
  "no-template-curly-in-string": "error",
  "no-unmodified-loop-condition": "error",
  "no-unreachable-loop": "error",
  "no-constant-binary-expression": "error",
  "no-promise-executor-return": "error",
  "array-callback-return": "error",
  "no-unused-expressions": ["error", { allowShortCircuit: true, allowTernary: true }],
  "no-eval": "error",
  "no-implied-eval": "error",
  "no-new-func": "error",
  "no-script-url": "error",
  "no-caller": "error",
  "no-extend-native": "error",
  "no-useless-concat": "error",
  "no-return-assign": ["error", "except-parens"],
  "consistent-return": "error",
  "default-param-last": "error",
};

// The shipped files: no imports (one self-contained module), and markup only where the code
// has been checked to build it from escaped text (each such line says so).
const shippedRestrictions = [
  { selector: "ImportDeclaration, ImportExpression", message: "panel modules import nothing" },
  {
    selector: "AssignmentExpression > MemberExpression.left[property.name=/^(inner|outer)HTML$/]",
    message: "markup from text can run script: build elements, or justify it with a disable comment",
  },
  {
    selector: "CallExpression[callee.property.name=/^(insertAdjacentHTML|write|writeln)$/]",
    message: "markup from text can run script: build elements instead",
  },
];

// A top-level name a file before it declares already: the joined module would not parse.
function redeclared(given) {
  if (given.length === 0) return [];
  const names = `/^(${given.join("|")})$/`;
  return [
    {
      selector: [
        `Program > FunctionDeclaration[id.name=${names}]`,
        `Program > ClassDeclaration[id.name=${names}]`,
        `Program > VariableDeclaration > VariableDeclarator > Identifier.id[name=${names}]`,
      ].join(", "),
      message: "an earlier file of this panel (manifest.json) declares this name already",
    },
  ];
}

const perFile = [...fileScopes()].map(([file, { given, used }]) => ({
  files: [`${STATIC}/${file}`],
  languageOptions: {
    globals: Object.fromEntries(given.map((name) => [name, "readonly"])),
  },
  rules: {
    "no-restricted-syntax": ["error", ...shippedRestrictions, ...redeclared(given)],
    "no-unused-vars": [
      "error",
      {
        vars: "all",
        args: "after-used",
        argsIgnorePattern: "^_",
        caughtErrors: "all",
        ...(used.length ? { varsIgnorePattern: `^(${used.join("|")})$` } : {}),
      },
    ],
  },
}));

export default [
  {
    // the lab extension is TypeScript, checked by tsc (make lint-labext); its builds are not ours
    ignores: ["node_modules/**", ".venv/**", "test-output/**", "build/**", "dist/**",
      "labextension/**", "h2ogpt_jupyter/labextension/**"],
  },
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules,
  },
  {
    files: [`${STATIC}/*.js`, "h2ogpt_jupyter/server/static/*.js"],
    languageOptions: { globals: { ...globals.browser } },
  },
  ...perFile,
  {
    files: ["tests/panels/browser/*.mjs"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["tests/js/**/*.mjs", "eslint.config.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ["tests/js/markdown_safety.test.mjs"],
    rules: { "no-script-url": "off" }, // hostile links are its test data
  },
];
