/**
 * A SQLite image with one index page scribbled over: its header and schema
 * still read, its table's rows too, but `PRAGMA quick_check` fails.
 *
 * @module
 */
import { loadSqlJs } from "../../wasm/mod.ts";

/** 500 rows of `bots` with an index, the index's last page scribbled over. */
export async function damagedImage(): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.exec(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX bots_name ON bots (name)",
  );
  for (let i = 0; i < 500; i++) db.run("INSERT INTO bots (name) VALUES (?)", [`bot number ${i}`]);
  const image = db.export();
  db.close();
  image.fill(0x5a, image.length - 4096 + 8, image.length - 4096 + 600);
  return image;
}
