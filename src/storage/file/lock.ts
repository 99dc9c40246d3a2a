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
 * passed and cleaned up: seeing a higher number, it backs off) and removes the
 * files below its own. Within one process, a mutex per lock directory queues
 * takers so that they do not poll each other.
 *
 * Fairness: a waiter polls, so a process that commits in a loop would find the
 * lock free again before any waiter looked, and keep it for as long as it
 * writes. A taker that has to wait therefore leaves a marker `<random>.wait`
 * in the directory while it waits (touched every `staleMs / 5`, removed once it
 * holds the lock or gives up), and polls every {@linkcode WAITER_POLL_MS} at
 * most. A process that takes the lock again within {@linkcode HAND_OVER_MS} of
 * releasing it continues its turn; once the turn has lasted
 * {@linkcode TURN_MS}, a taker that is not itself waiting and finds another
 * process's fresh marker steps aside: it leaves its own marker and pauses
 * `HAND_OVER_MS`, longer than a waiter's longest poll, so that a waiter takes
 * the lock first; then it competes as a waiter (waiters never step aside, so
 * nobody waits for ever). Without other processes' markers this costs nothing:
 * the directory is listed anyway. Markers of dead waiters go stale after
 * `staleMs` and are removed by the next taker. Releases older than this rule
 * ignore the markers (their takers neither leave nor respect them).
 *
 * Why not proper-lockfile: it works in Node, Deno and Bun, but breaks a stale
 * lock by `rmdir` then `mkdir`, so two processes that find the same stale lock
 * can both take it; with 3 or 4 processes racing for one stale lock it admitted
 * two holders in 5 to 8 of 30 trials in each runtime.
 *
 * Between commits a holder keeps its holding for `keepMs` (the file storage's
 * `lockKeepMs`, 5 ms by default) while nobody asks (see {@linkcode FileLock}):
 * a commit in a loop so costs one `stat` of the folder instead of a new
 * holding.
 *
 * Recovery bound: a holder killed with SIGKILL leaves its file, which goes
 * stale `staleMs` after its last heartbeat; a waiting taker polls at most every
 * 16 ms (every {@linkcode WAITER_POLL_MS} once it has left its marker), so it
 * gets the lock at most `staleMs + 20` ms after the kill. A holder
 * whose process exits normally without releasing releases in an exit hook.
 * A holder whose event loop stalls (or whose process is stopped) for longer
 * than `staleMs` loses the lock: its commits check for a successor, and that
 * the log's end record still ends where they read it, before they write, so it
 * fails instead of writing over the new holder's commits. Like every lease,
 * this cannot close the last gap, a stall between that check and the write
 * itself; so a holding that broke a stale one ({@linkcode FileLock.brokeStale})
 * makes the file storage fold as soon as it holds the lock, which puts a new log
 * file in place: a write that such a stalled holder makes after its check lands
 * in the old file, which nobody reads. Keep `staleMs` well above the longest
 * synchronous pause (a `quick_check` of a large database) all the same.
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
  // Another handle of this process keeps the lock between its commits: it lets go at once.
  await keptLocks.get(directory)?.letGo();
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
    let marker: WaitMarker | undefined;
    try {
      for (;;) {
        const outcome = await tryTake(fs, directory, options.staleMs, marker?.name);
        if (typeof outcome === "object") {
          beginOrContinueTurn(directory, marker !== undefined);
          // Taken while others wait: released at once, so that the turns above decide (not kept).
          const folder = outcome.othersWait ? undefined : await statIfPresent(fs, directory);
          return new FileLock(
            fs,
            directory,
            outcome.epoch,
            options.staleMs,
            folder?.mtimeMs,
            () => {
              endOfHolding(directory);
              unlockLocal();
              if (!mutex.isLocked()) localMutexes.delete(directory);
            },
            outcome.brokeStale,
          );
        }
        if (performance.now() >= deadline) {
          throw timeoutError(
            label,
            typeof outcome === "string" ? await holderOf(fs, outcome) : "another process",
          );
        }
        if (outcome === RETRY) continue;
        marker ??= await WaitMarker.leave(fs, directory);
        await marker.touchIfDue(options.staleMs);
        if (outcome === STEP_ASIDE) {
          await sleep(HAND_OVER_MS);
          continue;
        }
        // Jittered so that waiters spread out, and never above the documented bound.
        await sleep(Math.min(WAITER_POLL_MS, delay * (0.5 + Math.random())));
        delay = Math.min(delay * 2, WAITER_POLL_MS);
      }
    } finally {
      await marker?.remove();
    }
  } catch (error) {
    unlockLocal();
    throw error;
  }
}

/**
 * How often, at most, a taker that has left its wait marker polls, in
 * milliseconds.
 */
export const WAITER_POLL_MS = 4;

/**
 * How long, in milliseconds, a process that takes the lock again and again
 * (each time within {@linkcode HAND_OVER_MS} of its last release) keeps it
 * while others wait: its turn. Turns spare a hand-over (a waiter's poll, a few
 * milliseconds) per commit.
 */
export const TURN_MS = 20;

/** Per lock directory: when this process's turn began and when it last released. */
const turns = new Map<string, { began: number; released: number }>();

/**
 * How long a taker that found the lock free steps aside for a waiting process,
 * in milliseconds: longer than a waiter's longest poll.
 */
export const HAND_OVER_MS = 6;

/** The marker a waiting taker leaves in the lock directory. */
class WaitMarker {
  readonly name: string;
  readonly #fs: FileSystem;
  readonly #path: string;
  #touched = performance.now();

  private constructor(fs: FileSystem, directory: string, name: string) {
    this.#fs = fs;
    this.name = name;
    this.#path = `${directory}/${name}`;
  }

  /** Leaves a new marker in `directory`. */
  static async leave(fs: FileSystem, directory: string): Promise<WaitMarker> {
    const id = Array.from(
      crypto.getRandomValues(new Uint8Array(8)),
      (byte) => byte.toString(16).padStart(2, "0"),
    ).join("");
    const marker = new WaitMarker(fs, directory, `${id}${WAIT_SUFFIX}`);
    const handle = await fs.open(marker.#path, "createNew");
    try {
      await handle.write(new TextEncoder().encode(fs.processLabel() + "\n"), 0);
    } finally {
      await handle.close();
    }
    return marker;
  }

  /** Keeps the marker fresh while its taker waits. */
  async touchIfDue(staleMs: number): Promise<void> {
    if (performance.now() - this.#touched < staleMs / 5) return;
    this.#touched = performance.now();
    await this.#fs.setModified(this.#path, new Date()).catch(() => {});
  }

  /** Removes the marker; a marker already cleaned up as stale is fine. */
  async remove(): Promise<void> {
    await this.#fs.unlink(this.#path).catch(() => {});
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A held lock.
 *
 * A holder that is done may {@linkcode FileLock.keep} the lock instead of
 * releasing it, for a few milliseconds, and {@linkcode FileLock.resume} it for
 * its next commit: a resume costs one `stat` of the lock folder instead of a
 * new holding's eight calls (create, write, close, two listings, removal,
 * release). The folder's modification time changes whenever a taker leaves a
 * wait marker or a new holding, so a resume that finds it unchanged knows that
 * nobody asked; since that time may be too coarse to tell two changes in one
 * clock tick apart, a kept holding also lists the folder once every
 * {@linkcode TURN_MS}. A resume that finds anything changed, or another
 * process waiting, releases instead, and the holder takes the lock anew, with
 * the turns and hand-overs described in the module's comment. Another
 * process so waits for a kept lock at most `keepMs` after the
 * holder's last commit, or until its next commit, or one turn; a handle of the
 * same process that asks makes the keeper let go at once. A kept holding keeps
 * its heartbeat and is released by the exit hook like any other.
 */
export class FileLock {
  /** The file that marks this holding. */
  readonly path: string;
  /**
   * Whether this holding began by breaking a stale one, whose holder never
   * released it: that holder may be stalled, not dead, and write once more.
   */
  readonly brokeStale: boolean;
  readonly #fs: FileSystem;
  readonly #directory: string;
  readonly #epoch: number;
  readonly #staleMs: number;
  readonly #successor: string;
  /** The lock folder's modification time when this holding last looked, if known. */
  #folderModified: number | undefined;
  /** When this holding last listed the lock folder (`performance.now()`). */
  #listedAt = performance.now();
  #stopKeeping: (() => void) | undefined;
  #onLetGo: (() => void) | undefined;
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
    folderModified: number | undefined,
    unlockLocal: () => void,
    brokeStale = false,
  ) {
    this.brokeStale = brokeStale;
    this.#fs = fs;
    this.#directory = directory;
    this.#epoch = epoch;
    this.#staleMs = staleMs;
    this.#folderModified = folderModified;
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

  /**
   * Keeps holding the lock for its next user: {@linkcode FileLock.resume}
   * within `keepMs` milliseconds takes it back without a new holding; after
   * that, or when another handle of this process asks, it is released and
   * `onLetGo` runs (synchronously, before the release's I/O). Returns false,
   * keeping nothing, for a holding that cannot be kept (released, lost, or
   * taken while other processes waited) or when `keepMs` is 0: the caller
   * releases it.
   */
  keep(keepMs: number, onLetGo: () => void): boolean {
    if (keepMs <= 0 || this.#released || this.#lost || this.#folderModified === undefined) {
      return false;
    }
    this.#onLetGo = onLetGo;
    keptLocks.set(this.#directory, this);
    this.#stopKeeping = this.#fs.repeat(keepMs, () => void this.letGo().catch(() => {}));
    return true;
  }

  /**
   * Takes a kept holding back; resolves false, having released it, when it
   * was let go, lost, or another taker appeared (the caller then takes the
   * lock anew).
   */
  async resume(): Promise<boolean> {
    this.#unkeep();
    if (this.#released || this.#lost) return false;
    try {
      if (await this.#nobodyAsked()) return true;
    } catch {
      // The folder is gone or unreadable: a new holding sorts it out.
    }
    await this.release();
    return false;
  }

  /** Ends a kept holding: runs its `onLetGo`, then releases. */
  async letGo(): Promise<void> {
    const onLetGo = this.#onLetGo;
    this.#unkeep();
    onLetGo?.();
    await this.release();
  }

  /** Whether no other taker touched the lock folder since this holding last looked. */
  async #nobodyAsked(): Promise<boolean> {
    const folder = await statIfPresent(this.#fs, this.#directory);
    if (folder === null || folder.mtimeMs !== this.#folderModified) return false;
    if (performance.now() - this.#listedAt < TURN_MS) return true;
    // Once a turn: a change within the same clock tick as the last look leaves the time as it was.
    const listed = await this.#fs.readDir(this.#directory);
    this.#listedAt = performance.now();
    if (highestEpoch(listed) !== this.#epoch) return false;
    return !listed.some((name) => name.endsWith(WAIT_SUFFIX)) ||
      !await othersWaiting(this.#fs, this.#directory, listed, this.#staleMs, undefined);
  }

  #unkeep(): void {
    this.#stopKeeping?.();
    this.#stopKeeping = undefined;
    this.#onLetGo = undefined;
    if (keptLocks.get(this.#directory) === this) keptLocks.delete(this.#directory);
  }

  /** Releases the lock; calling it again is harmless. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#unkeep();
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
    this.#unkeep();
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
const localMutexes = new Map<string, Mutex>();
/** Per lock folder, the holding that this process keeps between commits, if any. */
const keptLocks = new Map<string, FileLock>();
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

/** `tryTake` found the lock changing under it: try again at once. */
const RETRY = Symbol("retry");
/** `tryTake` found the lock free but another process waiting for it. */
const STEP_ASIDE = Symbol("step aside");
const WAIT_SUFFIX = ".wait";

/**
 * One attempt: the epoch taken (and whether other processes were waiting),
 * {@linkcode RETRY}, {@linkcode STEP_ASIDE}, or the path of the live holding.
 * `waiting` is this taker's own marker, if it left one; a taker without one
 * steps aside for other waiters.
 */
async function tryTake(
  fs: FileSystem,
  directory: string,
  staleMs: number,
  waiting: string | undefined,
): Promise<
  | { epoch: number; othersWait: boolean; brokeStale: boolean }
  | string
  | typeof RETRY
  | typeof STEP_ASIDE
> {
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
  // A holding whose time is not 0 was never released: its holder died or stalled.
  let brokeStale = false;
  if (top > 0) {
    let modified: number;
    try {
      modified = (await fs.stat(`${directory}/${epochName(top)}`)).mtimeMs;
    } catch (error) {
      if (isNotFound(error)) return RETRY;
      throw error;
    }
    if (Math.abs(Date.now() - modified) <= staleMs) return `${directory}/${epochName(top)}`;
    brokeStale = modified !== 0;
  }
  // Only under contention are there markers; stale ones are cleaned up whenever seen.
  let othersWait = false;
  if (listed.some((name) => name.endsWith(WAIT_SUFFIX) && name !== waiting)) {
    othersWait = await othersWaiting(fs, directory, listed, staleMs, waiting);
    if (othersWait && waiting === undefined && turnIsOver(directory)) return STEP_ASIDE;
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
    if (isAlreadyExists(error)) return RETRY;
    throw error;
  }
  const names = await fs.readDir(directory);
  if (highestEpoch(names) > top + 1) {
    await fs.unlink(mine).catch(() => {});
    return RETRY;
  }
  for (const name of names) {
    const epoch = parseEpoch(name);
    if (epoch !== undefined && epoch <= top) {
      await fs.unlink(`${directory}/${name}`).catch(() => {});
    }
  }
  return { epoch: top + 1, othersWait, brokeStale };
}

/** Whether this process has held the lock, taken again and again, for its whole turn. */
function turnIsOver(directory: string): boolean {
  const turn = turns.get(directory);
  return turn !== undefined && performance.now() - turn.began >= TURN_MS;
}

/** Records a take: a turn begins unless this process released the lock just before. */
function beginOrContinueTurn(directory: string, waited: boolean): void {
  const now = performance.now();
  const turn = turns.get(directory);
  if (turn && !waited && now - turn.released <= HAND_OVER_MS) return;
  turns.set(directory, { began: now, released: Infinity });
  // One entry per database this process writes; forget those idle for a while.
  if (turns.size > 64) {
    for (const [key, old] of turns) if (now - old.released > 1000) turns.delete(key);
  }
}

/** Records a release, which a quick take that follows continues. */
function endOfHolding(directory: string): void {
  const turn = turns.get(directory);
  if (turn) turn.released = performance.now();
}

/** Whether `listed` holds another taker's fresh wait marker; stale ones (dead waiters) are removed. */
async function othersWaiting(
  fs: FileSystem,
  directory: string,
  listed: readonly string[],
  staleMs: number,
  own: string | undefined,
): Promise<boolean> {
  let waiting = false;
  for (const name of listed) {
    if (!name.endsWith(WAIT_SUFFIX) || name === own) continue;
    const info = await statIfPresent(fs, `${directory}/${name}`);
    if (info === null) continue;
    if (Math.abs(Date.now() - info.mtimeMs) <= staleMs) waiting = true;
    else await fs.unlink(`${directory}/${name}`).catch(() => {});
  }
  return waiting;
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
