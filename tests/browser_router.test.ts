/**
 * The router in Debian's Chromium, on the storage the browser host picks by
 * itself (OPFS in Chromium): default paths as keys, rows that survive a reload and a
 * browser restart, and tabs that write one shared database at once.
 *
 * @module
 */
import * as assert from "uvu/assert";
import {
  browserSuite,
  call,
  launchPersistent,
  openTestPage,
  profileFolder,
} from "./_support/browser/chromium.ts";

const { test, openPage, server } = browserSuite("router in chromium");

const names = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

test("routers default to OPFS (Chromium has it), with the default paths as keys", async () => {
  const page = await openPage();
  assert.is(await call(page, "defaultStorageName"), "opfs");
  await call(page, "open", "alpha");
  assert.equal(await call(page, "paths", "alpha"), {
    local: "menace_alpha_local.db",
    shared: "shared/global.db",
  });
});

test("rows written before a reload are there after it", async () => {
  const page = await openPage();
  await call(page, "open", "alpha");
  await call(page, "insertBots", "alpha", 5, "kept");
  await page.reload();
  await page.waitForFunction(() => "t" in globalThis);
  await call(page, "open", "alpha");
  assert.equal(await call(page, "bots", "alpha", "all"), names("kept", 5));
});

test("rows survive closing the browser and starting it again on the same profile", async () => {
  const profile = profileFolder();
  try {
    let persistent = await launchPersistent(profile.dir);
    const first = await openTestPage(persistent, server().url);
    await call(first, "open", "alpha");
    await call(first, "insertBots", "alpha", 3, "durable");
    await persistent.close();
    persistent = await launchPersistent(profile.dir);
    const second = await openTestPage(persistent, server().url);
    await call(second, "open", "alpha");
    assert.equal(await call(second, "bots", "alpha", "local"), names("durable", 3));
    await persistent.close();
  } finally {
    profile.remove();
  }
});

test("two tabs writing the shared database at once keep every row", async () => {
  const alpha = await openPage();
  const beta = await openPage();
  await call(alpha, "open", "alpha");
  await call(beta, "open", "beta");
  await Promise.all([
    call(alpha, "insertBots", "alpha", 40, "a"),
    call(beta, "insertBots", "beta", 40, "b"),
  ]);
  await sleep(150); // reads may lag other tabs' commits by maxReadLagMs (100 ms)
  for (const page of [alpha, beta]) {
    const all = await call(page, "bots", page === alpha ? "alpha" : "beta", "all");
    assert.equal([...all].sort(), [...names("a", 40), ...names("b", 40)].sort());
  }
  assert.equal(await call(alpha, "bots", "alpha", "local"), names("a", 40));
  assert.equal(await call(alpha, "bots", "alpha", "global"), names("b", 40));
});

test("a tab reads another tab's commit once maxReadLagMs has passed", async () => {
  const alpha = await openPage();
  const beta = await openPage();
  await call(alpha, "open", "alpha", { maxReadLagMs: 50 });
  await call(beta, "open", "beta", { maxReadLagMs: 50 });
  assert.equal(await call(beta, "bots", "beta", "global"), []);
  await call(alpha, "insertBots", "alpha", 1, "fresh");
  await sleep(100);
  assert.equal(await call(beta, "bots", "beta", "global"), ["fresh-0"]);
  // With the wasm URL set, sql.js's imports are wrapped: commits and catch-ups are page-sized.
  const stats = await call(beta, "sharedStats", "beta");
  assert.is(stats.commitPath, "page-capture");
  assert.ok(stats.catchUps!.inPlace >= 1, JSON.stringify(stats.catchUps));
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test("two tabs writing at once each hear every commit of the other once, in order", async () => {
  const tabs = [
    await openPage(),
    await openPage(),
  ];
  const ids = ["alpha", "beta"];
  const count = 15;
  for (const [i, tab] of tabs.entries()) {
    await call(tab, "open", ids[i]);
    await call(tab, "watchBots", ids[i]);
  }
  await Promise.all(tabs.map((tab, i) => call(tab, "insertBots", ids[i], count, ids[i])));
  const total = 2 * count;
  for (const [i, tab] of tabs.entries()) {
    // Bounded and generous: the machine is loaded; the commit channel usually brings them at once.
    await tab.waitForFunction(
      ([id, total]) =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).t.heard(id).reduce((n: number, c: any) => n + c.inserted.length, 0) >=
          total,
      [ids[i], total] as const,
      { timeout: 120_000 },
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // a change heard twice would show
  const rows = await call(tabs[0], "owners", "alpha");
  assert.is(rows.length, total);
  for (const [i, tab] of tabs.entries()) {
    const heard = await call(tab, "heard", ids[i]);
    assert.ok(heard.every((c) => c.kind === "rows"), "no resync");
    const own = heard.filter((c) => c.here).flatMap((c) => c.inserted);
    const other = heard.filter((c) => !c.here).flatMap((c) => c.inserted);
    assert.equal(own, rows.filter((r) => r.owner === ids[i]).map((r) => r.id));
    assert.equal(other, rows.filter((r) => r.owner !== ids[i]).map((r) => r.id));
  }
  for (const tab of tabs) await tab.close();
});

test.run();
