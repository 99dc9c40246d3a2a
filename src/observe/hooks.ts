/**
 * How logging, auditing and metrics observe a router: one small interface,
 * called on every table access, with nothing attached by default.
 *
 * @module
 */

/** One `getConnection` call that was allowed. */
export interface AccessEvent {
  /** The router's menace id. */
  readonly menaceId: string;
  /** The table asked for. */
  readonly table: string;
  /** The operation the caller declared, such as `"read"` or `"write"`. */
  readonly operation: string;
  /** Which database the table is routed to. */
  readonly database: "shared" | "local";
}

/**
 * Watches a router. `onAccess` runs synchronously inside `getConnection`, so
 * it must be cheap: buffer, and do I/O in `flush`.
 *
 * @example
 * ```ts
 * import type { RouterObserver } from "./hooks.ts";
 * const seen: string[] = [];
 * const observer: RouterObserver = { onAccess: (e) => void seen.push(e.table) };
 * ```
 */
export interface RouterObserver {
  /** Called for every allowed access. */
  onAccess?(event: AccessEvent): void;
  /** Checks that output can be written (an audit log's file); called by `router.ready()`. */
  ready?(): Promise<void>;
  /** Makes buffered output durable; called by `router.flush()` and `close()`. */
  flush?(): Promise<void>;
  /** Releases resources; called once by `router.close()`. */
  close?(): Promise<void>;
}
