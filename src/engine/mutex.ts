/**
 * A first-in, first-out async mutex: the part of `async-mutex` the engine and
 * the memory storage use (`acquire`, `runExclusive`, `isLocked`).
 *
 * Hand-written because importing `async-mutex` showed in the cold-start
 * profile: one more package for the module loader to resolve, read and
 * parse before a first query (11 KB, with three `new Error()` at its top
 * level, which Deno captures stack traces for; BENCHMARKS.md, issue 15, fifth
 * pass), for the few lines below. The file lock and browser storage, loaded
 * at first use, still use `async-mutex` for its `withTimeout`. Same semantics as `async-mutex`'s `Mutex`: `acquire()` takes
 * a free mutex at once (so `isLocked()` is true before its promise settles),
 * a release hands the mutex straight to the next waiter in call order (it
 * stays locked), and a releaser works once.
 *
 * @module
 */

/** Releases a mutex taken with {@linkcode Mutex.acquire}; a second call does nothing. */
export type MutexRelease = () => void;

/**
 * A FIFO async mutex.
 *
 * @example
 * ```ts
 * import { Mutex } from "./mutex.ts";
 * const mutex = new Mutex();
 * const release = await mutex.acquire();
 * mutex.isLocked(); // true
 * release();
 * await mutex.runExclusive(() => "done"); // "done"
 * ```
 */
export class Mutex {
  #locked = false;
  readonly #waiters: Array<(release: MutexRelease) => void> = [];

  /** Whether someone holds the mutex. */
  isLocked(): boolean {
    return this.#locked;
  }

  /** Takes the mutex when it is free and everyone who asked before has had it. */
  acquire(): Promise<MutexRelease> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Runs `callback` holding the mutex, and releases it however `callback` ends. */
  async runExclusive<T>(callback: () => T | Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await callback();
    } finally {
      release();
    }
  }

  #releaser(): MutexRelease {
    let called = false;
    return () => {
      if (called) return;
      called = true;
      const next = this.#waiters.shift();
      if (next === undefined) this.#locked = false;
      else next(this.#releaser());
    };
  }
}
