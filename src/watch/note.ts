/**
 * The stored form of {@linkcode CommitRows}: the note that the engine hands a
 * storage adapter with each commit (`PageCommit.note`), and reads back with a
 * catch-up (`PageChanges.notes`). UTF-8 JSON:
 *
 * `{"v":1,"t":{"bots":[["alpha",[1,3],[],[9,1]]]}}`
 *
 * one array per table and owner: the owner (or `null`), then the inserted,
 * updated and deleted rowids as runs `[first, count, first, count, ...]`, so
 * that a bulk insert of consecutive rowids costs a few bytes.
 *
 * @module
 */
import type { CommitRows, OwnedRows } from "./rows.ts";

const NOTE_VERSION = 1;

/**
 * Encodes `rows` as a note.
 *
 * @example
 * ```ts
 * import { decodeNote, encodeNote } from "./note.ts";
 * const rows = new Map([["bots", [{ owner: "a", inserted: [1, 2, 3], updated: [], deleted: [] }]]]);
 * decodeNote(encodeNote(rows))?.get("bots")?.[0].inserted; // [1, 2, 3]
 * ```
 */
export function encodeNote(rows: CommitRows): Uint8Array {
  const tables: Record<string, unknown[]> = {};
  for (const [table, groups] of rows) {
    tables[table] = groups.map((
      g,
    ) => [g.owner, runs(g.inserted), runs(g.updated), runs(g.deleted)]);
  }
  return new TextEncoder().encode(JSON.stringify({ v: NOTE_VERSION, t: tables }));
}

/**
 * Decodes a note; `undefined` when it is not one this version understands
 * (the listener then hears a resync).
 *
 * @example
 * ```ts
 * import { decodeNote } from "./note.ts";
 * decodeNote(new TextEncoder().encode("{}")); // undefined
 * ```
 */
export function decodeNote(bytes: Uint8Array): CommitRows | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  const note = parsed as { v?: unknown; t?: unknown };
  if (note?.v !== NOTE_VERSION || typeof note.t !== "object" || note.t === null) return undefined;
  const rows = new Map<string, OwnedRows[]>();
  for (const [table, groups] of Object.entries(note.t as Record<string, unknown>)) {
    if (!Array.isArray(groups)) return undefined;
    const decoded: OwnedRows[] = [];
    for (const group of groups) {
      if (!Array.isArray(group) || group.length !== 4) return undefined;
      const [owner, inserted, updated, deleted] = group;
      if (owner !== null && typeof owner !== "string") return undefined;
      const lists = [inserted, updated, deleted].map(expand);
      if (lists.some((list) => list === undefined)) return undefined;
      decoded.push({ owner, inserted: lists[0]!, updated: lists[1]!, deleted: lists[2]! });
    }
    rows.set(table, decoded);
  }
  return rows;
}

/** Sorted rowids as runs of consecutive values. */
function runs(rowids: readonly number[]): number[] {
  const out: number[] = [];
  for (const rowid of rowids) {
    const last = out.length - 2;
    if (last >= 0 && out[last] + out[last + 1] === rowid) out[last + 1]++;
    else out.push(rowid, 1);
  }
  return out;
}

function expand(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length % 2 !== 0) return undefined;
  const rowids: number[] = [];
  for (let i = 0; i < value.length; i += 2) {
    const [first, count] = [value[i], value[i + 1]];
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || count < 1) return undefined;
    for (let n = 0; n < count; n++) rowids.push(first + n);
  }
  return rowids;
}
