/**
 * How the file systems make their calls (issue 14): synchronous calls settle
 * without a turn of the event loop each, yet a loop of them never starves
 * timers; `fdatasync` runs on the calling thread while it is fast and goes to
 * the thread pool for a while once most of the latest calls were slow.
 *
 * @module
 */
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  blockingWhileFast,
  settlesWithoutStarving,
  SLOW_SYNC_MS,
  SLOW_SYNC_SKIPS,
  SYNC_WINDOW,
} from "../src/storage/file/file_system.ts";
import { nodeFileSystem } from "../src/storage/node/fs.ts";
import { RUNTIME } from "./_support/storage_fixtures.ts";
import { ROOT, runScript } from "./_support/spawn.ts";

const test = suite(`file system calls (${RUNTIME})`);

const immediate = (callback: () => void) => void setTimeout(callback, 0);

test("a call settles with its result, and a throwing call rejects with its error", async () => {
  const attempt = settlesWithoutStarving(immediate);
  assert.is(await attempt(() => 42), 42);
  const error = new Error("EACCES");
  let caught: unknown;
  try {
    await attempt(() => {
      throw error;
    });
  } catch (thrown) {
    caught = thrown;
  }
  assert.is(caught, error);
});

test("calls in a row settle without a turn of the event loop each", async () => {
  let scheduled = 0;
  const attempt = settlesWithoutStarving((callback) => {
    scheduled++;
    setTimeout(callback, 0);
  });
  await attempt(() => 0);
  await new Promise((resolve) => setTimeout(resolve, 0));
  scheduled = 0;
  for (let i = 0; i < 20; i++) await attempt(() => i);
  // One scheduled turn marker, and one more per millisecond the loop took.
  assert.ok(scheduled < 10, `${scheduled} turns scheduled for 20 calls`);
});

test("a loop that awaits only such calls still lets a timer run", async () => {
  const attempt = settlesWithoutStarving(immediate);
  let fired = false;
  setTimeout(() => fired = true, 0);
  let calls = 0;
  while (!fired && calls < 1_000_000) {
    await attempt(() => calls++);
  }
  assert.ok(fired, `the timer never ran in ${calls} calls`);
});

test("fdatasync blocks while fast, and goes to the pool for a while once most calls are slow", async () => {
  const attempt = settlesWithoutStarving(immediate);
  let now = 0;
  let later = 0;
  // A clock that each blocking call advances by `took` ms: the test decides what is slow.
  let time = 0;
  let took = 0;
  const sync = blockingWhileFast(attempt, () => {
    now++;
    time += took;
  }, () => {
    later++;
    return Promise.resolve();
  }, () => time);
  const calls = async (count: number, ms: number) => {
    took = ms;
    for (let i = 0; i < count; i++) await sync();
    took = 0;
  };
  await calls(5, 0);
  assert.equal([now, later], [5, 0], "fast calls block");
  await calls(1, 50);
  await calls(SYNC_WINDOW, SLOW_SYNC_MS);
  assert.equal(
    [now, later],
    [5 + 1 + SYNC_WINDOW, 0],
    "one slow call, and calls of exactly the limit, block on",
  );
  await calls(SYNC_WINDOW / 2, SLOW_SYNC_MS + 0.5);
  assert.equal(later, 0, "half the window slow: still blocking");
  const blocked = now;
  await calls(1, SLOW_SYNC_MS + 0.5);
  assert.equal(
    [now, later],
    [blocked + 1, 0],
    "the call that makes most of the window slow blocks",
  );
  await calls(SLOW_SYNC_SKIPS, 0);
  assert.equal([now, later], [blocked + 1, SLOW_SYNC_SKIPS], "the calls after it go to the pool");
  await calls(1, SLOW_SYNC_MS + 0.5);
  assert.equal(
    [now, later],
    [blocked + 2, SLOW_SYNC_SKIPS],
    "then block again, with a fresh window",
  );
  await calls(1, 0);
  assert.equal([now, later], [blocked + 3, SLOW_SYNC_SKIPS]);
});

test("Node's file system runs every exit hook from one exit listener, a failing hook included", async () => {
  const fs = nodeFileSystem();
  const before = process.listenerCount("exit");
  for (let i = 0; i < 20; i++) fs.onExit(() => {});
  assert.ok(process.listenerCount("exit") - before <= 1, "one listener at most, not one a hook");
  const child = await runScript(`${ROOT}/tests/_support/exit_hooks_child.ts`);
  assert.is(child.stdout, "first\nthird\n", "the hook after the failing one still ran");
  assert.match(child.stderr, "a hook that fails", "the failure is still reported");
});

test.run();
