/**
 * One process of the soak bench (`tests/bench/soak.bench.ts`): a router on
 * the runtime's file storage, with the audit log on (chained, rotating), that
 * commits `commits` updates to the shared database (one row of a fixed set
 * each), queues a telemetry record every 10 commits, trims old telemetry
 * every 250 (so the database stays flat in size), and runs a sync pass (its
 * own `QueueSync`, kept open) every 500. Every `sampleMs` it prints a JSON
 * line: commits so far, resident memory (`rss`, then `rssAfterGc` after a
 * full garbage collection when the runtime offers one: `Bun.gc`, or `gc`
 * with V8's `--expose-gc`; run twice, `SETTLE_MS` apart, since both engines
 * finish sweeping and hand pages back to the system after the call returns,
 * so that RSS read right after one collection swings with that timing), with the JS heap in use and committed, external
 * and array buffer memory, and V8's young and old generation as committed
 * then) and the size of sql.js's wasm memory. Applied hashes and finished
 * files' progress rows are kept `retentionDays`.
 *
 * It stops after `commits`, or earlier once `stopFile` exists (looked for
 * every 250 commits).
 *
 * Usage: soak_child.ts <dir> <menaceId> <commits> <sampleMs> <retentionDays> [stopFile]
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { getHeapSpaceStatistics } from "node:v8";

// sql.js keeps its wasm memory private: find it as the module is instantiated.
let wasmMemory: WebAssembly.Memory | undefined;
function findMemory(value: unknown, depth = 0): void {
  if (value instanceof WebAssembly.Memory) wasmMemory = value;
  else if (value && typeof value === "object" && depth < 2) {
    for (const inner of Object.values(value)) findMemory(inner, depth + 1);
  }
}
const instantiate = WebAssembly.instantiate;
// deno-lint-ignore no-explicit-any
(WebAssembly as any).instantiate = async (source: any, imports: any) => {
  findMemory(imports);
  // deno-lint-ignore no-explicit-any
  const result: any = await instantiate(source, imports);
  findMemory(result.instance?.exports ?? result.exports);
  return result;
};
const streaming = WebAssembly.instantiateStreaming;
if (streaming) {
  // deno-lint-ignore no-explicit-any
  (WebAssembly as any).instantiateStreaming = async (source: any, imports: any) => {
    findMemory(imports);
    const result = await streaming(source, imports);
    findMemory(result.instance.exports);
    return result;
  };
}

const { DBRouter, QueueSync } = await import("../../mod.ts");

const [dir, menaceId, commitsArg, sampleArg, retentionArg, stopFile] = process.argv.slice(2);
const commits = Number(commitsArg);
const sampleMs = Number(sampleArg);
const ROWS = 200;

const router = new DBRouter(menaceId, join(dir, `${menaceId}.db`), join(dir, "shared.db"), {
  auditLog: join(dir, "audit", "audit.log"),
  auditChain: true,
  auditRotation: { maxBytes: 1024 * 1024, keepFiles: 4 },
  queueDir: join(dir, "queue"),
});
await router.ready();
const sync = new QueueSync({
  dbPath: join(dir, "shared.db"),
  queueDir: join(dir, "queue"),
  appliedRetentionDays: Number(retentionArg),
  progressRetentionDays: Number(retentionArg),
});

const fullGc: (() => void) | undefined = (() => {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) return () => bun.gc(true);
  return (globalThis as { gc?: () => void }).gc;
})();

/** Memory after a full collection: what the process keeps, by component. */
const afterGc = () => {
  const m = process.memoryUsage();
  return {
    rssAfterGc: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    ...spaces(),
  };
};

/** V8's young and old generation, committed (Bun's engine reports zeros: left out). */
const spaces = () => {
  const all = getHeapSpaceStatistics();
  const size = (name: string) => all.find((s) => s.space_name === name)?.space_size ?? 0;
  const newSpace = size("new_space");
  return newSpace === 0 ? {} : { newSpace, oldSpace: size("old_space") };
};

/**
 * The wait between the two collections of a sample. Measured with the Bun child alone (30 000
 * commits): RSS right after one `Bun.gc(true)` ranged 79 to 94 MiB after the first quarter; after
 * a second one 300 ms later, 74 to 78 MiB.
 */
const SETTLE_MS = 300;

let done = 0;
const sample = async () => {
  const rss = process.memoryUsage().rss;
  if (fullGc) {
    fullGc();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    fullGc();
  }
  console.log(JSON.stringify({
    menace: menaceId,
    at: Date.now(),
    commits: done,
    rss,
    ...(fullGc ? afterGc() : {}),
    heap: wasmMemory?.buffer.byteLength ?? 0,
  }));
};
let next = Date.now();
const queued: Promise<void>[] = [];
for (; done < commits; done++) {
  await router.getConnection("bots", "write").run(
    "UPDATE bots SET seq = seq + 1, name = ? WHERE id = ?",
    [`${menaceId}-${done}`, 1 + (done % ROWS)],
  );
  if (done % 10 === 0) {
    queued.push(router.queueWrite("telemetry", { event: `${menaceId}-${done}` }));
  }
  if (done % 250 === 249) {
    await router.getConnection("telemetry", "write").run(
      "DELETE FROM telemetry WHERE id <= (SELECT max(id) FROM telemetry) - 2000",
    );
    if (stopFile && existsSync(stopFile)) {
      done++;
      break;
    }
  }
  if (done % 500 === 499) {
    await Promise.all(queued.splice(0));
    await sync.run();
  }
  if (Date.now() >= next) {
    await sample();
    next = Date.now() + sampleMs;
  }
}
await Promise.all(queued);
await sample();
await router.close();
await sync.close();
console.log(JSON.stringify({ menace: menaceId, finished: true }));
