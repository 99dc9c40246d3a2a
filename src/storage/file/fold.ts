/**
 * Folding: making the base hold the log's commits and starting an empty log
 * of the next generation, crash-safe at every step. The caller holds the lock.
 *
 * **In place** (every fold of a log that belongs to its base), like SQLite's
 * WAL checkpoint, costing what the log changed, not the database's size:
 *
 * 1. Plan: from the log's frames, the last bytes of every page it wrote, the
 *    pages that a shrink and a later growth left as zeros, and the final size.
 *    The base's page sum after the fold (see {@linkcode pageSum}) is the
 *    header's sum less the hashes of the pages replaced or cut off (read from
 *    the base) plus those of the new pages.
 * 2. Write a fold marker at the end of the log's last commit and `fdatasync`
 *    it: "the base may hold any of these frames; replay all of them". It
 *    records the sizes before and after and the new page sum.
 * 3. Write the planned pages into the base at their offsets, set its size,
 *    `fsync` it.
 * 4. Write the next log (its header, end record and first allocation: see
 *    `log_format.ts`) to `PATH-dbrlog-next` (the header names the base by inode,
 *    size, time, change counter and page sum; a first salt derived from the
 *    old log and its end, so readers that had read it all keep their image; a
 *    random second salt), `fsync` it, rename it over `PATH-dbrlog`, `fsync`
 *    the directory.
 *
 * A crash before step 2 leaves the old base and log, which still match. After
 * step 2, readers replay every frame of the log over whatever the base holds:
 * each frame is a whole page and each commit's last frame sets the size, and
 * the fold writes only pages that the log wrote or that its shrinks left as
 * zeros, so the result is the last commit's image whether the base holds none,
 * some, or all of the fold's pages, even a torn one. The next writer finishes
 * the fold from the marker (same plan, same sum). After step 4 the new log
 * names the new base. A reader that read the base while a fold wrote it sees
 * the log changed after its read (`snapshot.ts` reads the log, then the base,
 * then checks the log again) and reads again.
 *
 * **Whole** (a database's first image, a new page size, a log that does not
 * belong to its base and holds no commits): write the image to `PATH-dbrtmp`,
 * `fsync`, write the next log's header to `PATH-dbrlog-next`, rename the base
 * then the log into place with a directory `fsync` after each. A crash
 * between the renames leaves the new base with the old log, whose header
 * names the old base: readers take the base alone (`snapshot.ts`).
 *
 * @module
 */
import type { Checksum } from "./checksum.ts";
import { addPage, pageSum } from "./page_sum.ts";
import {
  type FileHandle,
  type FileInfo,
  type FileSystem,
  isNotFound,
  readFully,
  writeFully,
} from "./file_system.ts";
import { type BaseRecord, changeCounter, mtimeKey, recordOf } from "./foreign.ts";
import {
  type DatabaseFiles,
  decodeLogEnd,
  decodeLogHeader,
  encodeEmptyLog,
  encodeFoldMarker,
  END_RECORD_BYTES,
  FIRST_ALLOCATION,
  firstFrame,
  FOLD_MARKER_BYTES,
  type FoldMarker,
  type Frame,
  LOG_HEADER_BYTES,
  type LogHeader,
  NOTE_PAGE,
  PAGE_SUM_FLAG,
  successorSalt,
} from "./log_format.ts";
import { dirname } from "../../path.ts";

/** What a fold wrote. */
export interface FoldResult {
  /** The header of the new, empty log. */
  readonly header: LogHeader;
  /** Its checksum chain value, where the first frame continues. */
  readonly sums: Checksum;
  /** Bytes written: pages (or the whole image), marker and log header. */
  readonly bytesWritten: number;
  /** Bytes of the base read (old pages for the page sum). */
  readonly bytesRead: number;
  /** Pages written into the base. */
  readonly pagesWritten: number;
  /** Whether the base was written in place. */
  readonly inPlace: boolean;
  /** The new base as written. */
  readonly base: BaseRecord;
}

export { pageSum } from "./page_sum.ts";

/** What a fold in place writes. */
export interface FoldPlan {
  /** The page count after the log's last commit. */
  readonly pageCount: number;
  /** The pages to write, ascending, with their final bytes. */
  readonly writes: Array<readonly [number, Uint8Array]>;
}

/**
 * The pages a fold in place writes into a base of `oldCount` pages so that
 * it equals that base with `frames` applied (as `replay.ts` applies them):
 * each page's last frame, and zeros for pages that a commit cut off and a
 * later one brought back without writing them.
 *
 * @example
 * ```ts ignore
 * const { writes, pageCount } = planFold(base.size / 4096, 4096, scan.frames);
 * ```
 */
export function planFold(oldCount: number, pageSize: number, frames: readonly Frame[]): FoldPlan {
  const latest = new Map<number, Uint8Array>();
  let count = oldCount;
  let lowest = oldCount;
  for (const frame of frames) {
    if (frame.page === NOTE_PAGE) continue;
    latest.set(frame.page, frame.data);
    if (frame.commitPageCount !== 0) {
      if (frame.commitPageCount < count) {
        for (const page of latest.keys()) if (page > frame.commitPageCount) latest.delete(page);
      }
      count = frame.commitPageCount;
      lowest = Math.min(lowest, count);
    }
  }
  const zeros = new Uint8Array(pageSize);
  for (let page = lowest + 1; page <= count; page++) {
    if (!latest.has(page)) latest.set(page, zeros);
  }
  const writes = [...latest].filter(([page]) => page <= count).sort((a, b) => a[0] - b[0]);
  return { pageCount: count, writes };
}

/** The log as a fold in place reads it. */
export interface FoldInput {
  readonly header: LogHeader;
  /** The frames of its valid commits. */
  readonly frames: readonly Frame[];
  /** Where its last valid commit ends, and the chain value there. */
  readonly validEnd: number;
  readonly sums: Checksum;
  /** The marker of a fold that was interrupted, to finish it. */
  readonly marker: FoldMarker | undefined;
  /** The base's size now. */
  readonly baseSize: number;
}

/** Bytes read or written per system call when a fold reads old pages or writes runs of pages. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Folds the log described by `input` into the base in place and starts the
 * next generation's log. `beforeWrite` runs before the marker is written and
 * before the base is, and may throw to abandon the fold (a lost lock, a base
 * another program wrote).
 *
 * @example
 * ```ts ignore
 * const result = await foldInPlace(fs, files, input, () => lock.assertHeld());
 * ```
 */
export async function foldInPlace(
  fs: FileSystem,
  files: DatabaseFiles,
  input: FoldInput,
  beforeWrite: () => Promise<void> = () => Promise.resolve(),
): Promise<FoldResult> {
  const { header, frames, validEnd, sums } = input;
  const pageSize = header.pageSize;
  await removeIfPresent(fs, files.nextBase);
  await removeIfPresent(fs, files.nextLog);
  let bytesWritten = 0;
  let bytesRead = 0;
  let marker = input.marker;
  const base = await fs.open(files.base, "readWrite");
  try {
    const oldSize = marker ? marker.oldSize : input.baseSize;
    const plan = planFold(Math.floor(oldSize / pageSize), pageSize, frames);
    const newSize = plan.pageCount * pageSize;
    await beforeWrite();
    if (!marker) {
      let sum: Checksum;
      if ((header.generation & PAGE_SUM_FLAG) !== 0) {
        sum = header.baseChecksum;
      } else {
        // A log from before page sums: read the base once to start them.
        sum = [0, 0];
        bytesRead += await eachPage(base, pageSize, 1, oldSize / pageSize, (page, bytes) => {
          sum = addPage(sum, page, bytes);
        });
      }
      bytesRead += await oldPages(base, pageSize, plan, oldSize, (page, bytes) => {
        sum = addPage(sum, page, bytes, -1);
      });
      for (const [page, bytes] of plan.writes) sum = addPage(sum, page, bytes);
      marker = { validEnd, oldSize, newSize, newSum: sum };
      const bytes = encodeFoldMarker(header, sums, marker);
      const log = await fs.open(files.log, "readWrite");
      try {
        await writeFully(log, bytes, validEnd);
        await log.truncate(validEnd + FOLD_MARKER_BYTES);
        await log.datasync();
      } finally {
        await log.close();
      }
      bytesWritten += bytes.length;
    }
    bytesWritten += await writePages(base, pageSize, plan.writes);
    if ((await base.stat()).size !== newSize) await base.truncate(newSize);
    await base.sync();
    const info = await base.stat();
    const head = new Uint8Array(28);
    const record = recordOf(info, head.subarray(0, await readFully(base, head, 0)));
    const salt2 = crypto.getRandomValues(new Uint32Array(1))[0];
    const fields = {
      pageSize,
      generation:
        ((((header.generation & ~PAGE_SUM_FLAG) + 1) & ~PAGE_SUM_FLAG) | PAGE_SUM_FLAG) >>>
        0,
      salt1: successorSalt(header, validEnd),
      salt2,
      baseSize: info.size,
      baseIno: info.ino,
      baseChecksum: marker.newSum,
      baseCounter: record.counter,
      baseMtime: mtimeKey(info.mtimeMs),
    };
    const next = await installLog(fs, files, fields, beforeWrite);
    bytesWritten += FIRST_ALLOCATION;
    return {
      header: next,
      sums: next.checksum,
      bytesWritten,
      bytesRead,
      pagesWritten: plan.writes.length,
      inPlace: true,
      base: record,
    };
  } finally {
    await base.close();
  }
}

/**
 * Reads the pages that `plan` replaces or cuts off from a base of `oldSize`
 * bytes, in runs of up to 1 MiB, passing each to `each`; returns the bytes read.
 */
async function oldPages(
  base: FileHandle,
  pageSize: number,
  plan: FoldPlan,
  oldSize: number,
  each: (page: number, bytes: Uint8Array) => void,
): Promise<number> {
  const oldCount = Math.floor(oldSize / pageSize);
  let read = 0;
  let runStart = 0;
  let runEnd = 0;
  const flush = async () => {
    if (runEnd >= runStart && runStart > 0) {
      read += await eachPage(base, pageSize, runStart, runEnd, each);
    }
  };
  for (const [page] of plan.writes) {
    if (page > oldCount) break;
    if (runStart > 0 && page === runEnd + 1 && (page - runStart + 1) * pageSize <= CHUNK_BYTES) {
      runEnd = page;
      continue;
    }
    await flush();
    runStart = runEnd = page;
  }
  await flush();
  if (plan.pageCount < oldCount) {
    read += await eachPage(base, pageSize, plan.pageCount + 1, oldCount, each);
  }
  return read;
}

/** Reads pages `first..last` of `base` in 1 MiB chunks, passing each page to `each`. */
async function eachPage(
  base: FileHandle,
  pageSize: number,
  first: number,
  last: number,
  each: (page: number, bytes: Uint8Array) => void,
): Promise<number> {
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / pageSize));
  let read = 0;
  for (let page = first; page <= last; page += perChunk) {
    const count = Math.min(perChunk, last - page + 1);
    const buffer = new Uint8Array(count * pageSize);
    const got = await readFully(base, buffer, (page - 1) * pageSize);
    read += got;
    for (let i = 0; i < count && (i + 1) * pageSize <= got; i++) {
      each(page + i, buffer.subarray(i * pageSize, (i + 1) * pageSize));
    }
  }
  return read;
}

/** Writes `pages` (ascending) at their offsets, runs of consecutive pages in one call each. */
async function writePages(
  base: FileHandle,
  pageSize: number,
  pages: ReadonlyArray<readonly [number, Uint8Array]>,
): Promise<number> {
  let written = 0;
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / pageSize));
  for (let i = 0; i < pages.length;) {
    let j = i + 1;
    while (j < pages.length && pages[j][0] === pages[j - 1][0] + 1 && j - i < perChunk) j++;
    const run = new Uint8Array((j - i) * pageSize);
    for (let k = i; k < j; k++) run.set(pages[k][1], (k - i) * pageSize);
    await writeFully(base, run, (pages[i][0] - 1) * pageSize);
    written += run.length;
    i = j;
  }
  return written;
}

/**
 * Writes `fields` as the header of an empty next log, durably, and (after
 * `beforeRename`, which may throw to abandon it) renames it over the log and
 * syncs the folder; returns the header with its checksum.
 */
async function installLog(
  fs: FileSystem,
  files: DatabaseFiles,
  fields: Omit<LogHeader, "checksum" | "version">,
  beforeRename: () => Promise<void>,
): Promise<LogHeader> {
  const { bytes, header } = encodeEmptyLog(fields);
  await writeDurably(fs, files.nextLog, bytes);
  await beforeRename();
  await fs.rename(files.nextLog, files.log);
  await fs.syncDirectory(dirname(files.base));
  return header;
}

/**
 * Starts a log for a base that has none (or whose log holds nothing of it),
 * naming it as `base`, with page sum `sum`: the base is not written.
 *
 * @example
 * ```ts ignore
 * const result = await startLog(fs, files, record, sum, 4096, 1);
 * ```
 */
export async function startLog(
  fs: FileSystem,
  files: DatabaseFiles,
  base: BaseRecord,
  sum: Checksum,
  pageSize: number,
  generation: number,
  beforeRename: () => Promise<void> = () => Promise.resolve(),
): Promise<FoldResult> {
  await removeIfPresent(fs, files.nextLog);
  const salts = crypto.getRandomValues(new Uint32Array(2));
  const fields = {
    pageSize,
    generation: ((generation & ~PAGE_SUM_FLAG) | PAGE_SUM_FLAG) >>> 0,
    salt1: salts[0],
    salt2: salts[1],
    baseSize: base.size,
    baseIno: base.ino,
    baseChecksum: sum,
    baseCounter: base.counter,
    baseMtime: mtimeKey(base.mtimeMs),
  };
  const header = await installLog(fs, files, fields, beforeRename);
  return {
    header,
    sums: header.checksum,
    bytesWritten: FIRST_ALLOCATION,
    bytesRead: 0,
    pagesWritten: 0,
    inPlace: true,
    base,
  };
}

/**
 * Makes `image` the base of the database in `files`, replacing the file, and
 * resets its log to an empty log of generation `generation`. `beforeRename`
 * runs just before the first rename and may throw to abandon the fold (a lost
 * lock).
 *
 * @example
 * ```ts ignore
 * const { header } = await fold(fs, databaseFiles(path), image, 4096, 1);
 * ```
 */
export async function fold(
  fs: FileSystem,
  files: DatabaseFiles,
  image: Uint8Array,
  pageSize: number,
  generation: number,
  beforeRename: () => Promise<void> = () => Promise.resolve(),
): Promise<FoldResult> {
  const directory = dirname(files.base);
  await removeIfPresent(fs, files.nextBase);
  await removeIfPresent(fs, files.nextLog);
  const base = await writeDurably(fs, files.nextBase, image);
  const salts = crypto.getRandomValues(new Uint32Array(2));
  const fields = {
    pageSize,
    generation: ((generation & ~PAGE_SUM_FLAG) | PAGE_SUM_FLAG) >>> 0,
    salt1: salts[0],
    salt2: salts[1],
    baseSize: image.length,
    baseIno: base.ino,
    baseChecksum: pageSum(image, pageSize),
    baseCounter: changeCounter(image),
    baseMtime: mtimeKey(base.mtimeMs),
  };
  const { bytes: logBytes, header } = encodeEmptyLog(fields);
  await writeDurably(fs, files.nextLog, logBytes);
  // Writing the image takes a while: check once more that the lock is still ours.
  await beforeRename();
  await fs.rename(files.nextBase, files.base);
  await fs.syncDirectory(directory);
  await fs.rename(files.nextLog, files.log);
  await fs.syncDirectory(directory);
  return {
    header,
    sums: header.checksum,
    bytesWritten: image.length + logBytes.length,
    bytesRead: 0,
    pagesWritten: image.length / pageSize,
    inPlace: false,
    base: { ino: base.ino, size: base.size, mtimeMs: base.mtimeMs, counter: fields.baseCounter },
  };
}

/**
 * Whether folding would change anything: false when the base stands alone, or
 * its log is empty and belongs to it. Costs an open, a 128-byte read and one
 * or two `stat`s, so closing a clean database reads nothing else.
 *
 * @example
 * ```ts ignore
 * if (await needsFold(fs, files)) await compactUnderLock();
 * ```
 */
export async function needsFold(fs: FileSystem, files: DatabaseFiles): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(files.log, "read");
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  let header: LogHeader | undefined;
  let empty: boolean;
  try {
    const bytes = new Uint8Array(LOG_HEADER_BYTES + END_RECORD_BYTES);
    const got = await readFully(handle, bytes, 0);
    header = decodeLogHeader(bytes.subarray(0, got));
    if (header && header.version >= 2) {
      // A format-2 log is allocated ahead: its end record says whether it holds commits.
      empty = decodeLogEnd(bytes.subarray(LOG_HEADER_BYTES, got), header)?.validEnd ===
        firstFrame(header);
    } else {
      empty = (await handle.stat()).size === LOG_HEADER_BYTES;
    }
  } finally {
    await handle.close();
  }
  let base;
  try {
    base = await fs.stat(files.base);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  return !header || !empty || base.ino !== header.baseIno || base.size !== header.baseSize;
}

/** Writes `bytes` to a new file at `path`, `fsync`s it and returns its `fstat`. */
async function writeDurably(fs: FileSystem, path: string, bytes: Uint8Array): Promise<FileInfo> {
  const handle = await fs.open(path, "createNew");
  try {
    await writeFully(handle, bytes, 0);
    await handle.sync();
    return await handle.stat();
  } finally {
    await handle.close();
  }
}

async function removeIfPresent(fs: FileSystem, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
