/**
 * `npm run demo:worker`: serves the example Worker on http://127.0.0.1:8787/
 * (the variable `PORT` picks another port, 0 a free one) with Miniflare and a
 * local D1 database, shows two Menace instances sharing the table `bots`
 * through it, then keeps serving until Ctrl+C. `--once` stops after the show.
 *
 * @module
 */
import process from "node:process";
import { startWorker } from "./local.ts";

const once = process.argv.includes("--once");
const worker = await startWorker({ port: Number(process.env.PORT ?? 8787) });
console.log(`db-router Worker (D1 as the shared database) on ${worker.url.href}`);

async function call(menace: string, method: string, path: string, body?: unknown) {
  const response = await fetch(new URL(path, worker.url), {
    method,
    headers: { "content-type": "application/json", "x-menace-id": menace },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  console.log(`${menace.padEnd(5)} ${method} ${path} -> ${response.status} ${text}`);
  return JSON.parse(text);
}

try {
  await call("alpha", "POST", "/setup");
  await call("alpha", "POST", "/insert", { table: "bots", row: { name: "scraper" } });
  await call("alpha", "POST", "/insert", { table: "bots", row: { name: "crawler" } });
  await call("beta", "POST", "/insert", { table: "bots", row: { name: "indexer" } });
  for (const scope of ["local", "global", "all"]) {
    await call("alpha", "GET", `/rows?table=bots&scope=${scope}`);
  }
  await call("beta", "POST", "/insert", { table: "capital_ledger", row: { amount: 1 } });
  await call("beta", "GET", "/explain?table=models");
  const count = await worker.db.prepare("SELECT count(*) AS n FROM bots").first();
  console.log(`D1 holds ${count?.n} rows in bots`);
} catch (error) {
  await worker.close();
  throw error;
}

if (once) {
  await worker.close();
} else {
  console.log(
    'try: curl -X POST -H \'x-menace-id: gamma\' -d \'{"table":"bots","row":{"name":"x"}}\' ' +
      `${worker.url.href}insert`,
  );
  console.log("Ctrl+C stops it");
  const stop = async () => {
    await worker.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
