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
  /**
   * A commit, with the rows it changed; `owned` when no other sink hears
   * these rows (its events may keep their arrays instead of copying them).
   */
  commit(rows: CommitRows, fromThisProcess: boolean, owned?: boolean): void;
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
  #queue: Array<TableChange | HeardRows> = [];
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

  /**
   * Queues the part of `rows` this subscription hears, if any. Only which
   * groups it hears is settled here, in the commit; their rowids are copied
   * into the listener's event in the listener's task ({@linkcode #drain}).
   */
  commit(rows: CommitRows, fromThisProcess: boolean, owned = false): void {
    if (this.#closed) return;
    const groups = rows.get(this.#table) ?? this.#find(rows);
    if (!groups) return;
    const heard = groups.filter((group) =>
      this.#allows(group) &&
      group.inserted.length + group.updated.length + group.deleted.length > 0
    );
    if (heard.length > 0) this.#push({ groups: heard, fromThisProcess, owned });
  }

  /**
   * The event of `groups` (a commit's rows this subscription hears), each
   * list ascending: copied, unless the arrays are this subscription's alone.
   */
  #change({ groups, fromThisProcess, owned }: HeardRows): TableChange {
    const take = (list: readonly number[]) =>
      owned && groups.length === 1 ? list as number[] : list.slice();
    const inserted = take(groups[0].inserted);
    const updated = take(groups[0].updated);
    const deleted = take(groups[0].deleted);
    for (let i = 1; i < groups.length; i++) {
      for (const rowid of groups[i].inserted) inserted.push(rowid);
      for (const rowid of groups[i].updated) updated.push(rowid);
      for (const rowid of groups[i].deleted) deleted.push(rowid);
    }
    if (groups.length > 1) {
      [inserted, updated, deleted].forEach((list) => list.sort((a, b) => a - b));
    }
    return { table: this.#table, kind: "rows", inserted, updated, deleted, fromThisProcess };
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

  #push(change: TableChange | HeardRows): void {
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
        const next = this.#queue.shift()!;
        try {
          await this.#listener("groups" in next ? this.#change(next) : next);
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

/** The groups of one commit's rows that a subscription hears, waiting for its listener's task. */
interface HeardRows {
  readonly groups: readonly OwnedRows[];
  readonly fromThisProcess: boolean;
  /** Whether the groups' arrays are this subscription's alone (no copy needed). */
  readonly owned: boolean;
}

function resyncOf(table: string): TableChange {
  return { table, kind: "resync", inserted: [], updated: [], deleted: [], fromThisProcess: false };
}
