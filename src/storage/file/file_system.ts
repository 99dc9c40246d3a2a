/**
 * The small file-system interface that the file storage adapter is written
 * against. Each runtime implements it in its own folder (`../node/fs.ts`,
 * `../deno/fs.ts`, `../bun/fs.ts`), so this folder stays free of runtime
 * globals.
 *
 * Errors keep the operating system's `code` (`"ENOENT"`, `"EEXIST"`, ...):
 * Node and Bun set it, and Deno's error classes carry it too.
 *
 * @module
 */

/** What a `stat` reports that the adapter uses. */
export interface FileInfo {
  /** Size in bytes. */
  readonly size: number;
  /** Inode number (0 where the runtime has none, such as Deno on Windows). */
  readonly ino: number;
  /** Last modification, in milliseconds since the epoch. */
  readonly mtimeMs: number;
  /** Whether this is a directory. */
  readonly isDirectory: boolean;
}

/**
 * How to open a file:
 * - `"read"`: read only; the file must exist.
 * - `"readWrite"`: read and positional writes; the file must exist.
 * - `"createNew"`: read and write a new file; fails with `EEXIST` if it exists.
 * - `"append"`: read anywhere, and every write goes to the end (`O_APPEND`);
 *   created when missing.
 */
export type OpenMode = "read" | "readWrite" | "createNew" | "append";

/** An open file. One caller uses a handle at a time. */
export interface FileHandle {
  /** Information about the open file (`fstat`), even if its path was renamed away. */
  stat(): Promise<FileInfo>;
  /** Reads into `buffer` from byte `position`; returns the bytes read, 0 at the end. */
  read(buffer: Uint8Array, position: number): Promise<number>;
  /**
   * Writes `buffer` at byte `position` (ignored in `"append"` mode, where the
   * write goes to the end) with one system call where possible; returns the
   * bytes written.
   */
  write(buffer: Uint8Array, position: number): Promise<number>;
  /** Sets the file's length to `length` bytes (`ftruncate`): cuts it, or extends it with zeros. */
  truncate(length: number): Promise<void>;
  /** Flushes the file's data and the metadata needed to read it (`fdatasync`). */
  datasync(): Promise<void>;
  /** Flushes the file's data and all its metadata (`fsync`). */
  sync(): Promise<void>;
  /** Closes the handle. */
  close(): Promise<void>;
}

/** The operations the file storage adapter needs from a runtime. */
export interface FileSystem {
  /** The working directory, against which relative locations resolve. */
  cwd(): string;
  /** Opens `path` in `mode`. */
  open(path: string, mode: OpenMode): Promise<FileHandle>;
  /** Reads a whole (small) file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Streams a file's bytes from the start; rejects with `ENOENT` when it is missing. */
  readChunks(path: string): AsyncIterable<Uint8Array>;
  /** Information about `path`, following symbolic links. */
  stat(path: string): Promise<FileInfo>;
  /**
   * Like `stat`, but `null` when nothing is at `path`: where a runtime can say
   * so without raising an error (Node's `throwIfNoEntry`), several times
   * cheaper than a rejected `stat`. Optional: {@linkcode statIfPresent} falls
   * back to `stat`.
   */
  statIfPresent?(path: string): Promise<FileInfo | null>;
  /**
   * The canonical absolute path of an existing `path`, through every symbolic
   * link (`realpath`). Synchronous: routers resolve their paths when they are
   * constructed. Throws (`ENOENT`, `ENOTDIR`) when `path` does not exist.
   */
  realPath(path: string): string;
  /** Atomically renames `from` to `to`, replacing `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Creates a directory and its parents; succeeds when it exists already. */
  mkdir(path: string): Promise<void>;
  /** The names of a directory's entries. */
  readDir(path: string): Promise<string[]>;
  /** Sets a file's modification (and access) time. */
  setModified(path: string, time: Date): Promise<void>;
  /** Sets a file's modification time synchronously, for exit hooks. */
  setModifiedSync(path: string, time: Date): void;
  /** Makes renames and creations in a directory durable (`fsync` on it); a no-op where impossible. */
  syncDirectory(path: string): Promise<void>;
  /** Runs `callback` synchronously when the process exits normally. */
  onExit(callback: () => void): void;
  /**
   * Calls `callback` every `intervalMs` milliseconds without keeping the
   * process alive; returns a function that stops it.
   */
  repeat(intervalMs: number, callback: () => void): () => void;
  /** Names this process in lock files and messages, such as `"node pid 4242"`. */
  processLabel(): string;
}

/**
 * Whether `error` says that a file does not exist.
 *
 * @example
 * ```ts
 * import { isNotFound } from "./file_system.ts";
 * isNotFound(Object.assign(new Error("gone"), { code: "ENOENT" })); // true
 * ```
 */
export function isNotFound(error: unknown): boolean {
  return errorCode(error) === "ENOENT";
}

/**
 * Information about `path`, or `null` when nothing is there.
 *
 * @example
 * ```ts ignore
 * const info = await statIfPresent(fs, "/data/global.db-wal");
 * ```
 */
export async function statIfPresent(fs: FileSystem, path: string): Promise<FileInfo | null> {
  if (fs.statIfPresent) return await fs.statIfPresent(path);
  try {
    return await fs.stat(path);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * `path` opened for reading, or `null` when it is missing.
 *
 * @example
 * ```ts ignore
 * const handle = await openIfPresent(fs, "/data/global.db");
 * ```
 */
export async function openIfPresent(fs: FileSystem, path: string): Promise<FileHandle | null> {
  try {
    return await fs.open(path, "read");
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Whether `error` says that a file exists already.
 *
 * @example
 * ```ts
 * import { isAlreadyExists } from "./file_system.ts";
 * isAlreadyExists(Object.assign(new Error("there"), { code: "EEXIST" })); // true
 * ```
 */
export function isAlreadyExists(error: unknown): boolean {
  return errorCode(error) === "EEXIST";
}

/**
 * Reads from `position` until `buffer` is full or the file ends; returns the bytes read.
 *
 * @example
 * ```ts ignore
 * const header = new Uint8Array(64);
 * const got = await readFully(handle, header, 0);
 * ```
 */
export async function readFully(
  handle: FileHandle,
  buffer: Uint8Array,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const read = await handle.read(buffer.subarray(done), position + done);
    if (read === 0) break;
    done += read;
  }
  return done;
}

/**
 * Writes all of `buffer` at `position`, looping over short writes.
 *
 * @example
 * ```ts ignore
 * await writeFully(handle, new Uint8Array([1, 2, 3]), 0);
 * ```
 */
export async function writeFully(
  handle: FileHandle,
  buffer: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const wrote = await handle.write(buffer.subarray(done), position + done);
    if (wrote <= 0) throw new Error(`short write (${done} of ${buffer.length} bytes)`);
    done += wrote;
  }
}

/**
 * How long, in milliseconds, calls of {@linkcode settlesWithoutStarving} may
 * settle without the event loop turning.
 */
export const STARVE_MS = 1;

/**
 * Makes synchronous calls look like asynchronous ones: the returned function
 * runs `work` at once (a local file-system call of a few µs, where an
 * asynchronous call costs a thread-pool round trip of 50 to 200 µs) and
 * settles with its result, or its error, as a promise. It settles at once (a
 * microtask) while the event loop has turned within the last
 * {@linkcode STARVE_MS}, and otherwise on the loop's next turn (`schedule`):
 * a commit's ten calls so cost no turn each (a turn was about 4 µs of a
 * one-row commit's 0.2 ms of CPU in Node), and a loop that awaits only such
 * calls (a sync pass that finds nothing to do, polled until another task in
 * the process finishes) still lets timers and I/O callbacks run once per
 * millisecond at least.
 *
 * @example
 * ```ts
 * import { settlesWithoutStarving } from "./file_system.ts";
 * const attempt = settlesWithoutStarving((callback) => setTimeout(callback, 0));
 * await attempt(() => 42); // 42
 * ```
 */
export function settlesWithoutStarving(
  schedule: (callback: () => void) => void,
): <T>(work: () => T) => Promise<T> {
  /** When a turn of the event loop was last seen, and whether one is awaited. */
  let turnedAt = -Infinity;
  let awaitingTurn = false;
  const turned = () => {
    awaitingTurn = false;
    turnedAt = performance.now();
  };
  return <T>(work: () => T) => {
    const soon = performance.now() - turnedAt < STARVE_MS;
    if (!awaitingTurn) {
      awaitingTurn = true;
      schedule(turned);
    }
    if (soon) {
      try {
        return Promise.resolve(work());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      let result: T;
      try {
        result = work();
      } catch (error) {
        schedule(() => reject(error));
        return;
      }
      schedule(() => resolve(result));
    });
  };
}

function errorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
}

/**
 * A blocking call that takes longer than this, in milliseconds, is slow; when
 * most of the last {@linkcode SYNC_WINDOW} blocking calls of
 * {@linkcode blockingWhileFast} were slow, the next
 * {@linkcode SLOW_SYNC_SKIPS} go to the thread pool.
 */
export const SLOW_SYNC_MS = 2;
/** How many of the latest blocking calls {@linkcode blockingWhileFast} looks at. */
export const SYNC_WINDOW = 16;
/** How many calls go to the thread pool once most blocking ones were slow. */
export const SLOW_SYNC_SKIPS = 100;

/**
 * Makes a durability call (`fdatasync`) on the calling thread while it is
 * fast, on the thread pool otherwise. On a local disk an `fdatasync` of one
 * commit takes 0.1 to 0.5 ms, and the thread pool's round trip adds 0.05 to
 * 0.3 ms to each (measured in Node on a 2-core VM): better-sqlite3 and
 * `node:sqlite` block for it too. When more than half of the last
 * {@linkcode SYNC_WINDOW} blocking calls took longer than
 * {@linkcode SLOW_SYNC_MS} (a network or spinning disk), the next
 * {@linkcode SLOW_SYNC_SKIPS} calls go to `later`, so such a disk blocks the
 * event loop for 9 commits in 109 at most; a single slow call (a
 * journal commit of the file system now and then: this VM's p90 was 1.1 ms)
 * changes nothing. The window is per file handle (the log's handle is kept
 * between commits). `clock` is for tests. The returned function settles like
 * `attempt`'s (see {@linkcode settlesWithoutStarving}).
 *
 * @example
 * ```ts
 * import { blockingWhileFast, settlesWithoutStarving } from "./file_system.ts";
 * const attempt = settlesWithoutStarving((callback) => setTimeout(callback, 0));
 * const sync = blockingWhileFast(attempt, () => {}, () => Promise.resolve());
 * await sync();
 * ```
 */
export function blockingWhileFast(
  attempt: <T>(work: () => T) => Promise<T>,
  now: () => void,
  later: () => Promise<void>,
  clock: () => number = () => performance.now(),
): () => Promise<void> {
  /** Whether each of the latest blocking calls was slow (a ring), and how many were. */
  const slow: boolean[] = [];
  let slowCount = 0;
  let next = 0;
  /** Calls left to send to the thread pool. */
  let skipsLeft = 0;
  return () => {
    if (skipsLeft > 0) {
      skipsLeft--;
      return later();
    }
    return attempt(() => {
      const started = clock();
      now();
      const wasSlow = clock() - started > SLOW_SYNC_MS;
      if (slow[next]) slowCount--;
      slow[next] = wasSlow;
      if (wasSlow) slowCount++;
      next = (next + 1) % SYNC_WINDOW;
      if (slowCount * 2 > SYNC_WINDOW) {
        skipsLeft = SLOW_SYNC_SKIPS;
        slow.length = 0;
        slowCount = 0;
        next = 0;
      }
    });
  };
}
