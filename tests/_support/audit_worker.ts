/**
 * A Worker for the audit tests: one router per isolate (so one audit writer,
 * one chain), whose audit log, with no file system, goes to D1's
 * `_dbrouter_audit` (the default in a Worker).
 *
 * - `GET /access?n=N` notes N accesses, alternating tables and operations,
 *   and answers without flushing (lines go in batches, interleaving with the
 *   other Workers').
 * - `POST /close` closes the router (flushing its lines) and answers `closed`.
 *
 * @module
 */
import { d1Backend, type D1Database, DBRouter, memoryStorage } from "../../mod.ts";

/** The bindings. */
interface Env {
  DB: D1Database;
  MENACE_ID: string;
}

const storage = memoryStorage();
let router: DBRouter | undefined;

const ACCESSES: Array<[string, "read" | "write"]> = [
  ["bots", "write"],
  ["bots", "read"],
  ["models", "write"],
  ["telemetry", "read"],
];

const worker: { fetch(request: Request, env: Env): Promise<Response> } = {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    router ??= new DBRouter(env.MENACE_ID, "local.db", d1Backend(env.DB), {
      storage,
      auditLog: "audit.log",
      auditChain: true,
    });
    if (url.pathname === "/access") {
      const n = Number(url.searchParams.get("n"));
      for (let i = 0; i < n; i++) {
        const [table, operation] = ACCESSES[i % ACCESSES.length];
        router.getConnection(table, operation);
        if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return new Response(`noted ${n}`);
    }
    if (url.pathname === "/close") {
      const closing = router;
      router = undefined;
      await closing.close();
      return new Response("closed");
    }
    return new Response("not found", { status: 404 });
  },
};

export default worker;
