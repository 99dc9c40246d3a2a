/**
 * Throughput of 1, 2 and 4 processes writing one shared database: directly
 * (each `router.insert` locks, catches up, commits and fsyncs before the next)
 * and through the queue (each `queueWrite` awaited, so each record is durable
 * in the queue file before the next, then one `syncSharedDb` pass applies
 * them all). Processes run the runtime running this file. Ratios are against
 * one process writing directly, measured in the same run. Not a test:
 * `npm run bench -- writers`.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DBRouter, syncSharedDb } from "../../mod.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";
import { BOTS_SCHEMA } from "../_support/writers_spawn.ts";
import { ROOT, type RunningChild, startChild } from "../_support/spawn.ts";

const WRITER = join(ROOT, "tests/_support/writers_child.ts");
const QUEUER = join(ROOT, "tests/_support/queue_child.ts");
const PROCESSES = [1, 2, 4];
const PER_PROCESS = 150;

/** Starts `children` (each prints `ready`, then works from `startAt`); resolves the seconds until each printed `last`. */
async function timed(
  start: (startAt: number) => RunningChild[],
  last: string,
): Promise<{ seconds: number; late: boolean }> {
  const startAt = Date.now() + 4000;
  const children = start(startAt);
  await Promise.all(children.map((child) => child.waitFor((line) => line === "ready")));
  const late = Date.now() > startAt;
  const finished = await Promise.all(
    children.map((child) => child.waitFor((line) => line === last, 300_000).then(() => Date.now())),
  );
  await Promise.all(children.map((child) => child.exited));
  return { seconds: (Math.max(...finished) - startAt) / 1000, late };
}

interface Row {
  processes: number;
  direct: number;
  queued: number;
  sync: number;
  endToEnd: number;
  late: boolean;
}

const folder = temporaryFolder(`bench-writers-${RUNTIME}-`);
try {
  const rows: Row[] = [];
  for (const processes of PROCESSES) {
    const dir = join(folder.dir, `p${processes}`);
    mkdirSync(dir, { recursive: true });
    const rowsWritten = processes * PER_PROCESS;

    const directDb = join(dir, "direct.db");
    const direct = await timed(
      (startAt) =>
        Array.from({ length: processes }, (_, k) =>
          startChild(RUNTIME, WRITER, [
            "insert",
            `d${k}`,
            directDb,
            join(dir, `d${k}.db`),
            String(PER_PROCESS),
            String(startAt),
            "5000",
          ])),
      `ok ${PER_PROCESS}`,
    );

    const queuedDb = join(dir, "queued.db");
    const queueDir = join(dir, "queue");
    {
      await using setup = new DBRouter("setup", join(dir, "setup.db"), queuedDb, {
        storage: fileStorageFor(RUNTIME),
      });
      await setup.getConnection("bots", "write").exec(BOTS_SCHEMA);
    }
    const queued = await timed(
      (startAt) =>
        Array.from({ length: processes }, (_, k) =>
          startChild(RUNTIME, QUEUER, [
            "queue",
            `q${k}`,
            queuedDb,
            queueDir,
            String(PER_PROCESS),
            "1",
            String(startAt),
          ])),
      `queued ${PER_PROCESS}`,
    );
    const started = performance.now();
    const report = await syncSharedDb({
      dbPath: queuedDb,
      queueDir,
      storage: fileStorageFor(RUNTIME),
    });
    const syncSeconds = (performance.now() - started) / 1000;
    if (report.applied !== rowsWritten) {
      throw new Error(`sync applied ${report.applied} of ${rowsWritten}`);
    }
    rows.push({
      processes,
      direct: rowsWritten / direct.seconds,
      queued: rowsWritten / queued.seconds,
      sync: rowsWritten / syncSeconds,
      endToEnd: rowsWritten / (queued.seconds + syncSeconds),
      late: direct.late || queued.late,
    });
  }
  const baseline = rows[0].direct;
  const cells = [
    ["processes", "direct rows/s", "queueWrite rows/s", "sync rows/s", "queue + sync rows/s"],
    ...rows.map((r) => [
      `${r.processes}${r.late ? " (late start)" : ""}`,
      `${r.direct.toFixed(0)} (${(r.direct / baseline).toFixed(2)}x)`,
      `${r.queued.toFixed(0)} (${(r.queued / baseline).toFixed(2)}x)`,
      `${r.sync.toFixed(0)} (${(r.sync / baseline).toFixed(2)}x)`,
      `${r.endToEnd.toFixed(0)} (${(r.endToEnd / baseline).toFixed(2)}x)`,
    ]),
  ];
  const widths = cells[0].map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  console.log(
    `${RUNTIME}: ${PER_PROCESS} one-row writes per process, each durable before the next; ` +
      `ratios against 1 process writing directly`,
  );
  for (const row of cells) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));
} finally {
  folder.remove();
}
