/**
 * A helper process for the file storage tests, started by `spawnChild()`:
 *
 * - `hold-lock ADAPTER DB STALE_MS`: takes the lock, prints `locked`, and
 *   waits to be killed.
 * - `exit-holding ADAPTER DB STALE_MS`: takes the lock, prints `locked`, and
 *   ends normally without releasing it.
 * - `exit-keeping ADAPTER DB STALE_MS`: takes the lock and lets it go (so the
 *   handle keeps it for its next commit), prints `kept`, and ends normally.
 * - `lock-loop ADAPTER DB MARKERS ROUNDS ID START_AT [HOLD_MS]`: from time
 *   START_AT, ROUNDS times takes the lock, appends `begin ID` and `end ID`
 *   lines to MARKERS with a pause between them (HOLD_MS, or 0 to 3 ms at
 *   random), and releases; prints `done`.
 * - `append ADAPTER LOG BATCHES ID START_AT`: from time START_AT, appends
 *   BATCHES batches of 5 records `ID:BATCH:LINE`; prints `done`.
 *
 * - `commit-loop ADAPTER DB`: holds the lock and commits `crashImage(1)`,
 *   `crashImage(2)`, ... (folding every few commits), printing `committed N`
 *   after each commit resolves, until it is killed.
 *
 * - `router-loop ADAPTER DB`: a router on DB (file storage that folds in place
 *   every 16 KiB of log) inserts rows numbered on from those DB holds,
 *   printing `committed N` after each insert resolves; every 40th empties the
 *   large payloads and runs `VACUUM` (the file shrinks), until it is killed.
 *
 * ADAPTER is `node`, `deno` or `bun`: whose file storage to use.
 *
 * @module
 */
import { appendFileSync } from "node:fs";
import { commitOf } from "./storage_conformance.ts";
import { crashCount, crashImage, fileStorageFor, type Runtime } from "./storage_fixtures.ts";

const [mode, adapterName, path, ...rest] = process.argv.slice(2);
const adapter = adapterName as Runtime;

if (mode === "hold-lock" || mode === "exit-holding") {
  const storage = fileStorageFor(adapter, { lockStaleMs: Number(rest[0]) });
  const db = await storage.open(path);
  await db.lock();
  console.log("locked");
  // hold-lock: keep the event loop alive until killed; exit-holding: just end.
  if (mode === "hold-lock") setInterval(() => {}, 1000);
} else if (mode === "exit-keeping") {
  const storage = fileStorageFor(adapter, { lockStaleMs: Number(rest[0]) });
  const db = await storage.open(path);
  await (await db.lock())();
  console.log("kept");
} else if (mode === "lock-loop") {
  const [markers, rounds, id, startAt, hold] = rest;
  const storage = fileStorageFor(adapter, { lockStaleMs: 5000 });
  const db = await storage.open(path);
  await untilTime(Number(startAt));
  for (let round = 0; round < Number(rounds); round++) {
    const release = await db.lock();
    appendFileSync(markers, `begin ${id}\n`);
    await new Promise((resolve) => setTimeout(resolve, hold ? Number(hold) : Math.random() * 3));
    appendFileSync(markers, `end ${id}\n`);
    await release();
  }
  console.log("done");
} else if (mode === "append") {
  const [batches, id, startAt] = rest;
  const records = fileStorageFor(adapter).records!;
  await untilTime(Number(startAt));
  for (let batch = 0; batch < Number(batches); batch++) {
    const lines = Array.from({ length: 5 }, (_, line) => `${id}:${batch}:${line}`);
    await records.append(path, lines);
  }
  console.log("done");
} else if (mode === "commit-loop") {
  const storage = fileStorageFor(adapter, { lockStaleMs: 1000, compactThresholdBytes: 5 * 1048 });
  const db = await storage.open(path);
  await db.lock();
  let previous = (await db.load()).image;
  for (let count = crashCount(previous) + 1;; count++) {
    const next = crashImage(count);
    await db.commit(commitOf(previous, next, 1024));
    console.log(`committed ${count}`);
    previous = next;
  }
} else if (mode === "router-loop") {
  const { DBRouter } = await import("../../mod.ts");
  const { BOTS_SCHEMA } = await import("./writers_spawn.ts");
  const storage = fileStorageFor(adapter, {
    lockStaleMs: 1000,
    compactThresholdBytes: 16 * 1024,
    foldIdleMs: false,
  });
  const router = new DBRouter("alpha", `${path}-local.db`, path, { storage, maxReadLagMs: 0 });
  const write = router.getConnection("bots", "write");
  await write.exec(BOTS_SCHEMA);
  const [{ top }] = await write.all<{ top: number | null }>("SELECT max(seq) AS top FROM bots");
  for (let count = (top ?? 0) + 1;; count++) {
    const big = count % 3 === 0 ? 6000 : 40;
    await router.insert("bots", { name: `row-${count}`, seq: count, payload: new Uint8Array(big) });
    console.log(`committed ${count}`);
    if (count % 40 === 0) {
      await write.exec("UPDATE bots SET payload = zeroblob(10) WHERE length(payload) > 1000");
      await write.exec("VACUUM");
    }
  }
} else {
  throw new TypeError(`Unknown mode "${mode}"`);
}

async function untilTime(time: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}
