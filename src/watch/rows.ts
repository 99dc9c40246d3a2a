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
  /** Rowids inserted, ascending. */
  readonly inserted: readonly number[];
  /** Rowids updated, ascending. */
  readonly updated: readonly number[];
  /** Rowids deleted, ascending. */
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
 * allowed) into {@linkcode CommitRows}, sorted and without repeats; `ownerOf`
 * gives a changed row's owner (`null`: unknown).
 *
 * @example
 * ```ts
 * import { groupRows } from "./rows.ts";
 * const rows = groupRows([[0, "bots", 2], [0, "bots", 1]], (_k, _t, rowid) => rowid === 1 ? "alpha" : null);
 * rows.get("bots")?.length; // 2: alpha's row 1, and row 2 whose owner is unknown
 * ```
 */
export function groupRows(
  changes: ReadonlyArray<readonly [number, string, number]>,
  ownerOf: (kind: number, table: string, rowid: number) => string | null,
): CommitRows {
  const byTable = new Map<string, Map<string | null, [number[], number[], number[]]>>();
  let lastTable: string | undefined;
  let lastOwners: Map<string | null, [number[], number[], number[]]> | undefined;
  for (const [kind, table, rowid] of changes) {
    if (table !== lastTable) {
      lastTable = table;
      lastOwners = byTable.get(table);
      if (!lastOwners) byTable.set(table, lastOwners = new Map());
    }
    const owner = ownerOf(kind, table, rowid);
    let lists = lastOwners!.get(owner);
    if (!lists) lastOwners!.set(owner, lists = [[], [], []]);
    lists[kind].push(rowid);
  }
  const rows = new Map<string, OwnedRows[]>();
  for (const [table, byOwner] of byTable) {
    rows.set(
      table,
      [...byOwner].map(([owner, [inserted, updated, deleted]]) => ({
        owner,
        inserted: sortedUnique(inserted),
        updated: sortedUnique(updated),
        deleted: sortedUnique(deleted),
      })),
    );
  }
  return rows;
}

/** `list` sorted, without repeats; rowids arrive mostly ascending, so check first. */
function sortedUnique(list: number[]): number[] {
  let ordered = true;
  for (let i = 1; i < list.length && ordered; i++) ordered = list[i - 1] < list[i];
  if (ordered) return list;
  list.sort((a, b) => a - b);
  return list.filter((rowid, i) => i === 0 || list[i - 1] !== rowid);
}
