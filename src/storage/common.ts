/**
 * Small pieces every storage adapter needs alike: zeroed stats, the checks of
 * a commit before anything is written, and a lock release that runs once.
 *
 * @module
 */
import type { PageCommit, Release, StorageStats } from "./types.ts";

/**
 * Stats of a handle that has done nothing yet.
 *
 * @example
 * ```ts
 * import { emptyStorageStats } from "./common.ts";
 * emptyStorageStats().commits; // 0
 * ```
 */
export function emptyStorageStats(): StorageStats {
  return { commits: 0, bytesWritten: 0, lastCommitBytes: 0, lastCommitMs: 0, compactions: 0 };
}

/**
 * Throws a `RangeError` naming `key` unless `commit` is well formed: a page
 * size that is a power of two from 512 to 65536, an image of exactly
 * `pageCount` pages, and changed pages of that size within it.
 *
 * @example
 * ```ts
 * import { checkCommit } from "./common.ts";
 * const image = new Uint8Array(4096);
 * checkCommit("shared/global.db", { pageSize: 4096, pageCount: 1, pages: [[1, image]], image });
 * ```
 */
export function checkCommit(key: string, commit: PageCommit): void {
  const { pageSize, pageCount, image } = commit;
  const problem = pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0
    ? `page size ${pageSize} is not a power of two from 512 to 65536`
    : !Number.isInteger(pageCount) || pageCount < 1 || image.length !== pageSize * pageCount
    ? `the image has ${image.length} bytes, not ${pageCount} pages of ${pageSize}`
    : commit.pages.find(([page, bytes]) =>
        !Number.isInteger(page) || page < 1 || page > pageCount || bytes.length !== pageSize
      )
    ? "a page has a bad number or size"
    : undefined;
  if (problem) throw new RangeError(`Cannot commit to database "${key}": ${problem}`);
}

/**
 * Wraps a synchronous unlock as a {@linkcode Release} that unlocks once,
 * however often it is called.
 *
 * @example
 * ```ts
 * import { releaseOnce } from "./common.ts";
 * let unlocked = 0;
 * const release = releaseOnce(() => void unlocked++);
 * await release();
 * await release(); // unlocked === 1
 * ```
 */
export function releaseOnce(unlock: () => void): Release {
  let released = false;
  return () => {
    if (!released) {
      released = true;
      unlock();
    }
    return Promise.resolve();
  };
}
