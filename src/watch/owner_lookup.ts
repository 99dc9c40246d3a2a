/**
 * The owners (`source_menace_id`) of changed rows, read again from the
 * database by rowid runs: one prepared statement per table (kept until the
 * schema changes), so that a commit's lookup costs one row of one statement
 * in the usual case (every row found, one owner).
 *
 * @module
 */
import type { SqlJsDatabase, SqlJsStatement } from "../engine/sqljs_types.ts";

/** The column that names a row's owner. */
export const OWNER_COLUMN = "source_menace_id";

/** The owner of a changed row by rowid; `undefined` for a row not there. */
export type OwnerOf = (rowid: number) => string | null | undefined;

/** A table's owner lookups: a summary over runs, one over a single run, and the grouped list. */
type Lookups = [SqlJsStatement, SqlJsStatement, SqlJsStatement];

/**
 * Owner lookups of one database's tables.
 *
 * @example
 * ```ts ignore
 * const lookups = new OwnerLookups();
 * const ownerOf = lookups.lookUp(db, "bots", [1, 2, 3]);
 * ownerOf(2); // "alpha"
 * lookups.free(); // the schema changed
 * ```
 */
export class OwnerLookups {
  /** The lookups of each table, prepared on first use. */
  #statements = new Map<string, Lookups>();

  /**
   * The owners of `rowids` in `table` now, by rowid (rows since gone are left
   * out), over the rowids' runs. The usual case, every row found and one
   * owner, costs one row of one statement; otherwise a second statement
   * groups the rowids by owner in SQLite, so that a row per owner crosses
   * into JavaScript, not a row per rowid.
   */
  lookUp(db: SqlJsDatabase, table: string, rowids: readonly number[]): OwnerOf {
    const owners = new Map<number, string | null>();
    const byRowid: OwnerOf = (rowid) => owners.get(rowid);
    try {
      const runs = runsOf(rowids);
      const wanted = runs.reduce((sum, [first, last]) => sum + last - first + 1, 0);
      const [summary, range, grouped] = this.#prepared(db, table);
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
  #prepared(db: SqlJsDatabase, table: string): Lookups {
    let statements = this.#statements.get(table);
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
      this.#statements.set(table, statements);
    }
    return statements;
  }

  /** Frees the prepared statements (the schema changed, or recording stops). */
  free(): void {
    for (const statements of this.#statements.values()) statements.forEach((st) => st.free());
    this.#statements.clear();
  }

  /** Drops the statements without freeing them (their database was closed with them). */
  forget(): void {
    this.#statements = new Map();
  }
}

function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
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
