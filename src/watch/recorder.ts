/**
 * Records which rows a database's writes change, for `router.watch()`:
 * SQLite's update hook names the table, kind and rowid of each row change;
 * temporary triggers (in the connection's `temp` schema, never stored) add
 * the `source_menace_id` of each changed row of a table that has one (after
 * the change, or before it for a delete, when the row is gone), and an
 * `AFTER DELETE` trigger on every rowid table turns off SQLite's truncate
 * optimisation, under which `DELETE FROM t` without `WHERE` calls no hook.
 *
 * The triggers follow the schema: the engine calls {@linkcode ChangeRecorder.syncSchema}
 * after anything that may have changed it, which costs one `PRAGMA
 * schema_version` when nothing did.
 *
 * @module
 */
import type { SqlJsDatabase, SqlValue } from "../engine/sqljs_types.ts";
import { type CommitRows, groupRows, KIND_CODES } from "./rows.ts";

/** The SQL function the triggers call; a name users are unlikely to take. */
const ROW_FUNCTION = "_dbrouter_watch_row";
const TRIGGER_PREFIX = "_dbrouter_watch_";
const OWNER_COLUMN = "source_menace_id";

/** A point to roll the record back to when a write fails. */
export type RecorderMark = readonly [number, number];

/**
 * The row changes of one database since the last {@linkcode take}.
 *
 * @example
 * ```ts ignore
 * const recorder = new ChangeRecorder();
 * recorder.attach(db);
 * db.exec("INSERT INTO bots (name) VALUES ('b')");
 * recorder.take(); // Map { "bots" => [{ owner: null, inserted: [1], ... }] }
 * ```
 */
export class ChangeRecorder {
  #changes: Array<[number, string, number]> = [];
  #owners: Array<[string, string | null]> = [];
  #schemaVersion: SqlValue = null;

  /** Starts recording `db`'s changes (a new database after a reload: attach it again). */
  attach(db: SqlJsDatabase): boolean {
    if (typeof db.updateHook !== "function") return false;
    db.updateHook((operation, database, table, rowid) => {
      if (database === "main") this.#changes.push([KIND_CODES[operation], table, rowid]);
    });
    db.create_function(ROW_FUNCTION, (kind, table, rowid, owner) => {
      this.#owners.push([`${kind}:${table}:${rowid}`, typeof owner === "string" ? owner : null]);
      return null;
    });
    this.#schemaVersion = null;
    this.syncSchema(db);
    return true;
  }

  /** Re-creates the triggers when the schema changed since the last call. */
  syncSchema(db: SqlJsDatabase): void {
    const version = db.exec("PRAGMA schema_version")[0]?.values[0]?.[0] ?? null;
    if (version === this.#schemaVersion) return;
    this.#schemaVersion = version;
    const old = db.exec(
      `SELECT name FROM sqlite_temp_master WHERE type = 'trigger' AND substr(name, 1, ${TRIGGER_PREFIX.length}) = '${TRIGGER_PREFIX}'`,
    )[0]?.values ?? [];
    for (const [name] of old) db.exec(`DROP TRIGGER IF EXISTS temp.${quoteName(String(name))}`);
    const tables = db.exec(
      `SELECT t.name, EXISTS (SELECT 1 FROM pragma_table_info(t.name, 'main') WHERE name = '${OWNER_COLUMN}')
       FROM pragma_table_list t
       WHERE t.schema = 'main' AND t.type = 'table' AND t.wr = 0 AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`,
    )[0]?.values ?? [];
    tables.forEach(([name, owned], index) => {
      const table = String(name);
      const on = `main.${quoteName(table)}`;
      const literal = `'${table.replace(/'/g, "''")}'`;
      const call = (kind: number, row: "new" | "old") =>
        `SELECT ${ROW_FUNCTION}(${kind}, ${literal}, ${row}.rowid, ${row}.${OWNER_COLUMN})`;
      const triggers = owned
        ? [
          ["i", "INSERT", call(KIND_CODES.insert, "new")],
          ["u", "UPDATE", call(KIND_CODES.update, "new")],
          ["d", "DELETE", call(KIND_CODES.delete, "old")],
        ]
        : [["d", "DELETE", "SELECT 1"]];
      for (const [suffix, event, body] of triggers) {
        const trigger = quoteName(`${TRIGGER_PREFIX}${index}_${suffix}`);
        try {
          db.exec(`CREATE TEMP TRIGGER ${trigger} AFTER ${event} ON ${on} BEGIN ${body}; END`);
        } catch {
          // A table SQLite refuses triggers on: its owners stay unknown, see README.
        }
      }
    });
  }

  /** Where the record stands, for {@linkcode rollBack}. */
  mark(): RecorderMark {
    return [this.#changes.length, this.#owners.length];
  }

  /** Forgets what was recorded after `mark` (a write that failed and was rolled back). */
  rollBack(mark: RecorderMark): void {
    this.#changes.length = Math.min(mark[0], this.#changes.length);
    this.#owners.length = Math.min(mark[1], this.#owners.length);
  }

  /** Whether anything was recorded since the last take. */
  get pending(): boolean {
    return this.#changes.length > 0;
  }

  /** The changes recorded since the last call, grouped; `undefined` when there were none. */
  take(): CommitRows | undefined {
    if (this.#changes.length === 0) {
      this.#owners = [];
      return undefined;
    }
    const rows = groupRows(this.#changes, new Map(this.#owners));
    this.#changes = [];
    this.#owners = [];
    return rows;
  }

  /** Forgets everything recorded. */
  clear(): void {
    this.#changes = [];
    this.#owners = [];
  }
}

function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
