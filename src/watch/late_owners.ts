/**
 * Owners for a note written without them (`"u"`, see `note.ts`), looked up
 * by the watcher after its catch-up, so that the writer needs not read its
 * changed rows again at commit.
 *
 * The watcher's database then holds the rows as of the last commit it caught
 * up with, not as of the noted one. A row's owner now is its owner at the
 * noted commit when no later commit of the catch-up changed it: the later
 * notes tell. A later note that names the row as inserted, or as updated by
 * a commit whose updates may have changed owners or rowids (a note with
 * owners, or one whose `"k"` lists the table), or a later commit without a
 * readable note or with no row (a schema change), leaves the owner unknown;
 * a later delete gives it (the delete's note carries the deleted row's
 * owner). Unknown: the caller hears a resync, never rows with a wrong owner.
 *
 * @module
 */
import type { ReadNote } from "./note.ts";
import { type CommitRows, type OwnedRows, ownedRows } from "./rows.ts";

/** The owner of a row of `table` in the watcher's database now, by rowid; `undefined`: none. */
export type OwnersNow = (
  table: string,
  rowids: readonly number[],
) => (rowid: number) => string | null | undefined;

/**
 * The rows of `notes[index]` with their owners: the note's own when it has
 * them, else as {@linkcode OwnersNow} gives them where no later note (up to
 * the end of `notes`, the catch-up's last commit) may have changed them;
 * `undefined` when some row's owner cannot be told.
 *
 * @example
 * ```ts
 * import { ownersLate } from "./late_owners.ts";
 * const rows = new Map([["bots", [{ owner: null, inserted: [1], updated: [], deleted: [] }]]]);
 * const notes = [{ rows, ownersKnown: false, moved: new Set<string>() }];
 * ownersLate(notes, 0, () => () => "alpha")?.get("bots")?.[0].owner; // "alpha"
 * ```
 */
export function ownersLate(
  notes: readonly (ReadNote | undefined)[],
  index: number,
  ownersNow: OwnersNow,
): CommitRows | undefined {
  const note = notes[index];
  if (!note) return undefined;
  if (note.ownersKnown) return note.rows;
  const result = new Map<string, OwnedRows[]>();
  for (const [table, groups] of note.rows) {
    const deletedHere = new Set<number>();
    const wanted = new Set<number>();
    for (const group of groups) {
      for (const rowid of group.deleted) deletedHere.add(rowid);
      for (const rowid of group.inserted) wanted.add(rowid);
      for (const rowid of group.updated) wanted.add(rowid);
    }
    const settled = settledLater(notes, index, table, wanted);
    if (!settled) return undefined;
    const open = [...wanted].filter((rowid) => !settled.has(rowid)).sort((a, b) => a - b);
    const now = ownersNow(table, open);
    const ownerOf = (rowid: number): string | null | undefined => {
      if (settled.has(rowid)) return settled.get(rowid);
      const owner = now(rowid);
      // Gone in this very commit (inserted or updated, then deleted): as the writer tells it.
      return owner === undefined && deletedHere.has(rowid) ? null : owner;
    };
    const byOwner = new Map<string | null, [number[], number[], number[]]>();
    const add = (owner: string | null, kind: 0 | 1 | 2, rowid: number) => {
      let lists = byOwner.get(owner);
      if (!lists) byOwner.set(owner, lists = [[], [], []]);
      lists[kind].push(rowid);
    };
    for (const group of groups) {
      for (const [kind, list] of [[0, group.inserted], [1, group.updated]] as const) {
        for (const rowid of list) {
          const owner = ownerOf(rowid);
          if (owner === undefined) return undefined;
          add(owner, kind, rowid);
        }
      }
      for (const rowid of group.deleted) add(group.owner, 2, rowid);
    }
    result.set(
      table,
      [...byOwner].map(([owner, lists]) => ownedRows(owner, lists)),
    );
  }
  return result;
}

/**
 * The rows of `wanted` (of `table`) that a note after `index` deleted, with
 * the owner each had then (its owner at `index` too, since nothing between
 * changed it); `undefined` when a later commit may have changed the owner of
 * one of them.
 */
function settledLater(
  notes: readonly (ReadNote | undefined)[],
  index: number,
  table: string,
  wanted: ReadonlySet<number>,
): Map<number, string | null> | undefined {
  const settled = new Map<number, string | null>();
  for (let later = index + 1; later < notes.length && settled.size < wanted.size; later++) {
    const note = notes[later];
    if (!note || note.rows.size === 0) return undefined;
    const groups = note.rows.get(table);
    if (!groups) continue;
    const kept = !note.ownersKnown && note.moved !== undefined && !note.moved.has(table);
    const open = (rowid: number) => wanted.has(rowid) && !settled.has(rowid);
    for (const group of groups) {
      if (group.inserted.some(open)) return undefined;
      if (!kept && group.updated.some(open)) return undefined;
    }
    for (const group of groups) {
      for (const rowid of group.deleted) if (open(rowid)) settled.set(rowid, group.owner);
    }
  }
  return settled;
}
