/**
 * The shared database on libSQL (Turso, `sqld`, or a local file) through
 * `@libsql/client`: `libsql://`, `http(s)://`, `ws(s)://` and `file:` URLs.
 *
 * The client is imported when a router first uses the database, by a name
 * that bundlers do not follow, so importing db-router pulls neither the
 * client nor its native `libsql` binding into a Worker or browser bundle.
 * There, pass a client made with `@libsql/client/web` as `client` instead.
 * Only the small part of the client's API the router uses is declared here.
 *
 * libSQL runs interactive transactions (`client.transaction("write")`), so
 * `transaction()` works, nested calls as savepoints; `batch()` is one atomic
 * request. Bigints bind as exact 64-bit integers, and so do whole numbers
 * within 2^53 (the client binds a number as a REAL). Reading an integer beyond
 * 2^53 rejects with the client's `RangeError` (sql.js and D1 round it).
 *
 * @module
 */
import type { SharedBackend } from "../engine/backend.ts";
import type { Row, RunResult, ValuesResult } from "../engine/connection.ts";
import type { RemoteDriver, RemoteTransaction } from "./driver.ts";
import { importOptional, type OptionalPackage } from "../optional.ts";
import { redactUrl } from "./url.ts";
import { remoteBackend } from "./remote_backend.ts";
import { rowFromColumns, valuesFrom } from "./rows.ts";
import type { RemoteArg, RemoteStatement } from "./sql_args.ts";

/** The `kind` of {@linkcode libsqlBackend}. */
export const LIBSQL_BACKEND_KIND = "libsql";

/** What libSQL returns for a statement. */
export interface LibsqlResultSet {
  /** Column names, in order. */
  columns: string[];
  /** Rows, indexable by column position. */
  rows: ArrayLike<unknown>[];
  /** Rows changed by a write. */
  rowsAffected: number;
  /** Rowid of the last insert, where the engine reports it. */
  lastInsertRowid?: bigint | number;
}

/** Something that runs one statement: a client or a transaction. */
export interface LibsqlExecutor {
  /** Runs one statement. */
  execute(statement: { sql: string; args: RemoteArg[] }): Promise<LibsqlResultSet>;
}

/** An interactive transaction of a {@linkcode LibsqlClient}. */
export interface LibsqlTransaction extends LibsqlExecutor {
  /** Commits and closes it. */
  commit(): Promise<void>;
  /** Rolls back and closes it. */
  rollback(): Promise<void>;
  /** Closes it, rolling back what is uncommitted. */
  close(): void;
}

/** The part of an `@libsql/client` client the router uses. */
export interface LibsqlClient extends LibsqlExecutor {
  /** Runs statements in one atomic request. */
  batch(
    statements: { sql: string; args: RemoteArg[] }[],
    mode: "write" | "read",
  ): Promise<LibsqlResultSet[]>;
  /** Runs a script of statements. */
  executeMultiple(sql: string): Promise<void>;
  /** Begins an interactive transaction. */
  transaction(mode: "write"): Promise<LibsqlTransaction>;
  /** Releases the client. */
  close(): void;
}

/** Options of {@linkcode libsqlBackend}: a URL, or a client made elsewhere. */
export interface LibsqlBackendOptions {
  /** `libsql://`, `http(s)://`, `ws(s)://` or `file:` URL; required without `client`. */
  url?: string;
  /**
   * The token of a remote database.
   * @default none
   */
  authToken?: string;
  /**
   * A client to use instead of making one from `url` (e.g. from
   * `@libsql/client/web` in a Worker). Routers never close it.
   * @default a client per router, made from `url`, closed by `router.close()`
   */
  client?: LibsqlClient;
  /**
   * How long a write to a `file:` database waits for another process's lock, in milliseconds.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

/**
 * A shared backend on libSQL.
 *
 * @example
 * ```ts ignore
 * import { DBRouter, libsqlBackend } from "db-router";
 * const shared = libsqlBackend({ url: "libsql://menace.turso.io", authToken: process.env.TOKEN });
 * const router = new DBRouter("alpha", "local.db", shared);
 * ```
 */
export function libsqlBackend(options: LibsqlBackendOptions): SharedBackend {
  const { url, client } = options ?? {};
  if (client === undefined && (typeof url !== "string" || !/^[a-z][a-z0-9+.-]*:/i.test(url))) {
    throw new TypeError(
      `Invalid libSQL URL ${
        JSON.stringify(url)
      }: expected libsql://, http(s)://, ws(s):// or file:`,
    );
  }
  const location = url !== undefined ? redactUrl(url) : "libsql:client";
  return remoteBackend(
    LIBSQL_BACKEND_KIND,
    location,
    true,
    () => new LibsqlDriver(options, location),
  );
}

/** An optional peer dependency, imported when a router first uses libSQL. */
const CLIENT_PACKAGE: OptionalPackage = {
  name: "@libsql/client",
  range: "^0.18.0",
  purpose: "use the libSQL backend",
};

class LibsqlDriver implements RemoteDriver {
  readonly engine = "libSQL";
  readonly location: string;
  readonly policy = { bigint: "exact", engine: "libSQL" } as const;
  readonly #options: LibsqlBackendOptions;
  #client: LibsqlClient | undefined;
  #connecting: Promise<LibsqlClient> | undefined;

  constructor(options: LibsqlBackendOptions, location: string) {
    this.#options = options;
    this.location = location;
    this.#client = options.client;
  }

  async open(): Promise<void> {
    await (await this.#connect()).execute({ sql: "SELECT 1", args: [] });
  }

  async all(statement: RemoteStatement): Promise<Row[]> {
    return allOf(this.#client ?? await this.#connect(), statement);
  }

  async get(statement: RemoteStatement): Promise<Row | undefined> {
    const result = await (this.#client ?? await this.#connect()).execute(statement);
    return result.rows.length === 0
      ? undefined
      : rowFromColumns<Row>(result.columns, result.rows[0]);
  }

  async values(statement: RemoteStatement): Promise<ValuesResult> {
    return valuesOf(this.#client ?? await this.#connect(), statement);
  }

  async run(statement: RemoteStatement): Promise<RunResult> {
    return runResult(await (this.#client ?? await this.#connect()).execute(statement));
  }

  async batch(statements: readonly RemoteStatement[], readOnly: boolean): Promise<RunResult[]> {
    if (statements.length === 0) return [];
    const client = this.#client ?? await this.#connect();
    return (await client.batch([...statements], readOnly ? "read" : "write")).map(runResult);
  }

  async script(script: string): Promise<void> {
    await (this.#client ?? await this.#connect()).executeMultiple(script);
  }

  async begin(): Promise<RemoteTransaction> {
    const tx = await (this.#client ?? await this.#connect()).transaction("write");
    return {
      all: (s) => allOf(tx, s),
      get: async (s) => (await allOf(tx, s))[0],
      values: (s) => valuesOf(tx, s),
      run: async (s) => runResult(await tx.execute(s)),
      commit: () => tx.commit(),
      rollback: async () => {
        try {
          await tx.rollback();
        } catch {
          tx.close(); // already closed by a failed commit: nothing left to undo
        }
      },
    };
  }

  async close(): Promise<void> {
    const owned = this.#options.client === undefined;
    const client = this.#client ?? await this.#connecting?.catch(() => undefined);
    this.#client = undefined;
    if (owned) client?.close();
  }

  #connect(): Promise<LibsqlClient> {
    this.#connecting ??= (async () => {
      if (this.#client) return this.#client;
      const { createClient } = await importOptional<{
        createClient(config: Record<string, unknown>): LibsqlClient;
      }>(CLIENT_PACKAGE);
      const { url, authToken, busyTimeoutMs = 5000 } = this.#options;
      this.#client = createClient({ url, authToken, intMode: "number", timeout: busyTimeoutMs });
      return this.#client;
    })();
    return this.#connecting;
  }
}

async function allOf(tx: LibsqlExecutor, statement: RemoteStatement): Promise<Row[]> {
  const result = await tx.execute(statement);
  return result.rows.map((row) => rowFromColumns<Row>(result.columns, row));
}

async function valuesOf(tx: LibsqlExecutor, statement: RemoteStatement): Promise<ValuesResult> {
  const result = await tx.execute(statement);
  return valuesFrom(result.columns, result.rows);
}

function runResult(result: LibsqlResultSet): RunResult {
  return { changes: result.rowsAffected, lastInsertRowid: Number(result.lastInsertRowid ?? 0) };
}
