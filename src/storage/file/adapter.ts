/**
 * The file storage adapter, written once against {@linkcode FileSystem}; each
 * runtime's folder wraps it with its own file system (`nodeFileStorage`,
 * `denoFileStorage`, `bunFileStorage`). Databases are a base SQLite file plus
 * a page log (`log_format.ts`), locked across processes (`lock.ts`); records
 * are plain line files (`records.ts`).
 *
 * @module
 */
import { RouterError } from "../../errors.ts";
import { basename, dirname, join, resolve } from "../../path.ts";
import type { StorageAdapter } from "../types.ts";
import { type FileSystem, isNotFound } from "./file_system.ts";
import { fileRecords } from "./records.ts";
import { FileDatabase } from "./stored_database.ts";

/** Options of every file storage adapter. */
export interface FileStorageOptions {
  /**
   * Log size in bytes (frames past the header) beyond which a commit folds the
   * log into the base, in place: a fold writes the pages the log changed, so
   * it costs (and holds the write lock for) about what the log holds. Larger
   * values mean fewer folds and longer logs to replay on open.
   * @default 4 MiB
   */
  compactThresholdBytes?: number;
  /**
   * Milliseconds without a heartbeat after which a writer's lock counts as
   * abandoned and another process may take it; the holder beats every fifth of
   * this. A writer killed by SIGKILL is recovered from within this plus 20 ms.
   * @default 5000
   */
  lockStaleMs?: number;
  /**
   * Milliseconds `lock()` waits for another holder before it rejects with code
   * `LOCK_TIMEOUT`.
   * @default 60000
   */
  lockTimeoutMs?: number;
  /**
   * Milliseconds a writer keeps the lock after a commit, for its next commit,
   * while no other writer asks for it (a resumed lock costs one `stat` instead
   * of a new holding). Another process waits at most this long (plus its
   * 4 ms poll) for an idle writer's lock; another router of the same process
   * gets it at once. `false` releases the lock after every commit.
   * @default 5
   */
  lockKeepMs?: number | false;
  /**
   * Milliseconds after a process's last commit to the page log, with no commit
   * by any process since, after which it folds the log into the base file, so
   * that other SQLite programs reading the file see every commit. A process
   * that reads a fold left unfinished by a crashed one finishes it after the
   * same quiet time, without committing. `false` folds only past
   * `compactThresholdBytes`, at `close()` and by `db-router fold` (and leaves
   * an unfinished fold to the next writer). A fold writes what the log changed.
   * @default 5000
   */
  foldIdleMs?: number | false;
  /**
   * Whether `records.append` waits for the lines to reach the disk (`fdatasync`).
   * @default true
   */
  syncRecords?: boolean;
}

/**
 * Creates a file storage adapter over `fs`, reported as `name`.
 *
 * @example
 * ```ts ignore
 * import { fileStorage } from "./adapter.ts";
 * const storage = fileStorage(myFileSystem, "my-fs", { lockStaleMs: 2000 });
 * const db = await storage.open(storage.resolve("shared/global.db"));
 * ```
 */
export function fileStorage(
  fs: FileSystem,
  name: string,
  options: FileStorageOptions = {},
): StorageAdapter {
  const databaseOptions = {
    compactThresholdBytes: positive("compactThresholdBytes", options.compactThresholdBytes),
    staleMs: positive("lockStaleMs", options.lockStaleMs) ?? 5000,
    timeoutMs: positive("lockTimeoutMs", options.lockTimeoutMs) ?? 60000,
    keepMs: options.lockKeepMs === false ? 0 : positive("lockKeepMs", options.lockKeepMs) ?? 5,
    foldIdleMs: options.foldIdleMs === false
      ? undefined
      : positive("foldIdleMs", options.foldIdleMs) ?? DEFAULT_FOLD_IDLE_MS,
  };
  const resolveLocation = (location: string): string => {
    if (typeof location !== "string" || location.length === 0) {
      throw new TypeError(
        `Invalid database location ${JSON.stringify(location)}: expected a non-empty string`,
      );
    }
    return canonicalPath(fs, resolve(fs.cwd(), location));
  };
  return {
    name,
    capabilities: { durable: true, sharedAcrossProcesses: true, incremental: true },
    resolve: resolveLocation,
    async open(key) {
      const path = resolveLocation(key);
      await checkLocation(fs, path);
      return new FileDatabase(fs, path, databaseOptions);
    },
    records: fileRecords(fs, resolveLocation, options.syncRecords ?? true, databaseOptions),
  };
}

/**
 * `path` (absolute) through every symbolic link: the `realpath` of the file,
 * or for a file that does not exist yet, of its nearest existing folder with
 * the rest appended. So a database reached through a symlink (to the file or
 * to a folder on the way) has one key: one lock, one in-process database, and
 * the local/shared check compares the files themselves. A symlink to a file
 * that does not exist yet is not followed (its target is unknown until then).
 */
function canonicalPath(fs: FileSystem, path: string): string {
  const rest: string[] = [];
  for (let current = path;;) {
    try {
      const real = fs.realPath(current);
      return rest.length === 0 ? real : join(real, ...rest.reverse());
    } catch {
      // Missing (or not a folder): try its parent; open() reports what is wrong.
    }
    const parent = dirname(current);
    if (parent === current) return path;
    rest.push(basename(current));
    current = parent;
  }
}

/**
 * Creates the folders of the database at `path` and checks that `path` is not
 * a folder itself; rejects with `DATABASE_OPEN_FAILED` naming the path.
 */
async function checkLocation(fs: FileSystem, path: string): Promise<void> {
  const fail = (reason: string, cause?: unknown) =>
    new RouterError("DATABASE_OPEN_FAILED", `Cannot open database "${path}": ${reason}`, {
      cause,
    });
  try {
    await fs.mkdir(dirname(path));
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw fail(`cannot create its folder "${dirname(path)}" (${reason})`, cause);
  }
  let isDirectory = false;
  try {
    isDirectory = (await fs.stat(path)).isDirectory;
  } catch (cause) {
    if (!isNotFound(cause)) {
      throw fail(cause instanceof Error ? cause.message : String(cause), cause);
    }
  }
  if (isDirectory) throw fail("it is a directory, not a database file");
}

const DEFAULT_FOLD_IDLE_MS = 5000;

function positive(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Invalid file storage option ${name}: ${value} is not a positive number`);
  }
  return value;
}
