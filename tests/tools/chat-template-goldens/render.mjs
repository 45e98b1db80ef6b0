// Renders every chat template in tests/fixtures/chat-templates/*.jinja with every message set in
// tests/fixtures/chat-templates/cases/*.json through @huggingface/jinja (the reference engine that EdgeLm's
// managed renderer must match byte for byte), writing golden/<template>__<case>.txt, or
// golden/<template>__<case>.error holding the error message when the reference raises.
//
// Usage (from this folder): npm ci && node render.mjs
//
// Variables passed to each render, as transformers' apply_chat_template does: messages, tools (null when the case
// has none), add_generation_prompt, bos_token/eos_token from templates.json (left undefined when null there), then
// the case's extra "variables" (e.g. enable_thinking).
//
// It also renders the expression snippets of tests/fixtures/chat-templates/expressions/snippets.json (small templates
// exercising one language feature each, with shared variables) into expressions/golden.json: for each snippet either
// {"output": text}, {"error": message} (render failed) or {"syntaxError": message} (parse failed).
//
// The clock is pinned for strftime_now: 2024-07-26 12:00 UTC, formatted with English month names, so the goldens
// do not depend on when or where they were made. The C# tests inject the same instant.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

process.env.TZ = "UTC";
const FIXED_NOW = Date.UTC(2024, 6, 26, 12, 0, 0);
const RealDate = Date;
globalThis.Date = class PinnedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(FIXED_NOW);
    else super(...args);
  }
  static now() {
    return FIXED_NOW;
  }
};
const RealDateTimeFormat = Intl.DateTimeFormat;
Intl.DateTimeFormat = function (locales, options) {
  return new RealDateTimeFormat(locales ?? "en-US", options);
};

const { Template } = await import("@huggingface/jinja");

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, "../../fixtures/chat-templates");
const goldenDir = path.join(fixtures, "golden");
const tokens = JSON.parse(fs.readFileSync(path.join(fixtures, "templates.json"), "utf8"));

fs.mkdirSync(goldenDir, { recursive: true });
for (const old of fs.readdirSync(goldenDir)) {
  if (old.endsWith(".txt") || old.endsWith(".error")) fs.unlinkSync(path.join(goldenDir, old));
}

const templates = fs.readdirSync(fixtures).filter((f) => f.endsWith(".jinja")).sort();
const cases = fs.readdirSync(path.join(fixtures, "cases")).filter((f) => f.endsWith(".json")).sort();

let written = 0;
let errors = 0;
for (const templateFile of templates) {
  const name = templateFile.slice(0, -".jinja".length);
  const source = fs.readFileSync(path.join(fixtures, templateFile), "utf8");
  const special = tokens[name];
  if (!special) throw new Error(`templates.json has no entry for ${name}`);
  const template = new Template(source);
  for (const caseFile of cases) {
    const caseName = caseFile.slice(0, -".json".length);
    const data = JSON.parse(fs.readFileSync(path.join(fixtures, "cases", caseFile), "utf8"));
    const items = {
      messages: data.messages,
      tools: data.tools ?? null,
      add_generation_prompt: data.add_generation_prompt ?? false,
    };
    if (special.bos_token != null) items.bos_token = special.bos_token;
    if (special.eos_token != null) items.eos_token = special.eos_token;
    Object.assign(items, data.variables ?? {});
    const base = path.join(goldenDir, `${name}__${caseName}`);
    try {
      fs.writeFileSync(`${base}.txt`, template.render(items), "utf8");
    } catch (err) {
      fs.writeFileSync(`${base}.error`, String(err?.message ?? err), "utf8");
      errors++;
    }
    written++;
  }
}
const exprDir = path.join(fixtures, "expressions");
const snippets = JSON.parse(fs.readFileSync(path.join(exprDir, "snippets.json"), "utf8"));
const results = {};
for (const [name, snippet] of Object.entries(snippets.snippets)) {
  let template;
  try {
    template = new Template(snippet.template);
  } catch (err) {
    results[name] = { syntaxError: String(err?.message ?? err) };
    continue;
  }
  try {
    results[name] = { output: template.render({ ...snippets.variables }) };
  } catch (err) {
    results[name] = { error: String(err?.message ?? err) };
  }
}
fs.writeFileSync(path.join(exprDir, "golden.json"), JSON.stringify(results, null, 2) + "\n", "utf8");
console.log(`${Object.keys(results).length} expression snippets`);
console.log(`${written} goldens (${errors} errors) from ${templates.length} templates x ${cases.length} cases`);
