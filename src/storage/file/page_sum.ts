/**
 * The page sum of a base (what the log header keeps to identify it), apart
 * from the fold (`fold.ts`) so that reading a snapshot does not import the
 * fold's code.
 *
 * @module
 */
import { type Checksum, checksum } from "./checksum.ts";

/**
 * The page sum of a base: the sum, lane by lane modulo 2^32, of each page's
 * checksum seeded with its page number. A fold updates it from the pages it
 * replaces, adds and cuts off, so identifying a base by content costs what the
 * fold changed; checking a base against it reads the whole file, which only
 * happens when its inode, size, time or change counter do not match.
 *
 * @example
 * ```ts
 * import { pageSum } from "./page_sum.ts";
 * pageSum(new Uint8Array(1024), 512).length; // 2
 * ```
 */
export function pageSum(image: Uint8Array, pageSize: number, sum: Checksum = [0, 0]): Checksum {
  let result = sum;
  const pages = Math.floor(image.length / pageSize);
  for (let page = 1; page <= pages; page++) {
    result = addPage(result, page, image.subarray((page - 1) * pageSize, page * pageSize));
  }
  return result;
}

/** `sum` with page `page`'s hash added (`sign` 1) or taken away (`sign` -1). */
export function addPage(sum: Checksum, page: number, bytes: Uint8Array, sign = 1): Checksum {
  const hash = checksum(bytes, [page, Math.imul(page, 0x9e3779b9) >>> 0]);
  return [(sum[0] + sign * hash[0]) >>> 0, (sum[1] + sign * hash[1]) >>> 0];
}
