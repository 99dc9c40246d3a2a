/**
 * One `router.watch()` subscription: what it hears from the engine, filtered
 * by table and scope, queued, and handed to its listener asynchronously, one
 * event at a time, so that a slow listener delays only itself.
 *
 * @module
 */
import type { CommitRows, OwnedRows } from "./rows.ts";

/**
 * What a watch listener hears about one commit that changed its table.
 *
 * `kind: "rows"` names the rowids the commit inserted, updated and deleted
 * (each list sorted, any of them may be empty, never all three).
 * `kind: "resync"` says that commits happened that cannot be told row by row
 * (the page log they were in was folded, or an older db-router wrote them):
 * read the table again; its lists are empty.
 *
 * @example
 * ```ts
 * import type { TableChange } from "./subscription.ts";
 * const change: TableChange = {
 *   table: "bots", kind: "rows", inserted: [7], updated: [], deleted: [], fromThisProcess: false,
 * };
 * ```
 */
export interface TableChange {
  /** The table, as the listener named it. */
  readonly table: string;
  /** `"rows"`, or `"resync"` when the rows cannot be told. */
  readonly kind: "rows" | "resync";
  /** Rowids the commit inserted. */
  readonly inserted: readonly number[];
  /** Rowids the commit updated. */
  readonly updated: readonly number[];
  /** Rowids the commit deleted. */
  readonly deleted: readonly number[];
  /** Whether a router of this process (this tab) made the commit. */
  readonly fromThisProcess: boolean;
}

/**
 * Called once per commit that changed the watched table (and rows the scope
 * allows). A returned promise is awaited before the next event to this
 * listener, never by the commit; a throw or rejection is logged and the
 * listener stays subscribed.
 */
export type ChangeListener = (change: TableChange) => void | Promise<void>;

/** Which rows a watch hears, by `source_menace_id`: as in `router.query()`. */
export type WatchScope = "local" | "global" | "all";

/** Receives every commit of one database, synchronously, from the engine. */
export interface CommitSink {
  /** Whether it tells rows apart by owner (a scope other than `"all"`). */
  readonly scoped?: boolean;
  /** A commit, with the rows it changed. */
  commit(rows: CommitRows, fromThisProcess: boolean): void;
  /** Commits whose rows cannot be told. */
  resync(): void;
}

/** Events queued for one listener beyond which its queue is replaced by one resync. */
export const MAX_QUEUED_CHANGES = 10_000;

/**
 * A listener's subscription to one table.
 *
 * @example
 * ```ts ignore
 * const sub = new Subscription("bots", "all", "alpha", (change) => console.log(change));
 * engine.watch(sub);
 * ```
 */
export class Subscription implements CommitSink {
  readonly #table: string;
  readonly #lowerTable: string;
  readonly #scope: WatchScope;
  readonly #menaceId: string;
  readonly #listener: ChangeListener;
  #queue: TableChange[] = [];
  /** Whether it tells rows apart by owner. */
  readonly scoped: boolean;
  #draining = false;
  #closed = false;

  /** Hears commits to `table` whose rows `scope` allows for `menaceId`. */
  constructor(table: string, scope: WatchScope, menaceId: string, listener: ChangeListener) {
    this.#table = table;
    this.#lowerTable = table.toLowerCase();
    this.#scope = scope;
    this.scoped = scope !== "all";
    this.#menaceId = menaceId;
    this.#listener = listener;
  }

  /** Queues the part of `rows` this subscription hears, if any. */
  commit(rows: CommitRows, fromThisProcess: boolean): void {
    if (this.#closed) return;
    const groups = rows.get(this.#table) ?? this.#find(rows);
    if (!groups) return;
    let inserted: number[] = [];
    let updated: number[] = [];
    let deleted: number[] = [];
    let merged = 0;
    for (const group of groups) {
      if (!this.#allows(group)) continue;
      if (merged++ === 0) {
        // The usual case, one group: copies (each listener gets lists of its own).
        inserted = group.inserted.slice();
        updated = group.updated.slice();
        deleted = group.deleted.slice();
        continue;
      }
      for (const rowid of group.inserted) inserted.push(rowid);
      for (const rowid of group.updated) updated.push(rowid);
      for (const rowid of group.deleted) deleted.push(rowid);
    }
    if (inserted.length + updated.length + deleted.length === 0) return;
    if (merged > 1) [inserted, updated, deleted].forEach((list) => list.sort((a, b) => a - b));
    this.#push({ table: this.#table, kind: "rows", inserted, updated, deleted, fromThisProcess });
  }

  /** Queues a resync. */
  resync(): void {
    if (this.#closed) return;
    this.#push(resyncOf(this.#table));
  }

  /** Stops delivery; events still queued are dropped. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  #find(rows: CommitRows): readonly OwnedRows[] | undefined {
    for (const [table, groups] of rows) {
      if (table.toLowerCase() === this.#lowerTable) return groups;
    }
    return undefined;
  }

  #allows(group: OwnedRows): boolean {
    if (this.#scope === "all") return true;
    if (group.owner === null) return false;
    return (group.owner === this.#menaceId) === (this.#scope === "local");
  }

  #push(change: TableChange): void {
    if (this.#queue.length >= MAX_QUEUED_CHANGES) this.#queue = [resyncOf(this.#table)];
    else this.#queue.push(change);
    if (!this.#draining) {
      this.#draining = true;
      nextTask(() => void this.#drain());
    }
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const change = this.#queue.shift()!;
        try {
          await this.#listener(change);
        } catch (error) {
          console.error(
            `db-router: a watch listener of table "${this.#table}" threw; it stays subscribed:`,
            error,
          );
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}

/**
 * Runs `callback` in a later task, never in the commit's own: `setImmediate`
 * where there is one (Node, Deno 2, Bun; a few µs of CPU less per commit than
 * a timer, which Node also holds back 1 ms), else `setTimeout`.
 */
const nextTask: (callback: () => void) => void = (() => {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown })
    .setImmediate;
  return typeof immediate === "function"
    ? (callback: () => void) => void immediate(callback)
    : (callback: () => void) => void setTimeout(callback, 0);
})();

function resyncOf(table: string): TableChange {
  return { table, kind: "resync", inserted: [], updated: [], deleted: [], fromThisProcess: false };
}
