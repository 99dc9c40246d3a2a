/**
 * Which processes watch a file-stored database (`router.watch()`), so that
 * commits record their rows only while someone listens.
 *
 * A watching handle keeps one file in the folder `PATH-dbrwatch/`, named by
 * a random id, and touches its modification time every `staleMs / 5` (a
 * heartbeat, like the lock's: see `lock.ts`); it removes the file when its
 * last listener goes, and sets its time to 0 when the process exits. A file
 * older than `staleMs` belongs to a watcher that died: a writer that sees
 * one removes it (a watcher that was only slow writes its file again at its
 * next heartbeat).
 *
 * A watcher whose listeners are all unscoped (`scope: "all"`) names its file
 * `ID.all.watch`; a scoped one `ID.read.watch`: it looks the owners of a
 * note's rows up itself after its catch-up (see `watch/late_owners.ts`).
 * Neither asks writers to look owners up; other files (`ID.watch`, an older
 * db-router's, which may be scoped and needs the owners in the note) do.
 *
 * A writer asks {@linkcode WatcherRegistry.anyone} under the write lock, at
 * the start of each write: one `stat` of the folder (none there: nobody
 * watches). Its listing is read again only when the folder's modification
 * time changed (a file added or removed) or is too recent to tell a change
 * within the file system's timestamp granularity; the files' heartbeats only
 * every `staleMs / 2` while someone watches.
 *
 * A watcher that registers while another process's write is under way (its
 * check already made) misses that write's rows: the commit has no note, and
 * the watcher hears a resync for it, as for any commit without a note.
 *
 * @module
 */
import { type FileSystem, isAlreadyExists, isNotFound, statIfPresent } from "./file_system.ts";

/** What an unscoped watcher's file name ends with, before `.watch`. */
const UNSCOPED_SUFFIX = ".all";
/** What a scoped watcher's file name ends with, before `.watch`: it reads owners itself. */
const READER_SUFFIX = ".read";

/** A folder modification newer than this (ms) may hide a later one with the same time. */
const TIMESTAMP_SLACK_MS = 2000;

/**
 * The watchers of one database.
 *
 * @example
 * ```ts ignore
 * const registry = new WatcherRegistry(fs, "/data/global.db-dbrwatch", 5000);
 * const unregister = await registry.register();
 * await registry.anyone(); // true
 * await unregister();
 * ```
 */
export class WatcherRegistry {
  readonly #fs: FileSystem;
  readonly #dir: string;
  readonly #staleMs: number;
  /** The folder's modification time when its listing gave {@linkcode #someone}. */
  #listedAt: number | undefined;
  #someone: boolean | "unscoped" = false;
  /** When the heartbeats were last checked (`performance.now()`). */
  #livenessAt = -Infinity;
  /** The names of this handle's own registrations, which {@linkcode anyone} leaves out. */
  readonly #own = new Set<string>();

  /** The registry in folder `dir`; a heartbeat older than `staleMs` is a dead watcher. */
  constructor(fs: FileSystem, dir: string, staleMs: number) {
    this.#fs = fs;
    this.#dir = dir;
    this.#staleMs = staleMs;
  }

  /**
   * Registers a watcher of this process (`scoped`: one that may tell rows
   * apart by owner); resolves once writers can see it, with the function
   * that removes it.
   */
  async register(scoped = true): Promise<() => Promise<void>> {
    const name = `${randomId()}${scoped ? READER_SUFFIX : UNSCOPED_SUFFIX}.watch`;
    const path = `${this.#dir}/${name}`;
    this.#own.add(name);
    // The next check lists the folder again, whatever its time says.
    this.#listedAt = undefined;
    try {
      await this.#write(path);
    } catch (error) {
      this.#own.delete(name);
      throw error;
    }
    let stopped = false;
    let beat = Promise.resolve();
    const stopBeating = this.#fs.repeat(Math.max(1, Math.floor(this.#staleMs / 5)), () => {
      beat = beat.then(() => this.#beat(path, () => stopped)).catch(() => {});
    });
    const live = liveRegistrations(this.#fs);
    live.add(path);
    return async () => {
      if (stopped) return;
      stopped = true;
      this.#own.delete(name);
      this.#listedAt = undefined;
      live.delete(path);
      stopBeating();
      await beat;
      try {
        await this.#fs.unlink(path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    };
  }

  /**
   * Whether any other handle (another process, or another router of this
   * one) watches (`"unscoped"`: only watchers that need no owners in the
   * notes, unscoped or looking owners up themselves): at most one `stat`
   * when nothing changed. This handle's own registrations do not count: its
   * commits reach its own listeners without a note.
   */
  async anyone(): Promise<boolean | "unscoped"> {
    // Not a rejected `stat`: a folder that was never made (nobody ever watched) is the usual
    // answer, and building its error cost more than the `stat` itself.
    const folder = await statIfPresent(this.#fs, this.#dir);
    if (folder === null) {
      this.#listedAt = undefined;
      return false;
    }
    const modified = folder.mtimeMs;
    const now = Date.now();
    const listingKnown = this.#listedAt === modified && now - modified > TIMESTAMP_SLACK_MS;
    if (listingKnown && !this.#someone) return false;
    if (listingKnown && performance.now() - this.#livenessAt < this.#staleMs / 2) {
      return this.#someone;
    }
    this.#someone = await this.#listLiving(now);
    this.#listedAt = modified;
    this.#livenessAt = performance.now();
    return this.#someone;
  }

  /** Whether a living watcher's file is in the folder, and of which kind; removes the dead ones. */
  async #listLiving(now: number): Promise<boolean | "unscoped"> {
    let names: string[];
    try {
      names = await this.#fs.readDir(this.#dir);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    let living: boolean | "unscoped" = false;
    for (const name of names) {
      // This handle's own listeners hear its commits without a note.
      if (!name.endsWith(".watch") || this.#own.has(name)) continue;
      const path = `${this.#dir}/${name}`;
      try {
        const { mtimeMs } = await this.#fs.stat(path);
        if (Math.abs(now - mtimeMs) <= this.#staleMs) {
          const needsOwners = !name.endsWith(`${UNSCOPED_SUFFIX}.watch`) &&
            !name.endsWith(`${READER_SUFFIX}.watch`);
          if (needsOwners) living = true;
          else if (living === false) living = "unscoped";
          continue;
        }
        await this.#fs.unlink(path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return living;
  }

  async #beat(path: string, stopped: () => boolean): Promise<void> {
    if (stopped()) return;
    try {
      await this.#fs.setModified(path, new Date());
    } catch (error) {
      // A writer took this watcher for dead (the process stalled past staleMs): back again.
      if (isNotFound(error) && !stopped()) await this.#write(path);
    }
  }

  async #write(path: string): Promise<void> {
    await this.#fs.mkdir(this.#dir);
    let handle;
    try {
      handle = await this.#fs.open(path, "createNew");
    } catch (error) {
      if (isAlreadyExists(error)) return;
      throw error;
    }
    await handle.close();
  }
}

/** Each file system's live registrations, whose times are set to 0 when the process exits. */
const registrations = new WeakMap<FileSystem, Set<string>>();

function liveRegistrations(fs: FileSystem): Set<string> {
  let live = registrations.get(fs);
  if (!live) {
    const paths = live = new Set();
    registrations.set(fs, paths);
    fs.onExit(() => {
      for (const path of paths) {
        try {
          fs.setModifiedSync(path, new Date(0));
        } catch {
          // Exiting anyway: the file goes stale instead.
        }
      }
    });
  }
  return live;
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
