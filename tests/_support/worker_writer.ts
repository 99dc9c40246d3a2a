/**
 * A writer process of the Worker test: inserts `count` rows into the shared
 * table `bots` through the example Worker's HTTP API, `parallel` requests at
 * a time, as menace `menace`; prints `done <count>` when every insert has
 * succeeded, and exits 1 on the first failure.
 *
 * Usage: `<runtime> tests/_support/worker_writer.ts <url> <menace> <count> <parallel>`
 *
 * @module
 */
import process from "node:process";

const [url, menace, countText, parallelText] = process.argv.slice(2);
const count = Number(countText);
const parallel = Number(parallelText);

let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    const response = await fetch(new URL("/insert", url), {
      method: "POST",
      headers: { "content-type": "application/json", "x-menace-id": menace },
      body: JSON.stringify({ table: "bots", row: { name: `${menace}-${i}` } }),
    });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`insert ${i}: ${response.status} ${body}`);
  }
}

try {
  await Promise.all(Array.from({ length: parallel }, worker));
  console.log(`done ${count}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
