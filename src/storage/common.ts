/**
 * Small pieces every storage adapter needs alike: zeroed stats, the checks of
 * a commit before anything is written, and a lock release that runs once.
 *
 * @module
 */
import type { PageCommit, PageNumber, Release, StorageStats } from "./types.ts";

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
 * size that is a power of two from 512 to 65536, a page count of at least 1,
 * and changed pages of that size within it, in ascending order.
 *
 * @example
 * ```ts
 * import { checkCommit } from "./common.ts";
 * const page = new Uint8Array(4096);
 * checkCommit("shared/global.db", { pageSize: 4096, pageCount: 1, pages: [[1, page]] });
 * ```
 */
export function checkCommit(key: string, commit: PageCommit): void {
  const { pageSize, pageCount } = commit;
  const problem = pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0
    ? `page size ${pageSize} is not a power of two from 512 to 65536`
    : !Number.isInteger(pageCount) || pageCount < 1
    ? `the page count ${pageCount} is not a positive integer`
    : commit.pages.some(([page], i) => i > 0 && commit.pages[i - 1][0] >= page)
    ? "the pages are not in ascending order"
    : commit.pages.find(([page, bytes]) =>
        !Number.isInteger(page) || page < 1 || page > pageCount || bytes.length !== pageSize
      )
    ? "a page has a bad number or size"
    : commit.note !== undefined && !(commit.note instanceof Uint8Array)
    ? "the note is not a Uint8Array"
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

/** One commit's effect, as {@linkcode mergeCommits} takes it. */
export interface CommitEffect {
  /** Pages in the database after the commit. */
  readonly pageCount: number;
  /** The pages it wrote. */
  readonly pages: Iterable<readonly [PageNumber, Uint8Array]>;
}

/**
 * The pages that `commits`, applied in order to a database of `pageCount`
 * pages, leave changed, ascending, each page once with its last bytes; with
 * zero pages for pages that a commit dropped (a smaller page count) and a
 * later one brought back without writing them, so that the result applied to
 * the first image gives the last one.
 *
 * @example
 * ```ts
 * import { mergeCommits } from "./common.ts";
 * const a = new Uint8Array(512).fill(1);
 * mergeCommits(3, [{ pageCount: 1, pages: [] }, { pageCount: 2, pages: [[1, a]] }])
 *   .map(([n, bytes]) => [n, bytes[0]]); // [[1, 1], [2, 0]]
 * ```
 */
export function mergeCommits(
  pageCount: number,
  commits: readonly CommitEffect[],
  pageSize = 0,
): Array<[PageNumber, Uint8Array]> {
  const pages = new Map<PageNumber, Uint8Array>();
  let lowest = pageCount;
  let size = pageSize;
  for (const commit of commits) {
    for (const [page, bytes] of commit.pages) {
      pages.set(page, bytes);
      size = bytes.length;
    }
    for (const page of pages.keys()) if (page > commit.pageCount) pages.delete(page);
    lowest = Math.min(lowest, commit.pageCount);
  }
  const last = commits.length > 0 ? commits[commits.length - 1].pageCount : pageCount;
  for (let page = lowest + 1; page <= last && size > 0; page++) {
    if (!pages.has(page)) pages.set(page, new Uint8Array(size));
  }
  return [...pages].sort((a, b) => a[0] - b[0]);
}
