/**
 * Child process for path tests: creates a router in the working directory
 * with the given arguments (`-` for "not given"), writes one shared and one
 * local row, closes, and prints the resolved paths as JSON.
 *
 * Usage: open_default.ts <menaceId> <localPath|-> <sharedPath|->
 *
 * @module
 */
import { DBRouter } from "../../mod.ts";

const [menaceId, local, shared] = process.argv.slice(2);
try {
  const router = new DBRouter(
    menaceId,
    local === "-" ? undefined : local,
    shared === "-" ? undefined : shared,
  );
  await router.getConnection("bots", "write").exec(
    "CREATE TABLE bots (x); INSERT INTO bots VALUES (1)",
  );
  await router.getConnection("models", "write").exec(
    "CREATE TABLE models (x); INSERT INTO models VALUES (2)",
  );
  await router.close();
  console.log(JSON.stringify({ localPath: router.localPath, sharedPath: router.sharedPath }));
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).message }));
}
