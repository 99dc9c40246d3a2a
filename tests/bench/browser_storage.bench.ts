/**
 * `npm run bench -- browser_storage` (issue 20): db-router on OPFS and on
 * IndexedDB (strict) beside @sqlite.org/sqlite-wasm (`opfs-sahpool`) and
 * @journeyapps/wa-sqlite (`AccessHandlePoolVFS`, `IDBBatchAtomicVFS`), all
 * with durable commits (`synchronous=FULL` for the peers), in one run of
 * Debian's Chromium on a profile on disk: one-row commits one after another
 * (small, then at 10 MB), point selects (10 000 and a second at least), and
 * the first query after a reload. Runs under Node only (one browser; the
 * runtime does not matter).
 * The peers run in a Worker and are timed there (no message per query);
 * db-router runs on the page's thread with its defaults (on OPFS, an open
 * proves the image by the storage's checksums instead of `PRAGMA
 * quick_check`), with shared (`readwrite-unsafe`) access handles and with
 * the exclusive ones of browsers without that mode.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import process from "node:process";
import { bundle, ROOT, serveAssets, SQL_WASM_FILE } from "../../examples/browser/server.ts";
import { launchPersistent } from "../_support/browser/chromium.ts";
import type { BenchApi } from "../_support/browser/bench_page.ts";
import type { WorkloadFigures } from "../_support/browser/bench_workload.ts";

if ((process.env.DB_ROUTER_TEST_RUNTIME ?? "node") !== "node") {
  console.log("browser_storage.bench.ts runs under Node only (it drives one Chromium)");
  process.exit(0);
}

const COMMITS = Number(process.env.BENCH_COMMITS ?? 150);
// A checkout of an earlier db-router whose OPFS figures run beside this one's, in the same rounds
// (its bench page must name its folders apart, e.g. `bench-before-...`).
const BASELINE = process.env.BENCH_BASELINE;
// Labels to keep (parts of them, separated by "|"); all engines when unset.
const ONLY = process.env.BENCH_ONLY?.split("|").filter(Boolean);
const wasm = (path: string) => ({
  type: "application/wasm",
  body: new Uint8Array(readFileSync(join(ROOT, "node_modules", path))),
});
const server = await serveAssets({
  "/": {
    type: "text/html; charset=utf-8",
    body: '<!doctype html><meta charset="utf-8"><title>bench</title>' +
      '<script type="module" src="/main.js"></script>',
  },
  "/main.js": {
    type: "text/javascript; charset=utf-8",
    body: await bundle("tests/_support/browser/bench_page.ts"),
  },
  ...(BASELINE
    ? {
      "/before/": {
        type: "text/html; charset=utf-8",
        body: '<!doctype html><meta charset="utf-8"><title>bench</title>' +
          '<script type="module" src="/before/main.js"></script>',
      },
      "/before/main.js": {
        type: "text/javascript; charset=utf-8",
        body: await bundle(
          relative(ROOT, join(resolve(BASELINE), "tests/_support/browser/bench_page.ts")),
        ),
      },
    }
    : {}),
  "/peer.js": {
    type: "text/javascript; charset=utf-8",
    body: await bundle("tests/_support/browser/bench_peer_worker.ts"),
  },
  "/sql-wasm-browser.wasm": {
    type: "application/wasm",
    body: new Uint8Array(readFileSync(SQL_WASM_FILE)),
  },
  "/sqlite3.wasm": wasm("@sqlite.org/sqlite-wasm/dist/sqlite3.wasm"),
  "/wa-sqlite.wasm": wasm("@journeyapps/wa-sqlite/dist/wa-sqlite.wasm"),
  "/wa-sqlite-async.wasm": wasm("@journeyapps/wa-sqlite/dist/wa-sqlite-async.wasm"),
});
const profile = mkdtempSync(join(tmpdir(), "dbr-bench-chromium-"));
const context = await launchPersistent(profile);
const version = context.browser()?.version() ?? "?";
const load = [loadavg()[0]];

type Target =
  | {
    label: string;
    kind: "router";
    store: "opfs" | "indexeddb";
    handles?: "exclusive";
    page?: string;
  }
  | {
    label: string;
    kind: "peer";
    engine: "sqlite-wasm-sahpool" | "wa-sqlite-ahp" | "wa-sqlite-idbbatch";
  };
const allTargets: Target[] = [
  { label: "db-router, OPFS", kind: "router", store: "opfs" },
  ...(BASELINE
    ? [
      {
        label: "db-router, OPFS, baseline",
        kind: "router",
        store: "opfs",
        page: "before/",
      } as const,
    ]
    : []),
  {
    label: "db-router, OPFS, exclusive handles",
    kind: "router",
    store: "opfs",
    handles: "exclusive",
  },
  { label: "db-router, IndexedDB (strict)", kind: "router", store: "indexeddb" },
  { label: "@sqlite.org/sqlite-wasm, opfs-sahpool", kind: "peer", engine: "sqlite-wasm-sahpool" },
  { label: "wa-sqlite, AccessHandlePoolVFS", kind: "peer", engine: "wa-sqlite-ahp" },
  { label: "wa-sqlite, IDBBatchAtomicVFS", kind: "peer", engine: "wa-sqlite-idbbatch" },
];
// db-router on OPFS always runs: the targets are about it.
const targets = allTargets.filter((target) =>
  !ONLY || (target.kind === "router" && target.store === "opfs") ||
  ONLY.some((part) => target.label.includes(part))
);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
interface Sample {
  target: Target;
  figures: WorkloadFigures;
  firstMs: number;
}
const samples: Sample[][] = targets.map(() => []);
try {
  // Rounds interleave the engines, so that a burst of load on this shared machine
  // hits them alike; each column is the median of its rounds.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, target] of targets.entries()) {
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error(target.label, error));
      await page.goto(server.url + (target.kind === "router" ? target.page ?? "" : ""));
      await page.waitForFunction(() => "bench" in globalThis);
      const figures = await page.evaluate(
        ([target, commits, round]) => {
          const bench = (globalThis as unknown as { bench: BenchApi }).bench;
          return target.kind === "router"
            ? bench.router(target.store, commits, target.handles, round)
            : bench.peer(target.engine, commits, round);
        },
        [target, COMMITS, round] as const,
      );
      await page.reload();
      await page.waitForFunction(() => "bench" in globalThis);
      const first = await page.evaluate(([target, round]) => {
        const bench = (globalThis as unknown as { bench: BenchApi }).bench;
        return target.kind === "router"
          ? bench.routerFirstQuery(target.store, target.handles, round)
          : bench.peerFirstQuery(target.engine, round);
      }, [target, round] as const);
      const expected = 2 * COMMITS + 2560;
      if (first.rows !== expected) {
        throw new Error(`${target.label}: ${first.rows} rows after the reload, not ${expected}`);
      }
      samples[index].push({ target, figures, firstMs: first.ms });
      await page.close();
    }
    load.push(loadavg()[0]);
  }
} finally {
  await context.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const results: Sample[] = samples.map((runs) => ({
  target: runs[0].target,
  figures: {
    smallCommitsPerSecond: median(runs.map((r) => r.figures.smallCommitsPerSecond)),
    bigCommitsPerSecond: median(runs.map((r) => r.figures.bigCommitsPerSecond)),
    selectsPerSecond: median(runs.map((r) => r.figures.selectsPerSecond)),
    bytes: runs[0].figures.bytes,
  },
  firstMs: median(runs.map((r) => r.firstMs)),
}));

const best = (pick: (r: (typeof results)[number]) => number, high: boolean) => {
  const peers = results.filter((r) => r.target.kind === "peer").map(pick);
  return high ? Math.max(...peers) : Math.min(...peers);
};
const bestSmall = best((r) => r.figures.smallCommitsPerSecond, true);
const bestBig = best((r) => r.figures.bigCommitsPerSecond, true);
const bestSelects = best((r) => r.figures.selectsPerSecond, true);
const bestFirst = best((r) => r.firstMs, false);
const n = (value: number) => value >= 10000 ? `${(value / 1000).toFixed(0)}k` : value.toFixed(0);
console.log(
  `Chromium ${version}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}; ${COMMITS} commits per ` +
    `phase; medians of ${ROUNDS} interleaved rounds (each on new ` +
    `databases); load average (1 min) at the start and after each round: ${
      load.map((l) => l.toFixed(2)).join(", ")
    }\n`,
);
console.log(
  "| engine | commits/s (small) | commits/s at 10 MB | selects/s | first query after reload |",
);
console.log("|---|---|---|---|---|");
for (const { target, figures, firstMs } of results) {
  console.log(
    `| ${target.label} | ${n(figures.smallCommitsPerSecond)} (${
      (figures.smallCommitsPerSecond / bestSmall).toFixed(2)
    }x) | ${n(figures.bigCommitsPerSecond)} (${
      (figures.bigCommitsPerSecond / bestBig).toFixed(2)
    }x) | ${n(figures.selectsPerSecond)} (${
      (figures.selectsPerSecond / bestSelects).toFixed(2)
    }x) | ${firstMs.toFixed(0)} ms (${(firstMs / bestFirst).toFixed(2)}x) |`,
  );
}
console.log(
  "\n(ratios against the best peer in each column; each database at the end: " +
    `${(results[0].figures.bytes / 1048576).toFixed(1)} MB)`,
);
const opfs = results.find((r) => r.target.kind === "router" && r.target.store === "opfs")!;
const exclusive = results.find((r) => r.target.kind === "router" && r.target.handles)!;
const verdict = (ok: boolean) => ok ? "met" : "NOT met";
// Each round on its own, against the best peer of that round: how often a target held.
const opfsIndex = results.indexOf(opfs);
const peerRuns = samples.filter((runs) => runs[0].target.kind === "peer");
const rounds = samples[opfsIndex].map((sample, round) => {
  const peers = peerRuns.map((runs) => runs[round]);
  return {
    big: sample.figures.bigCommitsPerSecond /
      Math.max(...peers.map((p) => p.figures.bigCommitsPerSecond)),
    selects: sample.figures.selectsPerSecond /
      Math.max(...peers.map((p) => p.figures.selectsPerSecond)),
    first: sample.firstMs / Math.min(...peers.map((p) => p.firstMs)),
  };
});
const perRound = (pick: (r: (typeof rounds)[number]) => number, ok: (x: number) => boolean) =>
  `${rounds.filter((r) => ok(pick(r))).length} of ${rounds.length} rounds (${
    rounds.map((r) => pick(r).toFixed(2) + "x").join(", ")
  })`;
console.log(`\nTargets for db-router on OPFS:
- one-row commits at 10 MB at least as fast as the best peer: ${
  verdict(opfs.figures.bigCommitsPerSecond >= bestBig)
} (${(opfs.figures.bigCommitsPerSecond / bestBig).toFixed(2)}x)
- selects at least 2x the best peer: ${
  verdict(opfs.figures.selectsPerSecond >= 2 * bestSelects)
} (${(opfs.figures.selectsPerSecond / bestSelects).toFixed(2)}x)
- first query after reload no slower than the best peer: ${verdict(opfs.firstMs <= bestFirst)} (${
  (opfs.firstMs / bestFirst).toFixed(2)
}x; ${(exclusive.firstMs / bestFirst).toFixed(2)}x with exclusive handles)
- met per round: commits at 10 MB ${perRound((r) => r.big, (x) => x >= 1)}; selects ${
  perRound((r) => r.selects, (x) => x >= 2)
}; first query ${perRound((r) => r.first, (x) => x <= 1)}
- exclusive handles against shared: commits at 10 MB ${
  (exclusive.figures.bigCommitsPerSecond / opfs.figures.bigCommitsPerSecond).toFixed(2)
}x, small commits ${
  (exclusive.figures.smallCommitsPerSecond / opfs.figures.smallCommitsPerSecond).toFixed(2)
}x`);
const baselineIndex = results.findIndex((r) => r.target.kind === "router" && r.target.page);
if (baselineIndex >= 0) {
  // Both in the same rounds, one after the other: the change's own effect, whatever the load.
  const each = (pick: (f: WorkloadFigures) => number) =>
    samples[opfsIndex].map((sample, round) =>
      `${n(pick(sample.figures))}/${n(pick(samples[baselineIndex][round].figures))}/${
        n(Math.max(...peerRuns.map((runs) => pick(runs[round].figures))))
      }`
    ).join(", ");
  console.log(
    `- this checkout / baseline / best peer, per round: commits at 10 MB ${
      each((f) => f.bigCommitsPerSecond)
    }; small commits ${each((f) => f.smallCommitsPerSecond)}`,
  );
}
