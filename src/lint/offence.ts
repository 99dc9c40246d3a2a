/**
 * What the `no-direct-database` rule reports: its name, the kinds of offence
 * and their messages, shared by the lint plugin and `db-router check`.
 *
 * @module
 */

/**
 * The rule's name, in the lint plugin and in `db-router check`.
 *
 * @example
 * ```ts
 * import { RULE_NAME } from "./offence.ts";
 * `db-router/${RULE_NAME}`; // the id of deno lint's diagnostics
 * ```
 */
export const RULE_NAME = "no-direct-database";

/** Kinds of offence, for tests and tools. */
export type OffenceKind = "import" | "require" | "dynamic-import" | "re-export" | "init" | "new";

/** One direct use of sql.js. */
export interface Offence {
  /** What was found. */
  kind: OffenceKind;
  /** Where it starts, as a UTF-16 offset into the source. */
  offset: number;
  /** Where it ends. */
  end: number;
  /** The message shown to people. */
  message: string;
}

const ADVICE = "take connections from the router with router.getConnection(table) instead";

/**
 * The message of each kind of offence: what was found, and to use the router.
 *
 * @example
 * ```ts
 * import { OFFENCE_MESSAGES } from "./offence.ts";
 * OFFENCE_MESSAGES.import; // 'Cannot import "sql.js" outside the router: take connections ...'
 * ```
 */
export const OFFENCE_MESSAGES: Readonly<Record<OffenceKind, string>> = Object.freeze({
  "import": `Cannot import "sql.js" outside the router: ${ADVICE}`,
  "require": `Cannot require "sql.js" outside the router: ${ADVICE}`,
  "dynamic-import": `Cannot import("sql.js") outside the router: ${ADVICE}`,
  "re-export": `Cannot re-export "sql.js" outside the router: ${ADVICE}`,
  "init": `Cannot initialise sql.js outside the router: ${ADVICE}`,
  "new": `Cannot open a sql.js Database outside the router: ${ADVICE}`,
});
