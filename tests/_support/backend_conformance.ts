/**
 * The cases every shared-database backend must pass, so that routing, deny and
 * unknown tables, the Connection contract, scope, ownership, logs, audit and
 * metrics behave the same on sql.js, D1 and libSQL. A backend's test file
 * calls {@linkcode testSharedBackend} with a harness and adds its own cases.
 *
 * @module
 */
import { suite } from "uvu";
import type { DBRouter, DBRouterOptions, Row } from "../../mod.ts";
import { CONNECTION_CASES } from "./backend_cases_connection.ts";
import { MIGRATE_CASES } from "./backend_cases_migrate.ts";
import { ROUTER_CASES } from "./backend_cases_router.ts";

/** One shared database, fresh for one case, and the routers that use it. */
export interface SharedFixture {
  /** A router of `menaceId` whose shared side is this database; local tables in memory. */
  router(menaceId: string, options?: DBRouterOptions): DBRouter;
  /** Reads the shared database directly, past the router. */
  inspect(sql: string): Promise<Row[]>;
  /** Releases what `inspect` holds. */
  close?(): Promise<void>;
}

/** What a backend's test file provides. */
export interface BackendHarness {
  /** Shown in the suite's name. */
  name: string;
  /** Whether `transaction()` works (it must reject with `UNSUPPORTED` otherwise). */
  transactions: boolean;
  /** Whether JavaScript SQL functions run on the shared side. */
  functions: boolean;
  /** A fresh, empty shared database. */
  fresh(): Promise<SharedFixture>;
  /** Runs after the last case. */
  cleanup?(): Promise<void> | void;
  /** Cases to skip, each with the reason; a skipped case is reported by uvu. */
  skip?: Record<string, string>;
}

/** What a case gets: a fixture, the harness, and routers it opened (closed after the case). */
export interface CaseContext {
  fixture: SharedFixture;
  harness: BackendHarness;
  /** Opens a router on the fixture that the suite closes after the case. */
  open(menaceId: string, options?: DBRouterOptions): DBRouter;
}

/** One case: its name says what happens. */
export type BackendCase = readonly [string, (context: CaseContext) => Promise<void>];

/**
 * Registers the shared cases as one uvu suite and runs it.
 *
 * @example
 * ```ts ignore
 * testSharedBackend({ name: "sql.js", transactions: true, functions: true, fresh });
 * ```
 */
export function testSharedBackend(harness: BackendHarness): void {
  const test = suite(`shared backend conformance: ${harness.name}`);
  const cases = [...CONNECTION_CASES, ...ROUTER_CASES, ...MIGRATE_CASES];
  for (const title of Object.keys(harness.skip ?? {})) {
    if (!cases.some(([known]) => known === title)) {
      throw new TypeError(`Cannot skip backend case "${title}": no such case`);
    }
  }
  for (const [title, body] of cases) {
    const run = async () => {
      const fixture = await harness.fresh();
      const routers: DBRouter[] = [];
      const open = (menaceId: string, options?: DBRouterOptions) => {
        const router = fixture.router(menaceId, options);
        routers.push(router);
        return router;
      };
      try {
        await body({ fixture, harness, open });
      } finally {
        await Promise.allSettled(routers.map((r) => r.close()));
        await fixture.close?.();
      }
    };
    const reason = harness.skip?.[title];
    if (reason !== undefined) test.skip(`${title} (skipped: ${reason})`, run);
    else test(title, run);
  }
  if (harness.cleanup) test.after(async () => await harness.cleanup!());
  test.run();
}

/** The schema most cases use: `bots` is shared, `models` local. */
export const BOTS_SCHEMA =
  "CREATE TABLE IF NOT EXISTS bots (\n  id INTEGER PRIMARY KEY,\n  name TEXT UNIQUE,\n" +
  "  score REAL,\n  data BLOB,\n  source_menace_id TEXT\n)";
