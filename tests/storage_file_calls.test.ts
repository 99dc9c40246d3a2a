/**
 * How the file systems make their calls (issue 14): synchronous calls settle
 * without a turn of the event loop each, yet a loop of them never starves
 * timers; `fdatasync` runs on the calling thread while it is fast and goes to
 * the thread pool for a while after a slow one.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  blockingWhileFast,
  settlesWithoutStarving,
  SLOW_SYNC_MS,
  SLOW_SYNC_SKIPS,
} from "../src/storage/file/file_system.ts";
import { RUNTIME } from "./_support/storage_fixtures.ts";

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

test("fdatasync blocks while fast, and after a slow call goes to the pool for a while", async () => {
  const attempt = settlesWithoutStarving(immediate);
  let now = 0;
  let later = 0;
  let slow = false;
  const sync = blockingWhileFast(attempt, () => {
    now++;
    if (slow) {
      const until = performance.now() + SLOW_SYNC_MS + 1;
      while (performance.now() < until) { /* a slow disk */ }
    }
  }, () => {
    later++;
    return Promise.resolve();
  });
  for (let i = 0; i < 5; i++) await sync();
  assert.equal([now, later], [5, 0], "fast calls block");
  slow = true;
  await sync();
  slow = false;
  assert.equal([now, later], [6, 0]);
  for (let i = 0; i < SLOW_SYNC_SKIPS; i++) await sync();
  assert.equal([now, later], [6, SLOW_SYNC_SKIPS], "the calls after a slow one go to the pool");
  await sync();
  assert.equal([now, later], [7, SLOW_SYNC_SKIPS], "then block again");
});

test.run();
