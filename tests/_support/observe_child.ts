/**
 * Child process for the observability tests: creates a router on memory
 * storage (so the audit log goes to the host's file storage) and makes
 * `count` accesses, cycling through shared and local tables, yielding to the
 * event loop every 100 accesses so that timed batches interleave with other
 * processes. Prints one JSON line per step on standard output.
 *
 * Usage: observe_child.ts <close|exit|ready> <menaceId> <count> [auditLog] [startAt] [rotation]
 *  - `close` closes the router at the end, `exit` just ends (no `close()`),
 *    `ready` calls `ready()` first and prints its error, if any.
 *  - Without `auditLog` (or with `-`), the environment and config file decide.
 *  - `startAt` (milliseconds since the epoch) delays the accesses until
 *    then, so that processes started one after another run at once.
 *  - `rotation` is the router option `auditRotation`, as JSON.
 *
 * @module
 */
import { DBRouter, memoryStorage } from "../../mod.ts";

const [ending, menaceId, count, auditLog, startAt, rotation] = process.argv.slice(2);
const ACCESSES: Array<[string, string]> = [
  ["bots", "write"],
  ["bots", "read"],
  ["models", "read"],
  ["errors", "write"],
  ["events", "write"],
];

function report(value: unknown): void {
  console.log(JSON.stringify(value));
}

function failure(error: unknown) {
  const e = error as { name?: string; code?: string; message?: string };
  return { error: { name: e.name, code: e.code, message: e.message } };
}

let router: DBRouter;
try {
  router = new DBRouter(menaceId, "local.db", "shared.db", {
    storage: memoryStorage(),
    ...(auditLog && auditLog !== "-" ? { auditLog } : {}),
    ...(rotation ? { auditRotation: JSON.parse(rotation) } : {}),
  });
} catch (error) {
  report(failure(error));
  process.exit(0);
}
if (ending === "ready") {
  try {
    await router.ready();
    report({ ready: true });
  } catch (error) {
    report(failure(error));
  }
}
const wait = Number(startAt ?? 0) - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
const total = Number(count);
for (let i = 0; i < total; i++) {
  const [table, operation] = ACCESSES[i % ACCESSES.length];
  router.getConnection(table, operation);
  if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 1));
}
// LogTape creates its shared root logger on the first getLogger() of any copy.
report({ done: total, logtapeLoaded: Symbol.for("logtape.rootLogger") in globalThis });
if (ending === "close") {
  try {
    await router.close();
    report({ closed: true });
  } catch (error) {
    report(failure(error));
  }
}
