/**
 * Child process for persistence tests: opens a router on the given files and
 * inserts rows into the shared `bots` table one by one, printing `ok <n>` once
 * each write has resolved (so is durable). Killed at a random moment by the
 * test, which then checks that every printed row is on disk.
 *
 * Usage: writer.ts <menaceId> <localPath> <sharedPath> <count>
 *
 * @module
 */
import { DBRouter } from "../../mod.ts";

const [menaceId, localPath, sharedPath, count] = process.argv.slice(2);
const router = new DBRouter(menaceId, localPath, sharedPath);
const bots = router.getConnection("bots", "write");
await bots.exec(
  "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, payload BLOB, source_menace_id TEXT)",
);
for (let i = 1; i <= Number(count); i++) {
  // A payload of a few pages makes each commit large enough to be caught mid-write.
  await bots.run(
    "INSERT INTO bots (name, payload, source_menace_id) VALUES (?, randomblob(9000), ?)",
    [
      `${menaceId}-${i}`,
      menaceId,
    ],
  );
  console.log(`ok ${i}`);
}
await router.close();
console.log("closed");
