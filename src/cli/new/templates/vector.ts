/**
 * The `vector` template of `db-router new`: embeddings stored as BLOBs of
 * Float32 values, ranked by a `cosine_similarity(a, b)` SQL function that the
 * module registers with `router.registerFunction` (the engine re-installs it
 * whenever a database is reloaded from storage), and its tests.
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
 * The module of the `vector` template.
 *
 * @example
 * ```ts ignore
 * vectorModule(templateContext("docs", "vector", "shared", "db-router")); // "/**\n * `DocsDB`: ..."
 * ```
 */
export function vectorModule(ctx: TemplateContext): string {
  const { className, recordType, table, tableConstant } = ctx;
  return `${
    moduleHeader(
      ctx,
      [
        "Each row holds an embedding, stored as a BLOB of Float32 values in the",
        "platform's byte order (little-endian everywhere in practice), with a",
        "reference and JSON metadata. `search()` ranks rows by the SQL function",
        "`cosine_similarity()`, which the constructor registers on the router. It",
        "is an exact search: one pass over the rows of the query's dimension.",
      ],
      `await db.add({ ref: "doc-1", embedding: [0.1, 0.8, 0.3] });\n * await db.search([0.1, 0.7, 0.2], { limit: 5 }); // [{ ref: "doc-1", score: 0.99..., ... }]`,
    )
  }
import {
  type DBRouter,
  GLOBAL_ROUTER,
  LOCAL_TABLES,
  type Migration,
  type Scope,
  SHARED_TABLES,
  type SqlValue,
} from "${ctx.library}";

${routingDeclaration(ctx)}

/** The SQL function that ranks rows: \`cosine_similarity(a, b)\` of two embedding BLOBs. */
export const SIMILARITY_FUNCTION = "cosine_similarity";

/** One row of \`${table}\`. */
export interface ${recordType} {
  id: number;
  /** What the embedding describes: a document id, a URL, ... */
  ref: string;
  embedding: Float32Array;
  /** Parsed from JSON; \`null\` when none was stored. */
  metadata: unknown;
  /** The instance that wrote the row. */
  menaceId: string;
  /** When it was written, ISO 8601 in UTC. */
  createdAt: string;
}

/** What {@linkcode ${className}.add} stores. */
export interface New${recordType} {
  ref: string;
  embedding: ArrayLike<number>;
  /** Any value that JSON can hold. */
  metadata?: unknown;
}

/** A row found by {@linkcode ${className}.search}, with its similarity to the query. */
export interface ${recordType}Match extends ${recordType} {
  /** Cosine similarity to the query, from -1 to 1. */
  score: number;
}

${READ_OPTIONS}

/** Options of {@linkcode ${className}.search}. */
export interface SearchOptions extends ReadOptions {
  /** Leave out rows less similar than this; -1 (keep all) by default. */
  minScore?: number;
}

/** An embedding as a BLOB: its Float32 values' bytes. */
export function toBlob(vector: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(vector).buffer);
}

/** The Float32 values of an embedding BLOB. */
export function fromBlob(blob: Uint8Array): Float32Array {
  const aligned = blob.byteOffset % 4 === 0 ? blob : blob.slice();
  return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
}

/**
 * Cosine similarity of two embedding BLOBs, from -1 to 1; \`null\` when either
 * is not a BLOB, their sizes differ, or one is all zeros.
 */
export function cosineSimilarity(a: SqlValue, b: SqlValue): number | null {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return null;
  if (a.byteLength !== b.byteLength || a.byteLength % 4 !== 0) return null;
  const x = fromBlob(a);
  const y = fromBlob(b);
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i] * y[i];
    xx += x[i] * x[i];
    yy += y[i] * y[i];
  }
  return xx === 0 || yy === 0 ? null : dot / Math.sqrt(xx * yy);
}

const SCHEMA = \`
  CREATE TABLE IF NOT EXISTS ${table} (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL,
    embedding BLOB NOT NULL,
    dims INTEGER NOT NULL,
    metadata TEXT,
    source_menace_id TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS ${table}_by_dims ON ${table} (dims, source_menace_id);
\`;

${migrationsDeclaration(ctx)}

const COLUMNS =
  "id, ref, embedding, metadata, source_menace_id AS menaceId, created_at AS createdAt";

type Stored = Omit<${recordType}, "embedding" | "metadata"> & {
  embedding: Uint8Array;
  metadata: string | null;
};

function toRecord<T extends Stored>(row: T): Omit<T, "embedding" | "metadata"> & ${recordType} {
  return {
    ...row,
    embedding: fromBlob(row.embedding),
    metadata: row.metadata === null ? null : JSON.parse(row.metadata),
  };
}

/** The \`${table}\` table of embeddings. */
export class ${className} {
${classOpening(ctx, "router.registerFunction(SIMILARITY_FUNCTION, cosineSimilarity);")}

  /** Stores \`record\`, stamped with this instance's menace id; returns its id. */
  async add(record: New${recordType}): Promise<number> {
    const values = Array.from(record.embedding);
    if (values.length === 0 || !values.every(Number.isFinite)) {
      throw new TypeError(
        \`Invalid embedding for "\${record.ref}": expected a non-empty list of finite numbers\`,
      );
    }
    await this.ready();
    const result = await this.#router.insert(${tableConstant}, {
      ref: record.ref,
      embedding: toBlob(values),
      dims: values.length,
      metadata: record.metadata === undefined ? null : JSON.stringify(record.metadata),
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

  /**
   * The rows most similar to \`embedding\` that \`scope\` lets this instance see,
   * best first: only rows of the same dimension are compared.
   */
  async search(
    embedding: ArrayLike<number>,
    options: SearchOptions = {},
  ): Promise<${recordType}Match[]> {
    await this.ready();
    const rows = await this.#router.query<Stored & { score: number }>(
      ${tableConstant},
      \`SELECT \${COLUMNS}, \${SIMILARITY_FUNCTION}(embedding, ?) AS score FROM ${table}
        WHERE dims = ? AND score >= ? ORDER BY score DESC, id LIMIT ?\`,
      [toBlob(embedding), embedding.length, options.minScore ?? -1, options.limit ?? 10],
      { scope: options.scope ?? "local" },
    );
    return rows.map(toRecord);
  }
}
`;
}

/**
 * The test file of the `vector` template.
 *
 * @example
 * ```ts ignore
 * vectorTest(templateContext("docs", "vector", "shared", "db-router")); // "/**\n * Tests of `DocsDB`..."
 * ```
 */
export function vectorTest(ctx: TemplateContext): string {
  const { className } = ctx;
  const scopeSearch = ctx.route === "shared"
    ? `
    await new ${className}(beta).add({ ref: "beta east", embedding: [1, 0, 0] });
    assert.equal(refs(await a.search([1, 0, 0], { scope: "global" })), ["beta east"]);
    assert.equal(refs(await a.search([1, 0, 0], { scope: "all", limit: 2 })), ["east", "beta east"]);`
    : "";
  const instances = ctx.route === "shared" ? "alpha, beta, close" : "alpha, close";
  return `${testOpening(ctx, ["cosineSimilarity", "toBlob"])}

/** What \`promise\` rejects with; throws if it fulfils. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("Expected a rejection");
}

const refs = (rows: { ref: string }[]) => rows.map((r) => r.ref);

${scopeTest(ctx, (db, label) => `${db}.add({ ref: ${label}, embedding: [1, 2, 3] })`, "ref")}

test("${className} ranks rows by cosine similarity to the query", async () => {
  const { ${instances} } = twoInstances();
  try {
    const a = new ${className}(alpha);
    await a.add({ ref: "east", embedding: [1, 0, 0] });
    await a.add({ ref: "north-east", embedding: [1, 1, 0], metadata: { tag: "diagonal" } });
    await a.add({ ref: "west", embedding: [-1, 0, 0] });
    await a.add({ ref: "flat", embedding: [1, 0] });
    const hits = await a.search([2, 0.1, 0]);
    assert.equal(refs(hits), ["east", "north-east", "west"], "same dimension only, best first");
    assert.ok(Math.abs(hits[0].score - 2 / Math.sqrt(4.01)) < 1e-6);
    assert.equal(hits[1].metadata, { tag: "diagonal" });
    assert.equal(Array.from(hits[0].embedding), [1, 0, 0]);
    assert.equal(refs(await a.search([1, 0, 0], { minScore: 0.5 })), ["east", "north-east"]);${scopeSearch}
  } finally {
    await close();
  }
});

test("cosineSimilarity is null for BLOBs of other sizes, zero vectors and non-BLOBs", () => {
  assert.is(cosineSimilarity(toBlob([1, 0]), toBlob([1, 0, 0])), null);
  assert.is(cosineSimilarity(toBlob([0, 0]), toBlob([1, 0])), null);
  assert.is(cosineSimilarity("text", toBlob([1, 0])), null);
  assert.is(cosineSimilarity(toBlob([3, 4]), toBlob([6, 8])), 1);
});

test("${className}.add refuses an empty or non-finite embedding", async () => {
  const { alpha, close } = twoInstances();
  try {
    const a = new ${className}(alpha);
    assert.match(String(await rejection(a.add({ ref: "x", embedding: [] }))), /Invalid embedding/);
    assert.match(String(await rejection(a.add({ ref: "x", embedding: [1, NaN] }))), /Invalid embedding/);
  } finally {
    await close();
  }
});

test.run();
`;
}
