/**
 * Other SQLite programs (the `sqlite3` shell, scripts on better-sqlite3 or
 * Python's `sqlite3`) that open a database's base file directly.
 *
 * While the page log holds commits, the base is older than the database, so
 * a change another program makes to it cannot be merged with the log, and
 * the next fold would write over it. Each fold records in the log's header
 * what it left: the base's inode, size, modification time (milliseconds,
 * low 32 bits) and SQLite's file change counter (header bytes 24..27, which
 * SQLite increments on every commit in rollback-journal mode). A base that no
 * longer matches is foreign-written: with commits in the log, reading or
 * writing it is refused with `FOREIGN_WRITE`; with an empty log it is the
 * whole database, and is taken as it is (the next commit folds).
 *
 * A program in WAL mode keeps its recent commits in `PATH-wal`, and one in the
 * middle of a rollback-journal transaction (or killed in it) leaves a hot
 * `PATH-journal`: the base alone is then not the database, and writing it
 * would corrupt it for that program. Both refuse with `FOREIGN_JOURNAL`.
 *
 * @module
 */
import { RouterError } from "../../errors.ts";
import {
  type FileInfo,
  type FileSystem,
  openIfPresent,
  readFully,
  statIfPresent,
} from "./file_system.ts";
import type { DatabaseFiles, LogHeader } from "./log_format.ts";

/** What identifies one state of a base file. */
export interface BaseRecord {
  readonly ino: number;
  readonly size: number;
  /** Modification time, in milliseconds since the epoch. */
  readonly mtimeMs: number;
  /** SQLite's file change counter (header bytes 24..27), 0 for a file too short to have one. */
  readonly counter: number;
}

/**
 * SQLite's file change counter in `image` (bytes 24..27, big-endian).
 *
 * @example
 * ```ts
 * import { changeCounter } from "./foreign.ts";
 * changeCounter(new Uint8Array(100)); // 0
 * ```
 */
export function changeCounter(bytes: Uint8Array): number {
  if (bytes.length < 28) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset + 24, 4).getUint32(0);
}

/**
 * The low 32 bits of a modification time in whole milliseconds, as a log
 * header records it.
 *
 * @example
 * ```ts
 * import { mtimeKey } from "./foreign.ts";
 * mtimeKey(4294967296 + 5.7); // 5
 * ```
 */
export function mtimeKey(mtimeMs: number): number {
  return Math.floor(mtimeMs) % 4294967296;
}

/**
 * Whether `base` is the file the fold that wrote `header` left. Logs written
 * before the header recorded time and counter (both 0) compare inode and
 * size only. Times may differ by 1 ms: runtimes round nanoseconds differently.
 *
 * @example
 * ```ts ignore
 * if (!matchesHeader(header, await readBaseRecord(fs, path))) refuse();
 * ```
 */
export function matchesHeader(
  header: LogHeader,
  base: Pick<FileInfo, "ino" | "size" | "mtimeMs"> & { counter?: number },
): boolean {
  if (header.baseIno !== base.ino || header.baseSize !== base.size) return false;
  if (header.baseMtime === 0 && header.baseCounter === 0) return true;
  const drift = Math.abs(mtimeKey(base.mtimeMs) - header.baseMtime);
  if (drift > 1 && drift < 4294967295) return false;
  return base.counter === undefined || base.counter === header.baseCounter;
}

/**
 * Whether two records are the same state of a base (or both absent).
 *
 * @example
 * ```ts ignore
 * sameBase(state.base, await readBaseRecord(fs, files.base)); // false after sqlite3 wrote it
 * ```
 */
export function sameBase(a: BaseRecord | null, b: BaseRecord | null): boolean {
  if (a === null || b === null) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs &&
    a.counter === b.counter;
}

/**
 * Reads the record of the base at `path` (an open, `fstat` and a 28-byte
 * read); `null` when there is no base.
 *
 * @example
 * ```ts ignore
 * const record = await readBaseRecord(fs, "/data/global.db");
 * ```
 */
export async function readBaseRecord(fs: FileSystem, path: string): Promise<BaseRecord | null> {
  const handle = await openIfPresent(fs, path);
  if (handle === null) return null;
  try {
    const info = await handle.stat();
    const head = new Uint8Array(28);
    const got = await readFully(handle, head, 0);
    return recordOf(info, head.subarray(0, got));
  } finally {
    await handle.close();
  }
}

/**
 * The record of a base from its `fstat` and its first bytes.
 *
 * @example
 * ```ts ignore
 * const record = recordOf(await handle.stat(), bytes);
 * ```
 */
export function recordOf(info: FileInfo, bytes: Uint8Array): BaseRecord {
  return { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, counter: changeCounter(bytes) };
}

/**
 * Rejects with `FOREIGN_JOURNAL` when another program's `PATH-wal`, or a hot
 * (or in-use) `PATH-journal`, is beside the base: two failed `open`s in the
 * usual case. A `-journal` that is empty or whose header was zeroed (SQLite's
 * `TRUNCATE` and `PERSIST` modes after a commit) holds nothing and is ignored.
 *
 * @example
 * ```ts ignore
 * await assertNoForeignJournal(fs, databaseFiles("/data/global.db"));
 * ```
 */
export async function assertNoForeignJournal(fs: FileSystem, files: DatabaseFiles): Promise<void> {
  const wal = `${files.base}-wal`;
  const walInfo = await statIfPresent(fs, wal);
  if (walInfo !== null) {
    throw new RouterError(
      "FOREIGN_JOURNAL",
      `Cannot use database "${files.base}": another SQLite program has it open in WAL mode, or left its write-ahead log "${wal}" (${walInfo.size} bytes) that may hold commits the file does not; run "PRAGMA wal_checkpoint(TRUNCATE)" in that program and close it (a WAL file that no program has open and that is empty can be deleted)`,
    );
  }
  const journal = `${files.base}-journal`;
  const journalInfo = await statIfPresent(fs, journal);
  if (journalInfo === null || journalInfo.size < JOURNAL_MAGIC.length) return;
  const head = await readHead(fs, journal, JOURNAL_MAGIC.length);
  if (head !== null && JOURNAL_MAGIC.every((byte, i) => head[i] === byte)) {
    throw new RouterError(
      "FOREIGN_JOURNAL",
      `Cannot use database "${files.base}": another SQLite program is in a transaction on it, or was killed in one and left its hot rollback journal "${journal}"; let that program finish, or open the file once with the sqlite3 shell (which rolls the journal back) and close it`,
    );
  }
}

/** A rollback journal's header starts with these bytes (SQLite's `aJournalMagic`). */
const JOURNAL_MAGIC = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];

/** The first `length` bytes of `path`; `null` when it is missing or shorter. */
async function readHead(fs: FileSystem, path: string, length: number): Promise<Uint8Array | null> {
  const handle = await openIfPresent(fs, path);
  if (handle === null) return null;
  try {
    const bytes = new Uint8Array(length);
    return await readFully(handle, bytes, 0) < length ? null : bytes;
  } finally {
    await handle.close();
  }
}

/**
 * Whether `info` (a `stat` of the base) agrees with `record` in inode, size
 * and time: one `stat` instead of an open and a read, for every commit.
 *
 * @example
 * ```ts ignore
 * sameStat(state.base, await fs.stat(path)); // false once sqlite3 wrote the file
 * ```
 */
export function sameStat(record: BaseRecord | null, info: FileInfo | null): boolean {
  if (record === null || info === null) return record === null && info === null;
  return record.ino === info.ino && record.size === info.size && record.mtimeMs === info.mtimeMs;
}

/**
 * The `FOREIGN_WRITE` error for the base at `path`.
 *
 * @example
 * ```ts ignore
 * throw foreignWriteError("/data/global.db", "it changed since this process read it");
 * ```
 */
export function foreignWriteError(path: string, detail: string): RouterError {
  return new RouterError(
    "FOREIGN_WRITE",
    `Cannot use database "${path}": another program wrote the file (${detail}) while db-router's page log "${path}-dbrlog" held commits that the file does not; nothing was written. Stop every router of this file, keep a copy of the file and of "${path}-dbrlog", then either remove the log (keeping the other program's change, losing the router commits since the last fold) or restore the file as it was; see README "Other SQLite programs"`,
  );
}
