/**
 * `npm run demo`: two Menace instances, alpha and beta, share one database and
 * keep one local database each, on files under `./demo-data/`. The demo
 * routes, writes shared and local rows, reads by scope, shows what is refused
 * and why, and persists: run it twice and the row counts grow.
 *
 * Runs unchanged with `deno run --allow-read --allow-write --allow-env examples/demo.ts`
 * and `bun examples/demo.ts`.
 *
 * @module
 */
import { DBRouter, RouterError } from "../mod.ts";
import { WorkflowSummaryDB } from "./workflow_summary_db.ts";

const DIR = "demo-data";
const alpha = new DBRouter("alpha", `${DIR}/menace_alpha_local.db`, `${DIR}/shared/global.db`);
const beta = new DBRouter("beta", `${DIR}/menace_beta_local.db`, `${DIR}/shared/global.db`);

console.log("db-router demo\n");
console.log("Routing (explainRoute):");
for (const table of ["workflow_summaries", "models", "capital_ledger", "made_up"]) {
  console.log(`  ${table.padEnd(20)} ${alpha.explainRoute(table).reason}`);
}

// Shared table, through a DB module: rows stamped with each instance's id.
const alphaSummaries = new WorkflowSummaryDB(alpha);
const betaSummaries = new WorkflowSummaryDB(beta);
await alphaSummaries.addSummary(1, "alpha: nightly build green");
await betaSummaries.addSummary(1, "beta: nightly build red");

console.log("\nScope, as alpha, for workflow 1 (shared table workflow_summaries):");
for (const scope of ["local", "global", "all"] as const) {
  const rows = await alphaSummaries.listSummaries(1, { scope });
  const menaces = [...new Set(rows.map((r) => r.menaceId))].sort().join(", ");
  console.log(
    `  ${scope.padEnd(6)} ${String(rows.length).padStart(3)} rows from ${menaces || "nobody"}`,
  );
}
const latest = await alphaSummaries.getSummary(1, { scope: "global" });
console.log(`  latest summary from another instance: "${latest?.summary}" by ${latest?.menaceId}`);

// Local table: each instance has its own.
for (const router of [alpha, beta]) {
  const models = router.getConnection("models", "write");
  await models.exec("CREATE TABLE IF NOT EXISTS models (name TEXT, trained_at TEXT)");
}
await alpha.getConnection("models", "write").run(
  "INSERT INTO models (name, trained_at) VALUES (?, ?)",
  ["ranker", new Date().toISOString()],
);
const count = async (router: DBRouter) =>
  (await router.getConnection("models").get<{ n: number }>("SELECT count(*) AS n FROM models"))!.n;
console.log("\nLocal table models:");
console.log(
  `  alpha sees ${await count(alpha)} rows, beta sees ${await count(
    beta,
  )} (local tables are never shared)`,
);

console.log("\nRefused:");
for (const table of ["capital_ledger", "made_up"]) {
  try {
    alpha.getConnection(table, "write");
  } catch (error) {
    if (!(error instanceof RouterError)) throw error;
    console.log(`  ${error.code.padEnd(14)} ${error.message}`);
  }
}

console.log("\nAccess counts:");
console.log(`  alpha ${JSON.stringify(alpha.getAccessCounts())}`);
console.log(`  beta  ${JSON.stringify(beta.getAccessCounts())}`);

const stats = alpha.storageStats().shared;
console.log(
  `\nShared database: ${stats.commits} commits by alpha this run, ${stats.bytesWritten} bytes written`,
);
await alpha.close();
await beta.close();
console.log("\nPersisted (run the demo again and these grow):");
console.log(`  ${alpha.sharedPath}`);
console.log(`  ${alpha.localPath}`);
console.log(`  ${beta.localPath}`);
console.log(`Inspect with: sqlite3 ${DIR}/shared/global.db "SELECT * FROM workflow_summaries"`);
