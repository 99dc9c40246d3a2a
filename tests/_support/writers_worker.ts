/**
 * A worker thread for the many-writers tests: inserts `count` rows into the
 * shared `bots` table through its own router (its own module instance, so its
 * own registry, sql.js copy and lock bookkeeping), then closes.
 *
 * @module
 */
import { workerData } from "node:worker_threads";
import { DBRouter } from "../../mod.ts";
import { BOTS_SCHEMA } from "./writers_spawn.ts";

const { shared, local, menace, count } = workerData as {
  shared: string;
  local: string;
  menace: string;
  count: string;
};
const router = new DBRouter(menace, local, shared);
await router.getConnection("bots", "write").exec(BOTS_SCHEMA);
for (let i = 1; i <= Number(count); i++) {
  await router.insert("bots", { name: `${menace}-${i}`, seq: i });
}
await router.close();
