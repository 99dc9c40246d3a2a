import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { DBRouter } from "./mod.ts";
import { nodeFileStorage } from "./src/storage/node/fs.ts";
const dir = mkdtempSync("/tmp/repro-");
const shared = join(dir, "g.db");
const a = new DBRouter("a", join(dir, "a.db"), shared, {
  storage: nodeFileStorage({ foldIdleMs: false }),
});
await a.getConnection("bots", "write").exec(
  "CREATE TABLE IF NOT EXISTS bots (id INTEGER PRIMARY KEY, name TEXT, seq INTEGER, payload BLOB, source_menace_id TEXT)",
);
let heard = 0;
a.watch("bots", (c) => {
  heard += c.inserted.length;
});
a.watch("bots", () => {}, { scope: "global" });
for (let i = 0; i < 5; i++) await a.insert("bots", { name: "a" + i, seq: i });
const b = new DBRouter("b", join(dir, "b.db"), shared, {
  storage: nodeFileStorage({ foldIdleMs: false }),
});
for (let i = 0; i < 5; i++) await b.insert("bots", { name: "b" + i, seq: i });
for (let t = 0; t < 30 && heard < 10; t++) await new Promise((r) => setTimeout(r, 100));
console.log("heard", heard, JSON.stringify(a.storageStats().shared));
await a.close();
await b.close();
