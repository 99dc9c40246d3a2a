import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ALLOWLIST, isAllowlisted } from "../src/lint/allowlist.ts";
import { OFFENCE_MESSAGES, type OffenceKind } from "../src/lint/offence.ts";
import { globToRegExp } from "../src/lint/glob.ts";
import { locateInProject } from "../src/lint/project.ts";
import { isRouterLoaderSpecifier, isSqlJsSpecifier } from "../src/lint/specifier.ts";
import { lineColumn, lineStarts } from "../src/cli/check/check_source.ts";
import { type CheckFileSystem, nodeFileSystem, runCheck } from "../src/cli/check/run.ts";
import { LINT_CASES } from "./_support/lint_cases.ts";
import { ROOT } from "./_support/spawn.ts";

const deno = join(ROOT, "node_modules", ".bin", "deno");
const test = suite("no-direct-database rule (db-router check and the deno lint plugin)");

/** The real file system, plus one in-memory file at `path`. */
function withFile(path: string, source: string): CheckFileSystem {
  return {
    kindOf: (p) => (p === path ? "file" : nodeFileSystem.kindOf(p)),
    list: nodeFileSystem.list,
    readText: (p) => (p === path ? source : nodeFileSystem.readText(p)),
  };
}

/** `kind@line:column` of what `db-router check` reports for the case's file in this repository. */
function checked(file: string, source: string): string[] {
  const path = join(ROOT, file);
  const report = runCheck([file], { cwd: ROOT, fs: withFile(path, source) });
  return report.findings.map((f) => `${f.kind}@${f.line}:${f.column}`);
}

for (const c of LINT_CASES) {
  test(`db-router check ${c.name}`, () => {
    assert.equal(checked(c.file, c.source), c.expected);
  });
}

test("Deno.lint.runPlugin reports exactly what db-router check reports, for every case (deno test child)", () => {
  const dir = mkdtempSync(join(tmpdir(), "dbr-lint-"));
  try {
    const results = join(dir, "results.json");
    const run = spawnSync(deno, ["test", "-A", "tests/_support/lint_run_plugin.ts"], {
      cwd: ROOT,
      env: { ...process.env, LINT_RESULTS: results, NO_COLOR: "1" },
      encoding: "utf8",
    });
    assert.is(run.status, 0, `deno test failed:\n${run.stdout}\n${run.stderr}`);
    const byName = new Map<
      string,
      { id: string; message: string; hint?: string; range: [number, number] }[]
    >(
      JSON.parse(readFileSync(results, "utf8")).map((
        r: { name: string; diagnostics: never[] },
      ) => [r.name, r.diagnostics]),
    );
    const kinds = new Map(
      Object.entries(OFFENCE_MESSAGES).map(([kind, message]) => [message, kind as OffenceKind]),
    );
    for (const c of LINT_CASES) {
      const diagnostics = byName.get(c.name);
      assert.ok(diagnostics, `no result for "${c.name}"`);
      const starts = lineStarts(c.source);
      const seen = diagnostics!.map((d) => {
        assert.is(d.id, "db-router/no-direct-database");
        assert.match(d.hint ?? "", /src\/lint\/allowlist\.ts/);
        const { line, column } = lineColumn(starts, d.range[0]);
        return `${kinds.get(d.message) ?? d.message}@${line}:${column}`;
      });
      assert.equal(seen, c.expected, c.name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("deno lint with this repository's deno.json runs the plugin on a file outside the allowlist", () => {
  const dir = mkdtempSync(join(tmpdir(), "dbr-lint-"));
  try {
    const file = join(dir, "store.ts");
    writeFileSync(file, 'import initSqlJs from "sql.js";\nexport const SQL = await initSqlJs();\n');
    writeFileSync(join(dir, "package.json"), '{ "name": "some-app" }\n');
    const run = spawnSync(deno, ["lint", "--json", "--config", join(ROOT, "deno.json"), file], {
      cwd: dir,
      encoding: "utf8",
    });
    const output = JSON.parse(run.stdout) as {
      diagnostics: { code: string; range: { start: { line: number; col: number } } }[];
    };
    const ours = output.diagnostics.filter((d) => d.code === "db-router/no-direct-database");
    assert.equal(ours.map((d) => [d.range.start.line, d.range.start.col]), [[1, 0], [2, 25]]);
    assert.is(run.status, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("deno.json registers the plugin, so the project lints itself with it", () => {
  const config = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
  assert.ok(config.lint.plugins.includes("./src/lint/plugin.ts"));
});

test("the repository's own code passes db-router check (the allowlist covers every direct use)", () => {
  const targets = ["mod.ts", "src", "wasm", "examples", "tests"];
  const report = runCheck(targets, { cwd: ROOT, allow: ["tests/artifacts/**"] });
  assert.equal(report.findings.map((f) => `${f.path}:${f.line}:${f.column} ${f.kind}`), []);
  assert.ok(report.checked > 50);
  assert.ok(report.allowed >= ALLOWLIST.length);
});

test("the allowlist applies inside the db-router package only", () => {
  assert.ok(isAllowlisted("wasm/mod.ts", "db-router"));
  assert.ok(isAllowlisted("src/engine/deep/er.ts", "db-router"));
  assert.ok(isAllowlisted("tests/_support/scope_db.ts", "db-router"));
  assert.not.ok(isAllowlisted("src/engine/database.ts", "my-app"));
  assert.not.ok(isAllowlisted("src/router/router.ts", "db-router"));
  assert.not.ok(isAllowlisted("tests/router.test.ts", "db-router"));
  assert.ok(isAllowlisted("scripts/migrate.ts", "my-app", ["scripts/*.ts"]));
  for (const entry of ALLOWLIST) assert.ok(entry.reason.length > 10, entry.glob);
});

test("globs: ** spans folders, * and ? stay within one segment", () => {
  assert.ok(globToRegExp("src/engine/**").test("src/engine/a/b.ts"));
  assert.ok(globToRegExp("**/*.ts").test("a.ts"));
  assert.ok(globToRegExp("**/*.ts").test("x/y/a.ts"));
  assert.not.ok(globToRegExp("tests/*.ts").test("tests/sub/a.ts"));
  assert.ok(globToRegExp("a?.ts").test("ab.ts"));
  assert.not.ok(globToRegExp("a?.ts").test("a/.ts"));
  assert.not.ok(globToRegExp("a.ts").test("abts"), "dots are literal");
});

test("sql.js specifiers: the package, its files, npm: and CDN URLs; not look-alikes", () => {
  for (
    const s of [
      "sql.js",
      "sql.js/dist/sql-wasm.js",
      "npm:sql.js",
      "npm:sql.js@1.16.0",
      "npm:/sql.js@1/dist/x.js",
      "https://esm.sh/sql.js@1.8.0",
      "https://cdn.jsdelivr.net/npm/sql.js@1.8.0/dist/sql-wasm.js",
    ]
  ) {
    assert.ok(isSqlJsSpecifier(s), s);
  }
  for (
    const s of ["./sql.js", "mysql.js", "sql.jsx", "@scope/sql.js", "https://example.com/mysql.js"]
  ) {
    assert.not.ok(isSqlJsSpecifier(s), s);
  }
  assert.ok(isRouterLoaderSpecifier("../../wasm/mod.ts"));
  assert.ok(isRouterLoaderSpecifier("./wasm/mod.js"));
  assert.not.ok(isRouterLoaderSpecifier("./mod.ts"));
});

test("a file's project is the nearest folder with package.json or deno.json", () => {
  const files: Record<string, string> = {
    "/repo/package.json": '{ "name": "db-router" }',
    "/repo/packages/app/deno.json": '{ "name": "@me/app" }',
  };
  const probe = { readText: (p: string) => files[p] };
  assert.equal(locateInProject("/repo/src/engine/x.ts", probe), {
    root: "/repo",
    packageName: "db-router",
    relativePath: "src/engine/x.ts",
  });
  assert.equal(locateInProject("/repo/packages/app/src/engine/x.ts", probe), {
    root: "/repo/packages/app",
    packageName: "@me/app",
    relativePath: "src/engine/x.ts",
  });
  assert.equal(locateInProject("C:\\w\\a.ts", { readText: () => undefined }).relativePath, "a.ts");
});

test.run();
