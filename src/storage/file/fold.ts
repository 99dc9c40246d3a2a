/**
 * Folding: replacing the base with a complete image and starting an empty log
 * of the next generation, crash-safe at every step. The caller holds the lock.
 *
 * 1. Write the image to `PATH-dbrtmp` (a fresh file), `fsync` it.
 * 2. Write the next log's header to `PATH-dbrlog-next`, naming the new base by
 *    size, inode and checksum, with fresh random salts; `fsync` it.
 * 3. Rename `PATH-dbrtmp` over `PATH`; `fsync` the directory.
 * 4. Rename `PATH-dbrlog-next` over `PATH-dbrlog`; `fsync` the directory.
 *
 * A crash before step 3 leaves the old base and log, which still match; the
 * leftovers are replaced by the next fold. A crash between steps 3 and 4 leaves
 * the new base with the old log, whose header names the old base (by inode,
 * size and checksum): readers see that it is not this base's log and take the
 * base alone, which already holds every commit of that log, never replaying its
 * frames on top; the next commit or fold replaces the log. The directory
 * `fsync` after step 3 keeps a power loss from persisting the new log without
 * the new base.
 *
 * @module
 */
import { type Checksum, checksum } from "./checksum.ts";
import {
  type FileInfo,
  type FileSystem,
  isNotFound,
  readFully,
  writeFully,
} from "./file_system.ts";
import { type BaseRecord, changeCounter, mtimeKey } from "./foreign.ts";
import {
  type DatabaseFiles,
  decodeLogHeader,
  encodeLogHeader,
  LOG_HEADER_BYTES,
  type LogHeader,
} from "./log_format.ts";
import { dirname } from "../../path.ts";

/** What a fold wrote. */
export interface FoldResult {
  /** The header of the new, empty log. */
  readonly header: LogHeader;
  /** Its checksum chain value, where the first frame continues. */
  readonly sums: Checksum;
  /** Bytes written: the image plus the log header. */
  readonly bytesWritten: number;
  /** The new base as written. */
  readonly base: BaseRecord;
}

/**
 * Makes `image` the base of the database in `files` and resets its log to an
 * empty log of generation `generation`. `beforeRename` runs just before the
 * first rename and may throw to abandon the fold (a lost lock).
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
    generation,
    salt1: salts[0],
    salt2: salts[1],
    baseSize: image.length,
    baseIno: base.ino,
    baseChecksum: checksum(image),
    baseCounter: changeCounter(image),
    baseMtime: mtimeKey(base.mtimeMs),
  };
  const headerBytes = encodeLogHeader(fields);
  await writeDurably(fs, files.nextLog, headerBytes);
  // Writing the image takes a while: check once more that the lock is still ours.
  await beforeRename();
  await fs.rename(files.nextBase, files.base);
  await fs.syncDirectory(directory);
  await fs.rename(files.nextLog, files.log);
  await fs.syncDirectory(directory);
  const header: LogHeader = { ...fields, checksum: checksum(headerBytes.subarray(0, 56)) };
  return {
    header,
    sums: header.checksum,
    bytesWritten: image.length + LOG_HEADER_BYTES,
    base: { ino: base.ino, size: base.size, mtimeMs: base.mtimeMs, counter: fields.baseCounter },
  };
}

/**
 * Whether folding would change anything: false when the base stands alone, or
 * its log is empty and belongs to it. Costs an open, a 64-byte read and two
 * `stat`s, so closing a clean database reads nothing else.
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
  let size: number;
  try {
    size = (await handle.stat()).size;
    const bytes = new Uint8Array(LOG_HEADER_BYTES);
    header = decodeLogHeader(bytes.subarray(0, await readFully(handle, bytes, 0)));
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
  return !header || size !== LOG_HEADER_BYTES || base.ino !== header.baseIno ||
    base.size !== header.baseSize;
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
