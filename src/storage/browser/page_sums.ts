/**
 * The checksum that proves an OPFS base file: a sum over its pages of each
 * page's log checksum (`../file/checksum.ts`) weighted by its page number.
 * Unlike a running checksum over the whole file, a sum can be brought up to
 * date by a fold that rewrites a few pages: take out what the old bytes of
 * those pages added, add what the new ones add. So folds stay O(change), and
 * `load()` proves the base with one pass over bytes it reads anyway, which
 * lets the engine skip `PRAGMA quick_check` (see `LoadedImage.verified`).
 *
 * A page of zeros adds nothing, so pages that a growth leaves unwritten need
 * no term. Two lanes of 32 bits: a damaged page goes unnoticed with a chance
 * of about 2^-64, and a swap of two pages changes the sum through their weights.
 *
 * @module
 */
import type { Checksum } from "../file/checksum.ts";

/** The sum of a base without pages. */
export const EMPTY_SUMS: Checksum = [0, 0];

/**
 * The sum of the pages of `bytes` (whole pages of `pageSize`, the first one
 * numbered `firstPage`), added to `start`; with `sign` -1, taken out of it.
 *
 * @example
 * ```ts
 * import { EMPTY_SUMS, pageSums } from "./page_sums.ts";
 * const page = new Uint8Array(512).fill(3);
 * const sums = pageSums(page, 512, 2);
 * pageSums(page, 512, 2, sums, -1); // [0, 0]: the page taken out again
 * ```
 */
export function pageSums(
  bytes: Uint8Array,
  pageSize: number,
  firstPage = 1,
  start: Checksum = EMPTY_SUMS,
  sign: 1 | -1 = 1,
): Checksum {
  if (bytes.length % pageSize !== 0 || pageSize % 8 !== 0) {
    throw new RangeError(
      `Invalid page sums input: ${bytes.length} bytes are not whole pages of ${pageSize}`,
    );
  }
  const words = bytes.byteOffset % 4 === 0 && LITTLE_ENDIAN
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2)
    : littleEndianWords(bytes);
  const perPage = pageSize >>> 2;
  let sum0 = start[0];
  let sum1 = start[1];
  for (let at = 0, page = firstPage; at < words.length; at += perPage, page++) {
    let s0 = 0;
    let s1 = 0;
    for (let i = at, end = at + perPage; i < end; i += 2) {
      s0 = (s0 + words[i] + s1) >>> 0;
      s1 = (s1 + words[i + 1] + s0) >>> 0;
    }
    // An odd weight keeps a page's term nonzero unless its checksum is.
    const weight = (2 * page + 1) * sign;
    sum0 = (sum0 + Math.imul(s0, weight)) >>> 0;
    sum1 = (sum1 + Math.imul(s1, weight)) >>> 0;
  }
  return [sum0, sum1];
}

/** A copy of `bytes` as little-endian words (for a misaligned view, or a big-endian host). */
function littleEndianWords(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const words = new Uint32Array(bytes.length >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  return words;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
