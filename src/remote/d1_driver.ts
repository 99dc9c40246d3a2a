/**
 * The driver of {@linkcode d1Backend}'s connections, imported when a router
 * first uses its D1 database (`d1.ts`).
 *
 * @module
 */
import type { Row, RunResult, ValuesResult } from "../engine/connection.ts";
import type { D1Database, D1PreparedStatement, D1Result } from "./d1.ts";
import type { RemoteDriver } from "./driver.ts";
import { fixRow, valuesFrom } from "./rows.ts";
import type { RemoteArg, RemoteStatement } from "./sql_args.ts";

/** Runs statements on a D1 binding. */
export class D1Driver implements RemoteDriver {
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
