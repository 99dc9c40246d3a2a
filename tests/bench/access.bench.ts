/**
 * The cost of `getConnection()` with the observers of issue 4, against a bare
 * `Set` lookup and the routing decision alone: the audit log off (the
 * default); on, with its lines kept in memory (the CPU cost) or written to a
 * file (plus one `fdatasync` per batch of 1000); with and without the
 * `prev_hash` chain; and with an OpenTelemetry SDK MeterProvider. Each sample
 * makes 1000 accesses (and a `flush()` for the audit cases); the table prints
 * nanoseconds per access.
 *
 * Run: `npm run bench -- access` (all runtimes) or
 * `node --import tsx tests/bench/access.bench.ts`.
 *
 * @module
 */
import { metrics } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { measure } from "mitata";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DBRouter,
  DEFAULT_SHARED_TABLES,
  memoryStorage,
  routeTable,
  type StorageAdapter,
} from "../../mod.ts";
import { accessLogObserver } from "../../src/observe/access_log.ts";
import { RouterLog } from "../../src/observe/log.ts";

const BATCH = 1000;
const TABLES = ["bots", "models", "errors", "events", "code"];
const dir = mkdtempSync(join(tmpdir(), "dbr-bench-access-"));
const storage = memoryStorage();
const routers: DBRouter[] = [];
const router = (id: string, options: { auditLog?: string; auditChain?: boolean } = {}) => {
  const created = new DBRouter(id, `${id}-local.db`, "shared.db", { storage, ...options });
  routers.push(created);
  return created;
};
const accesses = (target: DBRouter) => () => {
  for (let i = 0; i < BATCH; i++) target.getConnection(TABLES[i % 5], i & 1 ? "read" : "write");
};

const shared = new Set(DEFAULT_SHARED_TABLES);
let sink = 0;
const cases: Array<[string, () => unknown]> = [
  ["baseline: Set.has(table)", () => {
    for (let i = 0; i < BATCH; i++) if (shared.has(TABLES[i % 5])) sink++;
  }],
  ["routeTable(table) alone", () => {
    for (let i = 0; i < BATCH; i++) if (routeTable(TABLES[i % 5]) === "shared") sink++;
  }],
  ["access log observer alone, nothing enabled", () => {
    const observer = accessLogObserver(new RouterLog({ level: "warning", format: "json" }));
    const event = { menaceId: "a", table: "bots", operation: "read", database: "shared" } as const;
    for (let i = 0; i < BATCH; i++) observer.onAccess!(event);
  }],
  ["getConnection, audit off (default)", accesses(router("off"))],
];
// A durable-looking memory adapter keeps the audit lines in memory: the CPU cost, no I/O.
const inMemory: StorageAdapter = {
  ...memoryStorage(),
  capabilities: { durable: true, sharedAcrossProcesses: false, incremental: false },
};
const cpuOnly = new DBRouter("cpu", "cpu-local.db", "cpu-shared.db", {
  storage: inMemory,
  auditLog: "audit.log",
});
routers.push(cpuOnly);
const cpuAccesses = accesses(cpuOnly);
cases.push(["getConnection, audit on, in memory", async () => {
  cpuAccesses();
  await cpuOnly.flush();
}]);
const cpuChained = new DBRouter("cpuchain", "cc-local.db", "cc-shared.db", {
  storage: inMemory,
  auditLog: "chained.log",
  auditChain: true,
});
routers.push(cpuChained);
const cpuChainedAccesses = accesses(cpuChained);
cases.push(["getConnection, audit + chain, in memory", async () => {
  cpuChainedAccesses();
  await cpuChained.flush();
}]);
const audited = router("on", { auditLog: join(dir, "audit.log") });
const auditOn = accesses(audited);
cases.push(["getConnection, audit on, file + fdatasync", async () => {
  auditOn();
  await audited.flush();
}]);
const chained = router("chain", { auditLog: join(dir, "chained.log"), auditChain: true });
const chainOn = accesses(chained);
cases.push(["getConnection, audit + chain, file + fdatasync", async () => {
  chainOn();
  await chained.flush();
}]);

const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);
cases.push(["getConnection, audit off, OTel SDK registered", accesses(router("otel"))]);

const results: Array<[string, number, number]> = [];
for (const [name, fn] of cases) {
  const stats = await measure(fn, { min_cpu_time: 500 * 1e6 });
  results.push([name, stats.p50 / BATCH, stats.avg / BATCH]);
}
const base = results[0][1];
const off = results[3][1];
const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";
console.log(`${runtime}: ns per access, median and mean of samples of ${BATCH} accesses\n`);
console.log(
  `${"case".padEnd(48)}  ${"median".padStart(8)}  ${"mean".padStart(8)}  ${
    "x Set.has".padStart(9)
  }  ${"x audit off".padStart(11)}`,
);
for (const [name, median, mean] of results) {
  console.log(
    `${name.padEnd(48)}  ${median.toFixed(1).padStart(8)}  ${mean.toFixed(1).padStart(8)}  ${
      (median / base).toFixed(1).padStart(9)
    }  ${(median / off).toFixed(2).padStart(11)}`,
  );
}
metrics.disable();
await provider.shutdown();
await Promise.all(routers.map((r) => r.close()));
rmSync(dir, { recursive: true, force: true });
if (sink < 0) console.log(sink);
