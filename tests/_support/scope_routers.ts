/**
 * Two instances ("alpha" and "beta") sharing one in-memory shared database
 * through the router's public API, with rows of a third instance and rows
 * without owner, and an oracle: a plain sql.js database holding only the rows
 * one scope may see, where the same SQL runs unscoped.
 *
 * @module
 */
import { DBRouter, memoryStorage } from "../../mod.ts";
import type { Scope } from "../../mod.ts";
import { rawSqlJs } from "./raw_sqljs.ts";
import type { SqlJsDatabase } from "../../src/engine/sqljs_types.ts";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS bots (
    id INTEGER PRIMARY KEY, name TEXT, grp TEXT, source_menace_id TEXT
  );
  CREATE TABLE IF NOT EXISTS code (id INTEGER PRIMARY KEY, bot_id INTEGER, source_menace_id TEXT);
`;

/** One row of `bots`: the name says whose it is (`beta-2`), so a leak shows in any output. */
interface BotRow {
  readonly id: number;
  readonly name: string;
  readonly grp: string;
  readonly owner: string | null;
}

/** alpha: 1-3, beta: 4-6, gamma: 7, no owner: 8. Groups mix owners. */
export const BOT_ROWS: readonly BotRow[] = [
  { id: 1, name: "alpha-1", grp: "x", owner: "alpha" },
  { id: 2, name: "alpha-2", grp: "y", owner: "alpha" },
  { id: 3, name: "alpha-3", grp: "x", owner: "alpha" },
  { id: 4, name: "beta-1", grp: "x", owner: "beta" },
  { id: 5, name: "beta-2", grp: "y", owner: "beta" },
  { id: 6, name: "beta-3", grp: "z", owner: "beta" },
  { id: 7, name: "gamma-1", grp: "y", owner: "gamma" },
  { id: 8, name: "orphan-1", grp: "x", owner: null },
];

/** Two routers over one shared database, and the rows each scope of alpha may see. */
export interface ScopeWorld {
  readonly alpha: DBRouter;
  readonly beta: DBRouter;
  /** Runs `sql` unscoped on a database holding only the rows `scope` lets alpha see. */
  oracle(scope: Scope, sql: string, params: unknown): Record<string, unknown>[];
  /** Closes both routers and the oracles. */
  close(): Promise<void>;
}

/**
 * Opens the world: alpha and beta insert their own rows through `insert()`
 * (stamped with their id); gamma's row and the orphan are written as raw SQL.
 * `code`, another shared table, has one row per bot (`id` = bot id + 10),
 * owned like its bot; `router.query("bots", ...)` filters it too.
 */
export async function openScopeWorld(): Promise<ScopeWorld> {
  const storage = memoryStorage();
  const alpha = new DBRouter("alpha", "alpha.db", "shared.db", { storage });
  const beta = new DBRouter("beta", "beta.db", "shared.db", { storage });
  await alpha.getConnection("bots", "write").exec(SCHEMA);
  for (const row of BOT_ROWS) {
    const router = row.owner === "alpha" ? alpha : row.owner === "beta" ? beta : undefined;
    const values = { id: row.id, name: row.name, grp: row.grp };
    if (router !== undefined) await router.insert("bots", values);
    else {
      await alpha.getConnection("bots", "write").run(
        "INSERT INTO bots (id, name, grp, source_menace_id) VALUES (?, ?, ?, ?)",
        [row.id, row.name, row.grp, row.owner],
      );
    }
    await alpha.getConnection("code", "write").run(
      "INSERT INTO code (id, bot_id, source_menace_id) VALUES (?, ?, ?)",
      [row.id + 10, row.id, row.owner],
    );
  }
  const oracles = new Map<Scope, SqlJsDatabase>();
  for (const scope of ["local", "global", "all"] as const) {
    const db = await rawSqlJs(SCHEMA);
    for (const row of BOT_ROWS) {
      const seen = scope === "all" ||
        (row.owner !== null && (row.owner === "alpha") === (scope === "local"));
      if (!seen) continue;
      db.run("INSERT INTO bots VALUES (?, ?, ?, ?)", [row.id, row.name, row.grp, row.owner]);
      db.run("INSERT INTO code VALUES (?, ?, ?)", [row.id + 10, row.id, row.owner]);
    }
    oracles.set(scope, db);
  }
  return {
    alpha,
    beta,
    oracle(scope, sql, params) {
      const statement = oracles.get(scope)!.prepare(sql);
      try {
        statement.bind(params as never);
        const out: Record<string, unknown>[] = [];
        while (statement.step()) out.push(statement.getAsObject());
        return out;
      } finally {
        statement.free();
      }
    },
    async close() {
      await alpha.close();
      await beta.close();
      for (const db of oracles.values()) db.close();
    },
  };
}

/** Rows as a sorted list of JSON strings: compares results whatever their order. */
export function multiset(rows: readonly Record<string, unknown>[]): string[] {
  return rows.map((row) => JSON.stringify(row)).sort();
}
