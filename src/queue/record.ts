/**
 * One buffered write as a line of a queue file, and its content hash.
 *
 * A line is the JSON of {@linkcode QueuedRecord}:
 *
 * ```json
 * {"v":1,"id":"7f1c...","table":"bots","source_menace_id":"alpha",
 *  "queued_at":"2025-01-01T00:00:00.000Z","data":{"name":"scraper"},"hash":"3b0c..."}
 * ```
 *
 * `hash` is the SHA-256 (hex) of the UTF-8 text
 * `JSON.stringify([v, id, table, source_menace_id, queued_at, data])`. It
 * covers a random `id` given to each `queueWrite()` call, so two calls with
 * the same data are two records and insert two rows (like two `insert()`
 * calls), while one line applied twice (a sync retried after a crash, a line
 * copied back by hand) inserts once. The sync recomputes the hash, so a line
 * edited by hand is refused rather than applied under an old identity.
 *
 * @module
 */
import { assertIdentifier, isIdentifier } from "../routing/identifier.ts";
import { MENACE_COLUMN } from "../scope/clause.ts";

/** The format version written in `v`. */
export const RECORD_VERSION = 1;

/**
 * A value a queued record may carry: what JSON can hold exactly and SQLite can store.
 *
 * @example
 * ```ts
 * import type { QueuedValue } from "./record.ts";
 * const values: QueuedValue[] = ["text", 1.5, true, null];
 * ```
 */
export type QueuedValue = string | number | boolean | null;

/**
 * One queued write, as a queue file holds it.
 *
 * @example
 * ```ts
 * import type { QueuedRecord } from "./record.ts";
 * const record: QueuedRecord = {
 *   v: 1, id: "f4c3", table: "bots", source_menace_id: "alpha",
 *   queued_at: "2025-01-01T00:00:00.000Z", data: { name: "scraper" }, hash: "…",
 * };
 * ```
 */
export interface QueuedRecord {
  /** Format version, {@linkcode RECORD_VERSION}. */
  readonly v: number;
  /** Unique per `queueWrite()` call. */
  readonly id: string;
  /** The shared table to insert into. */
  readonly table: string;
  /** The instance that queued it; stamped into `source_menace_id`. */
  readonly source_menace_id: string;
  /** When it was queued (ISO 8601, UTC). */
  readonly queued_at: string;
  /** Column values of the row to insert. */
  readonly data: Readonly<Record<string, QueuedValue>>;
  /** SHA-256 of the fields above; see the module documentation. */
  readonly hash: string;
}

/**
 * Checks `data` for `queueWrite()`: a plain object of plain column names and
 * JSON-exact values (strings, finite numbers, booleans, `null`), whose
 * `source_menace_id`, if given, is `menaceId`. Throws a `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { checkQueuedData } from "./record.ts";
 * checkQueuedData({ name: "scraper", runs: 3 }, "alpha"); // { name: "scraper", runs: 3 }
 * ```
 */
export function checkQueuedData(data: unknown, menaceId: string): Record<string, QueuedValue> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TypeError(`Invalid record ${String(data)}: expected an object of column values`);
  }
  const copy: Record<string, QueuedValue> = {};
  for (const [column, value] of Object.entries(data)) {
    assertIdentifier(column, "column name in record");
    const problem = valueProblem(value);
    if (problem) throw new TypeError(`Invalid value for column "${column}": ${problem}`);
    if (column === MENACE_COLUMN && value !== menaceId) {
      throw new TypeError(
        `Invalid record: its ${MENACE_COLUMN} ${
          JSON.stringify(value)
        } is not the writing instance's id "${menaceId}"`,
      );
    }
    // Defined, not assigned: a column named `__proto__` would set the copy's prototype.
    Object.defineProperty(copy, column, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/**
 * Builds the queue line of a new record (with a fresh `id` and its hash).
 * `data` must have passed {@linkcode checkQueuedData}.
 *
 * @example
 * ```ts
 * import { encodeRecord } from "./record.ts";
 * const line = await encodeRecord("bots", { name: "scraper" }, "alpha");
 * JSON.parse(line).table; // "bots"
 * ```
 */
export async function encodeRecord(
  table: string,
  data: Readonly<Record<string, QueuedValue>>,
  source: string,
  queuedAt: Date = new Date(),
): Promise<string> {
  const fields = {
    v: RECORD_VERSION,
    id: crypto.randomUUID(),
    table,
    source_menace_id: source,
    queued_at: queuedAt.toISOString(),
    data,
  };
  return JSON.stringify({ ...fields, hash: await recordHash(fields) });
}

/**
 * Parses and checks one queue line; returns the record, or why it is refused.
 * Nothing of a refused line ever reaches SQL.
 *
 * @example
 * ```ts
 * import { decodeRecord } from "./record.ts";
 * await decodeRecord("not json"); // { reason: "bad JSON: ..." }
 * ```
 */
export async function decodeRecord(
  line: string,
): Promise<{ record: QueuedRecord } | { reason: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return { reason: `bad JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { reason: "bad record: expected a JSON object" };
  }
  const r = parsed as Record<string, unknown>;
  if (r.v !== RECORD_VERSION) return { reason: `bad record: unknown format version ${r.v}` };
  for (const field of ["id", "table", "source_menace_id", "queued_at", "hash"]) {
    if (typeof r[field] !== "string" || r[field] === "") {
      return { reason: `bad record: "${field}" is missing or not a string` };
    }
  }
  if (typeof r.data !== "object" || r.data === null || Array.isArray(r.data)) {
    return { reason: 'bad record: "data" is not an object' };
  }
  if (!isIdentifier(r.table)) {
    return { reason: `table name ${JSON.stringify(r.table)} is not a plain SQL name` };
  }
  for (const [column, value] of Object.entries(r.data)) {
    if (!isIdentifier(column)) {
      return { reason: `column name ${JSON.stringify(column)} is not a plain SQL name` };
    }
    const problem = valueProblem(value);
    if (problem) return { reason: `bad value for column "${column}": ${problem}` };
  }
  const record = r as unknown as QueuedRecord;
  if (await recordHash(record) !== record.hash) {
    return { reason: "hash does not match the record's content" };
  }
  return { record };
}

/** SHA-256 (hex) of a record's fields, in a fixed order. */
async function recordHash(
  r: Pick<QueuedRecord, "v" | "id" | "table" | "source_menace_id" | "queued_at" | "data">,
): Promise<string> {
  const text = JSON.stringify([r.v, r.id, r.table, r.source_menace_id, r.queued_at, r.data]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function valueProblem(value: unknown): string | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : `${value} is not a finite number`;
  }
  const type = typeof value === "object" ? Object.prototype.toString.call(value) : typeof value;
  return `expected a string, finite number, boolean or null (JSON holds no other value exactly), got ${type}`;
}
