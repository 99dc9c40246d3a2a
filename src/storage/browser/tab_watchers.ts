/**
 * Which tabs watch a database of a browser store (IndexedDB, OPFS), so that
 * a commit records its rows and writes its note only while someone listens:
 * the answer to `StoredDatabase.anyoneWatches`.
 *
 * A tab (or worker) with a watcher of the database holds a shared Web Lock
 * named after it for as long as it watches; the browser lets go of it when
 * the tab goes away (closed, reloaded, crashed), so a watcher never outlives
 * its tab. A writer asks `navigator.locks.query()`, once per write, under the
 * write lock, unless a watcher of this realm, or an answer "yes" younger than
 * {@linkcode WATCHED_CACHE_MS}, already says yes: a stale "yes" costs one
 * note, a stale "no" would cost a watcher its rows (a resync), so "no" is
 * never cached.
 *
 * A tab whose listeners are all unscoped (`scope: "all"`) holds the lock
 * named after the database followed by `"\0all"` instead: with only such
 * locks held, the answer is `"unscoped"` and writers look no owners up. The
 * database's own name (a scoped watcher's, or an older db-router's, which
 * may be scoped) asks for owners. An `"unscoped"` answer is not cached
 * either: a scoped watcher that came meanwhile would hear resyncs.
 *
 * Without Web Locks (pages not served over HTTPS or localhost; Node, Deno and
 * Bun with fake-indexeddb), other tabs cannot be seen: every commit is taken
 * as watched, as before.
 *
 * @module
 */

/** The part of the Web Locks API used here. */
export interface WatchLockManager {
  request(
    name: string,
    options: { mode: "shared" },
    callback: () => Promise<void>,
  ): Promise<unknown>;
  query(): Promise<{ held?: Array<{ name?: string }>; pending?: Array<{ name?: string }> }>;
}

/** How long a "someone watches" answer is trusted without asking again. */
export const WATCHED_CACHE_MS = 1000;

/**
 * The watchers of the databases of one store, by key.
 *
 * @example
 * ```ts ignore
 * const watchers = new TabWatchers(navigator.locks, "db-router-watch:opfs:db-router");
 * const withdraw = await watchers.register("shared/global.db");
 * await watchers.anyone("shared/global.db"); // true
 * await withdraw();
 * ```
 */
export class TabWatchers {
  readonly #locks: WatchLockManager | undefined;
  readonly #prefix: string;
  /** Watchers of this realm, by key and lock name. */
  readonly #here = new Map<string, number>();
  /** When a query last found a watcher, by key. */
  readonly #seenAt = new Map<string, number>();

  /** Watchers seen through `locks` (none: every database is taken as watched), under `prefix`. */
  constructor(locks: unknown, prefix: string) {
    const manager = locks as Partial<WatchLockManager> | undefined;
    this.#locks = typeof manager?.request === "function" && typeof manager.query === "function"
      ? manager as WatchLockManager
      : undefined;
    this.#prefix = prefix;
  }

  #name(key: string, scoped = true): string {
    return `${this.#prefix}:${key}${scoped ? "" : UNSCOPED_SUFFIX}`;
  }

  /**
   * Registers a watcher of `key` in this tab (`scoped`: one that may tell
   * rows apart by owner); resolves once other tabs see it (the shared lock
   * is held), with the function that withdraws it.
   */
  async register(key: string, scoped = true): Promise<() => Promise<void>> {
    const name = this.#name(key, scoped);
    this.#here.set(name, (this.#here.get(name) ?? 0) + 1);
    let letGo = () => {};
    let request: Promise<unknown> = Promise.resolve();
    if (this.#locks) {
      const held = new Promise<void>((settle) => (letGo = settle));
      await new Promise<void>((granted, refused) => {
        request = this.#locks!.request(name, { mode: "shared" }, () => {
          granted();
          return held;
        });
        request.catch(refused);
      }).catch((error) => {
        this.#withdraw(name);
        throw error;
      });
    }
    let withdrawn = false;
    return async () => {
      if (withdrawn) return;
      withdrawn = true;
      this.#withdraw(name);
      letGo();
      await request.then(() => undefined, () => undefined);
    };
  }

  #withdraw(name: string): void {
    const count = (this.#here.get(name) ?? 1) - 1;
    if (count > 0) this.#here.set(name, count);
    else this.#here.delete(name);
  }

  /**
   * Whether any tab (this one included) watches `key` now: `"unscoped"` when
   * every watcher registered unscoped.
   */
  async anyone(key: string): Promise<boolean | "unscoped"> {
    const name = this.#name(key);
    if (!this.#locks || this.#here.has(name)) return true;
    const seen = this.#seenAt.get(key);
    if (seen !== undefined && performance.now() - seen < WATCHED_CACHE_MS) return true;
    const unscoped = this.#name(key, false);
    const { held = [], pending = [] } = await this.#locks.query();
    let watched: boolean | "unscoped" = this.#here.has(unscoped) ? "unscoped" : false;
    for (const lock of [...held, ...pending]) {
      if (lock.name === name) {
        watched = true;
        break;
      }
      if (lock.name === unscoped) watched = "unscoped";
    }
    if (watched === true) this.#seenAt.set(key, performance.now());
    else this.#seenAt.delete(key);
    return watched;
  }
}

/** What the lock name of a tab whose watchers are all unscoped ends with. */
const UNSCOPED_SUFFIX = "\0all";
