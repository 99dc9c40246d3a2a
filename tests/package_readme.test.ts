/**
 * What the README documents is what the package exports: every name its
 * TypeScript examples import from `db-router` (or `./mod.ts`), from `mod.ts`
 * and from the built `dist/mod.js`, and the file storage adapters with their
 * lock options, which importing never runs.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { currentRuntime, ROOT } from "./_support/spawn.ts";
import { thrown } from "./_support/errors.ts";
import { ensureBuilt } from "./_support/package_build.ts";

const test = suite(`README imports (${currentRuntime()})`);
const MOD = join(ROOT, "dist", "mod.js");
const TYPES = join(ROOT, "dist", "mod.d.ts");
const ADAPTERS = ["nodeFileStorage", "denoFileStorage", "bunFileStorage"] as const;

/** The names the README's TypeScript examples import from the package, values and types apart. */
function readmeImports(): { values: Set<string>; types: Set<string> } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const values = new Set<string>();
  const types = new Set<string>();
  const blocks = readme.matchAll(/^[ \t]*```(?:ts|typescript)[ \t]*\n([\s\S]*?)^[ \t]*```/gm);
  for (const [, code] of blocks) {
    const imports = code.matchAll(
      /import\s+(type\s+)?\{([^}]*)\}\s*from\s*["'](?:db-router|\.\/mod\.ts)["']/g,
    );
    for (const [, typeOnly, list] of imports) {
      for (const entry of list.split(",").map((s) => s.trim()).filter(Boolean)) {
        const [, type, name] = /^(type\s+)?([A-Za-z_$][\w$]*)/.exec(entry)!;
        (typeOnly || type ? types : values).add(name);
      }
    }
  }
  return { values, types };
}

test.before(() => {
  ensureBuilt();
  if (!existsSync(MOD)) throw new Error(`${MOD} is missing: run "npm run build"`);
});

test("the README's examples import names, and its file storage adapters among them", () => {
  const { values } = readmeImports();
  // The parser finds them; denoFileStorage and bunFileStorage are named in the prose beside it.
  for (const name of ["DBRouter", "initDbRouter", "scopedQuery", "d1Backend", "nodeFileStorage"]) {
    assert.ok(values.has(name), `${name} in ${[...values].join(", ")}`);
  }
});

test("every name the README imports is exported by mod.ts and by the built dist/mod.js", async () => {
  const { values, types } = readmeImports();
  for (const adapter of ADAPTERS) values.add(adapter);
  const source = await import("../mod.ts") as Record<string, unknown>;
  const built = await import(pathToFileURL(MOD).href) as Record<string, unknown>;
  assert.equal([...values].filter((name) => !(name in source)), [], "missing from mod.ts");
  assert.equal([...values].filter((name) => !(name in built)), [], "missing from dist/mod.js");
  const declared = readFileSync(TYPES, "utf8");
  const exportedType = (name: string) => new RegExp(`\\b${name}\\b`).test(declared);
  assert.equal([...types].filter((name) => !exportedType(name)), [], "missing from dist/mod.d.ts");
});

test("the built adapters take lockStaleMs and lockTimeoutMs, and touch a runtime only when called", async () => {
  const built = await import(pathToFileURL(MOD).href) as typeof import("../mod.ts");
  const runtime = currentRuntime();
  const own = {
    node: built.nodeFileStorage,
    deno: built.denoFileStorage,
    bun: built.bunFileStorage,
  };
  const storage = own[runtime]({ lockStaleMs: 1000, lockTimeoutMs: 2000 });
  assert.is(storage.capabilities.sharedAcrossProcesses, true);
  const bad = thrown(() => own[runtime]({ lockTimeoutMs: 0 }));
  assert.instance(bad, RangeError);
  assert.match(bad.message, /lockTimeoutMs/);
  // node:fs works in all three; Deno's and Bun's own APIs only in theirs.
  built.nodeFileStorage({ lockStaleMs: 1000 });
  if (runtime !== "deno") {
    assert.match(thrown(() => built.denoFileStorage()).message, /Deno namespace is missing/);
  }
  if (runtime !== "bun") {
    assert.match(thrown(() => built.bunFileStorage()).message, /Bun namespace is missing/);
  }
});

test.run();
