/**
 * The soak: a Node, a Deno and a Bun process (`tests/_support/soak_child.ts`)
 * commit to one shared database file at once, queue records and sync them,
 * and audit every access (chained, rotating every MiB, 4 rotated files kept),
 * for `BENCH_SOAK_COMMITS` commits in all (default 100 000): all of them until
 * then (the bench creates a stop file that each child looks for every 250
 * commits), so that the workload stays the same to the end however the lock
 * shares the turns (with a fixed share each, the fastest finished first and
 * the last one committed alone, a different load). This process
 * samples, every `BENCH_SOAK_SAMPLE_MS` (default 10 s): each child's resident
 * memory (raw, and after a full collection with its parts: JS heap in use,
 * external, V8's young and old generation) and sql.js wasm memory, and the
 * sizes of the database, its page log, the audit files, the queue folders,
 * `_dbrouter_applied` and `_dbrouter_sync_progress`, and prints them over
 * time; then checks the targets: after warm-up (the first quarter of the
 * samples), RSS, JS heap and wasm memory flat within 10 % (and RSS less V8's
 * young generation, which grows to its maximum and stays); the page log within its
 * fold threshold; the database flat in size (the workload updates a fixed set
 * of rows and trims the telemetry it inserts); no lock holdings, temporary
 * database files or claimed queue files left behind.
 *
 * It starts its own runtimes, so it runs once, under Node (under Deno or Bun
 * it says so and ends). Not a test: `npm run bench -- soak --runtime node`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DBRouter } from "../../mod.ts";
import Database from "better-sqlite3";
import { nodeFileStorage } from "../../src/storage/node/fs.ts";
import { printTable } from "../_support/bench_util.ts";
import { ROOT, type Runtime, runtimeCommand } from "../_support/spawn.ts";
import { RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";

const TOTAL = Number(process.env.BENCH_SOAK_COMMITS ?? 100_000);
const SAMPLE_MS = Number(process.env.BENCH_SOAK_SAMPLE_MS ?? 10_000);
/**
 * Applied hashes and finished files' progress rows are kept 2 minutes here (a week and a day by
 * default), so that the soak sees them go.
 */
const RETENTION_DAYS = 2 / 1440;
/** The children's runtimes, one process each (`BENCH_SOAK_RUNTIMES=node`: a Node process alone). */
const RUNTIMES = (process.env.BENCH_SOAK_RUNTIMES ?? "node,deno,bun").split(",").map(
  (name, i, all) => {
    if (name !== "node" && name !== "deno" && name !== "bun") {
      throw new Error(`BENCH_SOAK_RUNTIMES: "${name}" is not node, deno or bun`);
    }
    if (all.indexOf(name) !== i) throw new Error(`BENCH_SOAK_RUNTIMES: "${name}" twice`);
    return name as Runtime;
  },
);
/** Each child's samples (JSON lines, with the memory components) are appended here if set. */
const SAMPLES_FILE = process.env.BENCH_SOAK_SAMPLES;
const MIB = 2 ** 20;

interface ChildSample {
  menace: string;
  at: number;
  commits: number;
  rss: number;
  rssAfterGc?: number;
  heapUsed?: number;
  heapTotal?: number;
  external?: number;
  newSpace?: number;
  oldSpace?: number;
  heap: number;
}

interface Sizes {
  at: number;
  database: number;
  pageLog: number;
  auditFiles: number;
  auditBytes: number;
  queueFiles: number;
  queueBytes: number;
  applied: number;
  progress: number;
  telemetry: number;
}

if (RUNTIME !== "node") {
  console.log(
    `soak: starts node, deno and bun itself; run it once, under node (skipped under ${RUNTIME})`,
  );
  process.exit(0);
}

const folder = temporaryFolder("bench-soak-");
const dir = folder.dir;
const shared = join(dir, "shared.db");
const storage = nodeFileStorage();

function filesUnder(path: string): Array<{ path: string; size: number }> {
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const full = join(path, name);
    try {
      const info = statSync(full);
      return info.isDirectory() ? filesUnder(full) : [{ path: full, size: info.size }];
    } catch {
      return []; // renamed or removed since the listing
    }
  });
}

const sizeOf = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

async function measure(): Promise<Sizes> {
  const audit = filesUnder(join(dir, "audit")).filter((f) => !f.path.includes("-dbrlock"));
  const queue = filesUnder(join(dir, "queue"));
  // The whole image (base and page log) as a reader sees it, without the lock, read by native
  // SQLite (the base file alone lacks what the page log holds).
  const stored = await storage.open(shared);
  const { image } = await stored.load();
  await stored.close();
  const db = new Database(Buffer.from(image ?? new Uint8Array()));
  const count = (table: string) => {
    try {
      return Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    } catch {
      return 0;
    }
  };
  const sizes = {
    at: Date.now(),
    database: sizeOf(shared),
    pageLog: sizeOf(`${shared}-dbrlog`),
    auditFiles: audit.length,
    auditBytes: audit.reduce((sum, f) => sum + f.size, 0),
    queueFiles: queue.length,
    queueBytes: queue.reduce((sum, f) => sum + f.size, 0),
    applied: count("_dbrouter_applied"),
    progress: count("_dbrouter_sync_progress"),
    telemetry: count("telemetry"),
  };
  db.close();
  return sizes;
}

// The schema: 200 rows to update, telemetry for the queue.
{
  const setup = new DBRouter("setup", join(dir, "setup.db"), shared, { auditLog: false });
  await setup.getConnection("bots", "write").exec(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, source_menace_id TEXT);" +
      "CREATE TABLE telemetry (id INTEGER PRIMARY KEY, event TEXT, source_menace_id TEXT);" +
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) " +
      "INSERT INTO bots (id, name, seq) SELECT i, 'row-' || i, 0 FROM n",
  );
  await setup.close();
}

const samples = new Map<string, ChildSample[]>(RUNTIMES.map((r) => [`soak-${r}`, []]));
const sizes: Sizes[] = [];
const started = Date.now();
/** Created once the children's last samples add up to `TOTAL` commits: each child then stops. */
const stopFile = join(dir, "stop");
let stopped = false;
console.log(
  `soak: ${RUNTIMES.join(", ")} until ${TOTAL} commits in all, in ${dir} (load ${loadAverage()})`,
);
const children = RUNTIMES.map((runtime) => {
  const menace = `soak-${runtime}`;
  const childArgs = [
    join(ROOT, "tests/_support/soak_child.ts"),
    dir,
    menace,
    String(TOTAL),
    String(Math.min(SAMPLE_MS, 5000)),
    String(RETENTION_DAYS),
    stopFile,
  ];
  // With gc exposed, each sample also gives the resident memory after a full collection.
  const [command, ...args] = runtime === "node"
    ? [process.execPath, "--expose-gc", "--import", "tsx", ...childArgs]
    : runtime === "deno"
    ? [join(ROOT, "node_modules/.bin/deno"), "run", "-A", "--v8-flags=--expose-gc", ...childArgs]
    : runtimeCommand(runtime, childArgs[0], childArgs.slice(1));
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, DB_ROUTER_AUDIT_LOG: "", DB_ROUTER_CONFIG: "" },
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      const value = JSON.parse(line);
      if ("rss" in value) {
        samples.get(menace)!.push(value);
        const total = [...samples.values()].reduce(
          (sum, list) => sum + (list.at(-1)?.commits ?? 0),
          0,
        );
        if (!stopped && total >= TOTAL) {
          stopped = true;
          writeFileSync(stopFile, "");
        }
      }
      if (SAMPLES_FILE) appendFileSync(SAMPLES_FILE, line + "\n");
    } catch {
      console.log(`${menace}: ${line}`);
    }
  });
  return new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
});
let running = true;
const ended = Promise.all(children).finally(() => (running = false));
const rows: string[][] = [[
  "min",
  "commits",
  ...RUNTIMES.map((r) => `${r} RSS/after GC/heap used/young MiB`),
  "db KiB",
  "page log KiB",
  "audit files/KiB",
  "queue files/KiB",
  "applied rows",
  "progress rows",
  "telemetry rows",
]];
const row = (s: Sizes) => {
  const last = [...samples.values()].map((list) => list.at(-1));
  const commits = last.reduce((sum, x) => sum + (x?.commits ?? 0), 0);
  const r = [
    ((s.at - started) / 60_000).toFixed(1),
    String(commits),
    ...last.map((x) =>
      x
        ? [x.rss, x.rssAfterGc, x.heapUsed, x.newSpace].map((v) =>
          v === undefined ? "-" : (v / MIB).toFixed(0)
        ).join("/")
        : "-"
    ),
    (s.database / 1024).toFixed(0),
    (s.pageLog / 1024).toFixed(0),
    `${s.auditFiles}/${(s.auditBytes / 1024).toFixed(0)}`,
    `${s.queueFiles}/${(s.queueBytes / 1024).toFixed(0)}`,
    String(s.applied),
    String(s.progress),
    String(s.telemetry),
  ];
  rows.push(r);
  console.log(r.join("  "));
};
while (running) {
  await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, SAMPLE_MS))]);
  if (!running) break;
  const s = await measure();
  sizes.push(s);
  row(s);
}
const codes = await ended;
const final = await measure();
sizes.push(final);
row(final);
console.log(
  `\nsoak: ${((Date.now() - started) / 60_000).toFixed(1)} min, exit codes ${
    codes.join(" ")
  }, load ${loadAverage()}\n`,
);
printTable(rows);

// Targets.
const spread = (values: number[]) => {
  const settled = values.slice(Math.floor(values.length / 4));
  const min = Math.min(...settled);
  return settled.length === 0 ? 0 : (Math.max(...settled) - min) / min;
};
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
console.log(
  "\nAfter warm-up (first quarter of the samples dropped, and for V8 also the samples before its " +
    "young generation reached its full size): max/min - 1. Raw RSS swings with the " +
    "collector's timing (garbage not yet collected); RSS after a full collection shows what is " +
    "kept, the JS heap in use after it what the program holds; V8's young generation (committed " +
    "new space) grows by doubling up to its maximum and stays, so RSS after GC less the young " +
    "generation shows whether anything else grows.",
);
for (const [menace, list] of samples) {
  const quarter = Math.floor(list.length / 4);
  const pieces = (from: number) => {
    const settled = list.slice(from);
    const range = (values: number[]) =>
      `${(Math.min(...values) / MIB).toFixed(0)}..${(Math.max(...values) / MIB).toFixed(0)} MiB`;
    const spreadFrom = (values: number[]) => {
      const kept = values.slice(from);
      const min = Math.min(...kept);
      return kept.length === 0 ? 0 : (Math.max(...kept) - min) / min;
    };
    const figure = (name: string, values: number[]) =>
      values.some((v) => !(v > 0))
        ? []
        : [`${name} ${pct(spreadFrom(values))} (${range(values.slice(from))})`];
    const field = (key: keyof ChildSample) => list.map((s) => Number(s[key] ?? NaN));
    return `${settled.length} of ${list.length} samples: ${
      [
        ...figure("RSS after GC", field("rssAfterGc")),
        ...figure(
          "RSS after GC less young generation",
          list.map((s) => s.rssAfterGc! - s.newSpace!),
        ),
        ...figure("JS heap in use after GC", field("heapUsed")),
        ...figure("young generation", field("newSpace")),
        ...figure("old generation", field("oldSpace")),
        ...figure("external", field("external")),
        ...figure("raw RSS", field("rss")),
        ...figure("wasm memory", field("heap")),
      ].join(", ")
    }`;
  };
  console.log(`  ${menace}, after the first quarter (${pieces(quarter)})`);
  // V8 grows its young generation by doubling, up to a fixed maximum, as scavenges see objects
  // survive, and keeps it: that growth is the runtime's warm-up, and it can end after the first
  // quarter. Where the runtime reports it (not JavaScriptCore), count from the first sample where
  // the young generation is within 10 % of its largest size too (its size moves by a page or so
  // once grown: 52.4 and 52.6 MiB).
  const young = list.map((s) => s.newSpace ?? 0);
  const largest = Math.max(...young);
  const grown = young.findIndex((v) => v >= 0.9 * largest);
  if (largest > 0 && grown > quarter) {
    console.log(
      `  ${menace}, after its young generation reached ${(young[grown] / MIB).toFixed(0)} MiB ` +
        `(sample ${grown + 1}, ${list[grown].commits} of its commits; ${pieces(grown)})`,
    );
  }
}
const settledSizes = sizes.slice(Math.floor(sizes.length / 4));
console.log(
  `  database: ${pct(spread(sizes.map((s) => s.database)))}` +
    ` (${Math.min(...settledSizes.map((s) => s.database))}..${
      Math.max(...settledSizes.map((s) => s.database))
    } bytes)`,
);
console.log(
  `  page log: at most ${(Math.max(...sizes.map((s) => s.pageLog)) / MIB).toFixed(2)} MiB ` +
    `(fold threshold: the larger of 4 MiB and the base)`,
);
console.log(
  `  audit: at most ${Math.max(...sizes.map((s) => s.auditFiles))} files, ${
    (Math.max(...sizes.map((s) => s.auditBytes)) / MIB).toFixed(2)
  } MiB`,
);
console.log(
  `  _dbrouter_applied: at most ${Math.max(...sizes.map((s) => s.applied))} rows ` +
    `(retention ${RETENTION_DAYS * 1440} min), ${final.applied} at the end`,
);
console.log(
  `  _dbrouter_sync_progress: at most ${Math.max(...sizes.map((s) => s.progress))} rows ` +
    `(retention ${RETENTION_DAYS * 1440} min), ${final.progress} at the end`,
);
const leftovers = filesUnder(dir).filter((f) =>
  /-dbrtmp$|-dbrlog-next$/.test(f.path) || f.path.includes("/processing/")
);
const lockFiles = filesUnder(dir).filter((f) => f.path.includes("-dbrlock/"));
// A released holding has its modification time set to 1970; anything else is still held.
const held = lockFiles.filter((f) => statSync(f.path).mtimeMs > 0);
console.log(
  `  left behind: ${leftovers.length} temporary or claimed files ${
    leftovers.map((f) => f.path.slice(dir.length + 1)).join(" ")
  }; ${lockFiles.length} lock files in ${
    new Set(lockFiles.map((f) => f.path.replace(/\/[^/]*$/, ""))).size
  } lock folders, ${held.length} of them not released`,
);
folder.remove();

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}
