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

/** Row changes as columns (see `update_hook.ts`): kind code, table index into `names`, rowid. */
export interface ChangeColumns {
  readonly length: number;
  readonly kinds: Uint8Array;
  readonly tables: Uint32Array;
  readonly rowids: Float64Array;
  readonly names: readonly string[];
}

/**
 * Groups row changes (in any order, repeats allowed) into
 * {@linkcode CommitRows}, sorted and without repeats; `ownerOf` gives a
 * changed row's owner (`null`: unknown), `undefined` when no row has one.
 *
 * @example
 * ```ts
 * import { groupRows } from "./rows.ts";
 * const changes = {
 *   length: 2, kinds: new Uint8Array([0, 0]), tables: new Uint32Array([0, 0]),
 *   rowids: new Float64Array([2, 1]), names: ["bots"],
 * };
 * const rows = groupRows(changes, (_k, _t, rowid) => rowid === 1 ? "alpha" : null);
 * rows.get("bots")?.length; // 2: alpha's row 1, and row 2 whose owner is unknown
 * ```
 */
export function groupRows(
  changes: ChangeColumns,
  ownerOf?: (kind: number, table: string, rowid: number) => string | null,
): CommitRows {
  const { kinds, tables, rowids, names } = changes;
  if (!ownerOf) return groupWithoutOwners(changes);
  const byTable = new Map<string, Map<string | null, [number[], number[], number[]]>>();
  let lastTable = -1;
  let lastOwners: Map<string | null, [number[], number[], number[]]> | undefined;
  let lastOwner: string | null | undefined;
  let lastLists: [number[], number[], number[]] | undefined;
  for (let i = 0; i < changes.length; i++) {
    const kind = kinds[i];
    const rowid = rowids[i];
    if (tables[i] !== lastTable) {
      lastTable = tables[i];
      lastOwners = byTable.get(names[lastTable]);
      if (!lastOwners) byTable.set(names[lastTable], lastOwners = new Map());
      lastOwner = undefined;
    }
    const owner = ownerOf ? ownerOf(kind, names[lastTable], rowid) : null;
    if (owner !== lastOwner || !lastLists) {
      lastOwner = owner;
      lastLists = lastOwners!.get(owner);
      if (!lastLists) lastOwners!.set(owner, lastLists = [[], [], []]);
    }
    lastLists[kind].push(rowid);
  }
  const rows = new Map<string, OwnedRows[]>();
  for (const [table, byOwner] of byTable) {
    rows.set(
      table,
      [...byOwner].map(([owner, lists]) => ownedRows(owner, lists)),
    );
  }
  return rows;
}
/** {@linkcode groupRows} with no owners: one group per table, by the names' indexes. */
function groupWithoutOwners(changes: ChangeColumns): CommitRows {
  const { kinds, tables, rowids, names } = changes;
  const uniform = uniformAscending(changes);
  if (uniform) {
    const lists: [number[], number[], number[]] = [[], [], []];
    lists[kinds[0]] = uniform;
    return new Map([[names[tables[0]], [{
      owner: null,
      inserted: lists[0],
      updated: lists[1],
      deleted: lists[2],
    }]]]);
  }
  const byIndex: Array<[number[], number[], number[]] | undefined> = [];
  for (let i = 0; i < changes.length; i++) {
    const lists = byIndex[tables[i]] ??= [[], [], []];
    lists[kinds[i]].push(rowids[i]);
  }
  const rows = new Map<string, OwnedRows[]>();
  byIndex.forEach((lists, index) => {
    if (!lists) return;
    rows.set(names[index], [ownedRows(null, lists)]);
  });
  return rows;
}

/**
 * The rowids of `changes` when all are of one kind in one table and
 * ascending (a bulk statement's usual record): one pass, no grouping, no
 * sort; `undefined` otherwise.
 */
function uniformAscending(changes: ChangeColumns): number[] | undefined {
  if (!isUniform(changes)) return undefined;
  const { rowids, length } = changes;
  // Allocated whole and filled: two to four times faster than a push per rowid.
  const list: number[] = new Array(length);
  for (let i = 0; i < length; i++) list[i] = rowids[i];
  return list;
}

/**
 * Whether `changes` (at least one) are all of one kind in one table, in
 * ascending rowid order: {@linkcode UniformRows} can then stand for them.
 *
 * @example
 * ```ts
 * import { isUniform } from "./rows.ts";
 * import { ChangeLog } from "./update_hook.ts";
 * const log = new ChangeLog();
 * log.push(1, log.tableIndex("bots"), 4);
 * log.push(1, log.tableIndex("bots"), 9);
 * isUniform(log); // true
 * ```
 */
export function isUniform(changes: ChangeColumns): boolean {
  const { kinds, tables, rowids, length } = changes;
  if (length === 0) return false;
  const kind = kinds[0];
  const table = tables[0];
  for (let i = 1; i < length; i++) {
    if (kinds[i] !== kind || tables[i] !== table || rowids[i] <= rowids[i - 1]) return false;
  }
  return true;
}

/** One commit's row changes, all of one kind in one table, ascending (see {@linkcode isUniform}). */
export interface UniformRows {
  readonly table: string;
  /** A {@linkcode KIND_CODES} value. */
  readonly kind: number;
  readonly rowids: Float64Array;
}

/**
 * The rows of one owner from its lists of rowids inserted, updated and
 * deleted (in any order, repeats allowed), each made ascending without repeats.
 *
 * @example
 * ```ts
 * import { ownedRows } from "./rows.ts";
 * ownedRows("a", [[3, 1, 3], [], [2]]).inserted; // [1, 3]
 * ```
 */
export function ownedRows(
  owner: string | null,
  [inserted, updated, deleted]: [number[], number[], number[]],
): OwnedRows {
  return {
    owner,
    inserted: sortedUnique(inserted),
    updated: sortedUnique(updated),
    deleted: sortedUnique(deleted),
  };
}

/** `list` sorted, without repeats; rowids arrive mostly ascending, so check first. */
function sortedUnique(list: number[]): number[] {
  let ordered = true;
  for (let i = 1; i < list.length && ordered; i++) ordered = list[i - 1] < list[i];
  if (ordered) return list;
  list.sort((a, b) => a - b);
  return list.filter((rowid, i) => i === 0 || list[i - 1] !== rowid);
}
