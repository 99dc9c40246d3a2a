/**
 * Reads and checks the 100-byte header of a SQLite database image.
 *
 * @module
 */

const MAGIC = "SQLite format 3\u0000";

/** What the header says about an image. */
export interface ImageHeader {
  /** Bytes per page. */
  pageSize: number;
  /** Pages the header claims, when it is trustworthy; otherwise derived from the length. */
  pageCount: number;
}

/**
 * Checks that `image` is a SQLite database whose length matches its header,
 * and returns the page size and count. Returns a reason string instead when
 * it is not, so the caller can raise the right error with the location.
 *
 * @example
 * ```ts
 * import { readHeader } from "./header.ts";
 * readHeader(new TextEncoder().encode("not a database")); // "it is not a SQLite database (bad header)"
 * ```
 */
export function readHeader(image: Uint8Array): ImageHeader | string {
  if (image.length < 100) return `it is not a SQLite database (${image.length} bytes)`;
  for (let i = 0; i < MAGIC.length; i++) {
    if (image[i] !== MAGIC.charCodeAt(i)) return "it is not a SQLite database (bad header)";
  }
  const raw = (image[16] << 8) | image[17];
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    return `it is damaged (page size ${raw})`;
  }
  if (image.length % pageSize !== 0) {
    return `it is damaged (${image.length} bytes is not a whole number of ${pageSize}-byte pages)`;
  }
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const changeCounter = view.getUint32(24);
  const headerPages = view.getUint32(28);
  const validFor = view.getUint32(92);
  const pages = image.length / pageSize;
  // The in-header size is only meaningful when "version valid for" matches the change counter.
  if (validFor === changeCounter && headerPages !== 0 && headerPages !== pages) {
    return `it is damaged (header says ${headerPages} pages, file holds ${pages})`;
  }
  return { pageSize, pageCount: pages };
}
