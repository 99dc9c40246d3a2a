/**
 * The browser demo (`npm run demo:browser`) in Debian's Chromium: it renders,
 * routes a shared and a local table, switches scope, shows the audit trail,
 * shows another tab's writes, and keeps everything across a reload. The last
 * screen is saved as `tests/artifacts/browser_demo.png`.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Browser, Page } from "playwright-core";
import { type PageServer, ROOT, serveDemo } from "../examples/browser/server.ts";
import { launchBrowser, setUpSuite } from "./_support/browser/chromium.ts";

const test = suite("browser demo");
const SCREENSHOT = join(ROOT, "tests", "artifacts", "browser_demo.png");
let browser: Browser | undefined;
let server: PageServer | undefined;

setUpSuite(test, async () => {
  server = await serveDemo({ port: 0 });
  browser = await launchBrowser();
});
test.after(async () => {
  await browser?.close();
  await server?.close();
});

test("the demo serves the icon its page links, and at /favicon.ico", async () => {
  const page = await (await fetch(server!.url)).text();
  const href = /<link rel="icon" href="([^"]+)"/.exec(page)?.[1];
  assert.is(href, "/favicon.svg");
  for (const path of [href!, "/favicon.ico"]) {
    const response = await fetch(new URL(path, server!.url));
    assert.is(response.status, 200, path);
    assert.is(response.headers.get("content-type"), "image/svg+xml");
    assert.match(await response.text(), /^<svg /);
  }
});

async function open(page: Page, menace: string, store?: string): Promise<void> {
  await page.goto(`${server!.url}?menace=${menace}${store ? `&store=${store}` : ""}`);
  await page.waitForSelector("body[data-state=ready]");
  assert.is(await page.textContent("#error"), "", "no error shown");
}

async function column(page: Page, body: string, index: number): Promise<string[]> {
  return await page.locator(`#${body} tr td:nth-child(${index})`).allTextContents();
}

async function add(page: Page, form: "bot" | "model", name: string): Promise<void> {
  await page.fill(`#${form}-name`, name);
  await page.click(`#${form}-form button`);
  await page.locator(`#${form}s td`, { hasText: name }).first().waitFor();
}

for (const store of [undefined, "indexeddb", "opfs"]) {
  const on = store ? `on ?store=${store}` : "on the default store (OPFS in Chromium)";
  test(`the demo routes, scopes, audits, follows another tab, and keeps it all across a reload, ${on}`, async () => {
    const context = await browser!.newContext({ viewport: { width: 1100, height: 900 } });
    // Everything, sql.js's wasm included, must come from the demo's own server.
    const requested: string[] = [];
    context.on("request", (request) => requested.push(request.url()));
    const alpha = await context.newPage();
    await open(alpha, "alpha", store);
    assert.is(await alpha.getAttribute("body", "data-store"), store ?? "opfs");
    assert.match(await alpha.textContent("#storage") ?? "", /page loads by alpha: 1/);
    assert.match(await alpha.textContent("#storage") ?? "", /shared "shared\/global\.db"/);
    await add(alpha, "bot", "scraper");
    await add(alpha, "model", "gpt-mini");

    const beta = await context.newPage(); // in front of alpha, which stays open behind it
    await open(beta, "beta", store);
    await add(beta, "bot", "crawler");
    assert.equal(await column(beta, "models", 1), ["nothing yet"], "models are local to alpha");
    // alpha, in the background, re-renders on beta's commit notice.
    await alpha.locator("#bots td", { hasText: "crawler" }).waitFor({ timeout: 5000 });
    assert.equal(await column(alpha, "bots", 3), ["alpha", "beta"]);
    // Playwright's clicks wait for animation frames, which a tab behind another does not get.
    await alpha.bringToFront();

    await alpha.check("input[value=local]");
    await alpha.locator("#bots td", { hasText: "crawler" }).waitFor({ state: "detached" });
    assert.equal(await column(alpha, "bots", 2), ["scraper"]);
    await alpha.check("input[value=global]");
    await alpha.locator("#bots td", { hasText: "scraper" }).waitFor({ state: "detached" });
    assert.equal(await column(alpha, "bots", 2), ["crawler"]);

    const auditTables = await column(alpha, "audit", 3);
    const auditMenaces = await column(alpha, "audit", 2);
    assert.ok(auditTables.includes("bots") && auditTables.includes("models"), auditTables.join());
    assert.ok(auditMenaces.includes("beta"), "the trail has the other tab's accesses too");

    await alpha.reload();
    await alpha.waitForSelector("body[data-state=ready]");
    assert.match(await alpha.textContent("#storage") ?? "", /page loads by alpha: 2/);
    assert.equal(await column(alpha, "bots", 2), ["scraper", "crawler"]);
    assert.equal(await column(alpha, "models", 2), ["gpt-mini"]);
    mkdirSync(join(ROOT, "tests", "artifacts"), { recursive: true });
    if (!store) await alpha.screenshot({ path: SCREENSHOT, fullPage: true });
    await context.close();
    const origin = new URL(server!.url).origin;
    assert.ok(requested.some((url) => url.endsWith(".wasm")), requested.join("\n"));
    const elsewhere = requested.filter((url) => new URL(url).origin !== origin);
    assert.equal(elsewhere, [], "requests that left the demo's server");
  });
}

test.run();
