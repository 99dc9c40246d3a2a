/**
 * What a one-page commit into the memory storage adapter costs at 1, 10 and
 * 100 MB: the adapter's `commit()` of one changed page, and of one page added
 * at the end (a growing database), against the work its commit did before it
 * kept its image in a buffer with room to grow (a copy of the whole image,
 * then the page written into it), timed in the same process on the same
 * image, alternating. Issue 14 asks every adapter for commits that cost the
 * pages changed, not the database's size. Not a test:
 * `npm run bench -- memory_commit`.
 *
 * @module
 */
import { memoryStorage } from "../../src/storage/memory.ts";
import { patchImage } from "../../src/persist/patch_image.ts";
import { printTable } from "../_support/bench_util.ts";

const PAGE = 4096;
const COMMITS = Number(process.env.BENCH_COMMITS ?? 200);
const SIZES = [1, 10, 100];
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

const rows: string[][] = [[
  "MB",
  "commit of one changed page, µs",
  "whole copy + patch (before), µs",
  "commit of one added page, µs",
  "whole copy + patch (before), µs",
]];
for (const mb of SIZES) {
  const pages = mb * 256;
  const image = new Uint8Array(pages * PAGE);
  for (let i = 0; i < image.length; i += 512) image[i] = i & 0xff;
  const storage = memoryStorage();
  const db = await storage.open(storage.resolve(`bench-${mb}.db`));
  await db.commit({
    pageSize: PAGE,
    pageCount: pages,
    pages: Array.from(
      { length: pages },
      (_, i) => [i + 1, image.subarray(i * PAGE, (i + 1) * PAGE)],
    ),
  });
  let before: Uint8Array = image.slice();
  const changed: number[] = [];
  const changedBefore: number[] = [];
  const added: number[] = [];
  const addedBefore: number[] = [];
  const page = new Uint8Array(PAGE).fill(7);
  for (let i = 0; i < COMMITS; i++) {
    const number = 2 + (i * 37) % (pages - 1);
    let started = performance.now();
    await db.commit({ pageSize: PAGE, pageCount: pages, pages: [[number, page]] });
    changed.push(performance.now() - started);
    started = performance.now();
    before = patchImage(before.slice(), PAGE, [[number, page.slice()]], pages);
    changedBefore.push(performance.now() - started);
  }
  for (let i = 0; i < Math.min(COMMITS, 50); i++) {
    const count = pages + i + 1;
    let started = performance.now();
    await db.commit({ pageSize: PAGE, pageCount: count, pages: [[count, page]] });
    added.push(performance.now() - started);
    started = performance.now();
    before = patchImage(before.slice(), PAGE, [[count, page.slice()]], count);
    addedBefore.push(performance.now() - started);
  }
  const loaded = (await db.load()).image!;
  if (loaded.length !== before.length || loaded.some((byte, i) => byte !== before[i])) {
    throw new Error(`${mb} MB: the adapter's image differs from the whole-copy image`);
  }
  const us = (values: number[]) => (median(values) * 1000).toFixed(1);
  rows.push([String(mb), us(changed), us(changedBefore), us(added), us(addedBefore)]);
}
console.log(`memory storage, ${COMMITS} commits per size (50 growing), medians`);
printTable(rows);
