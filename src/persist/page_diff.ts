/**
 * Finds the pages in which two images of one database differ.
 *
 * @module
 */
import type { PageNumber } from "../storage/types.ts";

/**
 * Returns the pages of `next` that differ from `previous` (or are past its
 * end), as `[pageNumber, bytes]` in ascending order. Page numbers start at 1.
 * The bytes are views into `next`, not copies. Compares 4 bytes at a time
 * where the buffers are aligned (a 64-bit view would be worse: every element
 * read from a BigUint64Array allocates a BigInt).
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
  const wide = previous !== null && aligned(previous) && aligned(next) && pageSize % 4 === 0;
  const prev32 = wide
    ? new Uint32Array(previous.buffer, previous.byteOffset, previous.length >> 2)
    : null;
  const next32 = wide ? new Uint32Array(next.buffer, next.byteOffset, next.length >> 2) : null;
  for (let page = 0; page < pageCount; page++) {
    const start = page * pageSize;
    const end = Math.min(start + pageSize, next.length);
    let differs: boolean;
    if (previous === null || end > previous.length) differs = true;
    else if (prev32 && next32) differs = !equalWords(prev32, next32, start >> 2, end >> 2);
    else differs = !equalBytes(previous, next, start, end);
    if (differs) changed.push([page + 1, next.subarray(start, end)]);
  }
  return changed;
}

function aligned(bytes: Uint8Array): boolean {
  return bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0;
}

function equalWords(a: Uint32Array, b: Uint32Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}

function equalBytes(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
}
