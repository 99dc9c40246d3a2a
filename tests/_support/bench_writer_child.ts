/**
 * A writer process for `tests/bench/contended_reads.bench.ts`: on the file
 * storage of the runtime running it, inserts one row at a time into the
 * shared `bots` table of SHARED (each commit durable before the next) from
 * time START_AT (ms since the epoch) for DURATION_MS, then prints
 * `wrote N` and closes.
 *
 * `bench_writer_child.ts SHARED LOCAL START_AT DURATION_MS`
 *
 * @module
 */
import { DBRouter } from "../../mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";
import { untilTime } from "./writers_spawn.ts";

const [shared, local, startAt, durationMs] = process.argv.slice(2);
const router = new DBRouter("writer", local, shared, {
  storage: fileStorageFor(RUNTIME),
  verifyOnOpen: "header",
});
await router.ready();
console.log("ready");
await untilTime(Number(startAt));
const end = Number(startAt) + Number(durationMs);
let written = 0;
while (Date.now() < end) {
  await router.insert("bots", { name: `w-${written}`, seq: written });
  written++;
}
console.log(`wrote ${written}`);
await router.close();
