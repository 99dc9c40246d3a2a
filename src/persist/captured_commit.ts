/**
 * Turning what SQLite wrote to a database's in-memory file into a commit for
 * storage.
 *
 * @module
 */
import type { PageCommit, PageNumber } from "../storage/types.ts";
import type { PageCapture } from "./capture.ts";
import type { CapturedFile } from "./captured_file.ts";

/** What storage holds, as the engine last committed or loaded it. */
export interface StoredShape {
  /** Page size in bytes; 0 when storage holds nothing yet. */
  readonly pageSize: number;
  /** Pages in storage. */
  readonly pageCount: number;
}

/**
 * The commit that brings storage, holding `stored`, to what `file` holds now,
 * or `undefined` when SQLite changed nothing. The captured pages, plus page 1
 * when the page count changed without it (its header records the count).
 * Every page, read from the file, when the page size is new (a new database,
 * or `VACUUM` after `PRAGMA page_size`) or a write was not one whole page.
 *
 * @example
 * ```ts ignore
 * const commit = capturedCommit(capture, file, { pageSize: 4096, pageCount: 10 });
 * if (commit) version = await store.commit(commit);
 * ```
 */
export function capturedCommit(
  capture: PageCapture,
  file: CapturedFile,
  stored: StoredShape,
): PageCommit | undefined {
  if (!file.touched) return undefined;
  const header = file.writtenAt(0);
  const pageSize = header && header.length >= 18 ? pageSizeOf(header) : stored.pageSize;
  if (pageSize === 0) {
    file.discard();
    return undefined;
  }
  if (file.size % pageSize !== 0) {
    throw new Error(`the in-memory file has ${file.size} bytes, not whole pages of ${pageSize}`);
  }
  const pageCount = file.size / pageSize;
  let pages = pageSize === stored.pageSize ? file.take(pageSize) : undefined;
  if (!pages) {
    file.discard();
    pages = readAll(capture, file, pageSize);
  } else if (pageCount !== stored.pageCount && pages[0]?.[0] !== 1 && pageCount > 0) {
    pages.unshift([1, capture.read(file, 0, pageSize)]);
  }
  if (pageCount === 0) return undefined;
  if (pages.length === 0 && pageCount === stored.pageCount) return undefined;
  return { pageSize, pageCount, pages };
}

/** Reads every page of `file`, a mebibyte at a time. */
function readAll(
  capture: PageCapture,
  file: CapturedFile,
  pageSize: number,
): Array<[PageNumber, Uint8Array]> {
  const pages: Array<[PageNumber, Uint8Array]> = [];
  const chunk = Math.max(pageSize, 1 << 20);
  for (let offset = 0; offset < file.size; offset += chunk) {
    const bytes = capture.read(file, offset, Math.min(chunk, file.size - offset));
    for (let at = 0; at + pageSize <= bytes.length; at += pageSize) {
      pages.push([(offset + at) / pageSize + 1, bytes.subarray(at, at + pageSize)]);
    }
  }
  return pages;
}

/**
 * The page size that a database header records.
 *
 * @example
 * ```ts
 * import { pageSizeOf } from "./captured_commit.ts";
 * const header = new Uint8Array(100);
 * header[16] = 0x10; // 4096
 * pageSizeOf(header); // 4096
 * ```
 */
export function pageSizeOf(header: Uint8Array): number {
  const raw = (header[16] << 8) | header[17];
  return raw === 1 ? 65536 : raw;
}
