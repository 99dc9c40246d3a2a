/**
 * An example DB module, after the spec's `WorkflowSummaryDB`: it takes its
 * connection from the router (injected, or `GLOBAL_ROUTER`), creates its
 * schema with `source_menace_id`, stamps what it inserts with the instance's
 * menace id, and reads by scope.
 *
 * @example
 * ```ts
 * import { DBRouter, memoryStorage } from "../mod.ts";
 * import { WorkflowSummaryDB } from "./workflow_summary_db.ts";
 * await using router = new DBRouter("alpha", "l.db", "s.db", { storage: memoryStorage() });
 * const db = new WorkflowSummaryDB(router);
 * await db.addSummary(1, "nightly build green");
 * (await db.getSummary(1, { scope: "local" }))?.summary; // "nightly build green"
 * ```
 *
 * @module
 */
import { type DBRouter, GLOBAL_ROUTER, initDbRouter, type Scope } from "../mod.ts";

/** One stored summary. */
export interface WorkflowSummary {
  id: number;
  workflowId: number;
  summary: string;
  /** The instance that wrote it. */
  menaceId: string;
  /** ISO 8601, UTC. */
  createdAt: string;
}

const TABLE = "workflow_summaries";
const COLUMNS =
  "id, workflow_id AS workflowId, summary, source_menace_id AS menaceId, created_at AS createdAt";

/** Summaries of workflow runs, in the shared table `workflow_summaries`. */
export class WorkflowSummaryDB {
  readonly #router: DBRouter;
  #schema: Promise<void> | undefined;

  /** Uses `router`, else `GLOBAL_ROUTER`, else a new global router for menace "alpha". */
  constructor(router?: DBRouter) {
    this.#router = router ?? GLOBAL_ROUTER ?? initDbRouter("alpha");
  }

  /** Stores a summary for `workflowId`, stamped with this instance's id; returns its id. */
  async addSummary(workflowId: number, summary: string): Promise<number> {
    await this.#ensureSchema();
    const result = await this.#router.insert(TABLE, {
      workflow_id: workflowId,
      summary,
      created_at: new Date().toISOString(),
    });
    return result.lastInsertRowid;
  }

  /**
   * The latest summary of `workflowId` that `scope` lets this instance see:
   * `"local"` (its own, the default), `"global"` (other instances') or `"all"`.
   */
  async getSummary(
    workflowId: number,
    options: { scope?: Scope } = {},
  ): Promise<WorkflowSummary | undefined> {
    const [latest] = await this.listSummaries(workflowId, { ...options, limit: 1 });
    return latest;
  }

  /** Every summary of `workflowId` in `scope`, newest first. */
  async listSummaries(
    workflowId: number,
    options: { scope?: Scope; limit?: number } = {},
  ): Promise<WorkflowSummary[]> {
    await this.#ensureSchema();
    return await this.#router.query<WorkflowSummary>(
      TABLE,
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE workflow_id = ? ORDER BY id DESC LIMIT ?`,
      [workflowId, options.limit ?? -1],
      { scope: options.scope ?? "local" },
    );
  }

  #ensureSchema(): Promise<void> {
    this.#schema ??= this.#router.getConnection(TABLE, "write").exec(`
      CREATE TABLE IF NOT EXISTS ${TABLE} (
        id INTEGER PRIMARY KEY,
        workflow_id INTEGER NOT NULL,
        summary TEXT NOT NULL,
        source_menace_id TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS ${TABLE}_workflow ON ${TABLE} (workflow_id, source_menace_id);
    `);
    return this.#schema;
  }
}
