/**
 * OPFS storage in Debian's Chromium: the shared storage cases with shared
 * (`readwrite-unsafe`) and with exclusive access handles, four tabs writing
 * one database at once, torn commits, the default choice between OPFS and
 * IndexedDB, and copying an IndexedDB database to OPFS.
 *
 * @module
 */
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { browserSuite, call } from "./_support/browser/chromium.ts";
import type { Store } from "./_support/browser/page.ts";

const { test, openPage } = browserSuite("opfs storage in chromium");

// opfs-unshared: a Worker without "readwrite-unsafe"; the first batch, sent before the probe's
// answer, is refused by the Worker and sent again under the folder lock.
for (const store of ["opfs", "opfs-exclusive", "opfs-unshared"] as const) {
  test(`the storage conformance suite passes on ${store}`, async () => {
    const page = await openPage();
    const report = await call(page, "conformance", store);
    assert.ok(report.total >= 9, `the suite ran: ${report.output}`);
    assert.is(report.skipped, 0, report.output);
    assert.is(report.passed, report.total, report.output);
  });
}

test("the default storage is OPFS in Chromium, and either store can be forced", async () => {
  const page = await openPage();
  assert.is(await call(page, "defaultStorageName"), "opfs");
  assert.is(await call(page, "storageName", "auto", "db-router"), "opfs");
  assert.is(await call(page, "storageName", "indexeddb", "db-router"), "indexeddb");
  assert.is(await call(page, "storageName", "opfs", "db-router"), "opfs");
});

const names = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

async function fourTabs(store: Store): Promise<void> {
  const tabs: Page[] = [];
  const ids = ["alpha", "beta", "gamma", "delta"];
  for (const id of ids) {
    const page = await openPage();
    await call(page, "open", id, { maxReadLagMs: 0 }, store);
    tabs.push(page);
  }
  await Promise.all(tabs.map((page, i) => call(page, "insertBots", ids[i], 25, ids[i])));
  const expected = ids.flatMap((id) => names(id, 25)).sort();
  for (const [i, page] of tabs.entries()) {
    const all = await call(page, "bots", ids[i], "all");
    assert.equal([...all].sort(), expected, `${ids[i]} sees every row`);
    assert.equal(await call(page, "bots", ids[i], "local"), names(ids[i], 25));
  }
  const stats = await call(tabs[0], "sharedStats", "alpha");
  assert.is(stats.commitPath, "page-capture");
  assert.ok(stats.catchUps!.inPlace >= 1, JSON.stringify(stats.catchUps));
}

test("two tabs on OPFS writing at once each hear every commit of the other once, in order", async () => {
  const ids = ["alpha", "beta"];
  const tabs: Page[] = [];
  for (const id of ids) {
    const page = await openPage();
    await call(page, "open", id, {}, "opfs");
    await call(page, "watchBots", id);
    tabs.push(page);
  }
  const count = 15;
  await Promise.all(tabs.map((page, i) => call(page, "insertBots", ids[i], count, ids[i])));
  for (const [i, page] of tabs.entries()) {
    // Bounded and generous: OPFS has no commit channel, so the other tab's commits come by the poll.
    await page.waitForFunction(
      ([id, total]) =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).t.heard(id).reduce((n: number, c: any) => n + c.inserted.length, 0) >=
          total,
      [ids[i], 2 * count] as const,
      { timeout: 120_000 },
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // a change heard twice would show
  const rows = await call(tabs[0], "owners", "alpha");
  assert.is(rows.length, 2 * count);
  for (const [i, page] of tabs.entries()) {
    const heard = await call(page, "heard", ids[i]);
    assert.ok(heard.every((c) => c.kind === "rows"), "no resync: OPFS keeps commit notes");
    const own = heard.filter((c) => c.here).flatMap((c) => c.inserted);
    const other = heard.filter((c) => !c.here).flatMap((c) => c.inserted);
    assert.equal(own, rows.filter((r) => r.owner === ids[i]).map((r) => r.id));
    assert.equal(other, rows.filter((r) => r.owner !== ids[i]).map((r) => r.id));
  }
});

test("four tabs writing the shared database at once on OPFS keep every row", async () => {
  await fourTabs("opfs");
});

test("four tabs keep every row with exclusive access handles (handed over per batch)", async () => {
  await fourTabs("opfs-exclusive");
});

test("a tab keeps the write lock between its commits and lets it go once idle", async () => {
  const page = await openPage();
  await call(page, "open", "alpha", {}, "opfs");
  const held = await call(page, "insertThenHeldLocks", "alpha", "kept");
  const { shared } = await call(page, "paths", "alpha");
  const lockName = held.find((name) => name.startsWith("db-router-opfs:db-router:"));
  assert.ok(lockName?.endsWith(shared.replace(/^\.\//, "")), `kept after the commit: ${held}`);
  // Let go after a short idle time, so a quiet tab blocks nobody (bounded, generous wait).
  await page.waitForFunction(
    async (name) =>
      !(await navigator.locks.query()).held?.some((lock: { name?: string }) => lock.name === name),
    lockName,
    { timeout: 30_000, polling: 50 },
  );
});

test("a tab that keeps committing lets another tab that asks commit in between", async () => {
  const [busy, asking] = [
    await openPage(),
    await openPage(),
  ];
  await call(busy, "open", "alpha", { maxReadLagMs: 0 }, "opfs");
  await call(asking, "open", "beta", { maxReadLagMs: 0 }, "opfs");
  const busyRun = call(busy, "insertBots", "alpha", 400, "alpha");
  // Once the busy tab commits, this tab asks for the lock with one insert.
  await asking.waitForFunction(
    // deno-lint-ignore no-explicit-any
    async () => (await (globalThis as any).t.owners("beta")).length >= 5,
    undefined,
    { timeout: 120_000, polling: 10 },
  );
  await call(asking, "insertBots", "beta", 1, "beta");
  await busyRun;
  const rows = await call(busy, "owners", "alpha");
  assert.is(rows.length, 401);
  const asked = rows.find((row) => row.owner === "beta")!;
  const lastBusy = rows.filter((row) => row.owner === "alpha").at(-1)!;
  assert.ok(
    asked.id < lastBusy.id,
    `the asking tab committed while the busy one went on (row ${asked.id} of ${rows.length})`,
  );
});

test("a torn last commit in the log is never read, and the next commit replaces it", async () => {
  const page = await openPage();
  for (const cut of [1, 4096, 4096 + 24 + 100]) {
    const result = await call(page, "opfsTornTail", `torn-${cut}`, "shared/global.db", cut);
    assert.is(result.afterTear, 1, `cut ${cut}: the torn commit is not visible`);
    assert.is(result.afterNext, 3, `cut ${cut}: the next commit reads back`);
  }
});

test("OPFS proves what it loads against its checksums, through folds, and not a base changed behind its back", async () => {
  const page = await openPage();
  const logged = await call(page, "opfsProof", "proof-log", "shared/global.db", false);
  assert.is(logged.baseSize, 0, "without folds the pages stay in the log");
  assert.equal(logged.steps, Array(4).fill({ verified: true, same: true }));
  const folded = await call(page, "opfsProof", "proof-fold", "shared/global.db", true);
  assert.is(folded.baseSize, 12 * 4096, "every commit folded");
  assert.equal(folded.steps, [
    { verified: true, same: true }, // grown to 8 pages
    { verified: true, same: true }, // shrunk to 5
    { verified: true, same: true }, // grown to 12, page 10 zeros
    { verified: false, same: true }, // a byte flipped: loaded, not proved (quick_check runs)
    { verified: true, same: true }, // the next fold sums the base again
  ]);
});

test("a tab closed in the middle of an OPFS commit leaves the old image or the new one, and no lock", async () => {
  const writer = await openPage();
  await call(writer, "commitOn", "opfs", "closing", "shared/global.db", 8, 1);
  await call(writer, "startBigCommitOn", "opfs", "closing", "shared/global.db", 4096, 2);
  await writer.close();
  const reader = await openPage();
  assert.is(
    await call(reader, "storedSeedOn", "opfs", "closing", "shared/global.db", [1, 2]) > 0,
    true,
  );
  await call(reader, "commitOn", "opfs", "closing", "shared/global.db", 8, 3);
  assert.is(await call(reader, "storedSeedOn", "opfs", "closing", "shared/global.db", [3]), 3);
});

test("an IndexedDB database keeps working under the default storage, and moves to OPFS on request", async () => {
  const old = await openPage();
  await call(old, "open", "alpha", {}, "indexeddb");
  await call(old, "insertBots", "alpha", 3, "old");
  await call(old, "closeAll");
  await old.close();
  const page = await openPage();
  await call(page, "open", "alpha", {}, "auto");
  assert.equal(await call(page, "bots", "alpha", "local"), names("old", 3), "read from IndexedDB");
  await call(page, "insertBots", "alpha", 1, "more");
  await call(page, "closeAll");
  await page.close();
  const moving = await openPage();
  const result = await call(moving, "copyToOpfs", "db-router");
  assert.equal(result, { copied: ["shared/global.db"], skipped: [] });
  assert.equal(await call(moving, "copyToOpfs", "db-router"), {
    copied: [],
    skipped: ["shared/global.db"],
  }, "a second copy leaves the OPFS copy alone");
  await call(moving, "open", "alpha", {}, "opfs");
  assert.equal(await call(moving, "bots", "alpha", "local"), [...names("old", 3), "more-0"]);
});

test.run();
