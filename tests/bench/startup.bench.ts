/**
 * Time from process start to the first query's result, in a fresh child
 * process per sample, of the runtime running this file: through the router
 * imported from the TypeScript source (`mod.ts`; Node needs tsx's loader for
 * it, which is not what users of the package run), through the router
 * imported from the built package (`dist/mod.js`, what `npm install` users
 * get; `npm run build` builds it, and this file runs it when
 * `dist/` is older than the sources), and through raw sql.js (import, compile
 * the wasm, open the same file, one prepared select) as the baseline. The
 * database is a small existing shared file (`bots` with 100 rows), so the
 * router's first query includes opening and checking it. One more case
 * makes the package's first query an insert, which runs the page-capture
 * probe (a process's first write or catch-up does; a read does not).
 *
 * The child reports `performance.now()` (milliseconds since its time origin,
 * which all three runtimes set at process start) when its entry file starts,
 * after the import, and after the first row; the parent also times the span
 * from `spawn()` to that row, which adds the exec and runtime boot before the
 * time origin. Medians of SAMPLES runs. Not a test: `npm run bench -- startup`.
 * `BENCH_COMPARE_DIST=/other/checkout/dist/mod.js` adds another build of the
 * package to the same rounds, for a before/after comparison.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DBRouter } from "../../mod.ts";
import { jsonLineOf, median, printTable } from "../_support/bench_util.ts";
import { ensureBuilt } from "../_support/package_build.ts";
import { ROOT, type Runtime } from "../_support/spawn.ts";
import { RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 10);
const CHILD = join(ROOT, "tests/_support/startup_child.mjs");
const DIST = join(ROOT, "dist/mod.js");
const BUN_ENTRY = join(ROOT, "dist/bun/mod.js");

interface Sample {
  entered: number;
  imported: number;
  first: number;
  spawnToFirst: number;
  cpu: number;
}

function command(runtime: Runtime, typescript: boolean, args: string[]): string[] {
  const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
  if (runtime === "deno") return [bin("deno"), "run", "--allow-all", CHILD, ...args];
  if (runtime === "bun") return [bin("bun"), CHILD, ...args];
  const node = RUNTIME === "node" ? process.execPath : "node";
  return typescript ? [node, "--import", "tsx", CHILD, ...args] : [node, CHILD, ...args];
}

async function sample(argv: string[]): Promise<Sample> {
  const spawnedAt = performance.timeOrigin + performance.now();
  const { entered, imported, first, epoch, cpu } = await jsonLineOf<
    { entered: number; imported: number; first: number; epoch: number; cpu: number }
  >(argv);
  return { entered, imported, first, spawnToFirst: epoch - spawnedAt, cpu };
}

ensureBuilt();
const folder = temporaryFolder(`bench-startup-${RUNTIME}-`);
try {
  {
    await using router = new DBRouter(
      "alpha",
      join(folder.dir, "local.db"),
      join(folder.dir, "shared.db"),
    );
    const bots = router.getConnection("bots", "write");
    await bots.exec("CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, source_menace_id TEXT)");
    await bots.batch(
      Array.from({ length: 100 }, (_, i) => ({
        sql: "INSERT INTO bots (id, name, source_menace_id) VALUES (?, ?, 'alpha')",
        params: [i + 1, i === 0 ? "first" : `bot-${i}`],
      })),
    );
  }
  const cases: Array<[string, string[]]> = [
    ["raw sql.js (baseline)", command(RUNTIME, false, ["raw", "-", folder.dir])],
    [
      RUNTIME === "node" ? "router from mod.ts (through tsx)" : "router from mod.ts",
      command(RUNTIME, true, ["router", pathToFileURL(join(ROOT, "mod.ts")).href, folder.dir]),
    ],
  ];
  // In Node the router loads sql.js with require(), cheaper there than import(): raw sql.js
  // loaded the same way is the fair baseline for that (its "x raw" is against the first row).
  if (RUNTIME === "node") {
    cases.splice(1, 0, [
      "raw sql.js via require()",
      command(RUNTIME, false, ["raw-require", "-", folder.dir]),
    ]);
  }
  if (existsSync(DIST)) {
    // In Bun the package's entry is dist/bun/mod.js (package.json's "bun" condition): the core as
    // bytecode under the Bun that built it; under any other Bun version, the ES core.
    const entry = RUNTIME === "bun" ? BUN_ENTRY : DIST;
    cases.push([
      RUNTIME === "bun"
        ? "router from dist/bun/mod.js (the package)"
        : "router from dist/mod.js (the package)",
      command(RUNTIME, false, ["router", pathToFileURL(entry).href, folder.dir]),
    ]);
    // The page-capture probe runs at the first write: this case pays it (an insert, then the read).
    cases.push([
      "same, first query a write",
      command(RUNTIME, false, ["router-write", pathToFileURL(entry).href, folder.dir]),
    ]);
    if (RUNTIME === "bun") {
      cases.push([
        "same, another Bun version (DB_ROUTER_BUN_BYTECODE=off)",
        [
          "env",
          "DB_ROUTER_BUN_BYTECODE=off",
          ...command(RUNTIME, false, ["router", pathToFileURL(entry).href, folder.dir]),
        ],
      ]);
      cases.push([
        "router from dist/mod.js (the ES build)",
        command(RUNTIME, false, ["router", pathToFileURL(DIST).href, folder.dir]),
      ]);
    }
  }
  // Another build of the package (say, main's), timed in the same rounds for a before/after ratio.
  const compare = process.env.BENCH_COMPARE_DIST;
  if (compare) {
    cases.push([
      `router from ${compare}`,
      command(RUNTIME, false, ["router", pathToFileURL(compare).href, folder.dir]),
    ]);
  }
  const results = cases.map(() => [] as Sample[]);
  await sample(cases[0][1]); // the first start warms the OS's file cache
  for (let round = 0; round < SAMPLES; round++) {
    for (const [index, [, argv]] of cases.entries()) results[index].push(await sample(argv));
  }
  const base = median(results[0].map((s) => s.first));
  const cpuBase = median(results[0].map((s) => s.cpu));
  const ms = (value: number) => value.toFixed(1);
  console.log(
    `${RUNTIME}: ms from process start to the first query's result (medians of ${SAMPLES} fresh processes)\n`,
  );
  printTable([
    [
      "case",
      "runtime boot",
      "import",
      "open + first query",
      "total",
      "x raw sql.js",
      "from spawn()",
      "CPU ms to first row",
      "CPU - raw",
    ],
    ...cases.map(([name], index) => {
      const of = (pick: (s: Sample) => number) => median(results[index].map(pick));
      return [
        name,
        ms(of((s) => s.entered)),
        ms(of((s) => s.imported - s.entered)),
        ms(of((s) => s.first - s.imported)),
        ms(of((s) => s.first)),
        `${(of((s) => s.first) / base).toFixed(2)}x`,
        ms(of((s) => s.spawnToFirst)),
        ms(of((s) => s.cpu)),
        ms(of((s) => s.cpu) - cpuBase),
      ];
    }),
  ]);
  if (!existsSync(DIST)) console.log("\n(dist/mod.js is missing: `npm run build` builds it)");
} finally {
  folder.remove();
}
