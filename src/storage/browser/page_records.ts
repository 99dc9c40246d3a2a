/**
 * The page arithmetic of IndexedDB storage: version stamps, which pages a
 * commit must write, and how an image is rebuilt from page records.
 *
 * @module
 */
import type { PageCommit } from "../types.ts";
import type { MetaRecord, PageRecord } from "./idb.ts";

/**
 * The version stamp of `meta`: `epoch:counter`.
 *
 * @example
 * ```ts
 * import { stampOf } from "./page_records.ts";
 * stampOf({ key: "a.db", pageSize: 4096, pageCount: 1, epoch: "x1", counter: 3 }); // "x1:3"
 * ```
 */
export function stampOf(meta: MetaRecord): string {
  return `${meta.epoch}:${meta.counter}`;
}

/**
 * A new epoch: random, so that a database deleted and created again never
 * repeats a stamp of its earlier life.
 *
 * @example
 * ```ts
 * import { randomEpoch } from "./page_records.ts";
 * randomEpoch() !== randomEpoch(); // true
 * ```
 */
export function randomEpoch(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

/**
 * The counter of stamp `version` when it is an earlier state of `meta`'s
 * database, else `undefined`.
 *
 * @example
 * ```ts
 * import { sinceCounter } from "./page_records.ts";
 * const meta = { key: "a.db", pageSize: 4096, pageCount: 1, epoch: "x1", counter: 3 };
 * sinceCounter("x1:2", meta); // 2
 * sinceCounter("other:2", meta); // undefined
 * ```
 */
export function sinceCounter(version: string, meta: MetaRecord): number | undefined {
  const colon = version.lastIndexOf(":");
  const counter = Number(version.slice(colon + 1));
  if (colon < 0 || version.slice(0, colon) !== meta.epoch) return undefined;
  return Number.isInteger(counter) && counter <= meta.counter ? counter : undefined;
}

/**
 * `base` resized to `meta`'s pages with `records` written over it, or
 * `undefined` when a page is neither in `base` nor in `records`. `base` is
 * reused when its size is already right.
 *
 * @example
 * ```ts
 * import { patch } from "./page_records.ts";
 * const meta = { key: "a.db", pageSize: 512, pageCount: 2, epoch: "x1", counter: 2 };
 * const page2 = { key: "a.db", page: 2, counter: 2, data: new Uint8Array(512).fill(7) };
 * patch(new Uint8Array(512), meta, [page2])?.[600]; // 7
 * patch(new Uint8Array(0), meta, [page2]); // undefined: page 1 is missing
 * ```
 */
export function patch(
  base: Uint8Array,
  meta: MetaRecord,
  records: readonly PageRecord[],
): Uint8Array | undefined {
  const { pageSize, pageCount } = meta;
  const image = base.length === pageSize * pageCount ? base : new Uint8Array(pageSize * pageCount);
  if (image !== base) image.set(base.subarray(0, Math.min(base.length, image.length)));
  let covered = Math.min(Math.floor(base.length / pageSize), pageCount);
  const seen = new Set<number>();
  for (const { page, data } of records) {
    if (page > pageCount) continue;
    if (data.length !== pageSize) return undefined;
    image.set(data, (page - 1) * pageSize);
    if (page > covered) seen.add(page);
  }
  while (seen.has(covered + 1)) covered++;
  return covered === pageCount ? image : undefined;
}

/**
 * The commit's pages, plus every page a reader could not otherwise get: zero
 * pages for those past the stored page count (all of them for a new database
 * or a new page size) that the commit does not list, as SQLite reads a page
 * that was never written.
 *
 * @example
 * ```ts ignore
 * for (const [page, bytes] of pagesToWrite(storedMeta, commit)) store.put(...);
 * ```
 */
export function pagesToWrite(
  old: MetaRecord | undefined,
  commit: PageCommit,
): Iterable<readonly [number, Uint8Array]> {
  const { pageSize, pageCount } = commit;
  const from = !old || old.pageSize !== pageSize ? 0 : old.pageCount;
  const listed = new Set(commit.pages.map(([n]) => n));
  const extra = [];
  for (let n = from + 1; n <= pageCount; n++) {
    if (!listed.has(n)) extra.push([n, new Uint8Array(pageSize)] as const);
  }
  return extra.length === 0 ? commit.pages : [...commit.pages, ...extra];
}
