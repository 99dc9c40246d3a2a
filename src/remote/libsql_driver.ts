/**
 * The driver of {@linkcode libsqlBackend}'s connections, imported when a
 * router first uses its libSQL database (`libsql.ts`).
 *
 * @module
 */
import type { Row, RunResult, ValuesResult } from "../engine/connection.ts";
import type { RemoteDriver, RemoteTransaction } from "./driver.ts";
import { importOptional, type OptionalPackage } from "../optional.ts";
import type {
  LibsqlBackendOptions,
  LibsqlClient,
  LibsqlExecutor,
  LibsqlResultSet,
} from "./libsql.ts";
import { rowFromColumns, valuesFrom } from "./rows.ts";
import type { RemoteStatement } from "./sql_args.ts";

/** An optional peer dependency, imported when a router first uses libSQL. */
const CLIENT_PACKAGE: OptionalPackage = {
  name: "@libsql/client",
  range: "^0.18.0",
  purpose: "use the libSQL backend",
};

/** Runs statements through a libSQL client. */
export class LibsqlDriver implements RemoteDriver {
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
