/**
 * The on-disk format of a file-stored database. For a database at `PATH`:
 *
 * - `PATH`: the base, a standard SQLite file. A fold writes the log's pages into
 *   it in place (see `fold.ts`); only a fold that changes the page size, or
 *   writes a database's first image, replaces it whole by an atomic rename.
 * - `PATH-dbrlog`: the page log, commits since the base was written. A 64-byte
 *   header, in format 2 a 64-byte end record, then frames: a 24-byte frame
 *   header and one page each.
 * - `PATH-dbrlog-next`, `PATH-dbrtmp`: the next log and next base while a fold
 *   runs (see `fold.ts`); `PATH-dbrlock/`: the write lock (see `lock.ts`);
 *   `PATH-dbrwatch/`: the processes that watch it (see `watchers.ts`).
 *
 * Log header, little-endian: magic `"DBRL"`, format version (1 or 2), page size,
 * generation (folds so far), salt 1, salt 2 (random per generation), the base
 * this log belongs to (size and inode as float64, checksum of its bytes as two
 * uint32, then its SQLite file change counter and the low 32 bits of its
 * modification time in milliseconds as uint32, both 0 in logs written before
 * they were recorded: see `foreign.ts`), and a checksum of the 56 bytes
 * before it. When the generation's top bit is set, the base's "checksum" is
 * its page sum (`pageSum` in `fold.ts`), which a fold updates from the pages
 * it writes; older logs hold a checksum of the whole base there.
 *
 * Format 2 (what this version writes; it reads both, and folds a format-1 log
 * before its first commit to it) differs in where a log's commits end. In
 * format 1 they end where the file does, so every commit changes the file's
 * size, and an `fdatasync` that must make a new size durable costs a journal
 * commit: about twice an overwrite's on ext4 (0.46 against 0.24 ms a commit
 * here). A format-2 log is allocated ahead, with zeros, and a commit writes
 * its frames over them and then the end record (bytes 64-127): magic
 * `"DBRE"`, salt 1, salt 2, 0, where the last commit ends (float64), the
 * checksum chain there (two uint32), zeros, and a checksum of the 56 bytes
 * before it continuing from the header's. Frames start at byte 128. Readers
 * take the commits up to the end record's offset (a damaged end record: up to
 * the last valid commit frame, and the next commit folds); the stamp uses that
 * offset where format 1 uses the size. The frames and the end record go to
 * disk in one `fdatasync`, so an acknowledged commit is both; a crash before
 * it returns may leave either, and neither is then read as a commit that the
 * other half contradicts. Format-1 readers (version 0.1.0) do not read format
 * 2: they take such a log for one that is not theirs.
 *
 * A fold in place first writes a fold marker at the end of the log's last
 * valid commit (see `fold.ts`): 64 bytes, shorter than a frame, so readers
 * that predate it take it for a torn tail and stop there.
 *
 * In format 2 a note is one frame of its own, as long as the note: its page
 * number is {@linkcode NOTE_PAGE} (no page has it), its second word the
 * note's length in bytes, and its data the note, padded with zeros to a
 * multiple of 8 bytes; it comes first in its commit. (Format 1 spends at least
 * a page on a note, in frames described below: a one-row commit with a note
 * wrote 8 240 bytes, now 4 120 and the note.)
 *
 * Frame header, little-endian uint32: page number; the page count of the
 * database after the commit on a commit's last frame, else 0; salt 1; salt 2;
 * and the two checksum sums over the frame header's first 8 bytes and the page,
 * continuing from the previous frame (the first frame continues from the log
 * header's checksum). A frame counts only if its salts match the header and its
 * checksum is right; frames after the last valid commit frame are ignored, so
 * a torn or partial commit is never applied.
 *
 * A commit may carry a note (the rows it changed, for `router.watch()`): its
 * bytes go in frames placed first in the commit, numbered like the commit's
 * first page, which follows them. The note frames' data is the magic
 * `"DBRN"`, the note's length (uint32), the note, and zeros. Without notes, a
 * commit never names a page twice, so a repeated first page marks note frames
 * unambiguously; readers that predate notes write those frames' bytes to that
 * page and then the page's own frame over them, so they read such logs
 * correctly.
 *
 * @module
 */
import { type Checksum, checksum, sameChecksum } from "./checksum.ts";

/** Bytes of the log header; the first frame of a format-1 log starts here. */
export const LOG_HEADER_BYTES = 64;
/** Bytes of a format-2 log's end record, which follows the header. */
export const END_RECORD_BYTES = 64;
/** The log format this version writes. */
export const LOG_FORMAT = 2;
/** Bytes of a frame header, before its page. */
export const FRAME_HEADER_BYTES = 24;
const MAGIC = 0x4c524244; // "DBRL" read as a little-endian uint32
const NOTE_MAGIC = 0x4e524244; // "DBRN" read as a little-endian uint32
const NOTE_HEADER_BYTES = 8;
const END_MAGIC = 0x45524244; // "DBRE" read as a little-endian uint32
const FOLD_MAGIC = 0x46524244; // "DBRF" read as a little-endian uint32

/** The page number of a format-2 log's note frame, which no page has. */
export const NOTE_PAGE = 0xffffffff;

/** The generation's top bit: the header's base checksum is a page sum. */
export const PAGE_SUM_FLAG = 0x80000000;
/** Bytes of a fold marker. */
export const FOLD_MARKER_BYTES = 64;

/** The files that make up one database. */
export interface DatabaseFiles {
  /** The base: a standard SQLite file. */
  readonly base: string;
  /** The page log. */
  readonly log: string;
  /** The next log, written before a fold renames it into place. */
  readonly nextLog: string;
  /** The next base, written before a fold renames it into place. */
  readonly nextBase: string;
  /** The lock directory. */
  readonly lockDir: string;
  /** The folder of the watchers' registry. */
  readonly watchDir: string;
}

/**
 * Names the files of the database whose base is `path`.
 *
 * @example
 * ```ts
 * import { databaseFiles } from "./log_format.ts";
 * databaseFiles("/data/global.db").log; // "/data/global.db-dbrlog"
 * ```
 */
export function databaseFiles(path: string): DatabaseFiles {
  return {
    base: path,
    log: `${path}-dbrlog`,
    nextLog: `${path}-dbrlog-next`,
    nextBase: `${path}-dbrtmp`,
    lockDir: `${path}-dbrlock`,
    watchDir: `${path}-dbrwatch`,
  };
}

/** A decoded log header. */
export interface LogHeader {
  /** The log's format: 1 (commits end where the file does) or 2 (an end record says where). */
  readonly version: number;
  readonly pageSize: number;
  readonly generation: number;
  readonly salt1: number;
  readonly salt2: number;
  /** Size in bytes of the base this log belongs to. */
  readonly baseSize: number;
  /** Inode of that base when the log was written. */
  readonly baseIno: number;
  /** Checksum of that base's bytes. */
  readonly baseChecksum: Checksum;
  /** That base's SQLite file change counter (0 when not recorded). */
  readonly baseCounter: number;
  /** Low 32 bits of that base's modification time in milliseconds (0 when not recorded). */
  readonly baseMtime: number;
  /** Checksum of the header: where the first frame's checksum continues from. */
  readonly checksum: Checksum;
}

/**
 * Encodes a log header, computing its checksum.
 *
 * @example
 * ```ts
 * import { decodeLogHeader, encodeLogHeader } from "./log_format.ts";
 * const bytes = encodeLogHeader({
 *   pageSize: 4096, generation: 1, salt1: 7, salt2: 9,
 *   baseSize: 8192, baseIno: 12, baseChecksum: [1, 2], baseCounter: 3, baseMtime: 4,
 * });
 * decodeLogHeader(bytes)?.pageSize; // 4096
 * ```
 */
export function encodeLogHeader(
  header: Omit<LogHeader, "checksum" | "version"> & { readonly version?: number },
): Uint8Array {
  const bytes = new Uint8Array(LOG_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, header.version ?? 1, true);
  view.setUint32(8, header.pageSize, true);
  view.setUint32(12, header.generation >>> 0, true);
  view.setUint32(16, header.salt1, true);
  view.setUint32(20, header.salt2, true);
  view.setFloat64(24, header.baseSize, true);
  view.setFloat64(32, header.baseIno, true);
  view.setUint32(40, header.baseChecksum[0], true);
  view.setUint32(44, header.baseChecksum[1], true);
  view.setUint32(48, header.baseCounter >>> 0, true);
  view.setUint32(52, header.baseMtime >>> 0, true);
  const sums = checksum(bytes.subarray(0, 56));
  view.setUint32(56, sums[0], true);
  view.setUint32(60, sums[1], true);
  return bytes;
}

/**
 * Decodes a log header; `undefined` when it is short, foreign or damaged.
 *
 * @example
 * ```ts
 * import { decodeLogHeader } from "./log_format.ts";
 * decodeLogHeader(new Uint8Array(64)); // undefined
 * ```
 */
export function decodeLogHeader(bytes: Uint8Array): LogHeader | undefined {
  if (bytes.length < LOG_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, LOG_HEADER_BYTES);
  const version = view.getUint32(4, true);
  if (view.getUint32(0, true) !== MAGIC || (version !== 1 && version !== 2)) return undefined;
  const sums = checksum(bytes.subarray(0, 56));
  if (!sameChecksum(sums, [view.getUint32(56, true), view.getUint32(60, true)])) return undefined;
  const pageSize = view.getUint32(8, true);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  return {
    version,
    pageSize,
    generation: view.getUint32(12, true),
    salt1: view.getUint32(16, true),
    salt2: view.getUint32(20, true),
    baseSize: view.getFloat64(24, true),
    baseIno: view.getFloat64(32, true),
    baseChecksum: [view.getUint32(40, true), view.getUint32(44, true)],
    baseCounter: view.getUint32(48, true),
    baseMtime: view.getUint32(52, true),
    checksum: sums,
  };
}

/**
 * Where the first frame of a log with `header` starts: after the header, and
 * in format 2 after the end record.
 *
 * @example
 * ```ts ignore
 * const frames = bytes.subarray(firstFrame(header));
 * ```
 */
export function firstFrame(header: LogHeader): number {
  return header.version >= 2 ? LOG_HEADER_BYTES + END_RECORD_BYTES : LOG_HEADER_BYTES;
}

/** A format-2 log's end record: where its last commit ends, and the checksum chain there. */
export interface LogEnd {
  /** The offset just after the last commit's last frame. */
  readonly validEnd: number;
  /** The checksum chain value at `validEnd`. */
  readonly sums: Checksum;
}

/**
 * Encodes the end record of a format-2 log with `header`.
 *
 * @example
 * ```ts ignore
 * await handle.write(encodeLogEnd(header, { validEnd, sums }), LOG_HEADER_BYTES);
 * ```
 */
export function encodeLogEnd(header: LogHeader, end: LogEnd): Uint8Array {
  const bytes = new Uint8Array(END_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, END_MAGIC, true);
  view.setUint32(4, header.salt1, true);
  view.setUint32(8, header.salt2, true);
  view.setFloat64(16, end.validEnd, true);
  view.setUint32(24, end.sums[0], true);
  view.setUint32(28, end.sums[1], true);
  const own = checksum(bytes.subarray(0, 56), header.checksum);
  view.setUint32(56, own[0], true);
  view.setUint32(60, own[1], true);
  return bytes;
}

/**
 * Decodes the end record of a format-2 log with `header` from `bytes` (the 64
 * bytes after the header); `undefined` when it is short, another log's, or
 * damaged.
 *
 * @example
 * ```ts ignore
 * const end = decodeLogEnd(head.subarray(LOG_HEADER_BYTES), header);
 * ```
 */
export function decodeLogEnd(bytes: Uint8Array, header: LogHeader): LogEnd | undefined {
  if (bytes.length < END_RECORD_BYTES || header.version < 2) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, END_RECORD_BYTES);
  if (view.getUint32(0, true) !== END_MAGIC) return undefined;
  if (view.getUint32(4, true) !== header.salt1 || view.getUint32(8, true) !== header.salt2) {
    return undefined;
  }
  const own = checksum(bytes.subarray(0, 56), header.checksum);
  if (!sameChecksum(own, [view.getUint32(56, true), view.getUint32(60, true)])) return undefined;
  const validEnd = view.getFloat64(16, true);
  if (!Number.isSafeInteger(validEnd) || validEnd < firstFrame(header)) return undefined;
  return { validEnd, sums: [view.getUint32(24, true), view.getUint32(28, true)] };
}

/** Bytes a new format-2 log is allocated with (header and end record included). */
export const FIRST_ALLOCATION = 65536;

/**
 * The bytes of a new, empty format-2 log with `fields`: header, end record
 * (no commits), and zeros up to {@linkcode FIRST_ALLOCATION}; with the header
 * as decoded.
 *
 * @example
 * ```ts ignore
 * const { bytes, header } = encodeEmptyLog(fields);
 * ```
 */
export function encodeEmptyLog(
  fields: Omit<LogHeader, "checksum" | "version">,
): { bytes: Uint8Array; header: LogHeader } {
  const bytes = new Uint8Array(FIRST_ALLOCATION);
  bytes.set(encodeLogHeader({ ...fields, version: LOG_FORMAT }), 0);
  const header = decodeLogHeader(bytes)!;
  bytes.set(
    encodeLogEnd(header, { validEnd: firstFrame(header), sums: header.checksum }),
    LOG_HEADER_BYTES,
  );
  return { bytes, header };
}

/** One frame read back from a log. */
export interface Frame {
  readonly page: number;
  /** The database's page count after the commit, on a commit's last frame; else 0. */
  readonly commitPageCount: number;
  /** The page bytes (a view into the bytes scanned). */
  readonly data: Uint8Array;
}

/**
 * Encodes one commit as frames continuing the checksum chain from `seed`.
 * `commitPages` must be non-empty; the last frame carries `pageCount`; a
 * `note` goes first, in frames numbered like the first page.
 *
 * @example
 * ```ts ignore
 * const { bytes, sums } = encodeCommit(header, seed, [[1, page]], 1);
 * ```
 */
export function encodeCommit(
  header: LogHeader,
  seed: Checksum,
  commitPages: ReadonlyArray<readonly [number, Uint8Array]>,
  pageCount: number,
  note?: Uint8Array,
): { bytes: Uint8Array; sums: Checksum } {
  const frameBytes = FRAME_HEADER_BYTES + header.pageSize;
  const compact = note !== undefined && header.version >= 2;
  const pages = note && !compact
    ? [...noteFrames(note, commitPages[0][0], header.pageSize), ...commitPages]
    : commitPages;
  const noteBytes = compact ? FRAME_HEADER_BYTES + padded(note.length) : 0;
  const bytes = new Uint8Array(noteBytes + frameBytes * pages.length);
  const view = new DataView(bytes.buffer);
  let sums = seed;
  if (compact) {
    view.setUint32(0, NOTE_PAGE, true);
    view.setUint32(4, note.length, true);
    view.setUint32(8, header.salt1, true);
    view.setUint32(12, header.salt2, true);
    bytes.set(note, FRAME_HEADER_BYTES);
    sums = checksum(bytes.subarray(0, 8), sums);
    sums = checksum(bytes.subarray(FRAME_HEADER_BYTES, noteBytes), sums);
    view.setUint32(16, sums[0], true);
    view.setUint32(20, sums[1], true);
  }
  pages.forEach(([page, data], index) => {
    const at = noteBytes + index * frameBytes;
    view.setUint32(at, page, true);
    view.setUint32(at + 4, index === pages.length - 1 ? pageCount : 0, true);
    view.setUint32(at + 8, header.salt1, true);
    view.setUint32(at + 12, header.salt2, true);
    bytes.set(data, at + FRAME_HEADER_BYTES);
    sums = checksum(bytes.subarray(at, at + 8), sums);
    sums = checksum(bytes.subarray(at + FRAME_HEADER_BYTES, at + frameBytes), sums);
    view.setUint32(at + 16, sums[0], true);
    view.setUint32(at + 20, sums[1], true);
  });
  return { bytes, sums };
}

/** `length` rounded up to a multiple of 8: a format-2 note frame's data. */
function padded(length: number): number {
  return Math.ceil(length / 8) * 8;
}

/** What a scan of log bytes found: the frames of every complete, valid commit. */
export interface ScanResult {
  readonly frames: Frame[];
  /** Bytes of `bytes` taken by those commits; anything after is torn or foreign. */
  readonly length: number;
  /** The checksum chain after the last commit. */
  readonly sums: Checksum;
  /** The page count after the last commit, or `undefined` when there was none. */
  readonly pageCount: number | undefined;
}

/**
 * Reads frames from `bytes` (log bytes that start at a commit boundary whose
 * chain value is `seed`) up to the last commit that is whole and valid.
 *
 * @example
 * ```ts ignore
 * const { frames, length } = scanCommits(tail, header, state.sums);
 * ```
 */
export function scanCommits(bytes: Uint8Array, header: LogHeader, seed: Checksum): ScanResult {
  const frameBytes = FRAME_HEADER_BYTES + header.pageSize;
  const notes = header.version >= 2;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Frame[] = [];
  let pending: Frame[] = [];
  let sums = seed;
  let result: ScanResult = { frames, length: 0, sums, pageCount: undefined };
  for (let at = 0; at + FRAME_HEADER_BYTES <= bytes.length;) {
    const page = view.getUint32(at, true);
    const word = view.getUint32(at + 4, true);
    // A format-2 note frame (first in its commit) holds the note's length where others hold a page count.
    const note = notes && page === NOTE_PAGE && pending.length === 0;
    const stride = note ? FRAME_HEADER_BYTES + padded(word) : frameBytes;
    if (at + stride > bytes.length) break;
    if (page === 0 || view.getUint32(at + 8, true) !== header.salt1) break;
    if (view.getUint32(at + 12, true) !== header.salt2) break;
    if (!note && page === NOTE_PAGE && notes) break;
    const body = bytes.subarray(at + FRAME_HEADER_BYTES, at + stride);
    sums = checksum(body, checksum(bytes.subarray(at, at + 8), sums));
    if (!sameChecksum(sums, [view.getUint32(at + 16, true), view.getUint32(at + 20, true)])) break;
    const commitPageCount = note ? 0 : word;
    pending.push({ page, commitPageCount, data: note ? body.subarray(0, word) : body });
    at += stride;
    if (commitPageCount !== 0) {
      for (const frame of pending) frames.push(frame);
      pending = [];
      result = { frames, length: at, sums, pageCount: commitPageCount };
    }
  }
  return result;
}

/** `note` as frames for page `page`: magic, length, bytes, zeros. */
function noteFrames(note: Uint8Array, page: number, pageSize: number): Array<[number, Uint8Array]> {
  const payload = new Uint8Array(
    Math.ceil((NOTE_HEADER_BYTES + note.length) / pageSize) * pageSize,
  );
  const view = new DataView(payload.buffer);
  view.setUint32(0, NOTE_MAGIC, true);
  view.setUint32(4, note.length, true);
  payload.set(note, NOTE_HEADER_BYTES);
  const frames: Array<[number, Uint8Array]> = [];
  for (let at = 0; at < payload.length; at += pageSize) {
    frames.push([page, payload.subarray(at, at + pageSize)]);
  }
  return frames;
}

/** One commit's frames, its note set apart. */
export interface CommitFrames {
  /** The frames of its pages, the note frames left out. */
  readonly frames: readonly Frame[];
  /** Its note; `null` when it has none or the note frames are damaged. */
  readonly note: Uint8Array | null;
}

/**
 * Sets a commit's note frames apart from its page frames: a first frame for
 * {@linkcode NOTE_PAGE} (format 2), or the frames before the last of a run of
 * frames for the commit's first page (format 1).
 *
 * @example
 * ```ts ignore
 * const { frames, note } = splitNote(framesOfOneCommit);
 * ```
 */
export function splitNote(frames: readonly Frame[]): CommitFrames {
  if (frames.length > 0 && frames[0].page === NOTE_PAGE) {
    return { frames: frames.slice(1), note: frames[0].data.slice() };
  }
  let run = 0;
  while (run + 1 < frames.length && frames[run + 1].page === frames[0].page) run++;
  if (run === 0) return { frames, note: null };
  const payload = new Uint8Array(run * frames[0].data.length);
  for (let i = 0; i < run; i++) payload.set(frames[i].data, i * frames[0].data.length);
  const view = new DataView(payload.buffer);
  const length = view.getUint32(4, true);
  const whole = view.getUint32(0, true) === NOTE_MAGIC &&
    length <= payload.length - NOTE_HEADER_BYTES;
  return {
    frames: frames.slice(run),
    note: whole ? payload.slice(NOTE_HEADER_BYTES, NOTE_HEADER_BYTES + length) : null,
  };
}

/**
 * What a fold in place records before it writes the base: where the log's
 * commits end, the base's size before and after, and the page sum of the
 * base after it.
 */
export interface FoldMarker {
  /** The log offset where the marker sits: the end of the last commit folded. */
  readonly validEnd: number;
  /** The base's size in bytes before the fold. */
  readonly oldSize: number;
  /** The base's size in bytes after it. */
  readonly newSize: number;
  /** The page sum of the base after it. */
  readonly newSum: Checksum;
}

/**
 * Encodes a fold marker for a log with `header` whose chain value at
 * `marker.validEnd` is `sums`.
 *
 * @example
 * ```ts ignore
 * const bytes = encodeFoldMarker(header, state.sums, marker);
 * ```
 */
export function encodeFoldMarker(
  header: LogHeader,
  sums: Checksum,
  marker: FoldMarker,
): Uint8Array {
  const bytes = new Uint8Array(FOLD_MARKER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, FOLD_MAGIC, true);
  view.setUint32(4, header.salt1, true);
  view.setUint32(8, header.salt2, true);
  view.setUint32(12, 0, true);
  view.setFloat64(16, marker.validEnd, true);
  view.setFloat64(24, marker.oldSize, true);
  view.setFloat64(32, marker.newSize, true);
  view.setUint32(40, marker.newSum[0], true);
  view.setUint32(44, marker.newSum[1], true);
  const own = checksum(bytes.subarray(0, 56), sums);
  view.setUint32(56, own[0], true);
  view.setUint32(60, own[1], true);
  return bytes;
}

/**
 * Decodes the fold marker at the start of `bytes` (the log past its last valid
 * commit, whose chain value is `sums`); `undefined` when there is none.
 *
 * @example
 * ```ts ignore
 * const marker = decodeFoldMarker(log.subarray(state.validEnd), header, state.sums);
 * ```
 */
export function decodeFoldMarker(
  bytes: Uint8Array,
  header: LogHeader,
  sums: Checksum,
): FoldMarker | undefined {
  if (bytes.length < FOLD_MARKER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, FOLD_MARKER_BYTES);
  if (view.getUint32(0, true) !== FOLD_MAGIC) return undefined;
  if (view.getUint32(4, true) !== header.salt1 || view.getUint32(8, true) !== header.salt2) {
    return undefined;
  }
  const own = checksum(bytes.subarray(0, 56), sums);
  if (!sameChecksum(own, [view.getUint32(56, true), view.getUint32(60, true)])) return undefined;
  return {
    validEnd: view.getFloat64(16, true),
    oldSize: view.getFloat64(24, true),
    newSize: view.getFloat64(32, true),
    newSum: [view.getUint32(40, true), view.getUint32(44, true)],
  };
}

/**
 * The first salt of the log that a fold in place starts after the log with
 * `header` whose commits end at `validEnd`: a reader that had read up to there
 * recognises the next log as its successor and keeps its image. The second
 * salt stays random, so stamps never repeat.
 *
 * @example
 * ```ts ignore
 * if (next.salt1 === successorSalt(known, state.validEnd)) keepImage();
 * ```
 */
export function successorSalt(header: LogHeader, validEnd: number): number {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, header.salt1, true);
  view.setUint32(4, header.salt2, true);
  view.setFloat64(8, validEnd, true);
  return checksum(bytes, [header.generation, 0x9e3779b9])[1];
}
