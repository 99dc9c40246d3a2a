/**
 * A writer and watcher process for the watch tests, on the file storage of
 * the runtime running it:
 *
 * `MENACE SHARED LOCAL COUNT TOTAL`: creates the shared `bots` table,
 * watches it (every row, and with scope `"global"`), prints `ready`, waits
 * for the file `SHARED.go`, inserts COUNT rows, one commit each, then waits until it
 * has heard TOTAL inserted rows (or a resync), bounded, and prints `heard
 * {json}`: the rowids it heard, in order, from its own commits and from other
 * processes', the global listener's, the number of resyncs and its storage
 * figures. Then it waits for the file `SHARED.done`, closes and prints
 * `closed`.
 *
 * @module
 */
import { DBRouter, type TableChange } from "../../mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";
import { existsSync } from "node:fs";
import { BOTS_SCHEMA } from "./writers_spawn.ts";

const [menace, shared, local, count, total] = process.argv.slice(2);
const router = new DBRouter(menace, local, shared, {
  // No fold for idleness: a fold while a watcher lags turns rows into a resync.
  storage: fileStorageFor(RUNTIME, { foldIdleMs: false }),
});
await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
const own: number[] = [];
const foreign: number[] = [];
const global: number[] = [];
let resyncs = 0;
let other = 0;
router.watch("bots", (change: TableChange) => {
  if (change.kind === "resync") resyncs++;
  if (change.updated.length + change.deleted.length > 0) other++;
  (change.fromThisProcess ? own : foreign).push(...change.inserted);
});
router.watch("bots", (change) => void global.push(...change.inserted), { scope: "global" });
// A read settles once this process is registered as a watcher: the others' commits from then
// on carry their rows (before it they would be heard as resyncs).
await router.getConnection("bots").all("SELECT count(*) FROM bots");
console.log("ready");
// All start together, once the parent has every "ready" (a loaded machine starts Deno slowly).
await untilFile(`${shared}.go`);
for (let i = 1; i <= Number(count); i++) {
  await router.insert("bots", { name: `${menace}-${i}`, seq: i });
}
const started = Date.now();
while (own.length + foreign.length < Number(total) && resyncs === 0) {
  if (Date.now() - started > 300_000) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
// A little longer, so that a change heard twice would show.
await new Promise((resolve) => setTimeout(resolve, 500));
const stats = router.storageStats().shared;
console.log(`heard ${JSON.stringify({ own, foreign, global, resyncs, other, stats })}`);
// Closing folds the page log: a process that has not caught up yet would hear a resync. So each
// waits until the parent, having every report, creates SHARED.done (bounded).
await untilFile(`${shared}.done`);
await router.close();
console.log("closed");

/** Waits (bounded: 300 s) until `path` exists. */
async function untilFile(path: string): Promise<void> {
  const since = Date.now();
  while (!existsSync(path) && Date.now() - since < 300_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
