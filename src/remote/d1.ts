/**
 * The shared database on Cloudflare D1, through a Worker's `D1Database`
 * binding. Only the small part of the binding's API the router uses is
 * declared here, so the core needs no Cloudflare types and this file pulls
 * nothing into a bundle.
 *
 * D1 has no interactive transactions (it refuses `BEGIN` and `SAVEPOINT`):
 * `batch()` is atomic, `transaction()` rejects with `UNSUPPORTED`. It binds
 * integers as JavaScript numbers, so a bigint beyond 2^53 is refused rather
 * than rounded; it binds every number as a REAL, so a whole one reaches it in
 * `CAST(? AS INTEGER)`; and it returns BLOBs as byte arrays, which become
 * `Uint8Array`.
 *
 * @module
 */
import type { SharedBackend } from "../engine/backend.ts";
import type { Row, RunResult, ValuesResult } from "../engine/connection.ts";
import type { RemoteDriver } from "./driver.ts";
import { remoteBackend } from "./remote_backend.ts";
import { fixRow, valuesFrom } from "./rows.ts";
import type { RemoteArg, RemoteStatement } from "./sql_args.ts";

/** The `kind` of {@linkcode d1Backend}. */
export const D1_BACKEND_KIND = "d1";

/** What D1 reports about a statement. */
export interface D1Result {
  /** Rows of a query. */
  results?: Record<string, unknown>[];
  /** `changes` and `last_row_id` of a write. */
  meta?: { changes?: number; last_row_id?: number };
}

/** A statement of a {@linkcode D1Database}. */
export interface D1PreparedStatement {
  /** Binds positional values. */
  bind(...values: unknown[]): D1PreparedStatement;
  /** Runs the statement and returns its rows. */
  all(): Promise<D1Result>;
  /** Runs the statement and returns its first row, or `null`. */
  first(): Promise<Record<string, unknown> | null>;
  /** Runs the statement. */
  run(): Promise<D1Result>;
  /** Runs the statement and returns its rows as arrays, the column names first. */
  raw(options: { columnNames: true }): Promise<unknown[][]>;
}

/** The part of a Worker's D1 binding (`env.DB`) the router uses. */
export interface D1Database {
  /** Prepares a statement (no round trip). */
  prepare(sql: string): D1PreparedStatement;
  /** Runs statements atomically, in one round trip. */
  batch(statements: D1PreparedStatement[]): Promise<D1Result[]>;
}

/** Options of {@linkcode d1Backend}. */
export interface D1BackendOptions {
  /**
   * The binding's name, shown in `router.sharedPath` (`d1:<name>`) and messages.
   * @default "DB"
   */
  name?: string;
}

/**
 * A shared backend on the D1 database `db` (a Worker binding such as
 * `env.DB`, or Miniflare's `getD1Database()`).
 *
 * @example
 * ```ts ignore
 * import { d1Backend, DBRouter, memoryStorage } from "db-router";
 * export default {
 *   async fetch(request: Request, env: { DB: D1Database }) {
 *     await using router = new DBRouter("edge", "local.db", d1Backend(env.DB), {
 *       storage: memoryStorage(),
 *     });
 *     return Response.json(await router.query("bots", "SELECT * FROM bots", [], { scope: "all" }));
 *   },
 * };
 * ```
 */
export function d1Backend(db: D1Database, options: D1BackendOptions = {}): SharedBackend {
  if (typeof db?.prepare !== "function" || typeof db.batch !== "function") {
    throw new TypeError(
      `Invalid D1 database ${String(db)}: expected a D1Database binding (prepare, batch)`,
    );
  }
  const name = options.name ?? "DB";
  return remoteBackend(D1_BACKEND_KIND, `d1:${name}`, false, () => new D1Driver(db, `d1:${name}`));
}

class D1Driver implements RemoteDriver {
  readonly engine = "D1";
  readonly location: string;
  readonly policy = { bigint: "number", engine: "D1" } as const;
  readonly noTransactions = "D1 refuses BEGIN and SAVEPOINT";
  readonly #db: D1Database;
  /** Prepared statements by SQL: `bind()` returns a new statement, so one serves every call. */
  readonly #prepared = new Map<string, D1PreparedStatement>();

  constructor(db: D1Database, location: string) {
    this.#db = db;
    this.location = location;
  }

  async open(): Promise<void> {
    await this.#db.prepare("SELECT 1").first();
  }

  async all(statement: RemoteStatement): Promise<Row[]> {
    const result = await this.#prepare(statement).all();
    return (result.results ?? []).map((row) => fixRow<Row>(row));
  }

  async get(statement: RemoteStatement): Promise<Row | undefined> {
    const row = await this.#prepare(statement).first();
    return row === null ? undefined : fixRow<Row>(row);
  }

  async values(statement: RemoteStatement): Promise<ValuesResult> {
    const [columns = [], ...rows] = await this.#prepare(statement).raw({ columnNames: true });
    return valuesFrom(columns as string[], rows);
  }

  async run(statement: RemoteStatement): Promise<RunResult> {
    return runResult(await this.#prepare(statement).run());
  }

  async batch(statements: readonly RemoteStatement[]): Promise<RunResult[]> {
    if (statements.length === 0) return [];
    const results = await this.#db.batch(statements.map((s) => this.#prepare(s)));
    return results.map(runResult);
  }

  async script(_script: string, statements: readonly string[]): Promise<void> {
    for (const sql of statements) await this.#db.prepare(sql).run();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #prepare({ sql, args }: RemoteStatement): D1PreparedStatement {
    let statement = this.#prepared.get(sql);
    if (statement === undefined) {
      if (this.#prepared.size >= MAX_PREPARED) this.#prepared.clear();
      statement = this.#db.prepare(sql);
      this.#prepared.set(sql, statement);
    }
    return args.length === 0 ? statement : statement.bind(...args.map(toD1Value));
  }
}

const MAX_PREPARED = 200;

function runResult(result: D1Result): RunResult {
  return { changes: result.meta?.changes ?? 0, lastInsertRowid: result.meta?.last_row_id ?? 0 };
}

/** D1 documents `ArrayBuffer` for BLOBs; a view is copied into one. */
function toD1Value(value: RemoteArg): unknown {
  if (value instanceof Uint8Array) {
    return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  }
  return value;
}
