/**
 * The rows one commit changed, by table, kind and owner: what a commit record
 * carries for `router.watch()` (see `note.ts` for its stored form).
 *
 * @module
 */

/** How a row changed. */
export type ChangeKind = "insert" | "update" | "delete";

/** The rowids of one table that one owner's rows changed in a commit, by kind. */
export interface OwnedRows {
  /**
   * The `source_menace_id` of the rows: after the change for inserts and
   * updates, before it for deletes; `null` when the table has no such column
   * or the engine could not tell (see README, "Watching changes").
   */
  readonly owner: string | null;
  readonly inserted: readonly number[];
  readonly updated: readonly number[];
  readonly deleted: readonly number[];
}

/**
 * One commit's row changes: table name to its rows, grouped by owner.
 *
 * @example
 * ```ts
 * import type { CommitRows } from "./rows.ts";
 * const rows: CommitRows = new Map([
 *   ["bots", [{ owner: "alpha", inserted: [1], updated: [], deleted: [] }]],
 * ]);
 * ```
 */
export type CommitRows = ReadonlyMap<string, readonly OwnedRows[]>;

/** What the recorder saw, one entry per row change: kind code, table, rowid. */
export const KIND_CODES: Readonly<Record<ChangeKind, number>> = { insert: 0, update: 1, delete: 2 };

/**
 * Groups row changes (`[kind code, table, rowid]`, in any order, repeats
 * allowed) into {@linkcode CommitRows}, sorted and without repeats; `owners`
 * maps `kind code:table:rowid` to the row's owner.
 *
 * @example
 * ```ts
 * import { groupRows } from "./rows.ts";
 * const rows = groupRows([[0, "bots", 2], [0, "bots", 1]], new Map([["0:bots:1", "alpha"]]));
 * rows.get("bots")?.length; // 2: alpha's row 1, and row 2 whose owner is unknown
 * ```
 */
export function groupRows(
  changes: ReadonlyArray<readonly [number, string, number]>,
  owners: ReadonlyMap<string, string | null>,
): CommitRows {
  const byTable = new Map<string, Map<string | null, [Set<number>, Set<number>, Set<number>]>>();
  for (const [kind, table, rowid] of changes) {
    let byOwner = byTable.get(table);
    if (!byOwner) byTable.set(table, byOwner = new Map());
    const owner = owners.get(`${kind}:${table}:${rowid}`) ?? null;
    let sets = byOwner.get(owner);
    if (!sets) byOwner.set(owner, sets = [new Set(), new Set(), new Set()]);
    sets[kind].add(rowid);
  }
  const rows = new Map<string, OwnedRows[]>();
  for (const [table, byOwner] of byTable) {
    rows.set(
      table,
      [...byOwner].map(([owner, [inserted, updated, deleted]]) => ({
        owner,
        inserted: sorted(inserted),
        updated: sorted(updated),
        deleted: sorted(deleted),
      })),
    );
  }
  return rows;
}

function sorted(set: Set<number>): number[] {
  return [...set].sort((a, b) => a - b);
}
