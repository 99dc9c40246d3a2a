// A fresh process for `tests/bench/startup.bench.ts`: from process start to
// the first query's result, through the router (MODULE: the URL of mod.ts or
// of the built dist/mod.js) or through raw sql.js on the same file. Plain
// JavaScript, so that Node runs it without a TypeScript loader when MODULE is
// built JavaScript. Prints one JSON line of milliseconds since the process's
// time origin: `entered` (this file runs), `imported`, `first` (a row came
// back), `epoch` (the same instant in ms since the epoch, for the parent), and
// `cpu` (user + system CPU ms of the whole process, all threads, from its
// start to the first row: on a loaded machine it moves far less than the
// wall-clock times, since waiting for a core is not counted).
//
//   startup_child.mjs router MODULE DIR
//   startup_child.mjs router-write MODULE DIR
//   startup_child.mjs raw - DIR
//   startup_child.mjs raw-require - DIR
//
// `router-write` makes the first query an insert (then reads the row back),
// so its time includes the page-capture probe, which runs at a process's
// first write or catch-up. `raw-require` loads sql.js with `require()` (its
// CommonJS build; cheaper than `import()` in Node, which is how the router
// loads it there), so raw sql.js's best import is a baseline too.
const entered = performance.now();
const [mode, module, dir] = process.argv.slice(2);
const local = `${dir}/local.db`;
const shared = `${dir}/shared.db`;
const SELECT = "SELECT name FROM bots WHERE id = ?";
let imported;
let row;
let close = () => {};
if (mode === "router" || mode === "router-write") {
  const { DBRouter } = await import(module);
  imported = performance.now();
  const router = new DBRouter("alpha", local, shared);
  if (mode === "router-write") {
    await router.getConnection("bots", "write").run(
      "INSERT INTO bots (name, source_menace_id) VALUES ('written', 'alpha')",
    );
  }
  row = await router.getConnection("bots").get(SELECT, [1]);
  close = () => router.close();
} else {
  let initSqlJs;
  if (mode === "raw-require") {
    const { createRequire } = await import("node:module");
    initSqlJs = createRequire(import.meta.url)("sql.js");
  } else {
    initSqlJs = (await import("sql.js")).default;
  }
  const { readFile } = await import("node:fs/promises");
  imported = performance.now();
  const SQL = await initSqlJs({ useOldExtensionFunctions: false });
  const db = new SQL.Database(await readFile(shared));
  db.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY;");
  const statement = db.prepare(SELECT);
  row = statement.getAsObject([1]);
  statement.free();
  close = () => db.close();
}
const first = performance.now();
const usage = process.cpuUsage();
const cpu = (usage.user + usage.system) / 1000;
if (row?.name !== "first") throw new Error(`Unexpected row ${JSON.stringify(row)}`);
console.log(
  JSON.stringify({ entered, imported, first, epoch: performance.timeOrigin + first, cpu }),
);
await close();
