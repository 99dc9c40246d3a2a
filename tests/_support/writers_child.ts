/**
 * A writer process for the many-writers tests, on the file storage of the
 * runtime running it:
 *
 * - `insert MENACE SHARED LOCAL COUNT START_AT STALE_MS [PAYLOAD]`: from time
 *   START_AT (a time in ms, or the path of a file the parent creates to start
 *   every child at once), inserts COUNT rows `{ name: "MENACE-i", seq: i }` (with PAYLOAD
 *   random bytes) into the shared `bots` table with `router.insert`, printing
 *   `ready` before START_AT and `ok i` once each write resolved; then closes
 *   and prints `closed`.
 * - `hold MENACE SHARED LOCAL STALE_MS`: takes the shared database's write
 *   lock inside a transaction, prints `holding`, and waits to be killed.
 * - `workers SHARED DIR THREADS COUNT`: starts THREADS worker threads, each
 *   inserting COUNT rows through its own router (menace `w1`, `w2`, ...),
 *   while this thread inserts COUNT rows as `main`; prints `done`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { DBRouter } from "../../mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";
import { BOTS_SCHEMA, untilTime } from "./writers_spawn.ts";

const [mode, ...args] = process.argv.slice(2);

if (mode === "insert") {
  const [menace, shared, local, count, startAt, staleMs, payload] = args;
  const router = new DBRouter(menace, local, shared, {
    storage: fileStorageFor(RUNTIME, { lockStaleMs: Number(staleMs) }),
  });
  await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
  console.log("ready");
  await (/^\d+$/.test(startAt) ? untilTime(Number(startAt)) : untilFile(startAt));
  for (let i = 1; i <= Number(count); i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(Number(payload ?? 0)));
    await router.insert("bots", { name: `${menace}-${i}`, seq: i, payload: bytes });
    console.log(`ok ${i}`);
  }
  await router.close();
  console.log("closed");
} else if (mode === "hold") {
  const [menace, shared, local, staleMs] = args;
  const router = new DBRouter(menace, local, shared, {
    storage: fileStorageFor(RUNTIME, { lockStaleMs: Number(staleMs) }),
  });
  const bots = router.getConnection("bots", "write");
  await bots.exec(BOTS_SCHEMA);
  await bots.transaction(async (tx) => {
    await tx.run("INSERT INTO bots (name, seq, source_menace_id) VALUES ('held', 0, ?)", [menace]);
    console.log("holding");
    await new Promise(() => setInterval(() => {}, 1000));
  });
} else if (mode === "workers") {
  const [shared, dir, threads, count] = args;
  const here = dirname(fileURLToPath(import.meta.url));
  const script = join(here, "writers_worker.ts");
  const boot = join(here, "writers_worker_boot.mjs");
  const workers = Array.from({ length: Number(threads) }, (_, k) => {
    const data = { shared, local: join(dir, `w${k + 1}.db`), menace: `w${k + 1}`, count, script };
    // Node runs TypeScript through tsx, whose loader a worker does not inherit: boot it there.
    const worker = new Worker(RUNTIME === "node" ? boot : script, { workerData: data });
    return new Promise<void>((resolve, reject) => {
      worker.on("error", reject);
      worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
    });
  });
  const router = new DBRouter("main", join(dir, "main.db"), shared);
  await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
  for (let i = 1; i <= Number(count); i++) {
    await router.insert("bots", { name: `main-${i}`, seq: i });
  }
  await router.close();
  await Promise.all(workers);
  console.log("done");
} else {
  throw new TypeError(`Unknown mode "${mode}"`);
}

/** Resolves once `path` exists, polling every 2 ms. */
async function untilFile(path: string): Promise<void> {
  while (!existsSync(path)) await new Promise((resolve) => setTimeout(resolve, 2));
}
