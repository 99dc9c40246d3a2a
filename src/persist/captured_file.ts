/**
 * What SQLite wrote to one database file since the engine last asked, learnt
 * from the file's I/O imports (see `capture.ts`).
 *
 * @module
 */
import type { PageNumber } from "../storage/types.ts";

/**
 * The writes to one database's in-memory file: each write's bytes by offset
 * (a later write at the same offset replaces an earlier one), and the file's
 * size. Every write is kept as SQLite made it; {@linkcode take} turns them
 * into pages once the page size is known.
 */
export class CapturedFile {
  /** The file's descriptor in Emscripten's file system. */
  readonly fd: number;
  /** The file's size in bytes, as SQLite last left it. */
  size: number;
  /** Where the descriptor's next write lands. */
  position = 0;
  /** Set when the descriptor was closed or reused: nothing is captured any more. */
  closed = false;
  readonly #writes = new Map<number, Uint8Array>();
  #irregular = false;
  #resized = false;

  /** Watches `fd`, a file of `size` bytes. */
  constructor(fd: number, size: number) {
    this.fd = fd;
    this.size = size;
  }

  /** Records a write of `bytes` (a copy) at {@linkcode position}. */
  wrote(bytes: Uint8Array): void {
    const old = this.#writes.get(this.position);
    if (old && old.length !== bytes.length) this.#irregular = true;
    this.#writes.set(this.position, bytes);
    this.position += bytes.length;
    if (this.position > this.size) this.size = this.position;
  }

  /** Records a truncation (or extension) to `size` bytes. */
  truncated(size: number): void {
    if (size !== this.size) this.#resized = true;
    for (const [offset, bytes] of this.#writes) {
      if (offset >= size) this.#writes.delete(offset);
      else if (offset + bytes.length > size) this.#irregular = true;
    }
    this.size = size;
  }

  /** The bytes last written at `offset` since the last {@linkcode take}, if any. */
  writtenAt(offset: number): Uint8Array | undefined {
    return this.#writes.get(offset);
  }

  /** Whether anything was written or truncated since the last {@linkcode take}. */
  get touched(): boolean {
    return this.#writes.size > 0 || this.#irregular || this.#resized;
  }

  /**
   * The pages written since the last call, ascending, each `pageSize` bytes;
   * `undefined` when a write did not cover exactly one page (the caller then
   * reads the whole file). Forgets them either way.
   *
   * @example
   * ```ts
   * import { CapturedFile } from "./captured_file.ts";
   * const file = new CapturedFile(3, 0);
   * file.position = 4096;
   * file.wrote(new Uint8Array(4096));
   * file.take(4096)?.map(([page]) => page); // [2]
   * ```
   */
  take(pageSize: number): Array<[PageNumber, Uint8Array]> | undefined {
    const irregular = this.#irregular;
    const writes = [...this.#writes];
    this.discard();
    if (irregular) return undefined;
    const pages: Array<[PageNumber, Uint8Array]> = [];
    for (const [offset, bytes] of writes) {
      if (offset % pageSize !== 0 || bytes.length !== pageSize) return undefined;
      pages.push([offset / pageSize + 1, bytes]);
    }
    return pages.sort((a, b) => a[0] - b[0]);
  }

  /** Forgets what was written (the file now holds what storage holds). */
  discard(): void {
    this.#writes.clear();
    this.#irregular = false;
    this.#resized = false;
  }
}
