/**
 * A sync into a D1 database that Miniflare keeps in a folder, for the test
 * that kills a sync in the middle:
 * `d1_sync_child.ts PERSIST_DIR QUEUE_DIR BATCH` prints `batch N` after its
 * Nth batch, `pass <report as JSON>` after the pass, then `closed`.
 *
 * @module
 */
import { Miniflare } from "miniflare";
import { d1Backend, type D1Database, QueueSync } from "../../mod.ts";
import { fileStorageFor, RUNTIME } from "./storage_fixtures.ts";

const [persist, queueDir, batch] = process.argv.slice(2);
const miniflare = new Miniflare({
  modules: true,
  script: "export default { fetch() { return new Response(null, { status: 404 }); } }",
  compatibilityDate: "2025-09-01",
  d1Databases: { DB: "sync-target" },
  d1Persist: persist,
});
const db = (await miniflare.getD1Database("DB")) as D1Database;
let batches = 0;
const sync = new QueueSync({
  backend: d1Backend(db),
  queueDir,
  batchSize: Number(batch),
  storage: fileStorageFor(RUNTIME),
  onProgress: () => console.log(`batch ${++batches}`),
});
console.log(`pass ${JSON.stringify(await sync.run())}`);
await sync.close();
await miniflare.dispose();
console.log("closed");
