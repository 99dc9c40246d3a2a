/**
 * `db-router analyze` on large audit logs: a chained log of 4 writers is
 * generated in a temporary folder, grown to each size in turn (256 MiB,
 * 1 GiB, 2 GiB by default), and analysed at each size by the command line in
 * a fresh process of the runtime running this file, with and without
 * `--verify`. Wall time, CPU time and peak resident memory come from
 * `/usr/bin/time` (GNU time's `%M`: the child's high-water mark). Under Node
 * the command runs as one esbuild bundle, as `dist/` ships it, not through
 * tsx, whose compiler alone holds about 50 MB. The folder is deleted after.
 *
 * Targets: peak RSS under 100 MB at every size; time linear in size
 * (compare the MiB/s of CPU time across sizes: wall time on a shared machine
 * depends on its load).
 *
 * Not a test: `npm run bench -- analyze` (environment: `BENCH_ANALYZE_MIB`,
 * comma-separated sizes; `BENCH_ANALYZE_VERIFY=0` skips `--verify`).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { closeSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { AuditChain } from "../../src/observe/audit_chain.ts";
import { printTable } from "../_support/bench_util.ts";
import { ROOT } from "../_support/spawn.ts";
import { RUNTIME, temporaryFolder } from "../_support/storage_fixtures.ts";

const SIZES_MIB = (process.env.BENCH_ANALYZE_MIB ?? "256,1024,2048").split(",").map(Number);
const VERIFY = process.env.BENCH_ANALYZE_VERIFY !== "0";
const MENACES = ["alpha", "beta", "gamma", "delta"];
const TABLES = ["bots", "models", "errors", "events", "telemetry", "code"];
const OPERATIONS = ["read", "write", "insert", "update", "delete"];

/** Appends chained lines to `path` until it holds `bytes`. */
class LogGenerator {
  readonly #chains = MENACES.map(() => new AuditChain());
  #n = 0;
  #size = 0;
  constructor(readonly path: string) {}

  growTo(bytes: number): void {
    const fd = openSync(this.path, "a");
    try {
      const start = Date.parse("2026-01-01T00:00:00.000Z");
      while (this.#size < bytes) {
        const lines: string[] = [];
        for (let i = 0; i < 10_000; i++, this.#n++) {
          const n = this.#n;
          const menace = n % MENACES.length;
          const body = `{"menace_id":"${MENACES[menace]}","table_name":"${
            TABLES[(n >> 2) % TABLES.length]
          }","operation":"${OPERATIONS[n % OPERATIONS.length]}","timestamp":"${
            new Date(start + n).toISOString()
          }"`;
          lines.push(this.#chains[menace].link(body));
        }
        this.#size += writeSync(fd, lines.join("\n") + "\n");
      }
    } finally {
      closeSync(fd);
    }
  }

  get lines(): number {
    return this.#n;
  }
}

/** The command that runs the CLI in `RUNTIME`. */
async function cliCommand(): Promise<string[]> {
  const bin = join(ROOT, "src/cli/bin.ts");
  if (RUNTIME === "deno") return [join(ROOT, "node_modules/.bin/deno"), "run", "-A", bin];
  if (RUNTIME === "bun") return [join(ROOT, "node_modules/.bin/bun"), bin];
  // Beside node_modules, where its imports resolve (tests/artifacts is not committed).
  const outfile = join(ROOT, "tests/artifacts/analyze-bench-db-router.mjs");
  await build({
    entryPoints: [bin],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile,
    packages: "external",
    // Lowers what Node 20 lacks (`await using` in the migrate command), as tsc's es2022 does.
    target: "node20",
    logLevel: "warning",
  });
  return [process.execPath, outfile];
}

interface Run {
  wallS: number;
  cpuS: number;
  peakMiB: number;
  out: string;
}

function timed(command: string[], args: string[]): Run {
  const result = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", ...command, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = result.stderr.split("\n").find((l) => l.startsWith("TIME "));
  if (result.status !== 0 || !line) {
    throw new Error(`analyze failed (${result.status}): ${result.stderr.slice(-2000)}`);
  }
  const [wall, user, system, kib] = line.slice(5).split(" ").map(Number);
  return { wallS: wall, cpuS: user + system, peakMiB: kib / 1024, out: result.stdout };
}

const folder = temporaryFolder(`bench-analyze-${RUNTIME}-`);
try {
  const command = await cliCommand();
  const log = new LogGenerator(join(folder.dir, "audit.log"));
  const rows: string[][] = [[
    "size MiB",
    "lines",
    "mode",
    "wall s",
    "CPU s",
    "MiB/s (CPU)",
    "peak RSS MiB",
  ]];
  const modes = VERIFY ? [[], ["--verify"]] : [[]];
  for (const mib of SIZES_MIB) {
    log.growTo(mib * 2 ** 20);
    const size = statSync(log.path).size / 2 ** 20;
    for (const mode of modes) {
      const run = timed(command, ["analyze", "--json", ...mode, log.path]);
      const data = JSON.parse(run.out);
      if (data.records !== log.lines || (mode.length > 0 && data.verify.problemCount !== 0)) {
        throw new Error(`analyze counted ${data.records} of ${log.lines} lines`);
      }
      rows.push([
        size.toFixed(0),
        String(log.lines),
        mode.length > 0 ? "--verify" : "counts",
        run.wallS.toFixed(1),
        run.cpuS.toFixed(1),
        (size / run.cpuS).toFixed(1),
        run.peakMiB.toFixed(1),
      ]);
      console.log(rows.at(-1)!.join("  "));
    }
  }
  console.log(
    `\n${RUNTIME}: db-router analyze on generated chained audit logs (load: ${loadAverage()})\n`,
  );
  printTable(rows);
} finally {
  folder.remove();
}

function loadAverage(): string {
  try {
    const text = spawnSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).stdout;
    return text.split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}
