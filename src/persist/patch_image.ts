/**
 * Applying changed pages to a whole database image.
 *
 * @module
 */
import type { PageNumber } from "../storage/types.ts";

/**
 * `image` with `pages` written over it and its length set to `pageCount`
 * pages (pages past the old end and not written are zeros). Modifies `image`
 * in place when its length is already right, else returns a new array.
 *
 * @example
 * ```ts
 * import { patchImage } from "./patch_image.ts";
 * const page2 = new Uint8Array(512).fill(7);
 * patchImage(new Uint8Array(512), 512, [[2, page2]], 2)[600]; // 7
 * ```
 */
export function patchImage(
  image: Uint8Array | null,
  pageSize: number,
  pages: ReadonlyArray<readonly [PageNumber, Uint8Array]>,
  pageCount: number,
): Uint8Array {
  const length = pageSize * pageCount;
  let target = image ?? new Uint8Array(length);
  if (target.length !== length) {
    const resized = new Uint8Array(length);
    resized.set(target.subarray(0, Math.min(target.length, length)));
    target = resized;
  }
  for (const [page, bytes] of pages) {
    if (page <= pageCount) target.set(bytes, (page - 1) * pageSize);
  }
  return target;
}

/**
 * Whether two images of one database hold the same database: equal bytes
 * except the header fields that SQLite's backup API (sql.js's `export()`)
 * writes for its own file (bytes 24-31, change counter and page count; 40-43,
 * the schema cookie, which the backup sets to the destination's old cookie
 * plus one; 92-99, version-valid-for and the SQLite version number) and the
 * contents of free-list leaf pages, which SQLite never reads and does not
 * write when it frees them (so its cache, which `export()` copies, and its
 * file may differ there). The free-list trunk pages, which name the leaves,
 * must be equal like every other page.
 *
 * @example
 * ```ts
 * import { sameDatabase } from "./patch_image.ts";
 * const a = new Uint8Array(512);
 * a[16] = 2; // page size 512
 * const b = a.slice();
 * b[25] = 1;
 * sameDatabase(a, b); // true
 * ```
 */
export function sameDatabase(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  const raw = (a[16] << 8) | a[17];
  const pageSize = raw === 1 ? 65536 : raw;
  const leaves = freeLeaves(a, pageSize);
  for (let page = 0; page * pageSize < a.length; page++) {
    const from = page * pageSize;
    const to = Math.min(from + pageSize, a.length);
    if (equalRange(a, b, from, to) || leaves.has(page + 1)) continue;
    if (page > 0) return false;
    for (let i = 0; i < to; i++) {
      const header = (i >= 24 && i < 32) || (i >= 40 && i < 44) || (i >= 92 && i < 100);
      if (a[i] !== b[i] && !header) return false;
    }
  }
  return true;
}

/** The page numbers of the free-list leaves of `image`, from its trunk pages. */
function freeLeaves(image: Uint8Array, pageSize: number): Set<number> {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const leaves = new Set<number>();
  const pages = Math.floor(image.length / pageSize);
  let trunk = image.length >= 36 ? view.getUint32(32) : 0;
  for (let hops = 0; trunk > 0 && trunk <= pages && hops < pages; hops++) {
    const at = (trunk - 1) * pageSize;
    const count = Math.min(view.getUint32(at + 4), (pageSize - 8) / 4);
    for (let i = 0; i < count; i++) leaves.add(view.getUint32(at + 8 + 4 * i));
    trunk = view.getUint32(at);
  }
  return leaves;
}

/** Whether `a` and `b` hold the same bytes from `from` to `to`, compared 4 at a time where aligned. */
function equalRange(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  if ((a.byteOffset + from) % 4 === 0 && (b.byteOffset + from) % 4 === 0 && (to - from) % 4 === 0) {
    const x = new Uint32Array(a.buffer, a.byteOffset + from, (to - from) / 4);
    const y = new Uint32Array(b.buffer, b.byteOffset + from, (to - from) / 4);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}
