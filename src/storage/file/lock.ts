/**
 * The write lock of a file-stored database, across processes and runtimes.
 *
 * The lock is a directory `PATH-dbrlock/` of numbered files, one per holding
 * (an epoch). The holder of the highest-numbered file holds the lock while that
 * file is fresh: it touches the file's modification time every `staleMs / 5`
 * (the heartbeat) and sets it to 0 (the epoch of 1970) when it releases. A
 * taker reads the directory; if the highest file `N` is older than `staleMs`
 * (released, or its holder died), it creates file `N + 1` with `O_EXCL`. Only
 * one taker can create it, so breaking a stale lock never admits two holders:
 * nothing is ever removed and re-created under the same name, which is the
 * race in delete-then-recreate locks. The taker then lists the directory again
 * (a taker that waited long may have created a number that others had already
 * passed and cleaned up: seeing a higher number, it backs off) and, once 16
 * have gathered, removes the files below its own. Within one process, a mutex per lock directory queues
 * takers so that they do not poll each other.
 *
 * Why not proper-lockfile: it works in Node, Deno and Bun, but breaks a stale
 * lock by `rmdir` then `mkdir`, so two processes that find the same stale lock
 * can both take it; with 3 or 4 processes racing for one stale lock it admitted
 * two holders in 5 to 8 of 30 trials in each runtime.
 *
 * Recovery bound: a holder killed with SIGKILL leaves its file, which goes
 * stale `staleMs` after its last heartbeat; a waiting taker polls at most every
 * 16 ms, so it gets the lock at most `staleMs + 20` ms after the kill. A holder
 * whose process exits normally without releasing releases in an exit hook.
 * A holder whose event loop stalls (or whose process is stopped) for longer
 * than `staleMs` loses the lock: its commits check for a successor before they
 * write, and appends verify where they landed, so it fails instead of writing
 * over the new holder's commits. Like every lease, this cannot close the last
 * gap, a stall between that check and the write itself; keep `staleMs` well
 * above the longest synchronous pause (a `quick_check` of a large database).
 * Times are compared with this host's clock, so all takers must share a host
 * (a local file system, not NFS).
 *
 * @module
 */
import { Mutex, withTimeout } from "async-mutex";
import { RouterError } from "../../errors.ts";
import { type FileSystem, isAlreadyExists, isNotFound, statIfPresent } from "./file_system.ts";

/** How the lock behaves. */
export interface FileLockOptions {
  /** A holding whose heartbeat is older than this, in milliseconds, is broken. */
  readonly staleMs: number;
  /** How long `acquireFileLock` waits before it fails with `LOCK_TIMEOUT`. */
  readonly timeoutMs: number;
}

/**
 * Takes the lock in `directory`, waiting for other holders. `label` names the
 * database in messages.
 *
 * @example
 * ```ts ignore
 * const lock = await acquireFileLock(fs, "/data/global.db-dbrlock", "/data/global.db", {
 *   staleMs: 5000,
 *   timeoutMs: 60000,
 * });
 * try {
 *   // write
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export async function acquireFileLock(
  fs: FileSystem,
  directory: string,
  label: string,
  options: FileLockOptions,
): Promise<FileLock> {
  const deadline = performance.now() + options.timeoutMs;
  let mutex = localMutexes.get(directory);
  if (!mutex) localMutexes.set(directory, mutex = new Mutex());
  // An error captures a stack trace (tens of µs): built only when the wait can time out.
  const unlockLocal = mutex.isLocked()
    ? await withTimeout(mutex, options.timeoutMs, timeoutError(label, "this process")).acquire()
    : await mutex.acquire();
  try {
    // The folder is made once per process; a taker that finds it gone makes it again.
    if (!madeDirectories.has(directory)) {
      await fs.mkdir(directory);
      madeDirectories.add(directory);
    }
    let delay = 1;
    for (;;) {
      const outcome = await tryTake(fs, directory, options.staleMs);
      if (typeof outcome === "number") {
        return new FileLock(fs, directory, outcome, options.staleMs, () => {
          unlockLocal();
          if (!mutex.isLocked()) localMutexes.delete(directory);
        });
      }
      if (performance.now() >= deadline) {
        throw timeoutError(
          label,
          outcome === "retry" ? "another process" : await holderOf(fs, outcome),
        );
      }
      if (outcome === "retry") continue;
      // Jittered so that waiters spread out, and never above 16 ms (the documented bound).
      const pause = Math.min(16, delay * (0.5 + Math.random()));
      await new Promise((resolve) => setTimeout(resolve, pause));
      delay = Math.min(delay * 2, 16);
    }
  } catch (error) {
    unlockLocal();
    throw error;
  }
}

/** A held lock. */
export class FileLock {
  /** The file that marks this holding. */
  readonly path: string;
  readonly #fs: FileSystem;
  readonly #successor: string;
  readonly #unlockLocal: () => void;
  readonly #stopBeating: () => void;
  #beat: Promise<void> = Promise.resolve();
  #lost = false;
  #released = false;

  /** Starts the heartbeat of the holding `epoch` in `directory`. */
  constructor(
    fs: FileSystem,
    directory: string,
    epoch: number,
    staleMs: number,
    unlockLocal: () => void,
  ) {
    this.#fs = fs;
    this.path = `${directory}/${epochName(epoch)}`;
    this.#successor = `${directory}/${epochName(epoch + 1)}`;
    this.#unlockLocal = unlockLocal;
    this.#stopBeating = fs.repeat(Math.max(1, Math.floor(staleMs / 5)), () => {
      this.#beat = this.#beat.then(() => this.#heartbeat());
    });
    heldLocks(fs).add(this);
  }

  /** Whether another process has taken the lock over from this holder. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Throws unless this holding is still the current one (one `stat`). */
  async assertHeld(): Promise<void> {
    if (!this.#lost && !this.#released && await exists(this.#fs, this.#successor)) this.#lose();
    if (this.#lost) {
      throw new Error(
        "another process took the write lock over after this one missed its heartbeat",
      );
    }
    if (this.#released) throw new Error("the write lock was released");
  }

  /** Releases the lock; calling it again is harmless. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#stopBeating();
    try {
      await this.#beat;
      if (!this.#lost) await this.#fs.setModified(this.path, RELEASED);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    } finally {
      heldLocks(this.#fs).delete(this);
      this.#unlockLocal();
    }
  }

  /** Marks the holding released without waiting, for exit hooks. */
  releaseSync(): void {
    if (this.#released || this.#lost) return;
    this.#released = true;
    this.#stopBeating();
    try {
      this.#fs.setModifiedSync(this.path, RELEASED);
    } catch {
      // Exiting anyway: the holding goes stale instead.
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#released || this.#lost) return;
    try {
      if (await exists(this.#fs, this.#successor)) return this.#lose();
      await this.#fs.setModified(this.path, new Date());
    } catch (error) {
      // Our file was cleaned up by a later holder.
      if (isNotFound(error)) this.#lose();
    }
  }

  #lose(): void {
    this.#lost = true;
    this.#stopBeating();
  }
}

const RELEASED = new Date(0);
/** Released holdings left in the folder before a taker removes them. */
const KEPT_HOLDINGS = 16;
const localMutexes = new Map<string, Mutex>();
const madeDirectories = new Set<string>();
const registries = new WeakMap<FileSystem, Set<FileLock>>();

/** The locks this process holds through `fs`, released by one exit hook. */
function heldLocks(fs: FileSystem): Set<FileLock> {
  let held = registries.get(fs);
  if (!held) {
    const locks = held = new Set();
    registries.set(fs, locks);
    fs.onExit(() => {
      for (const lock of locks) lock.releaseSync();
    });
  }
  return held;
}

/** One attempt: the epoch taken, `"retry"` at once, or the path of the live holding. */
async function tryTake(
  fs: FileSystem,
  directory: string,
  staleMs: number,
): Promise<number | string> {
  let listed: string[];
  try {
    listed = await fs.readDir(directory);
  } catch (error) {
    // Removed since this process made it (a test's cleanup, a user's `rm`): make it again.
    if (!isNotFound(error)) throw error;
    await fs.mkdir(directory);
    listed = await fs.readDir(directory);
  }
  const top = highestEpoch(listed);
  if (top > 0) {
    let modified: number;
    try {
      modified = (await fs.stat(`${directory}/${epochName(top)}`)).mtimeMs;
    } catch (error) {
      if (isNotFound(error)) return "retry";
      throw error;
    }
    if (Math.abs(Date.now() - modified) <= staleMs) return `${directory}/${epochName(top)}`;
  }
  const mine = `${directory}/${epochName(top + 1)}`;
  try {
    const handle = await fs.open(mine, "createNew");
    try {
      const owner = { process: fs.processLabel(), since: new Date().toISOString() };
      await handle.write(new TextEncoder().encode(JSON.stringify(owner) + "\n"), 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (isAlreadyExists(error)) return "retry";
    throw error;
  }
  const names = await fs.readDir(directory);
  if (highestEpoch(names) > top + 1) {
    await fs.unlink(mine).catch(() => {});
    return "retry";
  }
  // Older holdings are removed in batches, not one per take: an `unlink` costs about as much as
  // the rest of a take.
  const older = names.filter((name) => (parseEpoch(name) ?? top + 1) <= top);
  if (older.length >= KEPT_HOLDINGS) {
    for (const name of older) await fs.unlink(`${directory}/${name}`).catch(() => {});
  }
  return top + 1;
}

function highestEpoch(names: readonly string[]): number {
  let top = 0;
  for (const name of names) top = Math.max(top, parseEpoch(name) ?? 0);
  return top;
}

function parseEpoch(name: string): number | undefined {
  const match = /^(\d{12})\.lock$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function epochName(epoch: number): string {
  return `${String(epoch).padStart(12, "0")}.lock`;
}

async function exists(fs: FileSystem, path: string): Promise<boolean> {
  return await statIfPresent(fs, path) !== null;
}

async function holderOf(fs: FileSystem, path: string): Promise<string> {
  try {
    const owner = JSON.parse(new TextDecoder().decode(await fs.readFile(path)));
    return typeof owner?.process === "string" ? owner.process : "another process";
  } catch {
    return "another process";
  }
}

function timeoutError(label: string, holder: string): RouterError {
  return new RouterError(
    "LOCK_TIMEOUT",
    `Cannot lock database "${label}": ${holder} still holds its write lock`,
  );
}
