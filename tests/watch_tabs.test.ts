/**
 * Which tabs watch a browser-stored database (`tab_watchers.ts`), on a fake
 * Web Lock manager shared by several `TabWatchers` (one per tab): a scoped
 * watcher's lock says "look owners up", an unscoped one's (`"\0all"`) only
 * "someone watches".
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { TabWatchers, type WatchLockManager } from "../src/storage/browser/tab_watchers.ts";
import { RUNTIME } from "./_support/storage_fixtures.ts";

const test = suite(`watch (${RUNTIME}): tabs that watch`);
const PREFIX = "db-router-watch:test";

/** Shared locks only, all granted at once, as the watchers take them. */
function fakeLocks(): WatchLockManager & { held: string[] } {
  const held: string[] = [];
  return {
    held,
    async request(name, _options, callback) {
      held.push(name);
      try {
        await callback();
      } finally {
        held.splice(held.indexOf(name), 1);
      }
    },
    query() {
      return Promise.resolve({ held: held.map((name) => ({ name })), pending: [] });
    },
  };
}

test("an unscoped watcher in another tab is heard as unscoped; a scoped one as watching", async () => {
  const locks = fakeLocks();
  const [writer, tabA, tabB] = [1, 2, 3].map(() => new TabWatchers(locks, PREFIX));
  assert.is(await writer.anyone("global.db"), false);
  const withdrawA = await tabA.register("global.db", false);
  assert.equal(locks.held, [`${PREFIX}:global.db\0all`]);
  assert.is(await writer.anyone("global.db"), "unscoped");
  assert.is(await writer.anyone("other.db"), false);
  // "unscoped" is not kept: a scoped watcher that comes is seen at the next write.
  const withdrawB = await tabB.register("global.db");
  assert.is(await writer.anyone("global.db"), true);
  await withdrawB();
  await withdrawA();
  assert.equal(locks.held, []);
});

test("this tab's own watchers: a scoped one answers at once, an unscoped one still asks for others", async () => {
  const locks = fakeLocks();
  const [here, elsewhere] = [new TabWatchers(locks, PREFIX), new TabWatchers(locks, PREFIX)];
  const withdraw = await here.register("global.db", false);
  assert.is(await here.anyone("global.db"), "unscoped");
  const withdrawScoped = await elsewhere.register("global.db", true);
  assert.is(await here.anyone("global.db"), true);
  await withdrawScoped();
  await withdraw();
  const scoped = await here.register("global.db");
  locks.held.length = 0; // a query would find no lock: the answer comes from this tab
  assert.is(await here.anyone("global.db"), true);
  await scoped();
});

test("without Web Locks every database is taken as watched, scoped", async () => {
  assert.is(await new TabWatchers(undefined, PREFIX).anyone("global.db"), true);
});

test.run();
