/**
 * `router.watch()` across Chromium tabs on OPFS and IndexedDB storage: a tab
 * that watches holds a shared Web Lock (`tab_watchers.ts`), so a writer in
 * another tab records its rows and stores a note only while such a tab
 * exists; the watching tab hears the commits row by row, and once it stops,
 * commits carry no note again.
 *
 * @module
 */
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { WATCHED_CACHE_MS } from "../src/storage/browser/tab_watchers.ts";
import { browserSuite, call } from "./_support/browser/chromium.ts";

const { test, openPage } = browserSuite("router.watch across chromium tabs");

/** Waits until some tab holds the watch lock of `store` (or until none does). */
async function watchLockHeld(page: Page, store: string, held: boolean): Promise<void> {
  const prefix = store === "indexeddb" ? "db-router-watch:" : "db-router-opfs-watch:";
  for (let tries = 0; tries < 600; tries++) {
    const names = await call(page, "heldLocks");
    if (names.some((name) => name.startsWith(prefix)) === held) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the watch lock of ${store} was never ${held ? "taken" : "released"}`);
}

for (const store of ["opfs", "indexeddb"] as const) {
  test(`${store}: commits carry a note only while another tab watches, which hears them`, async () => {
    const [writer, watcher] = [
      await openPage(),
      await openPage(),
    ];
    await call(writer, "open", "alpha", {}, store);
    await call(watcher, "open", "beta", {}, store);

    // Nobody watches: the commits carry no note.
    let { version } = await call(writer, "sharedNotes", store, "alpha");
    await call(writer, "insertBots", "alpha", 2, "unheard");
    let seen = await call(writer, "sharedNotes", store, "alpha", version);
    assert.equal(seen.notes, [false, false]);

    // The other tab watches: each commit carries its note, and the tab hears its rows.
    await call(watcher, "watchBots", "beta");
    await watchLockHeld(writer, store, true);
    // Its listener is unscoped: it holds the "\0all" lock, so writers look no owners up.
    const names = await call(writer, "heldLocks");
    assert.equal(names.filter((name) => name.includes("-watch:")).map((n) => n.endsWith("\0all")), [
      true,
    ]);
    version = seen.version;
    await call(writer, "insertBots", "alpha", 3, "heard");
    seen = await call(writer, "sharedNotes", store, "alpha", version);
    assert.equal(seen.notes, [true, true, true]);
    await watcher.waitForFunction(
      () =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).t.heard("beta").filter((c: any) => c.kind === "rows").length >= 3,
      undefined,
      { timeout: 120_000 },
    );
    // The note-less commits made before the watch, if this tab had not read them yet, come first
    // as one resync; every commit made while it watches comes row by row, once.
    let heard = await call(watcher, "heard", "beta");
    if (heard[0]?.kind === "resync") heard = heard.slice(1);
    assert.equal(heard.map((change) => change.kind), ["rows", "rows", "rows"]);
    assert.equal(heard.flatMap((change) => change.inserted), [3, 4, 5]);
    assert.ok(heard.every((change) => !change.here));

    // It stops: once the writer's "someone watches" has expired, no note again.
    await call(watcher, "unwatchBots", "beta");
    await watchLockHeld(writer, store, false);
    await new Promise((resolve) => setTimeout(resolve, WATCHED_CACHE_MS + 200));
    version = seen.version;
    await call(writer, "insertBots", "alpha", 1, "unheard again");
    seen = await call(writer, "sharedNotes", store, "alpha", version);
    assert.equal(seen.notes, [false]);
    for (const tab of [writer, watcher]) await tab.close();
  });
}

test.run();
