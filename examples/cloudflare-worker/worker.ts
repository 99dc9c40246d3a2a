/**
 * A Cloudflare Worker that runs the router with D1 as the shared database: a
 * small HTTP API over the shared table `bots` and the local table `models`.
 *
 * - `POST /setup` creates the schema on D1 (idempotent).
 * - `POST /insert` with `{ "table": "bots", "row": { "name": "b1" } }` inserts
 *   a row stamped with the caller's menace id (the `x-menace-id` header, else
 *   `MENACE_ID`, else `"edge"`).
 * - `GET /rows?table=bots&scope=local|global|all` lists rows by scope.
 * - `GET /explain?table=bots` says where a table goes.
 *
 * Router errors come back as `{ "error", "code" }` with status 400 (404 for an
 * unknown path). Local tables live in sql.js in memory (`memoryStorage()`),
 * one copy per Worker isolate: a Worker has no file system, and isolates
 * come and go, so only what is in D1 is shared and lasts. The entry file
 * `index.js` hands sql.js its wasm module first.
 *
 * @module
 */
import {
  d1Backend,
  type D1Database,
  DBRouter,
  isIdentifier,
  memoryStorage,
  parseScope,
  RouterError,
} from "../../mod.ts";

/** The Worker's bindings (see `wrangler.toml`). */
export interface Env {
  /** The shared database. */
  DB: D1Database;
  /** The menace id of requests that name none. */
  MENACE_ID?: string;
}

/** One isolate's local databases, kept across requests. */
const storage = memoryStorage();

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bots (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  source_menace_id TEXT
);
CREATE INDEX IF NOT EXISTS bots_owner ON bots (source_menace_id);`;

/** The Worker: one router per request, closed before the response is sent. */
const worker: { fetch(request: Request, env: Env): Promise<Response> } = {
  async fetch(request: Request, env: Env): Promise<Response> {
    const menace = request.headers.get("x-menace-id") ?? env.MENACE_ID ?? "edge";
    try {
      await using router = new DBRouter(menace, "local.db", d1Backend(env.DB), {
        storage,
        auditLog: false,
      });
      return await handle(router, request);
    } catch (error) {
      if (error instanceof RouterError || error instanceof TypeError) {
        const code = error instanceof RouterError ? error.code : error.name;
        return Response.json({ error: error.message, code }, { status: 400 });
      }
      const message = error instanceof Error ? error.message : String(error);
      return Response.json({ error: message, code: "INTERNAL" }, { status: 500 });
    }
  },
};
export default worker;

async function handle(router: DBRouter, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const route = `${request.method} ${url.pathname}`;
  switch (route) {
    case "POST /setup":
      await router.getConnection("bots", "create").exec(SCHEMA);
      await router.getConnection("models", "create").exec(
        "CREATE TABLE IF NOT EXISTS models (name TEXT)",
      );
      return Response.json({ ok: true, shared: router.sharedPath });
    case "POST /insert": {
      const { table, row } = await request.json() as { table: string; row: Record<string, never> };
      return Response.json(await router.insert(table, row));
    }
    case "GET /rows": {
      const table = url.searchParams.get("table") ?? "bots";
      const scope = parseScope(url.searchParams.get("scope") ?? "local");
      if (!isIdentifier(table)) throw new TypeError(`Invalid table name ${JSON.stringify(table)}`);
      const rows = await router.query(table, `SELECT * FROM ${table} ORDER BY rowid`, [], {
        scope,
      });
      return Response.json(rows);
    }
    case "GET /explain":
      return Response.json(router.explainRoute(url.searchParams.get("table") ?? ""));
  }
  return Response.json({ error: `No route ${route}`, code: "NOT_FOUND" }, { status: 404 });
}
