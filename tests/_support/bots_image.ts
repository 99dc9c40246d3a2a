/**
 * A small SQLite image to damage in tests: 500 rows of `bots` and an index
 * on their names, about 7 pages of 4 KiB.
 *
 * @module
 */
import { loadSqlJs } from "../../wasm/mod.ts";

/** The image, as `export()` gives it. */
export async function botsImage(): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.exec(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX bots_name ON bots (name)",
  );
  for (let i = 0; i < 500; i++) db.run("INSERT INTO bots (name) VALUES (?)", [`bot number ${i}`]);
  const image = db.export();
  db.close();
  return image;
}
