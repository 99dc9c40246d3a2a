/**
 * Runs the example Worker locally: bundles `index.js` with esbuild (as
 * wrangler would: the `workerd`/`browser` builds of dependencies, sql.js's
 * wasm kept as a separate compiled module) and serves it with Miniflare,
 * which runs the real `workerd` runtime with a local D1 database.
 *
 * Miniflare needs Node's APIs; it also runs under Deno and Bun, which the
 * tests use.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { Miniflare } from "miniflare";
import type { D1Database } from "../../mod.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const WASM_NAME = "sql-wasm-browser.wasm";

/** The Worker as Miniflare loads it: the script and sql.js's wasm binary. */
export interface WorkerBundle {
  /** The bundled ES module. */
  script: string;
  /** `sql-wasm-browser.wasm`, imported by the script as `./sql-wasm-browser.wasm`. */
  wasm: Uint8Array;
}

/**
 * Bundles the Worker at `entry` (default: this example's `index.js`).
 *
 * @example
 * ```ts ignore
 * const { script } = await bundleWorker();
 * ```
 */
export async function bundleWorker(entry: string = join(HERE, "index.js")): Promise<WorkerBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    plugins: [wasmAsModule],
    write: false,
    logLevel: "silent",
  });
  const wasm = await readFile(join(ROOT, "node_modules", "sql.js", "dist", WASM_NAME));
  return { script: result.outputFiles[0].text, wasm };
}

/** Keeps `import x from "....wasm"` in the bundle, pointing at the module beside it. */
const wasmAsModule: Plugin = {
  name: "wasm-as-module",
  setup(build) {
    build.onResolve({ filter: /\.wasm$/ }, () => ({ path: `./${WASM_NAME}`, external: true }));
  },
};

/** Options of {@linkcode startWorker}. */
export interface StartWorkerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** A folder that keeps the D1 database between runs. @default in memory */
  persistTo?: string;
  /** Bindings besides `DB`, such as `MENACE_ID`. */
  vars?: Record<string, string>;
}

/** A running Worker. */
export interface RunningWorker {
  /** Where it listens, such as `http://127.0.0.1:8787/`. */
  url: URL;
  /** The Worker's D1 database, usable from this process. */
  db: D1Database;
  /** Stops `workerd`. */
  close(): Promise<void>;
}

/**
 * Bundles the Worker and serves it on 127.0.0.1 with a D1 database bound as `DB`.
 *
 * @example
 * ```ts ignore
 * const worker = await startWorker({ port: 8787 });
 * await fetch(new URL("/setup", worker.url), { method: "POST" });
 * await worker.close();
 * ```
 */
export async function startWorker(options: StartWorkerOptions = {}): Promise<RunningWorker> {
  const bundle = await bundleWorker();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: options.port ?? 0,
    compatibilityDate: "2025-09-01",
    modules: [
      { type: "ESModule", path: join(HERE, "worker.mjs"), contents: bundle.script },
      { type: "CompiledWasm", path: join(HERE, WASM_NAME), contents: bundle.wasm },
    ],
    d1Databases: { DB: "db-router-example" },
    ...(options.persistTo !== undefined && { d1Persist: options.persistTo }),
    bindings: options.vars ?? {},
  });
  try {
    const url = await mf.ready;
    const db = await mf.getD1Database("DB");
    return { url, db, close: () => mf.dispose() };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}
