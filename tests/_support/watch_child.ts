/**
 * A writer and watcher process for the watch tests, on the file storage of
 * the runtime running it:
 *
 * `MENACE SHARED LOCAL COUNT START_AT TOTAL`: creates the shared `bots`
 * table, watches it (every row, and with scope `"global"`), prints `ready`,
 * inserts COUNT rows from time START_AT, one commit each, then waits until it
 * has heard TOTAL inserted rows (or a resync), bounded, closes and prints
 * `heard {json}`: the rowids it heard, in order, from its own commits and
 * from other processes', the global listener's, and the number of resyncs.
 *
 * @module
 */
import { DBRouter, type TableChange } from "../../mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";
import { BOTS_SCHEMA, untilTime } from "./writers_spawn.ts";

const [menace, shared, local, count, startAt, total] = process.argv.slice(2);
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
console.log("ready");
await untilTime(Number(startAt));
for (let i = 1; i <= Number(count); i++) {
  await router.insert("bots", { name: `${menace}-${i}`, seq: i });
}
const started = Date.now();
while (own.length + foreign.length < Number(total) && resyncs === 0) {
  if (Date.now() - started > 120_000) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
// A little longer, so that a change heard twice would show.
await new Promise((resolve) => setTimeout(resolve, 500));
await router.close();
console.log(`heard ${JSON.stringify({ own, foreign, global, resyncs, other })}`);
