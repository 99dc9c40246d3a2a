/**
 * The engine's own mutex (`src/engine/mutex.ts`): FIFO hand-over, release on
 * throw, and the `async-mutex` semantics the engine relies on.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Mutex } from "../src/engine/mutex.ts";
import { RUNTIME } from "./_support/storage_fixtures.ts";

const test = suite(`engine mutex (${RUNTIME})`);

async function throwsAsync(run: () => Promise<unknown>, type: new (...args: never[]) => Error) {
  try {
    await run();
  } catch (error) {
    assert.instance(error, type);
    return;
  }
  assert.unreachable("did not throw");
}

test("acquire() takes a free mutex before its promise settles", async () => {
  const mutex = new Mutex();
  assert.ok(!mutex.isLocked());
  const taken = mutex.acquire();
  assert.ok(mutex.isLocked());
  (await taken)();
  assert.ok(!mutex.isLocked());
});

test("waiters get the mutex in the order they asked, and it stays locked between them", async () => {
  const mutex = new Mutex();
  const order: number[] = [];
  const first = await mutex.acquire();
  const waiting = [1, 2, 3].map((n) =>
    mutex.acquire().then((release) => {
      order.push(n);
      assert.ok(mutex.isLocked());
      release();
    })
  );
  await Promise.resolve();
  assert.equal(order, []);
  first();
  assert.ok(mutex.isLocked(), "handed to the first waiter, not freed");
  await Promise.all(waiting);
  assert.equal(order, [1, 2, 3]);
  assert.ok(!mutex.isLocked());
});

test("a releaser called twice releases once", async () => {
  const mutex = new Mutex();
  const release = await mutex.acquire();
  const next = mutex.acquire();
  release();
  release(); // must not free the mutex the next holder now has
  const releaseNext = await next;
  assert.ok(mutex.isLocked());
  releaseNext();
  assert.ok(!mutex.isLocked());
});

test("runExclusive() returns the callback's value and serialises callbacks", async () => {
  const mutex = new Mutex();
  const log: string[] = [];
  const slow = mutex.runExclusive(async () => {
    log.push("a start");
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.push("a end");
    return 1;
  });
  const fast = mutex.runExclusive(() => {
    log.push("b");
    return 2;
  });
  assert.equal(await Promise.all([slow, fast]), [1, 2]);
  assert.equal(log, ["a start", "a end", "b"]);
});

test("runExclusive() releases the mutex when the callback throws or rejects", async () => {
  const mutex = new Mutex();
  await throwsAsync(() =>
    mutex.runExclusive(() => {
      throw new RangeError("sync");
    }), RangeError);
  assert.ok(!mutex.isLocked());
  await throwsAsync(
    () => mutex.runExclusive(() => Promise.reject(new TypeError("async"))),
    TypeError,
  );
  assert.ok(!mutex.isLocked());
  assert.equal(await mutex.runExclusive(() => "after"), "after");
});

test.run();
