/**
 * Commit notes (the rows a commit changed, for `router.watch()`): their
 * encoding, their frames in the file page log (read correctly by readers
 * that predate notes), and what a watcher hears of a commit without one.
 *
 * @module
 */
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { DBRouter, type TableChange } from "../mod.ts";
import { mergeCommits } from "../src/storage/common.ts";
import {
  encodeCommit,
  encodeLogHeader,
  type LogHeader,
  NOTE_PAGE,
  scanCommits,
  splitNote,
} from "../src/storage/file/log_format.ts";
import { planFold } from "../src/storage/file/fold.ts";
import { applyFrames } from "../src/storage/file/replay.ts";
import { patchImage } from "../src/persist/patch_image.ts";
import {
  decodeNote,
  encodeNote,
  encodeUniformNote,
  type ReadNote,
  readNote,
} from "../src/watch/note.ts";
import { ownersLate } from "../src/watch/late_owners.ts";
import { groupRows } from "../src/watch/rows.ts";
import { ChangeLog } from "../src/watch/update_hook.ts";
import { decodeLogHeader } from "../src/storage/file/log_format.ts";
import { fileStorageFor, RUNTIME, temporaryFolder } from "./_support/storage_fixtures.ts";
import { makeImage } from "./_support/storage_conformance.ts";

const test = suite(`watch (${RUNTIME}): commit notes`);
const folder = temporaryFolder(`watch-notes-${RUNTIME}-`);
test.after(folder.remove);

test("a note keeps tables, owners and rowids; consecutive rowids are stored as runs", () => {
  const rows = new Map([
    ["bots", [
      { owner: "alpha", inserted: [1, 2, 3, 4, 5, 9], updated: [7], deleted: [] },
      { owner: null, inserted: [], updated: [], deleted: [100, 101] },
    ]],
    ['we"ird', [{ owner: "b", inserted: [], updated: [2 ** 40], deleted: [] }]],
  ]);
  const note = encodeNote(rows);
  assert.equal(decodeNote(note), rows);
  assert.match(new TextDecoder().decode(note), "[1,5,9,1]");
  const bulk = encodeNote(
    new Map([["t", [{
      owner: null,
      inserted: [...Array(10_000)].map((_, i) => i + 1),
      updated: [],
      deleted: [],
    }]]]),
  );
  assert.ok(bulk.length < 64, `10 000 consecutive rowids in ${bulk.length} bytes`);
});

test("rows are grouped by table and kind, ascending, without repeats, whatever order the hook heard them in", () => {
  const log = (entries: Array<[number, string, number]>) => {
    const changes = new ChangeLog();
    for (const [kind, table, rowid] of entries) {
      changes.push(kind, changes.tableIndex(table), rowid);
    }
    return changes;
  };
  const rows = (entries: Array<[number, string, number]>) =>
    [...groupRows(log(entries))].map((
      [table, groups],
    ) => [table, groups.map((g) => [g.owner, g.inserted, g.updated, g.deleted])]);
  // One kind in one table, ascending: a bulk statement's record.
  assert.equal(rows([[1, "t", 4], [1, "t", 5], [1, "t", 9]]), [["t", [[null, [], [4, 5, 9], []]]]]);
  // The same, but descending, repeated, or of two kinds or tables.
  assert.equal(rows([[2, "t", 9], [2, "t", 4]]), [["t", [[null, [], [], [4, 9]]]]]);
  assert.equal(rows([[1, "t", 4], [1, "t", 4], [1, "t", 2]]), [["t", [[null, [], [2, 4], []]]]]);
  assert.equal(rows([[0, "t", 1], [1, "t", 2], [0, "t", 3]]), [["t", [[null, [1, 3], [2], []]]]]);
  assert.equal(rows([[0, "a", 1], [0, "b", 2], [0, "a", 3]]), [
    ["a", [[null, [1, 3], [], []]]],
    ["b", [[null, [2], [], []]]],
  ]);
  assert.equal(rows([]), []);
});

test("a note encodes non-ASCII names and owners, long notes and a table named __proto__ alike", () => {
  const rows = new Map([
    ["bötchen", [{ owner: 'ålpha\n"', inserted: [1, 2, 7], updated: [], deleted: [3] }]],
    ["__proto__", [{ owner: null, inserted: [], updated: [5], deleted: [] }]],
  ]);
  assert.equal(decodeNote(encodeNote(rows)), rows);
  const scattered = [...Array(500)].map((_, i) => i * 2 + 1);
  const long = new Map([["t", [{ owner: "ö", inserted: scattered, updated: [], deleted: [] }]]]);
  assert.equal(decodeNote(encodeNote(long)), long);
  assert.equal(readNote(encodeNote(long, false, ["t"]))?.rows.get("t")?.[0].inserted, scattered);
});

test("a bulk statement's note, written straight from its rowids, is the note of the same rows grouped", () => {
  const rowids = [3, 4, 5, 9, 2 ** 40];
  for (const kind of [0, 1, 2]) {
    for (const moved of [undefined, [], ["bots"]]) {
      const lists: number[][] = [[], [], []];
      lists[kind] = rowids;
      const grouped = new Map([["b\u00f6ts", [{
        owner: null,
        inserted: lists[0],
        updated: lists[1],
        deleted: lists[2],
      }]]]);
      const uniform = { table: "b\u00f6ts", kind, rowids: new Float64Array(rowids) };
      assert.equal(encodeUniformNote(uniform, moved), encodeNote(grouped, false, moved));
    }
  }
});

test("a note without owners (u) reads back as such; a reader that needs owners, or an older one, refuses it", () => {
  const rows = new Map([["bots", [{ owner: null, inserted: [1, 2], updated: [], deleted: [] }]]]);
  const note = encodeNote(rows, false);
  assert.equal(readNote(note), { rows, ownersKnown: false });
  assert.equal(readNote(encodeNote(rows)), { rows, ownersKnown: true });
  assert.is(decodeNote(note), undefined);
  // What db-router before the "u" kind checked: a "t" object, else a resync.
  const parsed = JSON.parse(new TextDecoder().decode(note));
  assert.is(parsed.t, undefined);
});

test("a note without owners lists the tables where an update may have moved owners or rowids (k)", () => {
  const rows = new Map([["bots", [{ owner: null, inserted: [], updated: [4], deleted: [] }]]]);
  assert.equal(readNote(encodeNote(rows, false, ["bots"])), {
    rows,
    ownersKnown: false,
    moved: new Set(["bots"]),
  });
  assert.equal(readNote(encodeNote(rows, false, []))?.moved, new Set());
  assert.is(readNote(encodeNote(rows, true, ["bots"]))?.moved, undefined, "only for u");
});

test("owners looked up late: a row's owner now, unless a later commit of the catch-up may have changed it", () => {
  type Group = { owner: string | null; inserted: number[]; updated: number[]; deleted: number[] };
  const group = (owner: string | null, i: number[], u: number[], d: number[]): Group => ({
    owner,
    inserted: i,
    updated: u,
    deleted: d,
  });
  const u = (groups: Group[], moved?: string[]): ReadNote => ({
    rows: new Map([["bots", groups]]),
    ownersKnown: false,
    ...(moved ? { moved: new Set(moved) } : {}),
  });
  const t = (groups: Group[]): ReadNote => ({
    rows: new Map([["bots", groups]]),
    ownersKnown: true,
  });
  const owners = new Map<number, string | null>([[1, "a"], [2, "b"], [3, "a"]]);
  const asked: number[][] = [];
  const now = (_table: string, rowids: readonly number[]) => {
    asked.push([...rowids]);
    return (rowid: number) => owners.get(rowid);
  };
  const first = u([group(null, [1, 2], [3], []), group("z", [], [], [9])]);
  const resolved = ownersLate([first], 0, now);
  assert.equal(resolved?.get("bots"), [
    group("a", [1], [3], []),
    group("b", [2], [], []),
    group("z", [], [], [9]),
  ]);
  assert.equal(asked, [[1, 2, 3]]);
  // Later updates that kept owners and rowids (k without the table): still told.
  assert.ok(ownersLate([first, u([group(null, [], [1, 3], [])], [])], 0, now));
  // A later update that may have moved them, one of an older writer (no k), or with owners (t):
  // cannot be told.
  for (const later of [u([group(null, [], [1], [])], ["bots"]), u([group(null, [], [1], [])])]) {
    assert.is(ownersLate([first, later], 0, now), undefined);
  }
  assert.is(ownersLate([first, t([group("a", [], [1], [])])], 0, now), undefined);
  // A later insert of the rowid (deleted and made again), a commit without a note or with no row.
  assert.is(ownersLate([first, u([group(null, [2], [], [])], [])], 0, now), undefined);
  assert.is(ownersLate([first, undefined], 0, now), undefined);
  assert.is(ownersLate([first, { rows: new Map(), ownersKnown: true }], 0, now), undefined);
  // Later commits of other rows or tables change nothing.
  const other: ReadNote = {
    rows: new Map([["cats", [group(null, [1], [], [])]], ["bots", [group(null, [7], [], [])]]]),
    ownersKnown: false,
    moved: new Set(["cats"]),
  };
  assert.ok(ownersLate([first, other], 0, now));
  // A later delete tells the owner the row had (nothing between changed it), without a lookup.
  asked.length = 0;
  const deleted = ownersLate([first, u([group("q", [], [], [2])], [])], 0, now);
  assert.equal(deleted?.get("bots")?.map((g) => [g.owner, g.inserted]), [
    ["a", [1]],
    ["q", [2]],
    ["z", []],
  ]);
  assert.equal(asked, [[1, 3]]);
  // A row gone now but deleted in the same commit: as the writer tells it (null); gone otherwise:
  // unknown.
  const gone = u([group(null, [5], [], []), group("a", [], [], [5])], []);
  assert.equal(
    ownersLate([gone], 0, now)?.get("bots")?.map((g) => [g.owner, g.inserted, g.deleted]),
    [
      [null, [5], []],
      ["a", [], [5]],
    ],
  );
  assert.is(ownersLate([u([group(null, [6], [], [])], [])], 0, now), undefined);
  // A note with owners is its own answer.
  const known = t([group("a", [1], [], [])]);
  assert.is(ownersLate([known], 0, now), known.rows);
});

test("a note that is not one (damaged, another version) decodes to undefined", () => {
  const bad = [
    "",
    "{}",
    '{"v":2,"t":{}}',
    '{"v":1,"t":{"a":[[1,[],[],[]]]}}',
    '{"v":1,"t":{"a":[[null,[1],[],[]]]}}',
    '{"v":1,"t":{"a":[[null,[1,0],[],[]]]}}',
  ];
  for (const text of bad) assert.is(decodeNote(new TextEncoder().encode(text)), undefined, text);
});

function header(pageSize: number, version = 1): LogHeader {
  return decodeLogHeader(encodeLogHeader({
    version,
    pageSize,
    generation: 1,
    salt1: 7,
    salt2: 9,
    baseSize: 0,
    baseIno: 0,
    baseChecksum: [0, 0],
    baseCounter: 0,
    baseMtime: 0,
  }))!;
}

test("log frames: a note goes before the commit's pages; a reader that predates notes still rebuilds the image", () => {
  const pageSize = 512;
  const logHeader = header(pageSize);
  const base = makeImage(pageSize, 4, 1);
  const next = makeImage(pageSize, 5, 2);
  const pages: Array<[number, Uint8Array]> = [
    [2, next.subarray(512, 1024)],
    [3, next.subarray(1024, 1536)],
    [5, next.subarray(2048, 2560)],
  ];
  const expected = patchImage(base.slice(), pageSize, pages, 5);
  expected.set(base.subarray(3 * 512, 4 * 512), 3 * 512);
  const note = makeImage(1, 1300, 3); // three frames of note at 512 bytes a page
  const { bytes } = encodeCommit(logHeader, logHeader.checksum, pages, 5, note);
  const scan = scanCommits(bytes, logHeader, logHeader.checksum);
  assert.is(scan.length, bytes.length, "one whole, valid commit");
  assert.equal(scan.frames.map((f) => f.page), [2, 2, 2, 2, 3, 5]);
  // Today's reader sets the note apart.
  const split = splitNote(scan.frames);
  assert.equal([...split.note!], [...note]);
  assert.equal(split.frames.map((f) => f.page), [2, 3, 5]);
  // A reader from before notes applies every frame in order, as applyFrames and mergeCommits do.
  assert.equal([...applyFrames(base.slice(), pageSize, scan.frames)], [...expected]);
  const merged = mergeCommits(4, [{
    pageCount: 5,
    pages: scan.frames.map((f) => [f.page, f.data]),
  }]);
  assert.equal([...patchImage(base.slice(), pageSize, merged, 5)], [...expected]);
  // A commit without a note has no repeated page: no note.
  const plain = encodeCommit(logHeader, logHeader.checksum, pages, 5).bytes;
  assert.is(splitNote(scanCommits(plain, logHeader, logHeader.checksum).frames).note, null);
});

test("log format 2: a note is one frame as long as the note, which no page replay or fold writes", () => {
  const pageSize = 512;
  const logHeader = header(pageSize, 2);
  const base = makeImage(pageSize, 4, 1);
  const next = makeImage(pageSize, 5, 2);
  const pages: Array<[number, Uint8Array]> = [
    [2, next.subarray(512, 1024)],
    [5, next.subarray(2048, 2560)],
  ];
  const expected = patchImage(base.slice(), pageSize, pages, 5);
  for (const length of [1, 13, 1300]) {
    const note = makeImage(1, length, 3);
    const { bytes, sums } = encodeCommit(logHeader, logHeader.checksum, pages, 5, note);
    const noteBytes = 24 + Math.ceil(length / 8) * 8;
    assert.is(bytes.length, noteBytes + 2 * (24 + pageSize), `a ${length}-byte note`);
    const scan = scanCommits(bytes, logHeader, logHeader.checksum);
    assert.is(scan.length, bytes.length, "one whole, valid commit");
    assert.equal(scan.sums, sums);
    assert.equal(scan.frames.map((f) => f.page), [NOTE_PAGE, 2, 5]);
    const split = splitNote(scan.frames);
    assert.equal([...split.note!], [...note]);
    assert.equal(split.frames.map((f) => f.page), [2, 5]);
    assert.equal([...applyFrames(base.slice(), pageSize, scan.frames)], [...expected]);
    const plan = planFold(4, pageSize, scan.frames);
    assert.equal(plan.writes.map(([page]) => page), [2, 5], "the note frame is not a page");
    // A flipped byte of the note (or its padding) fails the chain: the commit is not read.
    for (const at of [24, noteBytes - 1]) {
      const damaged = bytes.slice();
      damaged[at] ^= 1;
      assert.is(scanCommits(damaged, logHeader, logHeader.checksum).length, 0, `byte ${at}`);
    }
  }
  // A second note frame, or one after a page, is no frame of this format: the commit ends there.
  const note = makeImage(1, 10, 3);
  const one = encodeCommit(logHeader, logHeader.checksum, pages, 5, note).bytes;
  const noteFrame = one.subarray(0, 24 + 16);
  const twice = new Uint8Array(noteFrame.length + one.length);
  twice.set(noteFrame);
  twice.set(one, noteFrame.length);
  assert.is(scanCommits(twice, logHeader, logHeader.checksum).length, 0);
});

test("a commit without a note (an older db-router, or DB_ROUTER_WATCH=off) is heard as a resync", async () => {
  const shared = join(folder.dir, "global.db");
  await using watcher = new DBRouter("alpha", join(folder.dir, "a.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  await watcher.getConnection("bots", "write").exec(
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, source_menace_id TEXT)",
  );
  process.env.DB_ROUTER_WATCH = "off";
  let old: DBRouter;
  try {
    old = new DBRouter("beta", join(folder.dir, "b.db"), shared, {
      storage: fileStorageFor(RUNTIME),
    });
    await old.ready();
  } finally {
    delete process.env.DB_ROUTER_WATCH;
  }
  await using current = new DBRouter("gamma", join(folder.dir, "c.db"), shared, {
    storage: fileStorageFor(RUNTIME),
  });
  const heard: TableChange[] = [];
  watcher.watch("bots", (c) => void heard.push(c));
  await old.insert("bots", { id: 1 });
  await current.insert("bots", { id: 2 });
  const started = Date.now();
  while (heard.length < 2 && Date.now() - started < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await old.close();
  assert.equal(heard.map((c) => [c.kind, c.inserted]), [["resync", []], ["rows", [2]]]);
});

test.run();
