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
  /** Watchers of this realm, by key. */
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

  #name(key: string): string {
    return `${this.#prefix}:${key}`;
  }

  /**
   * Registers a watcher of `key` in this tab; resolves once other tabs see
   * it (the shared lock is held), with the function that withdraws it.
   */
  async register(key: string): Promise<() => Promise<void>> {
    this.#here.set(key, (this.#here.get(key) ?? 0) + 1);
    let letGo = () => {};
    let request: Promise<unknown> = Promise.resolve();
    if (this.#locks) {
      const held = new Promise<void>((settle) => (letGo = settle));
      await new Promise<void>((granted, refused) => {
        request = this.#locks!.request(this.#name(key), { mode: "shared" }, () => {
          granted();
          return held;
        });
        request.catch(refused);
      }).catch((error) => {
        this.#withdraw(key);
        throw error;
      });
    }
    let withdrawn = false;
    return async () => {
      if (withdrawn) return;
      withdrawn = true;
      this.#withdraw(key);
      letGo();
      await request.then(() => undefined, () => undefined);
    };
  }

  #withdraw(key: string): void {
    const count = (this.#here.get(key) ?? 1) - 1;
    if (count > 0) this.#here.set(key, count);
    else this.#here.delete(key);
  }

  /** Whether any tab (this one included) watches `key` now. */
  async anyone(key: string): Promise<boolean> {
    if (!this.#locks || this.#here.has(key)) return true;
    const seen = this.#seenAt.get(key);
    if (seen !== undefined && performance.now() - seen < WATCHED_CACHE_MS) return true;
    const name = this.#name(key);
    const { held = [], pending = [] } = await this.#locks.query();
    const watched = held.some((lock) => lock.name === name) ||
      pending.some((lock) => lock.name === name);
    if (watched) this.#seenAt.set(key, performance.now());
    else this.#seenAt.delete(key);
    return watched;
  }
}
