/**
 * The `fts` template of `db-router new`: a table of titled texts with a
 * full-text index, and its tests. sql.js has FTS3 and FTS4 but no FTS5, so
 * the index is an FTS4 table over the rows (`content=`), kept in step by
 * triggers: the index never holds a row the table lacks, whoever writes.
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
 * The module of the `fts` template.
 *
 * @example
 * ```ts ignore
 * ftsModule(templateContext("notes", "fts", "shared", "db-router")); // "/**\n * `NotesDB`: ..."
 * ```
 */
export function ftsModule(ctx: TemplateContext): string {
  const { className, recordType, table, tableConstant } = ctx;
  const fts = `${table}_fts`;
  return `${
    moduleHeader(
      ctx,
      [
        "Each row has a title and a body, indexed for full-text search by an FTS4",
        `table, \`${fts}\`, that triggers keep in step with every insert, update and`,
        "delete (sql.js has FTS3/FTS4, not FTS5). Searches are scoped like reads.",
      ],
      `await db.add({ title: "Disk full", body: "node 7 ran out of space" });\n * await db.search("disk"); // [{ title: "Disk full", ... }]`,
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
  title: string;
  body: string;
  /** The instance that wrote the row. */
  menaceId: string;
  /** When it was written, ISO 8601 in UTC. */
  createdAt: string;
}

/** What {@linkcode ${className}.add} stores. */
export interface New${recordType} {
  title: string;
  body: string;
}

${READ_OPTIONS}

// The index reads its text from ${table} (content=), so it stores no second copy;
// the triggers follow SQLite's recipe for FTS4 external content tables.
const SCHEMA = \`
  CREATE TABLE IF NOT EXISTS ${table} (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    source_menace_id TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS ${table}_by_menace ON ${table} (source_menace_id, id);
  CREATE VIRTUAL TABLE IF NOT EXISTS ${fts} USING fts4(content="${table}", title, body);
  CREATE TRIGGER IF NOT EXISTS ${fts}_before_update BEFORE UPDATE ON ${table} BEGIN
    DELETE FROM ${fts} WHERE docid = old.rowid;
  END;
  CREATE TRIGGER IF NOT EXISTS ${fts}_before_delete BEFORE DELETE ON ${table} BEGIN
    DELETE FROM ${fts} WHERE docid = old.rowid;
  END;
  CREATE TRIGGER IF NOT EXISTS ${fts}_after_update AFTER UPDATE ON ${table} BEGIN
    INSERT INTO ${fts} (docid, title, body) VALUES (new.rowid, new.title, new.body);
  END;
  CREATE TRIGGER IF NOT EXISTS ${fts}_after_insert AFTER INSERT ON ${table} BEGIN
    INSERT INTO ${fts} (docid, title, body) VALUES (new.rowid, new.title, new.body);
  END;
\`;

${migrationsDeclaration(ctx)}

const COLUMNS = "${table}.id AS id, ${table}.title AS title, ${table}.body AS body, " +
  "${table}.source_menace_id AS menaceId, ${table}.created_at AS createdAt";

type Stored = ${recordType};

function toRecord(row: Stored): ${recordType} {
  return row;
}

/** The \`${table}\` table and its full-text index. */
export class ${className} {
${classOpening(ctx)}

  /** Stores \`record\`, stamped with this instance's menace id, and indexes it; returns its id. */
  async add(record: New${recordType}): Promise<number> {
    await this.ready();
    const result = await this.#router.insert(${tableConstant}, {
      title: record.title,
      body: record.body,
      created_at: new Date().toISOString(),
    });
    return result.lastInsertRowid;
  }

${getAndRemove(ctx)}

  /** The rows \`scope\` lets this instance see, newest first. */
  async list(options: ReadOptions = {}): Promise<${recordType}[]> {
    await this.ready();
    return await this.#router.query<Stored>(
      ${tableConstant},
      \`SELECT \${COLUMNS} FROM ${table} ORDER BY ${table}.id DESC LIMIT ?\`,
      [options.limit ?? 100],
      { scope: options.scope ?? "local" },
    );
  }

  /**
   * The rows matching the FTS4 query \`query\` (words, "phrases", prefix*, AND/OR/NOT)
   * that \`scope\` lets this instance see, newest first.
   */
  async search(query: string, options: ReadOptions = {}): Promise<${recordType}[]> {
    await this.ready();
    return await this.#router.query<Stored>(
      ${tableConstant},
      \`SELECT \${COLUMNS} FROM ${table} JOIN ${fts} ON ${fts}.docid = ${table}.id
        WHERE ${fts} MATCH ? ORDER BY ${table}.id DESC LIMIT ?\`,
      [query, options.limit ?? 100],
      { scope: options.scope ?? "local" },
    );
  }

  /** Replaces the text of row \`id\` if this instance wrote it (the index follows); returns whether it did. */
  async edit(id: number, changes: Partial<New${recordType}>): Promise<boolean> {
    await this.ready();
    const set = Object.fromEntries(
      Object.entries({ title: changes.title, body: changes.body }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    if (Object.keys(set).length === 0) return false;
    const result = await this.#router.update(${tableConstant}, set, { id });
    return result.changes > 0;
  }
}
`;
}

/**
 * The test file of the `fts` template.
 *
 * @example
 * ```ts ignore
 * ftsTest(templateContext("notes", "fts", "shared", "db-router")); // "/**\n * Tests of `NotesDB`..."
 * ```
 */
export function ftsTest(ctx: TemplateContext): string {
  const { className } = ctx;
  const titles = "(rows: { title: string }[]) => rows.map((r) => r.title)";
  const scopeSearch = ctx.route === "shared"
    ? `
    await new ${className}(beta).add({ title: "beta disk", body: "disk at 90%" });
    assert.equal(titles(await a.search("disk")), ["Disk full"], "local scope: alpha's rows only");
    assert.equal(titles(await a.search("disk", { scope: "global" })), ["beta disk"]);
    assert.equal(titles(await a.search("disk", { scope: "all" })).sort(), ["Disk full", "beta disk"]);`
    : "";
  const instances = ctx.route === "shared" ? "alpha, beta, close" : "alpha, close";
  return `${testOpening(ctx)}

${scopeTest(ctx, (db, label) => `${db}.add({ title: ${label}, body: "text" })`, "title")}

test("${className} finds rows by words, and the index follows edits and deletes", async () => {
  const { ${instances} } = twoInstances();
  const titles = ${titles};
  try {
    const a = new ${className}(alpha);
    const disk = await a.add({ title: "Disk full", body: "node 7 ran out of space" });
    const cpu = await a.add({ title: "CPU hot", body: "fan failure on node 3" });
    assert.equal(titles(await a.search("disk")), ["Disk full"]);
    assert.equal(titles(await a.search("node")), ["CPU hot", "Disk full"]);
    assert.equal(titles(await a.search("fan*")), ["CPU hot"]);${scopeSearch}
    assert.is(await a.edit(cpu, { body: "cooled down" }), true);
    assert.equal(titles(await a.search("fan")), []);
    assert.equal(titles(await a.search("cooled")), ["CPU hot"]);
    assert.is(await a.remove(disk), true);
    assert.equal(titles(await a.search("space")), []);
  } finally {
    await close();
  }
});

test.run();
`;
}
