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
import { dirname, resolve } from "../../path.ts";
import type { StorageAdapter } from "../types.ts";
import type { FileSystem } from "./file_system.ts";
import { fileRecords } from "./records.ts";
import { FileDatabase } from "./stored_database.ts";

/** Options of every file storage adapter. */
export interface FileStorageOptions {
  /**
   * Log size in bytes (frames past the header) beyond which a commit folds the
   * log into the base, writing the whole image once. Larger values mean fewer
   * full writes and longer logs to replay on open.
   * @default the larger of 4 MiB and the base file's size
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
  };
  const resolveLocation = (location: string): string => {
    if (typeof location !== "string" || location.length === 0) {
      throw new TypeError(
        `Invalid database location ${JSON.stringify(location)}: expected a non-empty string`,
      );
    }
    return resolve(fs.cwd(), location);
  };
  return {
    name,
    capabilities: { durable: true, sharedAcrossProcesses: true, incremental: true },
    resolve: resolveLocation,
    async open(key) {
      const path = resolveLocation(key);
      try {
        await fs.mkdir(dirname(path));
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new RouterError("DATABASE_OPEN_FAILED", `Cannot open database "${path}": ${reason}`, {
          cause,
        });
      }
      return new FileDatabase(fs, path, databaseOptions);
    },
    records: fileRecords(fs, resolveLocation, options.syncRecords ?? true),
  };
}

function positive(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Invalid file storage option ${name}: ${value} is not a positive number`);
  }
  return value;
}
