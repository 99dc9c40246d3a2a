/**
 * Debian's Chromium, driven by playwright-core, for the browser tests. No
 * browser is ever downloaded: a missing `/usr/bin/chromium` makes the tests
 * fail with the command that installs it (they never skip).
 *
 * The test page (`page.ts`) is bundled once per process and served with
 * sql.js's wasm by the demo's server (`examples/browser/server.ts`).
 *
 * @module
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { suite, type Test } from "uvu";
import {
  type Asset,
  bundle,
  type PageServer,
  serveAssets,
  SQL_WASM_FILE,
} from "../../../examples/browser/server.ts";
import type { PageApi } from "./page.ts";

/** Where Chromium is expected; `CHROMIUM_PATH` overrides. */
export const CHROMIUM_PATH: string = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Flags for a quiet, sandbox-free headless Chromium that never calls home. */
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Throws a clear error when Chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium" ` +
        "(.ci/run does); the browser tests fail rather than skip without it",
    );
  }
}

/**
 * Runs `setup` before the first test of `test`. uvu swallows an error thrown
 * by a `before` hook; this one fails every test with it instead, so that a
 * missing Chromium reads as a failure that says why.
 *
 * @example
 * ```ts ignore
 * setUpSuite(test, async () => void (browser = await launchBrowser()));
 * ```
 */
export function setUpSuite(test: Test, setup: () => Promise<void>): void {
  let failure: unknown;
  test.before(async () => {
    try {
      await setup();
    } catch (error) {
      failure = error;
    }
  });
  test.before.each(() => {
    if (failure !== undefined) throw failure;
  });
}

/** Launches Chromium; each `newContext()` of it starts with empty storage. */
export async function launchBrowser(): Promise<Browser> {
  requireChromium();
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true });
}

/**
 * Launches Chromium with the profile folder `userDataDir`, whose storage
 * outlives the browser: launch again with the same folder to find it.
 */
export async function launchPersistent(userDataDir: string): Promise<BrowserContext> {
  requireChromium();
  return await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    args: ARGS,
    headless: true,
  });
}

let testPage: Promise<Record<string, Asset>> | undefined;

/** Serves the test page (bundled once per process) and sql.js's wasm. */
export async function serveTestPage(): Promise<PageServer> {
  testPage ??= bundle("tests/_support/browser/page.ts").then((script) => ({
    "/": {
      type: "text/html; charset=utf-8",
      body: '<!doctype html><meta charset="utf-8"><title>db-router tests</title>' +
        '<script type="module" src="/main.js"></script>',
    },
    "/main.js": { type: "text/javascript; charset=utf-8", body: script },
    "/sql-wasm-browser.wasm": {
      type: "application/wasm",
      body: new Uint8Array(readFileSync(SQL_WASM_FILE)),
    },
  }));
  return await serveAssets(await testPage);
}

/** Opens the test page at `url` in a new tab of `context`, once its API is there. */
export async function openTestPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => "t" in globalThis);
  return page;
}

/**
 * Calls `t[name](...args)` in `page`.
 *
 * @example
 * ```ts ignore
 * await call(page, "insertBots", "alpha", 10, "a");
 * ```
 */
export function call<K extends keyof PageApi>(
  page: Page,
  name: K,
  ...args: Parameters<PageApi[K]>
): Promise<Awaited<ReturnType<PageApi[K]>>> {
  return page.evaluate(
    ([name, args]) =>
      // deno-lint-ignore no-explicit-any
      (globalThis as any).t[name](...args),
    [name, args] as const,
  ) as Promise<Awaited<ReturnType<PageApi[K]>>>;
}

/** A temporary folder for a persistent browser profile, and its removal. */
export function profileFolder(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "dbr-chromium-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A suite of browser tests, from {@linkcode browserSuite}. */
export interface BrowserSuite {
  /** The uvu suite; call `test.run()` at the end. */
  readonly test: Test;
  /** Opens the test page in a new tab of this test's context (empty storage for each test). */
  openPage(): Promise<Page>;
  /** The test page's server. */
  server(): PageServer;
}

/**
 * A uvu suite whose tests each get a new browser context (empty storage),
 * with one Chromium and one test-page server for the whole suite.
 *
 * @example
 * ```ts ignore
 * const { test, openPage } = browserSuite("opfs storage in chromium");
 * test("a page opens", async () => void await openPage());
 * test.run();
 * ```
 */
export function browserSuite(name: string): BrowserSuite {
  const test = suite(name);
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let server: PageServer | undefined;
  setUpSuite(test, async () => {
    server = await serveTestPage();
    browser = await launchBrowser();
  });
  test.before.each(async () => {
    context = await browser!.newContext();
  });
  test.after.each(async () => {
    await context?.close();
  });
  test.after(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    test,
    openPage: () => openTestPage(context!, server!.url),
    server: () => server!,
  };
}
