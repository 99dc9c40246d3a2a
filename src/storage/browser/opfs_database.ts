/**
 * One database kept in the Origin Private File System, in two files of the
 * adapter's folder: `KEY`, the base (a standard SQLite file once folded), and
 * `KEY-dbrlog`, a page log in the file adapter's format (`../file/log_format.ts`:
 * a 64-byte header with random salts and a generation, then checksummed
 * frames of one page each, the last frame of a commit carrying the page count).
 * Here each commit's checksum chain starts from the header's checksum, so a
 * reader can check the commits after any stamp without reading those before.
 *
 * - A commit appends its frames at the end of the last whole commit, cuts off
 *   anything after them (a torn commit of a closed tab) and flushes, in one
 *   Worker batch: durable when it resolves. A torn or partial commit fails its
 *   checksum or lacks its last frame and is never read.
 * - Past `compactThresholdBytes` of log, a commit folds: the changed pages are
 *   written into the base in place and flushed, then the log starts a new
 *   generation (new salts, old frames dead). A crash in between replays the
 *   old log over a base that already has some of its pages: the same result.
 * - The version stamp is `salts.generation:log length`: one small read and a
 *   size, and a reader catches up from it with only the frames after it.
 * - `load()` reads the log header, the base, then the log, and starts again if
 *   a fold changed the generation meanwhile.
 * - The header's base fields hold the base's size and page sums
 *   (`page_sums.ts`), which each fold brings up to date from the pages it
 *   rewrites: a base that matches them and the log's checksummed commits make
 *   an image that `load()` returns as `verified` (no `quick_check` needed).
 *   A fold cut short leaves sums that do not match: `quick_check` then runs,
 *   and the next fold sums the base whole.
 *
 * @module
 */
import { mergeCommits } from "../common.ts";
import { type Checksum, sameChecksum } from "../file/checksum.ts";
import {
  decodeLogHeader as decodeAnyLogHeader,
  encodeCommit,
  encodeLogHeader,
  type Frame,
  FRAME_HEADER_BYTES,
  LOG_HEADER_BYTES,
  type LogHeader,
  scanCommits,
  splitNote,
} from "../file/log_format.ts";
import { applyFrames } from "../file/replay.ts";
import type { LoadedImage, PageChanges, PageCommit, Release } from "../types.ts";
import { type BrowserContext, BrowserDatabase, type Written } from "./browser_database.ts";
import type { KeptLock } from "./kept_lock.ts";
import type { OpfsFiles } from "./opfs_files.ts";
import type { FileOp } from "./opfs_worker.ts";
import { EMPTY_SUMS, pageSums } from "./page_sums.ts";

/** What an {@linkcode OpfsDatabase} needs from its adapter. */
export interface OpfsContext extends BrowserContext {
  /** The adapter's Worker. */
  readonly files: OpfsFiles;
  /** Log bytes (past the header) beyond which a commit folds. */
  readonly compactThresholdBytes: number;
  /** The write lock of `key` where this tab keeps it between commits (Web Locks). */
  readonly kept: (key: string) => KeptLock | undefined;
}

/** One whole commit read back from a log. */
interface LoggedCommit {
  readonly pageCount: number;
  readonly frames: Frame[];
}

/** The files as one batch sees them. */
interface Look {
  readonly header: LogHeader | undefined;
  /** Size of the log file (-1 when missing). */
  readonly size: number;
  /** Size of the base file (-1 when missing). */
  readonly baseSize: number;
}

/** The log as a commit finds it. */
interface LogState extends Look {
  /** The end of the last whole commit (the header's end when there is none). */
  readonly end: number;
}

const HEADER_READ = { at: 0, length: LOG_HEADER_BYTES } as const;

/**
 * A database stored in OPFS.
 *
 * @example
 * ```ts ignore
 * const db = new OpfsDatabase(context, "shared/global.db");
 * const { image, version } = await db.load();
 * ```
 */
export class OpfsDatabase extends BrowserDatabase {
  readonly #context: OpfsContext;
  readonly #log: string;
  /** Set when `load()` found the base not proved by its header: the next fold sums it whole. */
  #recount = false;
  /** Whether this handle holds the write lock. */
  #holding = false;
  /** What `version()` read under the lock, for the commit that follows (once). */
  #looked: Look | undefined;

  /** Binds the database under `key`; nothing is read until a call needs it. */
  constructor(context: OpfsContext, key: string) {
    super(context, key);
    this.#context = context;
    this.#log = `${key}-dbrlog`;
  }

  /** Reads the base and replays the log's whole commits over it. */
  async load(): Promise<LoadedImage> {
    for (let attempt = 0;; attempt++) {
      const [first, base, log] = await this.#batch([
        { op: "read", path: this.#log, ...HEADER_READ },
        { op: "read", path: this.key, at: 0 },
        { op: "read", path: this.#log, at: 0 },
      ]) as Array<Uint8Array | null>;
      const header = log && decodeLogHeader(log);
      if (!sameBytes(first, log?.subarray(0, LOG_HEADER_BYTES) ?? null) && attempt < 20) continue;
      let loaded: LoadedImage;
      if (!header) {
        loaded = base
          ? { image: base, version: `base:${base.length}` }
          : { image: null, version: "0" };
      } else {
        // Checked before the frames are applied: they go into the base's own buffer.
        const verified = proves(header, base ?? new Uint8Array(0));
        // A fold that stopped half-way leaves sums that no longer match: the next one recounts.
        this.#recount = !verified;
        const { commits, end } = scanLog(log!, header, LOG_HEADER_BYTES);
        const frames = commits.flatMap((commit) => commit.frames);
        const image = applyFrames(base ?? new Uint8Array(0), header.pageSize, frames);
        loaded = {
          image: image.length === 0 ? null : image,
          version: stampOf(header, end),
          verified,
        };
      }
      this.known = loaded.version;
      return loaded;
    }
  }

  /** The pages of the commits after `version`, read from the log after that point. */
  async changesSince(version: string): Promise<PageChanges | undefined> {
    const since = parseStamp(version);
    if (!since) return undefined;
    const from = Math.max(LOG_HEADER_BYTES, since.end - FRAME_HEADER_BYTES - 65536);
    const [headerBytes, tail, baseSize] = await this.#batch([
      { op: "read", path: this.#log, ...HEADER_READ },
      { op: "read", path: this.#log, at: from },
      { op: "size", path: this.key },
    ]) as [Uint8Array | null, Uint8Array | null, number];
    const header = headerBytes && decodeLogHeader(headerBytes);
    if (!header || !tail || saltsOf(header) !== since.salts) return undefined;
    const frameBytes = FRAME_HEADER_BYTES + header.pageSize;
    let pageCount: number;
    if (since.end === LOG_HEADER_BYTES) {
      pageCount = Math.floor(Math.max(0, baseSize) / header.pageSize);
    } else {
      const at = since.end - frameBytes - from;
      if (at < 0 || since.end - from > tail.length) return undefined;
      pageCount = new DataView(tail.buffer, tail.byteOffset + at + 4, 4).getUint32(0, true);
      if (pageCount === 0) return undefined;
    }
    const { commits, end } = scanLog(tail, header, since.end - from);
    // Each commit's note (router.watch()) is set apart from its pages.
    const split = commits.map((commit) => splitNote(commit.frames));
    const pages = mergeCommits(
      pageCount,
      commits.map((commit, i) => ({
        pageCount: commit.pageCount,
        pages: split[i].frames.map((frame) => [frame.page, frame.data] as const),
      })),
      header.pageSize,
    );
    const changes: PageChanges = {
      version: stampOf(header, from + end),
      pageSize: header.pageSize,
      pageCount: commits.at(-1)?.pageCount ?? pageCount,
      pages,
      notes: split.map((commit) => commit.note),
    };
    this.known = changes.version;
    return changes;
  }

  /** The version stamp: the log's header and size, in one batch. */
  async version(): Promise<string> {
    const kept = this.#holding ? this.#context.kept(this.key) : undefined;
    // While this tab kept the lock since it last looked, nobody else wrote: no need to look again.
    const look = (kept?.memo as Look | undefined) ?? await this.#look();
    // Under the lock nobody else commits: the commit that follows needs no second look.
    if (this.#holding) this.#looked = look;
    if (kept) kept.memo = look;
    const { header, size, baseSize } = look;
    if (header) return stampOf(header, size);
    return baseSize >= 0 ? `base:${baseSize}` : "0";
  }

  /** Takes the write lock; while held, what `version()` read serves the next commit. */
  override async lock(): Promise<Release> {
    const release = await super.lock();
    this.#holding = true;
    return () => {
      this.#holding = false;
      this.#looked = undefined;
      return release();
    };
  }

  /** The log's header and size and the base's size, in one batch. */
  async #look(): Promise<Look> {
    const [headerBytes, size, baseSize] = await this.#batch([
      { op: "read", path: this.#log, ...HEADER_READ },
      { op: "size", path: this.#log },
      { op: "size", path: this.key },
    ]) as [Uint8Array | null, number, number];
    return { header: (headerBytes && decodeLogHeader(headerBytes)) || undefined, size, baseSize };
  }

  /** Appends the commit to the log and flushes; folds past the threshold. */
  protected async write(commit: PageCommit): Promise<Written> {
    let written = 0;
    let state = await this.#state();
    let pages = commit.pages;
    if (pages.length === 0) pages = [[1, await this.#currentPage(1, commit.pageSize)]];
    const ops: FileOp[] = [];
    let header = state.header;
    if (header && header.pageSize !== commit.pageSize && state.end > LOG_HEADER_BYTES) {
      written += await this.#fold(state);
      state = await this.#state();
    }
    let end = state.end;
    if (!header || header.pageSize !== commit.pageSize) {
      // An existing base is not proved by the new header (it is once a fold rewrites it).
      const baseSize = state.baseSize > 0 ? UNPROVED : 0;
      header = newHeader(commit.pageSize, (header?.generation ?? 0) + 1, baseSize, EMPTY_SUMS);
      ops.push({ op: "write", path: this.#log, at: 0, data: encodeLogHeader(header) });
      if (state.baseSize < 0) ops.push({ op: "truncate", path: this.key, size: 0 });
      end = LOG_HEADER_BYTES;
      written += LOG_HEADER_BYTES;
    }
    const { bytes } = encodeCommit(
      header,
      header.checksum,
      pages,
      commit.pageCount,
      commit.note,
    );
    const length = bytes.length; // the buffer goes to the Worker: read its length first
    ops.push(
      { op: "write", path: this.#log, at: end, data: bytes },
      { op: "truncate", path: this.#log, size: end + length },
      { op: "flush", path: this.#log },
    );
    if (state.baseSize < 0) ops.push({ op: "flush", path: this.key });
    const kept = this.#context.kept(this.key);
    if (kept) kept.memo = undefined; // a batch that fails half-way leaves the files unknown
    await this.#batch(ops, [bytes.buffer as ArrayBuffer]);
    written += length;
    end += length;
    if (kept && this.#holding) {
      kept.memo = { header, size: end, baseSize: Math.max(0, state.baseSize) } satisfies Look;
    }
    let stamp = stampOf(header, end);
    if (end - LOG_HEADER_BYTES > this.#context.compactThresholdBytes) {
      written += await this.#fold({ header, end, size: end, baseSize: 0 });
      stamp = await this.version();
    }
    return { stamp, bytes: written };
  }

  /** Folds the log into the base; the caller holds the lock. */
  async compact(): Promise<void> {
    const state = await this.#state();
    if (state.header && state.end > LOG_HEADER_BYTES) {
      this.figures.bytesWritten += await this.#fold(state);
      this.known = await this.version();
    }
  }

  /**
   * The log's header and the end of its last whole commit; throws when another
   * tab committed since this handle's stamp.
   */
  async #state(): Promise<LogState> {
    const { header, size, baseSize } = this.#looked ?? await this.#look();
    this.#looked = undefined;
    const known = this.known === undefined ? undefined : parseStamp(this.known);
    const conflict = () => new Error("another tab committed since this one read it");
    if (!header) {
      if (this.known !== undefined && this.known !== (baseSize >= 0 ? `base:${baseSize}` : "0")) {
        throw conflict();
      }
      return { header, end: LOG_HEADER_BYTES, size, baseSize };
    }
    if (this.known !== undefined && known?.salts !== saltsOf(header)) throw conflict();
    const start = known?.end ?? LOG_HEADER_BYTES;
    if (size === start) return { header, end: start, size, baseSize };
    // Bytes past the known end: another tab's commit (refused), or a torn one (cut off).
    const [tail] = await this.#batch([{ op: "read", path: this.#log, at: start }]) as [Uint8Array];
    const { commits, end } = scanLog(tail, header, 0);
    if (known && commits.length > 0) throw conflict();
    return { header, end: start + end, size, baseSize };
  }

  /**
   * Writes the log's pages into the base, flushes, then starts a new log
   * generation whose header carries the base's new size and page sums.
   */
  async #fold(state: LogState): Promise<number> {
    const header = state.header!;
    const kept = this.#context.kept(this.key);
    if (kept) kept.memo = undefined;
    const [log, baseSize] = await this.#batch([
      { op: "read", path: this.#log, at: 0, length: state.end },
      { op: "size", path: this.key },
    ]) as [Uint8Array, number];
    const { commits } = scanLog(log, header, LOG_HEADER_BYTES);
    if (commits.length === 0) return 0;
    const pageSize = header.pageSize;
    const oldCount = Math.floor(Math.max(0, baseSize) / pageSize);
    const pages = mergeCommits(
      oldCount,
      commits.map((commit) => ({
        pageCount: commit.pageCount,
        pages: commit.frames.map((frame) => [frame.page, frame.data] as const),
      })),
      pageSize,
    );
    const pageCount = commits.at(-1)!.pageCount;
    const runs = contiguous(pages, pageSize);
    const sums = await this.#foldedSums(header, Math.max(0, baseSize), pages, pageCount, runs);
    const ops: FileOp[] = [];
    let written = 0;
    for (const run of runs) {
      ops.push({ op: "write", path: this.key, at: run.at, data: run.bytes });
      written += run.bytes.length;
    }
    const next = sums
      ? newHeader(pageSize, header.generation + 1, pageCount * pageSize, sums)
      : newHeader(pageSize, header.generation + 1, UNPROVED, EMPTY_SUMS);
    ops.push(
      { op: "truncate", path: this.key, size: pageCount * pageSize },
      { op: "flush", path: this.key },
      { op: "write", path: this.#log, at: 0, data: encodeLogHeader(next) },
      { op: "truncate", path: this.#log, size: LOG_HEADER_BYTES },
      { op: "flush", path: this.#log },
    );
    await this.#batch(ops);
    this.figures.compactions++;
    return written + LOG_HEADER_BYTES;
  }

  /**
   * The page sums of the base after a fold writes `runs` and cuts it to
   * `pageCount` pages: the header's sums with the old bytes of the pages it
   * touches taken out (read back, O(change)) and the new ones added. A base
   * the header does not prove (copied in, or after a page size change) is
   * read whole, once. `undefined` for a base that is not whole pages.
   */
  async #foldedSums(
    header: LogHeader,
    baseSize: number,
    pages: ReadonlyArray<readonly [number, Uint8Array]>,
    pageCount: number,
    runs: ReadonlyArray<{ at: number; bytes: Uint8Array }>,
  ): Promise<Checksum | undefined> {
    const pageSize = header.pageSize;
    if (baseSize % pageSize !== 0) return undefined;
    const oldCount = baseSize / pageSize;
    const touched = touchedRuns(pages.map(([page]) => page), oldCount, pageCount);
    let sums: Checksum = header.baseChecksum;
    if (header.baseSize === baseSize && !this.#recount) {
      const old = await this.#batch(touched.map(([first, count]) => ({
        op: "read",
        path: this.key,
        at: (first - 1) * pageSize,
        length: count * pageSize,
      }))) as Uint8Array[];
      touched.forEach(([first], i) => sums = pageSums(old[i], pageSize, first, sums, -1));
    } else {
      const [base] = await this.#batch([{ op: "read", path: this.key, at: 0 }]) as [Uint8Array];
      if (base.length !== baseSize) return undefined;
      sums = pageSums(base, pageSize);
      for (const [first, count] of touched) {
        const bytes = base.subarray((first - 1) * pageSize, (first - 1 + count) * pageSize);
        sums = pageSums(bytes, pageSize, first, sums, -1);
      }
    }
    for (const run of runs) sums = pageSums(run.bytes, pageSize, run.at / pageSize + 1, sums);
    this.#recount = false;
    return sums;
  }

  /** Page `page` of the current image (zeros past its end), for a commit that lists no page. */
  async #currentPage(page: number, pageSize: number): Promise<Uint8Array> {
    const known = this.known;
    const { image } = await this.load();
    this.known = known;
    const bytes = new Uint8Array(pageSize);
    if (image) bytes.set(image.subarray((page - 1) * pageSize, page * pageSize));
    return bytes;
  }

  #batch(ops: readonly FileOp[], transfer?: ArrayBuffer[]) {
    return this.#context.files.batch(ops, transfer);
  }
}

/** The whole commits of `bytes` from `at`, each checked from the header's checksum. */
function scanLog(
  bytes: Uint8Array,
  header: LogHeader,
  at: number,
): { commits: LoggedCommit[]; end: number } {
  const frameBytes = FRAME_HEADER_BYTES + header.pageSize;
  const commits: LoggedCommit[] = [];
  let end = at;
  for (;;) {
    const { frames } = scanCommits(bytes.subarray(end), header, header.checksum);
    const last = frames.findIndex((frame) => frame.commitPageCount !== 0);
    if (last < 0) break;
    commits.push({ pageCount: frames[last].commitPageCount, frames: frames.slice(0, last + 1) });
    end += (last + 1) * frameBytes;
  }
  return { commits, end };
}

/** Runs of consecutive pages, each as one buffer to write at its offset. */
function contiguous(
  pages: ReadonlyArray<readonly [number, Uint8Array]>,
  pageSize: number,
): Array<{ at: number; bytes: Uint8Array }> {
  const runs: Array<{ at: number; bytes: Uint8Array }> = [];
  for (let i = 0; i < pages.length;) {
    let j = i + 1;
    while (j < pages.length && pages[j][0] === pages[j - 1][0] + 1) j++;
    const bytes = new Uint8Array((j - i) * pageSize);
    for (let k = i; k < j; k++) bytes.set(pages[k][1], (k - i) * pageSize);
    runs.push({ at: (pages[i][0] - 1) * pageSize, bytes });
    i = j;
  }
  return runs;
}

/**
 * A log header with new salts. Here `baseSize` and `baseChecksum` are the
 * size and page sums (`page_sums.ts`) of the base the log applies to, or
 * {@linkcode UNPROVED} when the header does not vouch for the base.
 */
function newHeader(
  pageSize: number,
  generation: number,
  baseSize: number,
  baseChecksum: Checksum,
): LogHeader {
  const [salt1, salt2] = crypto.getRandomValues(new Uint32Array(2));
  const fields = {
    pageSize,
    generation,
    salt1,
    salt2,
    baseSize,
    baseIno: 0,
    baseChecksum,
    baseCounter: 0,
    baseMtime: 0,
  };
  return decodeLogHeader(encodeLogHeader(fields))!;
}

/** A `baseSize` that no base has: the header does not prove the base's bytes. */
const UNPROVED = -1;

/** Whether `header` proves `base`: same size, same page sums. */
function proves(header: LogHeader, base: Uint8Array): boolean {
  if (header.baseSize !== base.length || base.length % header.pageSize !== 0) return false;
  return sameChecksum(pageSums(base, header.pageSize), header.baseChecksum);
}

/**
 * Runs `[first page, count]` of the old base's pages that a fold changes:
 * those it writes (up to `oldCount`) and those a smaller `pageCount` drops.
 */
function touchedRuns(
  written: readonly number[],
  oldCount: number,
  pageCount: number,
): Array<[number, number]> {
  const touched = written.filter((page) => page <= oldCount);
  for (let page = pageCount + 1; page <= oldCount; page++) touched.push(page);
  touched.sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const page of touched) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] === page) last[1]++;
    else runs.push([page, 1]);
  }
  return runs;
}

function saltsOf(header: LogHeader): string {
  return `${header.salt1.toString(36)}.${header.salt2.toString(36)}.${header.generation}`;
}

function stampOf(header: LogHeader, end: number): string {
  return `${saltsOf(header)}:${end}`;
}

function parseStamp(stamp: string): { salts: string; end: number } | undefined {
  const colon = stamp.lastIndexOf(":");
  const end = Number(stamp.slice(colon + 1));
  if (colon < 0 || stamp.startsWith("base:") || !Number.isInteger(end)) return undefined;
  return { salts: stamp.slice(0, colon), end };
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * A format-1 log header (the only format this storage writes); `undefined`
 * for any other, such as a format-2 log that the file storage wrote.
 */
function decodeLogHeader(bytes: Uint8Array): LogHeader | undefined {
  const header = decodeAnyLogHeader(bytes);
  return header?.version === 1 ? header : undefined;
}
