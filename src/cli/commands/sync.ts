/**
 * `db-router sync`: applies the records that `router.queueWrite()` queued to
 * the shared database, once (`--once`) or continuously. See `src/queue/sync.ts`
 * for the protocol that makes a crash or a second sync at once safe.
 *
 * @module
 */
import { type FSWatcher, mkdirSync, watch } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import type { SyncProgress, SyncReport } from "../../queue/sync.ts";
import { checkDbTarget } from "../db_target.ts";
import { openLocalD1 } from "../d1_local.ts";
import { type Command, type CommandIO, UsageError, usageErrorOf } from "../command.ts";

const USAGE = `Usage: db-router sync [options]

Applies queued writes (router.queueWrite) to the shared database: claims each
<queue dir>/<menace>.jsonl, inserts its records in batches, each batch in one
transaction that also records the progress, and deletes the file when done.
A record is inserted once even if it is applied twice. Records that cannot be
applied (bad JSON, a denied, unknown or local table, a missing table or
column, a name that is not a plain SQL name) go to <queue dir>/failed/<menace>.jsonl
with the reason. Tables are routed as the library routes them in this
directory and environment (config/db_router_tables.json, DB_ROUTER_*_TABLES).

Options:
  --db-path PATH       the shared database (default: MENACE_SHARED_DB_PATH,
                       else ./shared/global.db)
  --db-url URL         the shared database on libSQL instead: libsql://,
                       http(s)://, ws(s):// or file: (default: DB_ROUTER_SHARED_URL
                       when --db-path is not given; the token comes from
                       DB_ROUTER_SHARED_AUTH_TOKEN)
  --d1-local DIR       the shared database on a local D1 database that Miniflare
                       keeps in DIR (wrangler's: .wrangler/state/v3/d1), whose id
                       is --d1-database ID; needs the miniflare package. Each batch
                       is one atomic D1 batch() with its hashes and progress.
                       Cloudflare's hosted D1 is reached through a binding: sync
                       into it from code, QueueSync({ backend: d1Backend(env.DB) })
  --queue-dir DIR      the queue folder (default: DB_ROUTER_QUEUE_DIR, else
                       queue/ beside the database)
  --d1-database ID     the id of the --d1-local database
  --once               one pass, then exit
  --interval SECONDS   time between passes when running continuously (default 10)
  --watch              also start a pass as soon as a queue file changes
  --replay-failed      first claim the failed files and try their records again
  --batch-size N       records per transaction (default 500)
  --applied-retention-days DAYS
                       days the hash of an applied record is kept to recognise
                       a second copy of its line (default 7); then it is
                       forgotten, so _dbrouter_applied stays bounded
  --progress-retention-days DAYS
                       days the progress row of a finished queue file is kept
                       for syncs that may still be reading it (default 1); then
                       it is forgotten, so _dbrouter_sync_progress stays bounded
  -h, --help           show this help

Without --once, passes repeat until SIGINT or SIGTERM, which end the current
pass and close the database cleanly; a pass that fails is reported on
standard error and the next one retries. Progress is shown on a terminal when a
pass has more than 1 MB to apply.

Exit status: 0 when the pass (--once) or the loop ended normally, even if
records were refused (they are in the failed files); 1 when --once could not
use the database or queue; 2 on bad usage.
`;

/** The `sync` subcommand. */
export const syncCommand: Command = {
  name: "sync",
  summary: "apply queued writes (queueWrite) to the shared database",
  usage: USAGE,
  async run(args: string[], io: CommandIO): Promise<number> {
    const options = parse(args);
    // Imported here: importing the library loads and checks the routing config.
    const { QueueSync, d1Backend, libsqlBackend } = await import("../../../mod.ts");
    const display = progressDisplay(io);
    const url = options.dbUrl ??
      (options.dbPath === undefined
        ? process.env.DB_ROUTER_SHARED_URL?.trim() || undefined
        : undefined);
    const authToken = process.env.DB_ROUTER_SHARED_AUTH_TOKEN || undefined;
    const local = options.d1Local === undefined
      ? undefined
      : await openLocalD1(options.d1Local, options.d1Database!);
    const backend = local
      ? d1Backend(local.db, { name: options.d1Database })
      : url === undefined
      ? undefined
      : libsqlBackend({ url, authToken });
    const sync = new QueueSync({
      backend,
      dbPath: options.dbPath,
      queueDir: options.queueDir,
      batchSize: options.batchSize,
      appliedRetentionDays: options.appliedRetentionDays,
      progressRetentionDays: options.progressRetentionDays,
      onProgress: display.update,
    });
    // Failed records are replayed once, at the first pass, not retried at every pass.
    let replayFailed = options.replayFailed;
    const pass = async () => {
      const report = await sync.run({ replayFailed });
      replayFailed = false;
      display.end();
      if (report.files > 0 || report.failed > 0) io.out(summary(report, sync.queueDir));
      // A loop stays quiet between passes; a single pass always says what it did.
      else if (options.once) io.out(`nothing to sync: no queued records in ${sync.queueDir}\n`);
    };
    try {
      if (options.once) await pass();
      else {
        // A failed pass (the lock held too long, a full disk) is reported; the next one retries.
        const guarded = () =>
          pass().catch((error) => {
            display.end();
            io.err(`db-router sync: ${error instanceof Error ? error.message : String(error)}\n`);
          });
        await loop(guarded, options.intervalMs, options.watch ? sync.queueDir : undefined);
      }
      return 0;
    } finally {
      await sync.close();
      await local?.dispose();
    }
  },
};

interface SyncFlags {
  dbPath?: string;
  dbUrl?: string;
  d1Local?: string;
  d1Database?: string;
  queueDir?: string;
  once: boolean;
  intervalMs: number;
  watch: boolean;
  replayFailed: boolean;
  batchSize?: number;
  appliedRetentionDays?: number;
  progressRetentionDays?: number;
}

function parse(args: string[]): SyncFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        "db-path": { type: "string" },
        "db-url": { type: "string" },
        "d1-local": { type: "string" },
        "d1-database": { type: "string" },
        "queue-dir": { type: "string" },
        once: { type: "boolean" },
        interval: { type: "string" },
        watch: { type: "boolean" },
        "replay-failed": { type: "boolean" },
        "batch-size": { type: "string" },
        "applied-retention-days": { type: "string" },
        "progress-retention-days": { type: "string" },
      },
    }));
  } catch (error) {
    throw usageErrorOf(error);
  }
  const interval = Number(values.interval ?? 10);
  if (!(interval > 0) || !Number.isFinite(interval)) {
    throw new UsageError(`Invalid --interval "${values.interval}": expected seconds above 0`);
  }
  const batchSize = values["batch-size"] === undefined ? undefined : Number(values["batch-size"]);
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) {
    throw new UsageError(`Invalid --batch-size "${values["batch-size"]}": expected a whole number`);
  }
  const appliedRetentionDays = days("applied-retention-days", values["applied-retention-days"]);
  const progressRetentionDays = days("progress-retention-days", values["progress-retention-days"]);
  if (values.once && values.watch) throw new UsageError("--once and --watch exclude each other");
  const dbUrl = checkDbTarget(values["db-path"], values["db-url"]);
  const d1Local = values["d1-local"];
  const d1Database = values["d1-database"];
  if (d1Local !== undefined) {
    if (values["db-path"] !== undefined || dbUrl !== undefined) {
      throw new UsageError("--d1-local excludes --db-path and --db-url");
    }
    if (d1Database === undefined || d1Database.trim() === "") {
      throw new UsageError("--d1-local needs --d1-database, the id of the database in that folder");
    }
  } else if (d1Database !== undefined) {
    throw new UsageError("--d1-database needs --d1-local");
  }
  return {
    dbPath: values["db-path"],
    dbUrl,
    d1Local,
    d1Database,
    queueDir: values["queue-dir"],
    once: values.once ?? false,
    intervalMs: interval * 1000,
    watch: values.watch ?? false,
    replayFailed: values["replay-failed"] ?? false,
    batchSize,
    appliedRetentionDays,
    progressRetentionDays,
  };
}

/** A retention flag's value: a number of days above 0, or undefined when the flag is absent. */
function days(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new UsageError(`Invalid --${flag} "${text}": expected a number of days above 0`);
  }
  return value;
}

/** Runs `pass` every `intervalMs`, and soon after a change in `watched`, until SIGINT or SIGTERM. */
async function loop(pass: () => Promise<void>, intervalMs: number, watched?: string) {
  let stopped = false;
  let wake: () => void = () => {};
  const stop = () => {
    stopped = true;
    wake();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  let watcher: FSWatcher | undefined;
  let changed = false;
  if (watched !== undefined) {
    // Watched before any instance has queued anything: create the folder to watch it.
    mkdirSync(watched, { recursive: true });
    watcher = watch(watched, () => {
      changed = true;
      // A short delay gathers the appends of a burst into one pass.
      setTimeout(() => wake(), 100);
    });
    // A watch that fails later leaves the interval to find new records.
    watcher.on("error", () => watcher?.close());
  }
  try {
    while (!stopped) {
      changed = false;
      await pass();
      if (stopped || changed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    watcher?.close();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

function summary(report: SyncReport, queueDir: string): string {
  const failed = report.failed > 0 ? ` (see ${queueDir}/failed/)` : "";
  return `synced ${report.files} file(s): ${report.applied} applied, ` +
    `${report.duplicates} already applied, ${report.failed} failed${failed}\n`;
}

const LARGE_BYTES = 1024 * 1024;

/** A one-line progress display on standard error, for terminals and large passes. */
function progressDisplay(io: CommandIO) {
  let shown = false;
  let last = 0;
  return {
    update(progress: SyncProgress): void {
      if (!io.interactive || progress.bytesTotal < LARGE_BYTES) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      const mb = (bytes: number) => (bytes / LARGE_BYTES).toFixed(1);
      const percent = Math.min(100, Math.floor((100 * progress.bytesDone) / progress.bytesTotal));
      io.err(
        `\rsync: ${percent}% (${mb(progress.bytesDone)} of ${mb(progress.bytesTotal)} MB), ` +
          `${progress.applied} applied, ${progress.failed} failed`,
      );
    },
    end(): void {
      if (shown) io.err("\n");
      shown = false;
    },
  };
}
