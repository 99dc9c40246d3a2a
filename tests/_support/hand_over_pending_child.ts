/**
 * A fresh process for `tests/persist_hand_over.test.ts`: a database opened
 * before the process's page-capture probe has run keeps no shadow (its first
 * write reloads it from storage), so the loaded image must become SQLite's
 * in-memory file then too, not be copied. Prints one JSON line: what a read
 * saw after the child changed a marker in the loaded image's bytes (the
 * changed marker when SQLite reads that image itself), and what the engine
 * holds after its first write.
 *
 *   hand_over_pending_child.ts IMAGE_FILE
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { DEFAULT_DATABASE_OPTIONS, EngineDatabase } from "../../src/engine/database.ts";
import { memoryStorage } from "../../src/storage/memory.ts";
import type { StorageAdapter } from "../../src/storage/types.ts";
import { loadCapturedSqlJs } from "../../wasm/mod.ts";

const BEFORE = new TextEncoder().encode("marker-before");
const AFTER = new TextEncoder().encode("marker-AFTER!");

const source = memoryStorage({
  initial: { "shared.db": new Uint8Array(readFileSync(process.argv[2])) },
});
const loaded: Uint8Array[] = [];
const storage: StorageAdapter = {
  ...source,
  async open(key) {
    const stored = await source.open(key);
    return {
      ...stored,
      async load() {
        const result = await stored.load();
        if (result.image) loaded.push(result.image);
        return result;
      },
    };
  },
};
const options = { ...DEFAULT_DATABASE_OPTIONS, verifyOnOpen: "header" as const };
const engine = new EngineDatabase(storage, "shared.db", options);
await engine.ready();
const captured = await loadCapturedSqlJs();
const report: Record<string, unknown> = { probedAtOpen: captured.probed };
report.pathAtOpen = engine.stats().commitPath;
const image = loaded[0];
const at = indexOf(image, BEFORE);
report.markerFound = at >= 0;
if (at >= 0) image.set(AFTER, at);
report.readAfterChange = await engine.read((db) => db.exec("SELECT v FROM t")[0].values[0][0]);
await engine.write((db) => db.run("INSERT INTO t (v) VALUES ('written')"));
report.pathAfterWrite = engine.stats().commitPath;
report.loads = loaded.length;
report.rowsAfterWrite = await engine.read((db) =>
  db.exec("SELECT v FROM t ORDER BY rowid")[0].values.flat()
);
await engine.close();
console.log(JSON.stringify(report));

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
