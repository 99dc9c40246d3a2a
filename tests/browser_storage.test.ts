/**
 * IndexedDB storage in Debian's Chromium: the shared storage cases run in the
 * page, then what only a real browser has: Web Locks across tabs, a tab that
 * dies holding the lock or mid-commit, the quota, persistent storage, and
 * commit notices between tabs.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Browser, BrowserContext } from "playwright-core";
import type { PageServer } from "../examples/browser/server.ts";
import {
  call,
  launchBrowser,
  openTestPage,
  serveTestPage,
  setUpSuite,
} from "./_support/browser/chromium.ts";

const test = suite("indexeddb storage in chromium");
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let server: PageServer | undefined;

setUpSuite(test, async () => {
  server = await serveTestPage();
  browser = await launchBrowser();
  context = await browser.newContext();
});
test.after(async () => {
  await browser?.close();
  await server?.close();
});

test("the storage conformance suite passes in the page", async () => {
  const page = await openTestPage(context!, server!.url);
  const report = await call(page, "conformance");
  assert.ok(report.total >= 9, `the suite ran: ${report.output}`);
  assert.is(report.skipped, 0, report.output);
  assert.is(report.passed, report.total, report.output);
  await page.close();
});

test("a tab closed while it holds the write lock releases it to another tab", async () => {
  const holder = await openTestPage(context!, server!.url);
  const waiter = await openTestPage(context!, server!.url);
  await call(holder, "holdLock", "locks", "shared/global.db");
  assert.is(await call(waiter, "canLock", "locks", "shared/global.db", 300), false, "it is held");
  assert.is(await call(waiter, "canLock", "locks", "other.db", 300), true, "per database");
  await holder.close();
  assert.is(await call(waiter, "canLock", "locks", "shared/global.db", 5000), true, "released");
  await waiter.close();
});

test("a tab closed in the middle of a commit leaves the old image or the new one, and no lock", async () => {
  const writer = await openTestPage(context!, server!.url);
  await call(writer, "commitImage", "torn", "shared/global.db", 8, 1);
  await call(writer, "startBigCommit", "torn", "shared/global.db", 2048, 2);
  await writer.close();
  const reader = await openTestPage(context!, server!.url);
  assert.is(await call(reader, "canLock", "torn", "shared/global.db", 5000), true);
  const seed = await call(reader, "storedSeed", "torn", "shared/global.db", [1, 2]);
  assert.ok(seed === 1 || seed === 2, `the stored image is seed 1 or 2, not a mix (${seed})`);
  await reader.close();
});

test("a write past the storage quota fails with STORAGE_QUOTA and stores nothing of it", async () => {
  // A fresh origin (another port): Chromium applies a quota override to storage opened after it.
  const small = await serveTestPage();
  const origin = new URL(small.url).origin;
  const page = await context!.newPage();
  const cdp = await context!.newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 3 * 1024 * 1024 });
  try {
    await page.goto(small.url);
    await page.waitForFunction(() => "t" in globalThis);
    const result = await call(page, "overQuota", "quota", 5 * 1024 * 1024);
    assert.is(result.code, "STORAGE_QUOTA", result.message);
    assert.match(result.message!, /Cannot save database "menace_quota_local\.db": .*quota/);
    assert.equal(result.rows, [1000], "the small row stays, the big one is not there");
    assert.type(result.persisted, "boolean", "persistence() has the browser's answer");
  } finally {
    await cdp.send("Storage.overrideQuotaForOrigin", { origin });
    await page.close();
    await small.close();
  }
});

test("the first open() asks for persistent storage, once, and persistence() has the answer", async () => {
  const page = await openTestPage(context!, server!.url);
  const { counts, answer } = await call(page, "persistCalls", "persist");
  assert.equal(counts, [0, 1, 1]);
  assert.type(answer, "boolean");
  await page.close();
});

test("a commit in one tab is announced to watchers in another", async () => {
  const watcher = await openTestPage(context!, server!.url);
  const writer = await openTestPage(context!, server!.url);
  await call(watcher, "watch", "notices");
  await call(writer, "commitImage", "notices", "shared/global.db", 2, 3);
  await watcher.waitForFunction(() =>
    // deno-lint-ignore no-explicit-any
    (globalThis as any).t.notices().length > 0
  );
  assert.equal(await call(watcher, "notices"), ["shared/global.db"]);
  await watcher.close();
  await writer.close();
});

test.run();
