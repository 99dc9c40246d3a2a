/**
 * A process for the queue tests, on the file storage of the runtime running it:
 *
 * - `queue MENACE SHARED QUEUE_DIR COUNT BURST [START_AT]`: queues COUNT
 *   records `{ name: "MENACE-i", seq: i }` for the shared `bots` table with
 *   `router.queueWrite`, BURST at a time from time START_AT (printing `ready`
 *   before), and `queued i` after each burst is durable; then closes and
 *   prints `closed`.
 * - `sync SHARED QUEUE_DIR BATCH STALE_MS PASSES PAUSE_MS`: runs PASSES sync
 *   passes PAUSE_MS apart, printing `batch N` after its Nth batch and
 *   `pass <report as JSON>` after each pass; then closes and prints `closed`.
 *
 * @module
 */
import { join } from "node:path";
import { DBRouter, QueueSync } from "../../mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";
import { untilTime } from "./writers_spawn.ts";

const [mode, ...args] = process.argv.slice(2);

if (mode === "queue") {
  const [menace, shared, queueDir, count, burst, startAt] = args;
  const router = new DBRouter(menace, join(queueDir, "..", `${menace}-local.db`), shared, {
    storage: fileStorageFor(RUNTIME),
    queueDir,
  });
  console.log("ready");
  await untilTime(Number(startAt ?? 0));
  for (let i = 1; i <= Number(count);) {
    const writes: Promise<void>[] = [];
    for (let n = 0; n < Number(burst) && i <= Number(count); n++, i++) {
      writes.push(router.queueWrite("bots", { name: `${menace}-${i}`, seq: i }));
    }
    await Promise.all(writes);
    console.log(`queued ${i - 1}`);
  }
  await router.close();
  console.log("closed");
} else if (mode === "sync") {
  const [shared, queueDir, batch, staleMs, passes, pauseMs] = args;
  let batches = 0;
  const sync = new QueueSync({
    dbPath: shared,
    queueDir,
    batchSize: Number(batch),
    storage: fileStorageFor(RUNTIME, { lockStaleMs: Number(staleMs) }),
    onProgress: () => console.log(`batch ${++batches}`),
  });
  for (let pass = 0; pass < Number(passes); pass++) {
    if (pass > 0) await new Promise((resolve) => setTimeout(resolve, Number(pauseMs)));
    console.log(`pass ${JSON.stringify(await sync.run())}`);
  }
  await sync.close();
  console.log("closed");
} else {
  throw new TypeError(`Unknown mode "${mode}"`);
}
