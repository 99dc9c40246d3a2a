/**
 * The `basic` template of `db-router new`: a table of named rows with a JSON
 * payload, and its tests.
 *
 * @module
 */
import type { TemplateContext } from "../names.ts";
import {
  classOpening,
  getAndRemove,
  migrationsDeclaration,
  moduleHeader,
  READ_OPTIONS,
  routingDeclaration,
  scopeTest,
  testOpening,
} from "./parts.ts";

/**
 * The module of the `basic` template.
 *
 * @example
 * ```ts ignore
 * basicModule(templateContext("alerts", "basic", "shared", "db-router")); // "/**\n * `AlertsDB`: ..."
 * ```
 */
export function basicModule(ctx: TemplateContext): string {
  const { className, recordType, table, tableConstant } = ctx;
  return `${
    moduleHeader(
      ctx,
      ["Each row has a name and a JSON payload, `data`."],
      `const id = await db.add({ name: "first", data: { level: 2 } });`,
    )
  }
import {
  type DBRouter,
  GLOBAL_ROUTER,
  LOCAL_TABLES,
  type Migration,
  type Scope,
  SHARED_TABLES,
} from "${ctx.library}";

${routingDeclaration(ctx)}

/** One row of \`${table}\`. */
export interface ${recordType} {
  id: number;
  name: string;
  /** The payload, parsed from JSON; \`null\` when none was stored. */
  data: unknown;
  /** The instance that wrote the row. */
  menaceId: string;
  /** When it was written, ISO 8601 in UTC. */
  createdAt: string;
}

/** What {@linkcode ${className}.add} stores. */
export interface New${recordType} {
  name: string;
  /** Any value that JSON can hold. */
  data?: unknown;
}

${READ_OPTIONS}

const SCHEMA = \`
  CREATE TABLE IF NOT EXISTS ${table} (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    data TEXT,
    source_menace_id TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS ${table}_by_menace ON ${table} (source_menace_id, id);
\`;

${migrationsDeclaration(ctx)}

const COLUMNS = "id, name, data, source_menace_id AS menaceId, created_at AS createdAt";

type Stored = Omit<${recordType}, "data"> & { data: string | null };

function toRecord(row: Stored): ${recordType} {
  return { ...row, data: row.data === null ? null : JSON.parse(row.data) };
}

/** The \`${table}\` table. */
export class ${className} {
${classOpening(ctx)}

  /** Stores \`record\`, stamped with this instance's menace id; returns its id. */
  async add(record: New${recordType}): Promise<number> {
    await this.ready();
    const result = await this.#router.insert(${tableConstant}, {
      name: record.name,
      data: record.data === undefined ? null : JSON.stringify(record.data),
      created_at: new Date().toISOString(),
    });
    return result.lastInsertRowid;
  }

${getAndRemove(ctx)}

  /** The rows \`scope\` lets this instance see, newest first. */
  async list(options: ReadOptions = {}): Promise<${recordType}[]> {
    await this.ready();
    const rows = await this.#router.query<Stored>(
      ${tableConstant},
      \`SELECT \${COLUMNS} FROM ${table} ORDER BY id DESC LIMIT ?\`,
      [options.limit ?? 100],
      { scope: options.scope ?? "local" },
    );
    return rows.map(toRecord);
  }

  /** Changes the name of row \`id\` if this instance wrote it; returns whether it did. */
  async rename(id: number, name: string): Promise<boolean> {
    await this.ready();
    const result = await this.#router.update(${tableConstant}, { name }, { id });
    return result.changes > 0;
  }
}
`;
}

/**
 * The test file of the `basic` template.
 *
 * @example
 * ```ts ignore
 * basicTest(templateContext("alerts", "basic", "shared", "db-router")); // "/**\n * Tests of `AlertsDB`..."
 * ```
 */
export function basicTest(ctx: TemplateContext): string {
  const { className } = ctx;
  return `${testOpening(ctx)}

${scopeTest(ctx, (db, label) => `${db}.add({ name: ${label} })`, "name")}

test("${className} keeps data as JSON and renames only its own rows", async () => {
  const { alpha, beta, close } = twoInstances();
  try {
    const a = new ${className}(alpha);
    const id = await a.add({ name: "job", data: { tries: 2, tags: ["x"] } });
    assert.equal((await a.get(id))?.data, { tries: 2, tags: ["x"] });
    assert.is(await new ${className}(beta).rename(id, "stolen"), false);
    assert.is(await a.rename(id, "renamed"), true);
    assert.is((await a.get(id))?.name, "renamed");
  } finally {
    await close();
  }
});

test.run();
`;
}
