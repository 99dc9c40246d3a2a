/**
 * The async iterator form of `router.watch()`: changes buffered until the
 * loop asks for them (past 10 000, replaced by one resync); leaving the loop
 * (or `return()`) unsubscribes, and the router's `close()` ends it.
 *
 * @module
 */
import { MAX_QUEUED_CHANGES, type TableChange } from "./subscription.ts";

/**
 * Changes of one table, as an async iterator.
 *
 * @example
 * ```ts ignore
 * for await (const change of router.watch("bots")) {
 *   console.log(change.kind, change.inserted);
 *   if (done) break; // unsubscribes
 * }
 * ```
 */
export class TableChanges implements AsyncIterableIterator<TableChange> {
  readonly #buffer: TableChange[] = [];
  #waiting: ((result: IteratorResult<TableChange>) => void) | undefined;
  #done = false;
  #stop: () => void = () => {};

  /** @internal The engine-facing side: `push` is the listener, `stop` unsubscribes. */
  attach(stop: () => void): (change: TableChange) => void {
    this.#stop = stop;
    return (change) => this.#push(change);
  }

  /** The next change, waiting for one if none is buffered. */
  next(): Promise<IteratorResult<TableChange>> {
    const change = this.#buffer.shift();
    if (change) return Promise.resolve({ value: change, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  /** Unsubscribes; buffered changes are dropped. */
  return(): Promise<IteratorResult<TableChange>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the iteration (the router closed, or `return()`). */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#buffer.length = 0;
    this.#stop();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }

  /** The iterator itself, for `for await`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  #push(change: TableChange): void {
    if (this.#done) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value: change, done: false });
    } else if (this.#buffer.length >= MAX_QUEUED_CHANGES) {
      // A loop that stopped asking: one resync instead of an unbounded buffer.
      this.#buffer.length = 0;
      this.#buffer.push({ ...change, kind: "resync", inserted: [], updated: [], deleted: [] });
    } else {
      this.#buffer.push(change);
    }
  }
}
