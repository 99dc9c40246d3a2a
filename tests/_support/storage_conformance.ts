/**
 * The cases every storage adapter must pass. An adapter's test file calls
 * {@linkcode testStorageAdapter} with a factory and adds its own special cases.
 *
 * @module
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { diffPages } from "../../src/persist/page_diff.ts";
import { patchImage } from "../../src/persist/patch_image.ts";
import type {
  LoadedImage,
  PageCommit,
  StorageAdapter,
  StoredDatabase,
} from "../../src/storage/types.ts";

/** Options of {@linkcode testStorageAdapter}. */
export interface ConformanceOptions {
  /** Cases to skip, by name, each with the reason; a skipped case counts as a failure in `npm test`. */
  skip?: Record<string, string>;
  /** Turns a relative location into the one to use, e.g. inside a temporary folder. */
  location?: (name: string) => string;
  /** Runs after the last case, e.g. to remove a temporary folder. */
  cleanup?: () => void | Promise<void>;
}

/**
 * Registers the shared storage cases as one uvu suite named after `name`; each
 * case gets a fresh adapter from `makeAdapter`.
 *
 * @example
 * ```ts ignore
 * import { memoryStorage } from "../../src/storage/memory.ts";
 * testStorageAdapter("memory", () => memoryStorage());
 * ```
 */
export function testStorageAdapter(
  name: string,
  makeAdapter: () => StorageAdapter | Promise<StorageAdapter>,
  options: ConformanceOptions = {},
): void {
  const test = suite(`storage conformance: ${name}`);
  const skip = options.skip ?? {};
  const location = options.location ?? ((relative: string) => `conformance/${relative}`);
  for (const title of Object.keys(skip)) {
    if (!CASES.some(([known]) => known === title)) {
      throw new TypeError(`Cannot skip storage case "${title}": no such case`);
    }
  }
  CASES.forEach(([title, body], index) => {
    const run = async () => {
      const adapter = await makeAdapter();
      const place = (file: string) => adapter.resolve(location(`case-${index}/${file}`));
      const key = place("db.sqlite");
      await body({ adapter, key, place, open: () => adapter.open(key) });
    };
    if (title in skip) test.skip(`${title} (skipped: ${skip[title]})`, run);
    else test(title, run);
  });
  if (options.cleanup) test.after(async () => await options.cleanup!());
  test.run();
}

interface CaseContext {
  adapter: StorageAdapter;
  key: string;
  /** The key of another file beside the database. */
  place: (file: string) => string;
  open: () => Promise<StoredDatabase>;
}

type Case = readonly [string, (context: CaseContext) => Promise<void>];

const CASES: Case[] = [
  [
    "changesSince() returns each commit's note, in commit order, null for a commit without one",
    async ({ open }) => {
      const db = await open();
      const first = makeImage(4096, 3, 11);
      await db.commit(commitOf(null, first, 4096));
      const reader = await open();
      const since = await reader.load();
      const second = first.slice();
      second.fill(1, 0, 100);
      const third = second.slice();
      third.fill(2, 4096, 4196);
      const fourth = new Uint8Array(4096 * 4);
      fourth.set(third);
      fourth.fill(3, 3 * 4096);
      const small = new TextEncoder().encode('{"v":1,"t":{}}');
      const large = makeImage(512, 21, 12); // 10.5 KiB: more than two pages of note
      await db.commit({ ...commitOf(first, second, 4096), note: small });
      await db.commit(commitOf(second, third, 4096));
      await db.commit({ ...commitOf(third, fourth, 4096), note: large });
      const changes = await reader.changesSince(since.version);
      assert.ok(changes, "changes since the first commit");
      assert.ok(changes!.notes, "the adapter keeps notes");
      assert.equal(changes!.notes!.map((note) => note && bytes(note)), [
        bytes(small),
        null,
        bytes(large),
      ]);
      // The note frames are not pages: the changes still rebuild the image exactly.
      const caughtUp = await catchUp(reader, since);
      assert.ok(same(caughtUp.image, fourth), "the pages without the notes");
      assert.ok(same((await (await open()).load()).image, fourth), "a whole load too");
      const none = await reader.changesSince(changes!.version);
      assert.equal(none?.notes ?? [], [], "no commit since: no note");
    },
  ],
  ["load() of a missing database returns a null image", async ({ open }) => {
    const db = await open();
    const loaded = await db.load();
    assert.is(loaded.image, null);
    assert.type(loaded.version, "string");
    assert.is(await db.version(), loaded.version);
  }],
  ["commit() then load() returns the committed pages byte for byte", async ({ open }) => {
    const db = await open();
    const first = makeImage(4096, 3, 1);
    await db.commit(commitOf(null, first, 4096));
    assert.equal(bytes((await db.load()).image), bytes(first));
    const second = first.slice();
    const grown = new Uint8Array(4096 * 4);
    grown.set(second);
    grown.fill(9, 4096, 8192);
    grown.fill(4, 3 * 4096);
    await db.commit(commitOf(first, grown, 4096));
    assert.ok(same((await db.load()).image, grown), "the first handle reads the second commit");
    assert.ok(same((await (await open()).load()).image, grown), "a new handle reads it too");
  }],
  ["commit() refuses a malformed commit with a RangeError and stores nothing", async ({ open }) => {
    const db = await open();
    const image = makeImage(4096, 2, 5);
    const version = await db.commit(commitOf(null, image, 4096));
    const bad: PageCommit[] = [
      { ...commitOf(image, image, 4096), pageSize: 3000 },
      { ...commitOf(image, image, 4096), pageCount: 0 },
      { ...commitOf(null, image, 4096), pages: commitOf(null, image, 4096).pages.toReversed() },
      { ...commitOf(image, image, 4096), pages: [[3, image.subarray(0, 4096)]] },
      { ...commitOf(image, image, 4096), pages: [[1, image.subarray(0, 100)]] },
    ];
    for (const commit of bad) {
      let error: unknown;
      try {
        await db.commit(commit);
      } catch (e) {
        error = e;
      }
      assert.instance(error, RangeError);
    }
    assert.is(await db.version(), version);
    assert.ok(same((await db.load()).image, image));
  }],
  ["version() changes on every commit and stays put otherwise", async ({ open }) => {
    const db = await open();
    const seen = new Set([await db.version()]);
    let image: Uint8Array | null = null;
    for (let round = 1; round <= 4; round++) {
      const next = makeImage(1024, 4, round);
      const version = await db.commit(commitOf(image, next, 1024));
      image = next;
      assert.not.ok(seen.has(version), `commit ${round} returned a new version`);
      seen.add(version);
      assert.is(await db.version(), version);
      assert.is(await db.version(), version, "version() is stable without commits");
      assert.is((await db.load()).version, version);
    }
  }],
  [
    "changesSince() applied to the earlier image gives what a full load returns",
    async ({ open }) => {
      const writer = await open();
      const reader = await open();
      let image = makeImage(512, 6, 3);
      await writer.commit(commitOf(null, image, 512));
      let since = await reader.load();
      for (let round = 0; round < 5; round++) {
        const next = new Uint8Array(512 * (6 + round));
        next.set(image.subarray(0, Math.min(image.length, next.length)));
        next.fill(round + 20, 512 * round, 512 * round + 100);
        next.fill(round + 40, next.length - 512);
        await writer.commit(commitOf(image, next, 512));
        image = next;
        if (round % 2 === 1) continue; // catch up over two commits at once
        const caughtUp = await catchUp(reader, since);
        const full = await (await open()).load();
        assert.ok(same(caughtUp.image, full.image), `round ${round}: same image`);
        assert.is(caughtUp.version, full.version);
        assert.ok(same(full.image, image));
        since = caughtUp;
      }
      const unchanged = await reader.changesSince(since.version);
      assert.equal(unchanged?.pages, [], "nothing new: no pages");
      assert.is(unchanged?.version, await writer.version());
    },
  ],
  [
    "changesSince() over a shrink then a growth gives zeros for pages not written again",
    async ({ open }) => {
      const writer = await open();
      const reader = await open();
      const big = makeImage(512, 6, 9);
      await writer.commit(commitOf(null, big, 512));
      const since = await reader.load();
      const small = big.slice(0, 1024);
      await writer.commit({ pageSize: 512, pageCount: 2, pages: [[1, small.subarray(0, 512)]] });
      const regrown = new Uint8Array(512 * 5);
      regrown.set(small);
      regrown.fill(5, 512 * 4);
      await writer.commit({ pageSize: 512, pageCount: 5, pages: [[5, regrown.subarray(2048)]] });
      const caughtUp = await catchUp(reader, since);
      assert.ok(same(caughtUp.image, regrown), "pages 3 and 4 are zeros, as SQLite left them");
      assert.ok(same((await (await open()).load()).image, regrown));
    },
  ],
  ["a commit with a smaller page count truncates the image", async ({ open }) => {
    const db = await open();
    const big = makeImage(1024, 5, 7);
    await db.commit(commitOf(null, big, 1024));
    const since = await db.load();
    const small = big.slice(0, 2048);
    small.fill(1, 0, 10);
    await db.commit(commitOf(big, small, 1024));
    assert.ok(same((await (await open()).load()).image, small));
    assert.ok(same((await catchUp(db, since)).image, small));
  }],
  [
    "the committed pages and a loaded image are copies: changing them later changes nothing stored",
    async ({ open }) => {
      const db = await open();
      const first = makeImage(1024, 3, 11);
      const kept = first.slice();
      const commit = commitOf(null, first, 1024);
      await db.commit(commit);
      for (const [, page] of commit.pages) page.fill(0xee);
      first.fill(0xee);
      const loaded = (await db.load()).image!;
      assert.ok(same(loaded, kept), "the pages as they were when committed");
      loaded.fill(0xdd);
      const grown = new Uint8Array(1024 * 4);
      grown.set(kept);
      grown.fill(3, 3072);
      await db.commit({ pageSize: 1024, pageCount: 4, pages: [[4, grown.subarray(3072)]] });
      assert.ok(same((await db.load()).image, grown), "a changed loaded copy is not the store");
      assert.ok(same((await (await open()).load()).image, grown));
    },
  ],
  ["lock() excludes a second taker until the first releases", async ({ open }) => {
    const first = await open();
    const second = await open();
    const release = await first.lock();
    let taken = false;
    const waiting = second.lock().then((next) => {
      taken = true;
      return next;
    });
    await sleep(150);
    assert.not.ok(taken, "the second taker waits");
    await release();
    const releaseSecond = await waiting;
    assert.ok(taken);
    await releaseSecond();
  }],
  ["a release called twice is harmless", async ({ open }) => {
    const db = await open();
    const release = await db.lock();
    await release();
    await release();
    const again = await Promise.race([db.lock(), sleep(2000).then(() => undefined)]);
    assert.ok(again, "the lock is free after a double release");
    await again!();
    await again!();
  }],
  [
    "records are read back whole and in the order they were appended",
    async ({ adapter, place }) => {
      const records = adapter.records;
      assert.ok(records, "the adapter keeps records");
      const log = place("queue/alpha.jsonl");
      assert.equal(await collect(records!.read(log)), [], "a missing log is empty");
      await records!.append(log, ['{"n":1}', "zwei ✓"]);
      await records!.append(log, []);
      await records!.append(log, ['{"n":3}']);
      assert.equal(await collect(records!.read(log)), ['{"n":1}', "zwei ✓", '{"n":3}']);
    },
  ],
  ["close() keeps what was committed, and a second close() is harmless", async ({ open }) => {
    const db = await open();
    const image = makeImage(4096, 2, 5);
    await db.commit(commitOf(null, image, 4096));
    const changed = image.slice();
    changed.fill(8, 4096, 4200);
    await db.commit(commitOf(image, changed, 4096));
    await db.close({ compact: true });
    await db.close();
    const reopened = await open();
    assert.ok(same((await reopened.load()).image, changed));
    await reopened.close();
  }],
];

/**
 * A deterministic image of `pageCount` pages whose bytes depend on `seed`.
 *
 * @example
 * ```ts
 * makeImage(512, 2, 1).length; // 1024
 * ```
 */
export function makeImage(pageSize: number, pageCount: number, seed: number): Uint8Array {
  const image = new Uint8Array(pageSize * pageCount);
  let state = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < image.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    image[i] = state & 0xff;
  }
  return image;
}

/**
 * The commit that turns `previous` into `next`.
 *
 * @example
 * ```ts
 * commitOf(null, makeImage(512, 2, 1), 512).pages.length; // 2
 * ```
 */
export function commitOf(
  previous: Uint8Array | null,
  next: Uint8Array,
  pageSize: number,
): PageCommit {
  return {
    pageSize,
    pageCount: next.length / pageSize,
    pages: diffPages(previous, next, pageSize),
  };
}

/** `since` brought up to date with {@linkcode StoredDatabase.changesSince}, as the engine does. */
export async function catchUp(db: StoredDatabase, since: LoadedImage): Promise<LoadedImage> {
  const changes = await db.changesSince(since.version);
  if (!changes) throw new Error(`changesSince(${since.version}) found nothing to start from`);
  const image = patchImage(
    since.image!.slice(),
    changes.pageSize,
    changes.pages,
    changes.pageCount,
  );
  return { image, version: changes.version };
}

function same(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bytes(image: Uint8Array | null): number[] | null {
  return image ? Array.from(image) : null;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
