/**
 * The page of the browser storage benchmark: db-router on OPFS or IndexedDB
 * (strict durability) on the page's thread, and the peers in their Worker
 * (`bench_peer_worker.ts`, served as `/peer.js`). Exposed as `globalThis.bench`.
 *
 * @module
 */
import { DBRouter, indexedDbStorage, opfsStorage, setWasmUrl } from "../../../mod.ts";
import type { StorageAdapter } from "../../../src/storage/types.ts";
import type { PeerName } from "./bench_peer_worker.ts";
import { type BenchEngine, runWorkload, type WorkloadFigures } from "./bench_workload.ts";

setWasmUrl("/sql-wasm-browser.wasm");

/** db-router's stores in the benchmark. */
export type RouterStore = "opfs" | "indexeddb";

/** How db-router opens its handles on OPFS: `"exclusive"` forces the fallback of other browsers. */
export type Handles = "shared" | "exclusive";

function router(store: RouterStore, handles: Handles = "shared", round = 0): DBRouter {
  const name = `bench-${handles}-${round}`;
  const storage: StorageAdapter = store === "opfs"
    ? opfsStorage({ name, handles })
    : indexedDbStorage({ name, durability: "strict" });
  return new DBRouter("bench", undefined, undefined, { storage });
}

function routerEngine(db: DBRouter): BenchEngine {
  const models = db.getConnection("models", "write");
  let tx: { run: (sql: string, params?: unknown[]) => Promise<unknown> } | undefined;
  let done: (() => void) | undefined;
  let finished: Promise<unknown> | undefined;
  return {
    async run(sql, params = []) {
      if (sql === "BEGIN") {
        let ready!: () => void;
        const opened = new Promise<void>((resolve) => (ready = resolve));
        finished = models.transaction(async (inner) => {
          tx = inner as typeof tx;
          ready();
          await new Promise<void>((resolve) => (done = resolve));
        });
        await opened;
      } else if (sql === "COMMIT") {
        done!();
        await finished;
        tx = undefined;
      } else if (tx) {
        await tx.run(sql, params as never);
      } else {
        await models.run(sql, params as never);
      }
    },
    get: (sql, params = []) => models.get(sql, params as never),
  };
}

function peer(engine: PeerName, action: "run" | "reload", round: number, commits = 0) {
  const worker = new Worker("/peer.js", { type: "module" });
  return new Promise<{ figures?: WorkloadFigures; first?: unknown }>((resolve, reject) => {
    worker.onmessage = (event) => {
      worker.terminate();
      if (event.data.error) reject(new Error(event.data.error));
      else resolve(event.data);
    };
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage({ engine, action, commits, file: `bench-${round}.db` });
  });
}

const bench = {
  /** The workload on db-router. */
  async router(
    store: RouterStore,
    commits: number,
    handles: Handles | undefined,
    round: number,
  ): Promise<WorkloadFigures> {
    const db = router(store, handles, round);
    const figures = await runWorkload(routerEngine(db), commits);
    await db.close();
    return figures;
  },
  /** Milliseconds from a fresh page's first call to db-router's first query result. */
  async routerFirstQuery(
    store: RouterStore,
    handles: Handles | undefined,
    round: number,
  ): Promise<{ ms: number; rows: number }> {
    const started = performance.now();
    const db = router(store, handles, round);
    const row = await db.getConnection("models", "read").get("SELECT count(*) AS n FROM models");
    return { ms: performance.now() - started, rows: Number(row?.n) };
  },
  /** The workload on a peer, in its Worker. */
  async peer(engine: PeerName, commits: number, round: number): Promise<WorkloadFigures> {
    return (await peer(engine, "run", round, commits)).figures!;
  },
  /** Milliseconds from starting a peer's Worker to its first query result. */
  async peerFirstQuery(engine: PeerName, round: number): Promise<{ ms: number; rows: number }> {
    const started = performance.now();
    const { first } = await peer(engine, "reload", round);
    return {
      ms: performance.now() - started,
      rows: Number(Object.values(first as object)[0]),
    };
  },
};

/** The page's API, as the benchmark sees it. */
export type BenchApi = typeof bench;

(globalThis as { bench?: BenchApi }).bench = bench;
