/**
 * The running checksum of the page log: SQLite's WAL checksum, a Fletcher-like
 * pair of 32-bit sums over little-endian 32-bit words. It is cumulative (each
 * frame's sums continue from the previous frame's), so a frame is valid only
 * if every frame before it is, and it is fast enough in JavaScript to check a
 * 100 MB base image in tens of milliseconds.
 *
 * @module
 */

/** The two 32-bit sums, as unsigned integers. */
export type Checksum = readonly [number, number];

/** Where every checksum chain starts. */
export const CHECKSUM_SEED: Checksum = [0, 0];

/**
 * Continues `seed` over `bytes`, whose length must be a multiple of 8.
 *
 * @example
 * ```ts
 * import { CHECKSUM_SEED, checksum } from "./checksum.ts";
 * const sums = checksum(new Uint8Array(8).fill(1), CHECKSUM_SEED);
 * sums.length; // 2
 * ```
 */
export function checksum(bytes: Uint8Array, seed: Checksum = CHECKSUM_SEED): Checksum {
  if (bytes.length % 8 !== 0) {
    throw new RangeError(`Invalid checksum input: ${bytes.length} bytes is not a multiple of 8`);
  }
  const words = bytes.byteOffset % 4 === 0
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2)
    : new Uint32Array(bytes.slice().buffer);
  let s0 = seed[0];
  let s1 = seed[1];
  if (LITTLE_ENDIAN) {
    for (let i = 0; i < words.length; i += 2) {
      s0 = (s0 + words[i] + s1) >>> 0;
      s1 = (s1 + words[i + 1] + s0) >>> 0;
    }
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i < bytes.length; i += 8) {
      s0 = (s0 + view.getUint32(i, true) + s1) >>> 0;
      s1 = (s1 + view.getUint32(i + 4, true) + s0) >>> 0;
    }
  }
  return [s0, s1];
}

/**
 * Whether two checksums are equal.
 *
 * @example
 * ```ts
 * import { sameChecksum } from "./checksum.ts";
 * sameChecksum([1, 2], [1, 2]); // true
 * ```
 */
export function sameChecksum(a: Checksum, b: Checksum): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
