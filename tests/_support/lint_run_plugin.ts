/**
 * Runs the shared `no-direct-database` cases through `Deno.lint.runPlugin`,
 * which exists only under `deno test`, and writes the diagnostics as JSON to
 * the file named by `LINT_RESULTS`. `tests/lint_rule.test.ts` starts it from
 * every runtime and compares with `db-router check`.
 *
 * Usage: `LINT_RESULTS=out.json deno test -A tests/_support/lint_run_plugin.ts`
 *
 * @module
 */
/// <reference lib="deno.unstable" />
import plugin from "../../src/lint/plugin.ts";
import { LINT_CASES } from "./lint_cases.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("Deno.lint.runPlugin runs every no-direct-database case", () => {
  const results = LINT_CASES.map((c) => ({
    name: c.name,
    diagnostics: Deno.lint.runPlugin(plugin, `${root}/${c.file}`, c.source).map((d) => ({
      id: d.id,
      message: d.message,
      hint: d.hint,
      range: d.range,
    })),
  }));
  Deno.writeTextFileSync(Deno.env.get("LINT_RESULTS")!, JSON.stringify(results));
});
