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
 * A commit whose writer looked no owners up (nobody who tells rows apart by
 * owner was watching: see `watchers.ts`) says so with the key `"u"`
 * (unscoped) instead of `"t"`: its inserted and updated rows' owners are
 * `null`. A reader without the `"u"` kind (an older db-router) takes the
 * note for one it does not understand and hears a resync, never rows with
 * the wrong owners. Such a note also lists, under `"k"`, the owned tables
 * where one of the commit's updates may have changed a row's owner or rowid
 * (`{"v":1,"u":{...},"k":["bots"]}`; older readers ignore the key): a scoped
 * listener of today looks the owners of its rows up itself after the
 * catch-up (see `hub.ts`), and needs to know whether a later commit's update
 * of the same row kept its owner.
 *
 * @module
 */
import type { CommitRows, OwnedRows, UniformRows } from "./rows.ts";

const NOTE_VERSION = 1;
const ENCODER = new TextEncoder();
/** Notes up to this many characters are encoded by {@linkcode utf8}'s own loop when ASCII. */
const SHORT_NOTE = 256;
const DECODER = new TextDecoder();

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
export function encodeNote(
  rows: CommitRows,
  ownersKnown = true,
  moved?: readonly string[],
): Uint8Array {
  // Written out by hand rather than through JSON.stringify of nested objects and arrays: it is
  // on every commit while someone elsewhere watches, where building those objects cost several
  // times the text itself. Names and owners go through JSON.stringify, so that they are
  // escaped as JSON escapes them, and a table named `__proto__` stays a table.
  let text = `{"v":${NOTE_VERSION},"${ownersKnown ? "t" : "u"}":{`;
  let firstTable = true;
  for (const [table, groups] of rows) {
    text += `${firstTable ? "" : ","}${JSON.stringify(table)}:[`;
    firstTable = false;
    for (let i = 0; i < groups.length; i++) {
      const { owner, inserted, updated, deleted } = groups[i];
      text += `${i === 0 ? "" : ","}${group(owner, inserted, updated, deleted)}`;
    }
    text += "]";
  }
  return utf8(`${text}}${moves(ownersKnown, moved)}}`);
}

/**
 * The note of {@linkcode encodeNote} for rows without owners (`"u"`), all of
 * one kind in one table (see `rows.ts`), straight from their rowids: the
 * same bytes, with no arrays built on the way.
 *
 * @example
 * ```ts
 * import { encodeUniformNote, readNote } from "./note.ts";
 * const note = encodeUniformNote({ table: "bots", kind: 1, rowids: new Float64Array([4, 5]) }, []);
 * readNote(note)?.rows.get("bots")?.[0].updated; // [4, 5]
 * ```
 */
export function encodeUniformNote(rows: UniformRows, moved?: readonly string[]): Uint8Array {
  const lists: ArrayLike<number>[] = [NONE, NONE, NONE];
  lists[rows.kind] = rows.rowids;
  const text = `{"v":${NOTE_VERSION},"u":{${JSON.stringify(rows.table)}:[${
    group(null, lists[0], lists[1], lists[2])
  }]}${moves(false, moved)}}`;
  return utf8(text);
}

const NONE: readonly number[] = Object.freeze([]);

/** One owner's group: `[owner,[runs],[runs],[runs]]`. */
function group(
  owner: string | null,
  inserted: ArrayLike<number>,
  updated: ArrayLike<number>,
  deleted: ArrayLike<number>,
): string {
  return `[${owner === null ? "null" : JSON.stringify(owner)},[${runs(inserted)}],[${
    runs(updated)
  }],[${runs(deleted)}]]`;
}

/** The `"k"` key of a note without owners, when the moved tables are known. */
function moves(ownersKnown: boolean, moved: readonly string[] | undefined): string {
  return !ownersKnown && moved ? `,"k":${JSON.stringify(moved)}` : "";
}

/**
 * Decodes a note whose owners were looked up; `undefined` when it is not one
 * this version understands, or its owners are unknown (the listener then
 * hears a resync).
 *
 * @example
 * ```ts
 * import { decodeNote } from "./note.ts";
 * decodeNote(new TextEncoder().encode("{}")); // undefined
 * ```
 */
export function decodeNote(bytes: Uint8Array): CommitRows | undefined {
  const note = readNote(bytes);
  return note?.ownersKnown ? note.rows : undefined;
}

/** A decoded note: its rows, and whether their owners were looked up. */
export interface ReadNote {
  /** The rows, by table; owners `null` when not {@linkcode ownersKnown}. */
  readonly rows: CommitRows;
  /** Whether the writer looked owners up (`"t"`), or not (`"u"`). */
  readonly ownersKnown: boolean;
  /**
   * For a note without owners that says so (`"k"`): the tables where an
   * update may have changed a row's owner or rowid (in the others, every
   * updated row kept both). `undefined`: anywhere.
   */
  readonly moved?: ReadonlySet<string>;
}

/**
 * Decodes a note of either kind; `undefined` when it is not one this version
 * understands.
 *
 * @example
 * ```ts
 * import { encodeNote, readNote } from "./note.ts";
 * const rows = new Map([["bots", [{ owner: null, inserted: [1], updated: [], deleted: [] }]]]);
 * readNote(encodeNote(rows, false))?.ownersKnown; // false
 * ```
 */
export function readNote(bytes: Uint8Array): ReadNote | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(DECODER.decode(bytes));
  } catch {
    return undefined;
  }
  const note = parsed as { v?: unknown; t?: unknown; u?: unknown; k?: unknown };
  if (note?.v !== NOTE_VERSION) return undefined;
  const ownersKnown = note.t !== undefined;
  const tables = ownersKnown ? note.t : note.u;
  if (typeof tables !== "object" || tables === null) return undefined;
  const rows = new Map<string, OwnedRows[]>();
  for (const [table, groups] of Object.entries(tables as Record<string, unknown>)) {
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
  const moved = !ownersKnown && Array.isArray(note.k) && note.k.every((t) => typeof t === "string")
    ? new Set(note.k as string[])
    : undefined;
  return moved ? { rows, ownersKnown, moved } : { rows, ownersKnown };
}

/**
 * `text` as UTF-8. A short ASCII note (the usual one: a few tables and runs)
 * is copied byte by byte into a small array that the engine allocates on its
 * heap; `TextEncoder.encode` makes a new external buffer each time, which
 * cost more than the note's text in a commit (Node: BENCHMARKS.md, issue 18).
 */
function utf8(text: string): Uint8Array {
  const length = text.length;
  if (length > SHORT_NOTE) return ENCODER.encode(text);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return ENCODER.encode(text);
    bytes[i] = code;
  }
  return bytes;
}

/**
 * Sorted rowids as runs of consecutive values, `first,count,first,count...`
 * (a bulk change of consecutive rows is one run). One pass, no array: on
 * every commit while someone elsewhere watches.
 */
function runs(rowids: ArrayLike<number>): string {
  const n = rowids.length;
  if (n === 0) return "";
  let text = "";
  let first = rowids[0];
  let last = first;
  for (let i = 1; i < n; i++) {
    const rowid = rowids[i];
    if (rowid === last + 1) {
      last = rowid;
      continue;
    }
    text += `${first},${last - first + 1},`;
    first = last = rowid;
  }
  return `${text}${first},${last - first + 1}`;
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
