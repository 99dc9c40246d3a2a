/**
 * A writer process of the libSQL test: a router whose shared side is the
 * libSQL `file:` URL `url` inserts `count` rows into `bots` as `menace`, in
 * transactions of `perTransaction` rows; prints `done <count>`.
 *
 * Usage: `<runtime> tests/_support/libsql_writer.ts <url> <menace> <count> <perTransaction>`
 *
 * @module
 */
import process from "node:process";
import { DBRouter, libsqlBackend, memoryStorage } from "../../mod.ts";

const [url, menace, countText, perTransactionText] = process.argv.slice(2);
const count = Number(countText);
const perTransaction = Number(perTransactionText);
// A busy timeout far above the 5 s default: three writers on a loaded 2-core machine can wait that long.
await using router = new DBRouter(
  menace,
  "local.db",
  libsqlBackend({ url, busyTimeoutMs: 120_000 }),
  {
    storage: memoryStorage(),
  },
);
const conn = router.getConnection("bots", "write");
for (let i = 0; i < count; i += perTransaction) {
  if (i % (2 * perTransaction) === 0) {
    await router.insert("bots", { name: `${menace}-${i}` });
    for (let j = i + 1; j < Math.min(count, i + perTransaction); j++) {
      await router.insert("bots", { name: `${menace}-${j}` });
    }
  } else {
    await conn.transaction(async (tx) => {
      for (let j = i; j < Math.min(count, i + perTransaction); j++) {
        await tx.run("INSERT INTO bots (name, source_menace_id) VALUES (?, ?)", [
          `${menace}-${j}`,
          menace,
        ]);
      }
    });
  }
}
console.log(`done ${count}`);
