/**
 * Records which rows a database's writes change, for `router.watch()`:
 * SQLite's update hook names the table, kind and rowid of each row change
 * (registered directly, see `update_hook.ts`).
 * Owners (`source_menace_id`) come from one lookup per table when the
 * commit's rows are taken (after the change, for inserts and updates), and
 * for deleted rows, which are gone by then, from a temporary `AFTER DELETE`
 * trigger (in the connection's `temp` schema, never stored) that hands the
 * row's owner to a JavaScript function. Every rowid table gets such a trigger,
 * owner or not: a table with a trigger loses SQLite's truncate optimisation,
 * under which `DELETE FROM t` without `WHERE` calls no hook.
 *
 * The triggers follow the schema: the engine calls {@linkcode ChangeRecorder.syncSchema}
 * after anything that may have changed it, which costs one `PRAGMA
 * schema_version` when nothing did.
 *
 * @module
 */
import type {
  SqlJsDatabase,
  SqlJsStatement,
  SqlJsStatic,
  SqlValue,
} from "../engine/sqljs_types.ts";
import { inTransaction } from "../engine/sqljs_image.ts";
import { type CommitRows, groupRows, KIND_CODES } from "./rows.ts";
import { ChangeLog, UpdateHook } from "./update_hook.ts";

/** The SQL function the triggers call; a name users are unlikely to take. */
const DELETED_FUNCTION = "_dbrouter_watch_deleted";
/** The SQL function called when an update may have changed a row's owner or rowid. */
const MOVED_FUNCTION = "_dbrouter_watch_moved";
/** The names an `UPDATE` may give a rowid by (besides an `INTEGER PRIMARY KEY` column's). */
const ROWID_NAMES = ["rowid", "_rowid_", "oid"];
const TRIGGER_PREFIX = "_dbrouter_watch_";
const OWNER_COLUMN = "source_menace_id";

/** No table (a commit whose updates moved no owner or rowid). */
const NO_TABLES: readonly string[] = Object.freeze([]);

/** A table's owner lookups: a summary over runs, one over a single run, and the grouped list. */
type Lookups = [SqlJsStatement, SqlJsStatement, SqlJsStatement];

/** A point to roll the record back to when a write fails. */
export type RecorderMark = readonly [number, number];

/**
 * The row changes of one database since the last {@linkcode take}.
 *
 * @example
 * ```ts ignore
 * const recorder = new ChangeRecorder();
 * recorder.attach(db, SQL);
 * db.exec("INSERT INTO bots (name) VALUES ('b')");
 * recorder.take(db); // Map { "bots" => [{ owner: null, inserted: [1], ... }] }
 * ```
 */
export class ChangeRecorder {
  readonly #changes = new ChangeLog();
  readonly #hook = new UpdateHook(this.#changes);
  /** Deleted rows' owners, as the triggers report them: table, rowid, owner. */
  #deleted: Array<[string, number, string | null]> = [];
  /** Tables (as the schema spells them) with a `source_menace_id` column. */
  #owned = new Set<string>();
  /** The owner lookup of each owned table, prepared once per schema. */
  #lookups = new Map<string, Lookups>();
  /**
   * Owned tables where an update since the last {@linkcode take} may have
   * changed a row's owner or rowid (an `UPDATE` that sets either: a trigger
   * `AFTER UPDATE OF` them tells), and owned tables where that trigger
   * could not be made (always counted).
   */
  #moved = new Set<string>();
  #untracked = new Set<string>();
  /**
   * Whether the write under way may have changed owners or rowids unseen:
   * the schema changed in it, or the recorder was attached inside it (its
   * triggers wait for the transaction's end).
   */
  #untrackedWrite = false;
  /** {@linkcode #moved} as the last {@linkcode take} left it (`undefined`: anywhere). */
  #movedTaken: readonly string[] | undefined = [];
  #schemaVersion: SqlValue = null;

  /** Starts recording `db`'s changes (a new database after a reload: attach it again). */
  attach(db: SqlJsDatabase, sql?: SqlJsStatic): boolean {
    if (!this.#hook.install(db, sql)) return false;
    db.create_function(DELETED_FUNCTION, (table, rowid, owner) => {
      this.#deleted.push([String(table), Number(rowid), typeof owner === "string" ? owner : null]);
      return null;
    });
    db.create_function(MOVED_FUNCTION, (table) => {
      this.#moved.add(String(table));
      return null;
    });
    this.#schemaVersion = null;
    this.#lookups = new Map(); // the old database's statements went with it
    // Inside a transaction (a watch that starts while one runs), the triggers wait for its end.
    if (!inTransaction(db)) this.syncSchema(db);
    else this.#untrackedWrite = true;
    return true;
  }

  /** Stops recording `db`'s changes: the hook and the triggers are removed. */
  detach(db: SqlJsDatabase): void {
    this.#hook.uninstall(db);
    this.#dropTriggers(db);
    for (const statements of this.#lookups.values()) statements.forEach((st) => st.free());
    this.#lookups.clear();
    this.#schemaVersion = null;
    this.clear();
  }

  #dropTriggers(db: SqlJsDatabase): void {
    const old = db.exec(
      `SELECT name FROM sqlite_temp_master WHERE type = 'trigger' AND substr(name, 1, ${TRIGGER_PREFIX.length}) = '${TRIGGER_PREFIX}'`,
    )[0]?.values ?? [];
    for (const [name] of old) db.exec(`DROP TRIGGER IF EXISTS temp.${quoteName(String(name))}`);
  }

  /** Re-creates the triggers when the schema changed since the last call. */
  syncSchema(db: SqlJsDatabase): void {
    const version = db.exec("PRAGMA schema_version")[0]?.values[0]?.[0] ?? null;
    if (version === this.#schemaVersion) return;
    // A schema change in the write (a column added, a table made again): its updates are untold.
    if (this.#schemaVersion !== null) this.#untrackedWrite = true;
    this.#schemaVersion = version;
    for (const statements of this.#lookups.values()) statements.forEach((st) => st.free());
    this.#lookups.clear();
    this.#dropTriggers(db);
    const tables = db.exec(
      `SELECT t.name, EXISTS (SELECT 1 FROM pragma_table_info(t.name, 'main') WHERE name = '${OWNER_COLUMN}')
       FROM pragma_table_list t
       WHERE t.schema = 'main' AND t.type = 'table' AND t.wr = 0 AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`,
    )[0]?.values ?? [];
    this.#owned = new Set();
    this.#untracked = new Set();
    tables.forEach(([name, owned], index) => {
      const table = String(name);
      if (owned) {
        this.#owned.add(table);
        this.#trackMoves(db, table, index);
      }
      const body = owned
        ? `SELECT ${DELETED_FUNCTION}(${quoteText(table)}, old.rowid, old.${OWNER_COLUMN})`
        : "SELECT 1";
      const trigger = quoteName(`${TRIGGER_PREFIX}${index}`);
      try {
        db.exec(
          `CREATE TEMP TRIGGER ${trigger} AFTER DELETE ON main.${
            quoteName(table)
          } BEGIN ${body}; END`,
        );
      } catch {
        // A table SQLite refuses triggers on: see README, "what is not heard".
      }
    });
  }

  /**
   * Makes the trigger that tells an update of `table` that may change a
   * row's owner or rowid: `AFTER UPDATE OF` the owner, the rowid's names and
   * the primary key's columns, so that it runs (a JavaScript call a row)
   * only for statements that set one of them.
   */
  #trackMoves(db: SqlJsDatabase, table: string, index: number): void {
    try {
      const keys = db.exec(
        `SELECT name FROM pragma_table_info(${quoteText(table)}, 'main') WHERE pk > 0`,
      )[0]?.values.map(([name]) => String(name)) ?? [];
      const columns = [...new Set([OWNER_COLUMN, ...ROWID_NAMES, ...keys])].map(quoteName);
      db.exec(
        `CREATE TEMP TRIGGER ${quoteName(`${TRIGGER_PREFIX}m${index}`)} AFTER UPDATE OF ${
          columns.join(", ")
        } ON main.${quoteName(table)} BEGIN SELECT ${MOVED_FUNCTION}(${quoteText(table)}); END`,
      );
    } catch {
      this.#untracked.add(table);
    }
  }

  /**
   * Owned tables where the rows last taken (see {@linkcode take}) may include
   * an update that changed a row's owner or rowid: a watcher elsewhere that
   * looks owners up itself must not take such a row's later owner for the
   * one it had at this commit. `undefined`: any table (the schema changed
   * in the write, or the triggers were not there for all of it).
   */
  get movedTables(): readonly string[] | undefined {
    return this.#movedTaken;
  }

  /**
   * A write starts (`rowChangesOnly`: one that runs no DDL); returns where
   * the record stands, for {@linkcode rollBack}.
   */
  mark(rowChangesOnly = false): RecorderMark {
    this.#hook.beginWrite(rowChangesOnly);
    return [this.#changes.length, this.#deleted.length];
  }

  /**
   * A statement starts inside a write (a transaction's): `rowChangesOnly`
   * when it runs no DDL, so that table names may be read once in it.
   */
  beginStatement(rowChangesOnly: boolean): void {
    this.#hook.beginWrite(rowChangesOnly);
  }

  /** Forgets what was recorded after `mark` (a write that failed and was rolled back). */
  rollBack(mark: RecorderMark): void {
    this.#hook.discard();
    this.#changes.length = Math.min(mark[0], this.#changes.length);
    this.#hook.beginWrite(false);
    this.#deleted.length = Math.min(mark[1], this.#deleted.length);
  }

  /**
   * The changes recorded since the last call, grouped, with their owners:
   * deleted rows' as the triggers reported them; inserted and updated rows'
   * looked up in `db` when `withOwners` (else `null`: the engine skips the
   * lookup when nobody could use it); `undefined` when there were none.
   */
  take(db: SqlJsDatabase, withOwners: boolean): CommitRows | undefined {
    this.#hook.flush();
    const changes = this.#changes;
    const deleted = this.#deleted;
    if (deleted.length > 0) this.#deleted = [];
    this.#movedTaken = this.#untrackedWrite
      ? undefined
      : this.#moved.size + this.#untracked.size === 0
      ? NO_TABLES
      : [...new Set([...this.#moved, ...this.#untracked])];
    this.#moved.clear();
    this.#untrackedWrite = false;
    if (changes.length === 0) return undefined;
    if (!withOwners && deleted.length === 0) {
      // The usual commit with a listener that needs no owners: no lookup, no maps.
      const rows = groupRows(changes);
      changes.clear();
      return rows;
    }
    const owners = new Map<string, OwnerOf>();
    const deletedOwners = new Map<string, Map<number, string | null>>();
    for (const [table, rowid, owner] of deleted) {
      let byRowid = deletedOwners.get(table);
      if (!byRowid) deletedOwners.set(table, byRowid = new Map());
      byRowid.set(rowid, owner);
    }
    const wanted = new Map<string, number[]>();
    const { kinds, tables, rowids, names } = changes;
    for (let i = 0; withOwners && i < changes.length; i++) {
      const table = names[tables[i]];
      if (kinds[i] === KIND_CODES.delete || !this.#owned.has(table)) continue;
      let list = wanted.get(table);
      if (!list) wanted.set(table, list = []);
      list.push(rowids[i]);
    }
    for (const [table, list] of wanted) owners.set(table, this.#lookUp(db, table, list));
    const known = owners.size > 0 || deletedOwners.size > 0;
    const rows = groupRows(
      changes,
      known
        ? (kind, table, rowid) =>
          (kind === KIND_CODES.delete
            ? deletedOwners.get(table)?.get(rowid)
            : owners.get(table)?.(rowid)) ?? null
        : undefined,
    );
    changes.clear();
    return rows;
  }

  /**
   * The owners of `rowids` of `table` as `db` holds them now (a watcher's
   * own lookup for a note written without owners): by rowid, `undefined`
   * for a row not there; `null` for every row of a table without the owner
   * column.
   */
  ownersOf(db: SqlJsDatabase, table: string, rowids: readonly number[]): OwnerOf {
    if (rowids.length === 0) return () => undefined;
    if (!this.#owned.has(table)) {
      // A table without owners, or one this schema does not have (then the rows are gone).
      let exists = false;
      try {
        exists = db.exec(
          `SELECT 1 FROM pragma_table_list WHERE schema = 'main' AND name = ${quoteText(table)}`,
        ).length > 0;
      } catch {
        // Cannot tell: unknown.
      }
      return exists ? () => null : () => undefined;
    }
    return this.#lookUp(db, table, rowids);
  }

  /**
   * The owners of `rowids` in `table` now, by rowid (rows since gone are left
   * out), over the rowids' runs. The usual case, every row found and one
   * owner, costs one row of one statement; otherwise a second statement
   * groups the rowids by owner in SQLite, so that a row per owner crosses
   * into JavaScript, not a row per rowid.
   */
  #lookUp(db: SqlJsDatabase, table: string, rowids: readonly number[]): OwnerOf {
    const owners = new Map<number, string | null>();
    const byRowid: OwnerOf = (rowid) => owners.get(rowid);
    try {
      const runs = runsOf(rowids);
      const wanted = runs.reduce((sum, [first, last]) => sum + last - first + 1, 0);
      const [summary, range, grouped] = this.#lookupStatements(db, table);
      // One run (a one-row commit, a bulk insert) needs no JSON.
      const first = runs.length === 1 ? range : summary;
      first.bind(runs.length === 1 ? runs[0] : [JSON.stringify(runs)]);
      let single: [string | null, number] | undefined;
      try {
        if (first.step()) {
          const row = first.get();
          // One run: the first row's owner, rows found, rows of another owner. Several: the
          // owners' min and max, rows found, rows with an owner.
          const [owner, found, same] = runs.length === 1
            ? [row[0], row[1], row[2] === 0]
            : [row[0], row[2], row[3] === 0 || (row[3] === row[2] && row[0] === row[1])];
          if (found === wanted && same) {
            single = [typeof owner === "string" ? owner : null, Number(found)];
          }
        }
      } finally {
        first.reset();
      }
      if (single) {
        const owner = single[0];
        return () => owner;
      }
      grouped.bind([JSON.stringify(runs)]);
      try {
        while (grouped.step()) {
          const [owner, list] = grouped.get();
          const name = typeof owner === "string" ? owner : null;
          for (const rowid of JSON.parse(String(list)) as number[]) owners.set(rowid, name);
        }
      } finally {
        grouped.reset();
      }
    } catch {
      // A table dropped or changed since: its owners stay unknown.
    }
    return byRowid;
  }

  /** The owner lookups of `table` (over runs, over one run, grouped), prepared once per schema. */
  #lookupStatements(db: SqlJsDatabase, table: string): Lookups {
    let statements = this.#lookups.get(table);
    if (!statements) {
      const from = `FROM json_each(?) AS r JOIN main.${quoteName(table)} AS t
        ON t.rowid BETWEEN r.value ->> 0 AND r.value ->> 1`;
      const owner = `t.${OWNER_COLUMN}`;
      const summary = `SELECT min(${owner}), max(${owner}), count(*), count(${owner})`;
      // Evaluated once per lookup (it depends on no row of the outer query).
      const firstOwner = `(SELECT f.${OWNER_COLUMN} FROM main.${
        quoteName(table)
      } AS f WHERE f.rowid BETWEEN ?1 AND ?2 ORDER BY f.rowid LIMIT 1)`;
      statements = [
        db.prepare(`${summary} ${from}`),
        // Cheaper over a long run than min() and max(): one comparison a row with the first owner.
        db.prepare(
          `SELECT ${firstOwner}, count(*), count(*) FILTER (WHERE ${owner} IS NOT ${firstOwner})
          FROM main.${quoteName(table)} AS t WHERE t.rowid BETWEEN ?1 AND ?2`,
        ),
        db.prepare(`SELECT ${owner}, json_group_array(t.rowid) ${from} GROUP BY 1`),
      ];
      this.#lookups.set(table, statements);
    }
    return statements;
  }

  /** Forgets everything recorded. */
  clear(): void {
    this.#hook.discard();
    this.#changes.clear();
    this.#deleted = [];
    this.#moved.clear();
  }

  /** Frees what the recorder holds in sql.js's module (after {@linkcode detach}). */
  dispose(): void {
    this.#hook.dispose();
  }
}

/** The owner of a changed row by rowid; `undefined` for a row since gone. */
type OwnerOf = (rowid: number) => string | null | undefined;

function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteText(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Rowids (in any order, repeats allowed) as `[first, last]` runs of consecutive values. */
function runsOf(rowids: readonly number[]): Array<[number, number]> {
  let ascending = true;
  for (let i = 1; i < rowids.length && ascending; i++) ascending = rowids[i - 1] < rowids[i];
  const sorted = ascending ? rowids : [...rowids].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const rowid of sorted) {
    const last = runs[runs.length - 1];
    if (last && rowid <= last[1] + 1) last[1] = Math.max(last[1], rowid);
    else runs.push([rowid, rowid]);
  }
  return runs;
}
