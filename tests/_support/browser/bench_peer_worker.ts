/**
 * The peers of the browser storage benchmark, in a dedicated Worker (their
 * OPFS VFSs need one): @sqlite.org/sqlite-wasm on `opfs-sahpool`, and
 * @journeyapps/wa-sqlite on `AccessHandlePoolVFS` (synchronous build) and
 * `IDBBatchAtomicVFS` (asynchronous build), each with `synchronous=FULL`.
 * A message `{ engine, action: "run" | "reload", commits, file }` answers with the
 * workload's figures or with the first query's result.
 *
 * @module
 */
import sqlite3InitModule from "@sqlite.org/sqlite-wasm";
// @ts-ignore: plain JavaScript without types
import SQLiteESMFactory from "@journeyapps/wa-sqlite/dist/wa-sqlite.mjs";
// @ts-ignore: plain JavaScript without types
import SQLiteAsyncESMFactory from "@journeyapps/wa-sqlite/dist/wa-sqlite-async.mjs";
// @ts-ignore: plain JavaScript without types
import * as SQLite from "@journeyapps/wa-sqlite/src/sqlite-api.js";
// @ts-ignore: plain JavaScript without types
import { AccessHandlePoolVFS } from "@journeyapps/wa-sqlite/src/examples/AccessHandlePoolVFS.js";
// @ts-ignore: plain JavaScript without types
import { IDBBatchAtomicVFS } from "@journeyapps/wa-sqlite/src/examples/IDBBatchAtomicVFS.js";
import { type BenchEngine, runWorkload } from "./bench_workload.ts";

/** SQLite's result code of a step that produced a row. */
const SQLITE_ROW = 100;

/** The peers, by name. */
export type PeerName = "sqlite-wasm-sahpool" | "wa-sqlite-ahp" | "wa-sqlite-idbbatch";

async function sahpool(file: string): Promise<BenchEngine> {
  const sqlite3 = await sqlite3InitModule();
  // Room for a database and its journal per round.
  const pool = await sqlite3.installOpfsSAHPoolVfs({ name: "bench-sahpool", initialCapacity: 16 });
  const db = new pool.OpfsSAHPoolDb(`/${file}`);
  db.exec("PRAGMA synchronous=FULL");
  // deno-lint-ignore no-explicit-any
  const statements = new Map<string, any>();
  const prepared = (sql: string) => {
    let stmt = statements.get(sql);
    if (!stmt) statements.set(sql, stmt = db.prepare(sql));
    return stmt;
  };
  return {
    run(sql, params = []) {
      const stmt = prepared(sql);
      if (params.length > 0) stmt.bind(params);
      stmt.step();
      stmt.reset(true);
    },
    get(sql, params = []) {
      const stmt = prepared(sql);
      if (params.length > 0) stmt.bind(params);
      const row = stmt.step() ? stmt.get({}) : undefined;
      stmt.reset(true);
      return row;
    },
  };
}

async function waSqlite(kind: "ahp" | "idbbatch", file: string): Promise<BenchEngine> {
  const module = await (kind === "ahp" ? SQLiteESMFactory() : SQLiteAsyncESMFactory());
  const sqlite3 = SQLite.Factory(module);
  let vfs: unknown;
  if (kind === "ahp") {
    const pool = await AccessHandlePoolVFS.create("bench-ahp", module);
    // Room for a database and its journal per round.
    if (pool.getCapacity() < 16) await pool.addCapacity(16 - pool.getCapacity());
    vfs = pool;
  } else {
    vfs = await IDBBatchAtomicVFS.create("bench-idbbatch", module);
  }
  sqlite3.vfs_register(vfs, true);
  const db = await sqlite3.open_v2(file);
  await sqlite3.exec(db, "PRAGMA synchronous=FULL");
  // deno-lint-ignore no-explicit-any
  const statements = new Map<string, any>();
  const prepared = async (sql: string) => {
    let stmt = statements.get(sql);
    if (!stmt) {
      for await (const each of sqlite3.statements(db, sql, { unscoped: true })) stmt = each;
      statements.set(sql, stmt);
    }
    return stmt;
  };
  const step = async (sql: string, params: unknown[]) => {
    const stmt = await prepared(sql);
    if (params.length > 0) sqlite3.bind_collection(stmt, params);
    const row = (await sqlite3.step(stmt)) === SQLITE_ROW ? sqlite3.row(stmt) : undefined;
    await sqlite3.reset(stmt);
    return row;
  };
  return {
    run: async (sql, params = []) => void await step(sql, params),
    get: (sql, params = []) => step(sql, params),
  };
}

function engineOf(name: PeerName, file: string): Promise<BenchEngine> {
  if (name === "sqlite-wasm-sahpool") return sahpool(file);
  return waSqlite(name === "wa-sqlite-ahp" ? "ahp" : "idbbatch", file);
}

const scope = globalThis as unknown as {
  onmessage: (event: MessageEvent) => void;
  postMessage(message: unknown): void;
};
scope.onmessage = async (event) => {
  const { engine, action, commits, file } = event.data as {
    engine: PeerName;
    action: "run" | "reload";
    commits: number;
    file: string;
  };
  try {
    const db = await engineOf(engine, file);
    if (action === "run") scope.postMessage({ figures: await runWorkload(db, commits) });
    else scope.postMessage({ first: await db.get("SELECT count(*) AS n FROM models") });
  } catch (error) {
    scope.postMessage({ error: String((error as Error)?.stack ?? error) });
  }
};
