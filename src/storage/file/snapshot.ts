/**
 * Reading a file-stored database: its version stamp, its whole image (base
 * plus log), or only the pages committed after a version this process saw.
 *
 * The version stamp comes from the log alone, one open and a 128-byte read:
 * `g<generation>-<salts>-<end>`, where `<end>` is where the log's commits end
 * (its end record's offset; in a format-1 log its size, one `fstat` more; a
 * damaged end record gives `t<size>`, until the next commit folds). Within one
 * generation the end only grows, and every fold draws new random salts, so a stamp never comes back
 * for another state, even across folds by other processes. Without a log, the
 * stamp is the base's inode, size and time (`b...`); with neither, `"none"`.
 *
 * The log's header names its base (size, inode, modification time, SQLite's
 * change counter, and a checksum of its bytes). A reader holds the base open
 * while it reads the log, so the inode cannot be reused meanwhile: a match
 * proves the pair. On a mismatch, a checksum of the base settles it (a copied
 * or touched pair of files still matches). Otherwise the base is not the one
 * the log belongs to: after a fold stopped between its renames (the next log,
 * still at `PATH-dbrlog-next`, names this base) the base alone is the image
 * (see `fold.ts`); a log without commits is dropped the same way; but a log
 * with commits beside a base that another program wrote is refused with
 * `FOREIGN_WRITE` (see `foreign.ts`). The stamp then also names the base
 * (`...-f<inode>-<size>-<time>`), so that version checks see such a change.
 *
 * @module
 */
import { type Checksum, checksum, sameChecksum } from "./checksum.ts";
import {
  type FileHandle,
  type FileInfo,
  type FileSystem,
  isNotFound,
  openIfPresent,
  readFully,
  statIfPresent,
} from "./file_system.ts";
import {
  type DatabaseFiles,
  decodeFoldMarker,
  decodeLogEnd,
  decodeLogHeader,
  END_RECORD_BYTES,
  firstFrame,
  FOLD_MARKER_BYTES,
  type FoldMarker,
  type Frame,
  LOG_HEADER_BYTES,
  type LogEnd,
  type LogHeader,
  PAGE_SUM_FLAG,
  scanCommits,
  type ScanResult,
  splitNote,
  successorSalt,
} from "./log_format.ts";
import { pageSum } from "./page_sum.ts";
import { readHeader } from "../../persist/header.ts";
import { type CommitEffect, mergeCommits } from "../common.ts";
import { applyFrames } from "./replay.ts";
import {
  assertNoForeignJournal,
  type BaseRecord,
  foreignWriteError,
  matchesHeader,
  recordOf,
} from "./foreign.ts";

/**
 * What a handle knows about the files at one version stamp:
 * - `"empty"`: no base (there may be an orphaned log);
 * - `"base"`: a base and no log;
 * - `"log"`: a base and its log, which commits may extend;
 * - `"detached"`: a base and a log that does not belong to it (an interrupted
 *   fold, a damaged or foreign log); the base alone is the image, and the next
 *   commit must fold.
 */
export interface LogState {
  readonly stamp: string;
  readonly mode: "empty" | "base" | "log" | "detached";
  /** The log's header, in mode `"log"`. */
  readonly header?: LogHeader;
  /**
   * Where the log ended when it was read: its size in format 1, its end
   * record's offset in format 2 (its size when that record is damaged). A
   * commit folds first when this is not `validEnd` (a torn commit).
   */
  readonly size: number;
  /** Where the last valid commit of the log ends. */
  readonly validEnd: number;
  /** The checksum chain value at `validEnd`. */
  readonly sums: Checksum;
  /** Bytes of the image at this state. */
  readonly imageLength: number;
  /** The base file at this state, `null` for none: a commit refuses if it changed. */
  readonly base: BaseRecord | null;
  /** In mode `"log"`: the marker of a fold in place that has not finished. */
  readonly marker?: FoldMarker;
  /** In modes `"base"` and `"detached"`, for a SQLite base: its page size and page sum. */
  readonly basePageSize?: number;
  readonly baseSum?: Checksum;
}

/** An image and the state it was read at. */
export interface Snapshot {
  readonly image: Uint8Array | null;
  readonly state: LogState;
}

const ATTEMPTS = 5;

/**
 * Reads the version stamp of the database in `files`.
 *
 * @example
 * ```ts ignore
 * const stamp = await readStamp(fs, databaseFiles("/data/global.db"));
 * ```
 */
export async function readStamp(fs: FileSystem, files: DatabaseFiles): Promise<string> {
  let handle;
  try {
    handle = await fs.open(files.log, "read");
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return stampOf(undefined, null, await statIfPresent(fs, files.base));
  }
  try {
    const bytes = new Uint8Array(LOG_HEADER_BYTES + END_RECORD_BYTES);
    const got = await readFully(handle, bytes, 0);
    const header = decodeLogHeader(bytes.subarray(0, got));
    const end = header && decodeLogEnd(bytes.subarray(LOG_HEADER_BYTES, got), header);
    // A format-2 log's end record says where it ends: no `fstat` needed.
    const info = end ? null : await handle.stat();
    const base = header ? await statIfPresent(fs, files.base) : null;
    return stampOf(header, info, base, end ? end.validEnd : undefined);
  } finally {
    await handle.close();
  }
}

/**
 * Reads the whole current image: the base with the log's valid commits applied.
 *
 * @example
 * ```ts ignore
 * const { image, state } = await readSnapshot(fs, databaseFiles("/data/global.db"));
 * ```
 */
export async function readSnapshot(fs: FileSystem, files: DatabaseFiles): Promise<Snapshot> {
  await assertNoForeignJournal(fs, files);
  for (let attempt = 1;; attempt++) {
    // The log is read first and checked again after the base: a fold in place
    // marks the log before it writes the base, so a base read while a fold
    // wrote it comes with a log that shows the fold (or was replaced meanwhile).
    const log = await openWhole(fs, files.log);
    try {
      // The base stays open until the path is checked again, so its inode
      // cannot pass to another file meanwhile.
      const base = await openWhole(fs, files.base);
      try {
        const again = log ? await rereadGrown(log) : null;
        const logNow = await statIfPresent(fs, files.log);
        const current = base || log ? await statIfPresent(fs, files.base) : null;
        const moved = (base
          ? current?.ino !== base.info.ino || current?.size !== base.info.size
          : current !== null) || logNow?.ino !== log?.info.ino;
        if (moved) {
          // A fold replaced (or first wrote) the base or the log after we read it.
          if (attempt < ATTEMPTS) {
            continue;
          }
          throw new Error(`the database kept changing while it was read (${ATTEMPTS} attempts)`);
        }
        const settled = await settle(fs, files, base, again);
        if (settled !== "foreign") {
          return settled;
        }
        // A fold by another process may have finished its renames meanwhile.
        const now = await statIfPresent(fs, files.log);
        if (now?.ino !== log?.info.ino && attempt < ATTEMPTS) {
          continue;
        }
        throw foreignWriteError(files.base, "it is not the file that the log's last fold left");
      } finally {
        await base?.handle.close();
      }
    } finally {
      await log?.handle.close();
    }
  }
}

/** `log` with the bytes appended since it was read (commits, a fold marker). */
async function rereadGrown(log: OpenedFile): Promise<OpenedFile> {
  const info = await log.handle.stat();
  if (info.size === log.bytes.length) return log;
  const bytes = new Uint8Array(info.size);
  const got = await readFully(log.handle, bytes, 0);
  return { handle: log.handle, bytes: got === bytes.length ? bytes : bytes.subarray(0, got), info };
}

/** The snapshot of the files read, or `"foreign"` for a base that another program wrote. */
async function settle(
  fs: FileSystem,
  files: DatabaseFiles,
  base: OpenedFile | null,
  log: OpenedFile | null,
): Promise<Snapshot | "foreign"> {
  const header = log ? decodeLogHeader(log.bytes) : undefined;
  const end = header && decodeLogEnd(log!.bytes.subarray(LOG_HEADER_BYTES), header);
  const stamp = stampOf(header, log?.info ?? null, base?.info ?? null, end?.validEnd);
  const size = log?.info.size ?? 0;
  if (!base) return { image: null, state: detachedState(stamp, "empty", size, 0, null) };
  const record = recordOf(base.info, base.bytes);
  const alone = (mode: "base" | "detached") => {
    const state = detachedState(stamp, mode, mode === "base" ? 0 : size, base.bytes.length, record);
    // A commit starts a log naming this base, which needs its page sum.
    const pageSize = sqlitePageSize(base.bytes);
    if (pageSize === undefined || base.bytes.length % pageSize !== 0) {
      return { image: base.bytes, state };
    }
    const sum = pageSum(base.bytes, pageSize);
    return { image: base.bytes, state: { ...state, basePageSize: pageSize, baseSum: sum } };
  };
  if (!log) return alone("base");
  // A damaged log, or no log of ours: the base alone is the image; the stamp
  // stays the log's, so that it changes when the next commit or fold replaces the log.
  if (!header) return alone("detached");
  const first = firstFrame(header);
  const scan = scanCommits(
    log.bytes.subarray(first, end ? end.validEnd : undefined),
    header,
    header.checksum,
  );
  const marker = decodeFoldMarker(
    log.bytes.subarray(first + scan.length),
    header,
    scan.sums,
  );
  if (marker) {
    // A fold in place began: the base may hold any of the log's pages, and
    // replaying them all gives the image. It kept the base's inode.
    if (record.ino !== header.baseIno) return "foreign";
    return applyLog(base.bytes, log.bytes, header, end, scan, stamp, record, marker);
  }
  if (matchesHeader(header, record)) {
    return applyLog(base.bytes, log.bytes, header, end, scan, stamp, record, undefined);
  }
  // Its inode, time or counter differ (a copied or touched pair of files):
  // the content decides, by page sum (or, in older logs, a whole checksum).
  if (
    header.baseSize === base.bytes.length &&
    (sameChecksum(header.baseChecksum, pageSum(base.bytes, header.pageSize)) ||
      sameChecksum(header.baseChecksum, checksum(base.bytes)))
  ) {
    return applyLog(base.bytes, log.bytes, header, end, scan, stamp, record, undefined);
  }
  // Not this base's log. Without commits it holds nothing, and a fold stopped
  // between its renames left a base that holds every commit of the old log:
  // the base alone is the image. Otherwise another program wrote the base.
  if (scan.length === 0 || await nextLogNames(fs, files, record)) return alone("detached");
  return "foreign";
}

/** Whether a fold's next log, not yet renamed into place, names `base`. */
async function nextLogNames(
  fs: FileSystem,
  files: DatabaseFiles,
  base: BaseRecord,
): Promise<boolean> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(files.nextLog);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const header = decodeLogHeader(bytes);
  return header !== undefined && matchesHeader(header, base);
}

/**
 * The commits made after `state`, reading only the new part of the log: the
 * pages they wrote (merged: each page once, with its last bytes) and the page
 * count and state after them. Returns `undefined` when that is impossible (a
 * fold happened, or the state has no log), and the caller reads a snapshot.
 *
 * @example
 * ```ts ignore
 * const changes = await readChangesSince(fs, files, state);
 * ```
 */
export async function readChangesSince(
  fs: FileSystem,
  files: DatabaseFiles,
  state: LogState,
): Promise<Changes | undefined> {
  const known = state.header;
  if (state.mode !== "log" || !known) return undefined;
  let handle;
  try {
    handle = await fs.open(files.log, "read");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const head = new Uint8Array(LOG_HEADER_BYTES + END_RECORD_BYTES);
    const got = await readFully(handle, head, 0);
    const header = decodeLogHeader(head.subarray(0, got));
    if (!header) return undefined;
    // Where the log ends: its end record in format 2 (a damaged one: read it whole), else its size.
    let end: number;
    let info: FileInfo | null = null;
    if (header.version >= 2) {
      const record = decodeLogEnd(head.subarray(LOG_HEADER_BYTES, got), header);
      if (!record) return undefined;
      end = record.validEnd;
    } else {
      info = await handle.stat();
      end = info.size;
    }
    const base = await statIfPresent(fs, files.base);
    if (!base) return undefined;
    let from = state;
    if (header.salt1 !== known.salt1 || header.salt2 !== known.salt2) {
      // Folded since: the image is unchanged if this log's fold started
      // exactly where `state` ends (the fold wrote only pages we have).
      if (!followsIn(header, known, state)) return undefined;
      const record = {
        ino: base.ino,
        size: base.size,
        mtimeMs: base.mtimeMs,
        counter: header.baseCounter,
      };
      from = {
        ...state,
        header,
        size: firstFrame(header),
        validEnd: firstFrame(header),
        sums: header.checksum,
        base: record,
        marker: undefined,
      };
    } else if (header.generation !== known.generation) {
      return undefined;
    }
    if (end < from.validEnd) return undefined;
    // A base that another program changed: a whole read decides what it means.
    const seen = from.base;
    const same = seen !== null && base.ino === seen.ino &&
      base.size === seen.size && base.mtimeMs === seen.mtimeMs;
    // A fold in place under way changes the base too: its marker, after the
    // log's last commit, says so (and a catch-up reads only the log).
    const folded = same || matchesHeader(header, base);
    if (!folded && base.ino !== header.baseIno) return undefined;
    if (end === from.size && (header.version < 2 || folded || from.marker)) {
      if (!folded && !from.marker) return undefined;
      const stamp = stampOf(header, info, null, header.version >= 2 ? end : undefined);
      return { pages: [], notes: [], state: from === state ? state : { ...from, stamp } };
    }
    // Format 2 writes a fold's marker after the end record's offset: read it with the frames.
    const markerRoom = header.version >= 2 ? FOLD_MARKER_BYTES : 0;
    const tail = new Uint8Array(end - from.validEnd + markerRoom);
    const read = await readFully(handle, tail, from.validEnd);
    const scan = scanCommits(
      tail.subarray(0, Math.min(read, end - from.validEnd)),
      header,
      from.sums,
    );
    const marker = decodeFoldMarker(tail.subarray(scan.length, read), header, scan.sums);
    if (!folded && !marker) return undefined;
    const pageCount = from.imageLength / header.pageSize;
    const commits = commitsOf(scan.frames);
    const pages = mergeCommits(pageCount, commits, header.pageSize);
    const last = scan.pageCount ?? pageCount;
    return {
      pages,
      notes: commits.map((commit) => commit.note),
      state: {
        ...from,
        stamp: stampOf(header, info, null, header.version >= 2 ? end : undefined),
        size: end,
        validEnd: from.validEnd + scan.length,
        sums: scan.sums,
        imageLength: last * header.pageSize,
        marker,
      },
    };
  } finally {
    await handle.close();
  }
}

/**
 * Whether the log with `header` is the one a fold in place started after the
 * log `known`, folded at `state.validEnd`, which `state` had read whole.
 */
function followsIn(header: LogHeader, known: LogHeader, state: LogState): boolean {
  const next = ((((known.generation & ~PAGE_SUM_FLAG) + 1) & ~PAGE_SUM_FLAG) | PAGE_SUM_FLAG) >>> 0;
  return header.generation === next && header.pageSize === known.pageSize &&
    header.salt1 === successorSalt(known, state.validEnd) &&
    header.baseSize === state.imageLength && header.baseIno === known.baseIno;
}

/** What {@linkcode readChangesSince} found. */
export interface Changes {
  /** The pages changed, ascending. */
  readonly pages: Array<[number, Uint8Array]>;
  /** Each commit's note, oldest first (`null`: none). */
  readonly notes: Array<Uint8Array | null>;
  /** The state after them. */
  readonly state: LogState;
}

/**
 * Groups frames into commits (each ends with a frame that carries the page
 * count), their notes set apart.
 */
function commitsOf(frames: readonly Frame[]): Array<CommitEffect & { note: Uint8Array | null }> {
  const commits: Array<CommitEffect & { note: Uint8Array | null }> = [];
  let start = 0;
  frames.forEach((frame, index) => {
    if (frame.commitPageCount === 0) return;
    const { frames: own, note } = splitNote(frames.slice(start, index + 1));
    const pages = own.map((f) => [f.page, f.data] as [number, Uint8Array]);
    commits.push({ pageCount: frame.commitPageCount, pages, note });
    start = index + 1;
  });
  return commits;
}

/**
 * The stamp of a state: from the log when there is one, else from the base.
 *
 * @example
 * ```ts
 * import { stampOf } from "./snapshot.ts";
 * stampOf(undefined, null, null); // "none"
 * ```
 */
export function stampOf(
  header: LogHeader | undefined,
  log: FileInfo | null,
  base: FileInfo | null,
  end?: number,
): string {
  if (header && (log || end !== undefined)) {
    const at = end ?? (header.version >= 2 ? `t${log!.size}` : log!.size);
    const stamp = logStamp(header, at);
    return !base || matchesHeader(header, base)
      ? stamp
      : `${stamp}-f${base.ino}-${base.size}-${base.mtimeMs}`;
  }
  if (log) return `x${log.ino}-${log.size}-${log.mtimeMs}`;
  if (base) return `b${base.ino}-${base.size}-${base.mtimeMs}`;
  return "none";
}

/**
 * The stamp of a log with `header` whose commits end at `end` (in format 1,
 * its size).
 *
 * @example
 * ```ts ignore
 * logStamp(header, 128); // "g1-0000000700000009-128"
 * ```
 */
export function logStamp(header: LogHeader, end: number | string): string {
  return `g${header.generation}-${hex(header.salt1)}${hex(header.salt2)}-${end}`;
}

function applyLog(
  base: Uint8Array,
  log: Uint8Array,
  header: LogHeader,
  end: LogEnd | undefined,
  scan: ScanResult,
  stamp: string,
  record: BaseRecord,
  marker: FoldMarker | undefined,
): Snapshot {
  const image = applyFrames(base, header.pageSize, scan.frames);
  const state: LogState = {
    stamp,
    mode: "log",
    header,
    size: end ? end.validEnd : log.length,
    validEnd: firstFrame(header) + scan.length,
    sums: scan.sums,
    imageLength: image.length,
    base: record,
    marker,
  };
  return { image, state };
}

/** The page size a SQLite header names, `undefined` for bytes that are not a SQLite file. */
function sqlitePageSize(bytes: Uint8Array): number | undefined {
  if (bytes.length < 100) return undefined;
  const header = readHeader(bytes);
  return typeof header === "object" && header ? header.pageSize : undefined;
}

function detachedState(
  stamp: string,
  mode: "empty" | "base" | "detached",
  size: number,
  imageLength: number,
  base: BaseRecord | null,
): LogState {
  return { stamp, mode, size, validEnd: 0, sums: [0, 0], imageLength, base };
}

interface OpenedFile {
  readonly handle: FileHandle;
  readonly bytes: Uint8Array;
  readonly info: FileInfo;
}

/** Opens and reads a whole file, leaving it open; `null` when it is missing. */
async function openWhole(fs: FileSystem, path: string): Promise<OpenedFile | null> {
  const handle = await openIfPresent(fs, path);
  if (handle === null) return null;
  try {
    const info = await handle.stat();
    const bytes = new Uint8Array(info.size);
    const got = await readFully(handle, bytes, 0);
    return { handle, bytes: got === bytes.length ? bytes : bytes.subarray(0, got), info };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}
