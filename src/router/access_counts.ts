/**
 * Per-table access counts of one router, by database.
 *
 * @module
 */

/** Accesses per table, by database: `{ shared: { bots: 2 }, local: { models: 1 } }`. */
export interface AccessCounts {
  /** Accesses per table of the shared database. */
  shared: Record<string, number>;
  /** Accesses per table of this instance's local database. */
  local: Record<string, number>;
}

/**
 * Counts accesses per table. Each table has one mutable counter, so an access
 * costs one map look-up, not a get and a set: this runs on every query.
 *
 * @example
 * ```ts
 * import { AccessCounter } from "./access_counts.ts";
 * const counter = new AccessCounter();
 * counter.add("shared", "bots");
 * counter.snapshot(); // { shared: { bots: 1 }, local: {} }
 * ```
 */
export class AccessCounter {
  readonly #counts = {
    shared: new Map<string, { n: number }>(),
    local: new Map<string, { n: number }>(),
  };

  /** Counts one access to `table` in `database`. */
  add(database: "shared" | "local", table: string): void {
    const counts = this.#counts[database];
    const counter = counts.get(table);
    if (counter === undefined) counts.set(table, { n: 1 });
    else counter.n++;
  }

  /** The counts so far, as plain objects the caller may keep. */
  snapshot(): AccessCounts {
    return { shared: plain(this.#counts.shared), local: plain(this.#counts.local) };
  }
}

function plain(counters: Map<string, { n: number }>): Record<string, number> {
  return Object.fromEntries(Array.from(counters, ([table, counter]) => [table, counter.n]));
}
