/**
 * Page capture: learning a commit's changed pages from SQLite's own writes to
 * its in-memory file, and writing another process's pages into that file.
 *
 * sql.js keeps each database in a file of Emscripten's in-memory file system
 * (`/dbfile_N`); SQLite reaches it through wasm imports (see `wasm_io.ts`).
 * Once `probe.ts` has recognised which imports are openat, fd_seek, fd_write,
 * fd_read and ftruncate, a {@linkcode PageCapture} routes them through hooks
 * that keep, per watched file, the bytes written at each offset and the
 * file's size. A commit then costs what SQLite wrote, not an `export()` of
 * the whole database and a diff against a copy of it.
 *
 * @module
 */
import type { PageNumber } from "../storage/types.ts";
import { CapturedFile } from "./captured_file.ts";
import type { WasmIo } from "./wasm_io.ts";

/** The wrapped names (`module.name`) of the I/O imports, and where openat's path is. */
export interface IoImports {
  readonly openat: string;
  /** Which argument of openat points to the path. */
  readonly pathArgument: number;
  readonly seek: string;
  readonly write: string;
  readonly read: string;
  readonly truncate: string;
  /** fd_close, when the probe saw it; without it, a reused descriptor ends a watch. */
  readonly close?: string;
  readonly sync?: string;
}

/** The heap allocator of the sql.js module (`_malloc`/`_free`). */
export interface HeapAllocator {
  _malloc(size: number): number;
  _free(pointer: number): void;
}

/** Captures the writes of watched database files and writes pages into them. */
export class PageCapture {
  readonly io: WasmIo;
  readonly imports: IoImports;
  readonly #paths = new Map<number, string>();
  readonly #watched = new Map<number, CapturedFile>();
  #allocator: HeapAllocator | undefined;
  #scratch = 0;
  #scratchSize = 0;

  /** Routes the I/O imports of `io` through the capture hooks. */
  constructor(io: WasmIo, imports: IoImports) {
    this.io = io;
    this.imports = imports;
    io.route(imports.openat, (original, args) => {
      const fd = original(...args);
      if (typeof fd === "number" && fd >= 0) {
        this.#forget(fd);
        const path = io.cString(args[imports.pathArgument]);
        if (path !== undefined) this.#paths.set(fd, path);
      }
      return fd;
    });
    io.route(imports.seek, (original, args) => {
      const result = original(...args);
      const file = this.#watched.get(args[0] as number);
      if (file && result === 0) {
        file.position = Number(this.#view().getBigInt64(args[3] as number, true));
      }
      return result;
    });
    io.route(imports.write, (original, args) => {
      const file = this.#watched.get(args[0] as number);
      if (!file) return original(...args);
      const bytes = this.#gather(args[1] as number, args[2] as number);
      const result = original(...args);
      if (result === 0) {
        const written = this.#view().getUint32(args[3] as number, true);
        file.wrote(written === bytes.length ? bytes : bytes.slice(0, written));
      }
      return result;
    });
    io.route(imports.truncate, (original, args) => {
      const result = original(...args);
      const file = this.#watched.get(args[0] as number);
      if (file && result === 0) file.truncated(Number(args[1]));
      return result;
    });
    if (imports.close) {
      io.route(imports.close, (original, args) => {
        this.#forget(args[0] as number);
        return original(...args);
      });
    }
  }

  /** Hands the capture sql.js's allocator, for the buffers of {@linkcode writePages}. */
  bindAllocator(allocator: HeapAllocator): void {
    this.#allocator = allocator;
  }

  /**
   * Starts capturing the writes to the database file `filename` (sql.js's
   * `db.filename`), whose size is `size` bytes now; `undefined` when SQLite
   * has not opened it.
   */
  watch(filename: string, size: number): CapturedFile | undefined {
    const path = `/${filename}`;
    for (const [fd, opened] of this.#paths) {
      if (opened !== path) continue;
      const file = new CapturedFile(fd, size);
      this.#watched.set(fd, file);
      return file;
    }
    return undefined;
  }

  /** Stops capturing `file`. */
  unwatch(file: CapturedFile): void {
    if (this.#watched.get(file.fd) === file) this.#watched.delete(file.fd);
    file.closed = true;
  }

  /**
   * Writes `pages` into `file` and sets its length to `pageCount` pages,
   * through the original imports (nothing is captured). The file then holds
   * what storage holds, so earlier captured writes are forgotten.
   */
  writePages(
    file: CapturedFile,
    pageSize: number,
    pages: ReadonlyArray<readonly [PageNumber, Uint8Array]>,
    pageCount: number,
  ): void {
    const seek = this.io.original(this.imports.seek);
    const write = this.io.original(this.imports.write);
    const buffer = this.#buffer(pageSize);
    pages = pages.filter(([page]) => page <= pageCount);
    for (const [page, bytes] of pages) {
      if (seek(file.fd, BigInt((page - 1) * pageSize), 0, buffer) !== 0) {
        throw new Error(`cannot seek to page ${page} of the in-memory file`);
      }
      this.io.heap.set(bytes, buffer + 32);
      const view = this.#view();
      view.setUint32(buffer + 8, buffer + 32, true);
      view.setUint32(buffer + 12, pageSize, true);
      if (
        write(file.fd, buffer + 8, 1, buffer + 16) !== 0 ||
        view.getUint32(buffer + 16, true) !== pageSize
      ) {
        throw new Error(`cannot write page ${page} of the in-memory file`);
      }
    }
    const size = pageCount * pageSize;
    const reached = pages.reduce((end, [page]) => Math.max(end, page * pageSize), file.size);
    if (reached !== size) {
      if (this.io.original(this.imports.truncate)(file.fd, BigInt(size)) !== 0) {
        throw new Error(`cannot set the in-memory file to ${pageCount} pages`);
      }
    }
    file.size = size;
    file.discard();
  }

  /** Reads `length` bytes at `offset` of `file` through the original imports. */
  read(file: CapturedFile, offset: number, length: number): Uint8Array {
    const seek = this.io.original(this.imports.seek);
    const read = this.io.original(this.imports.read);
    const buffer = this.#buffer(length);
    if (seek(file.fd, BigInt(offset), 0, buffer) !== 0) {
      throw new Error(`cannot seek to ${offset} in the in-memory file`);
    }
    const view = this.#view();
    view.setUint32(buffer + 8, buffer + 32, true);
    view.setUint32(buffer + 12, length, true);
    if (read(file.fd, buffer + 8, 1, buffer + 16) !== 0) {
      throw new Error(`cannot read ${length} bytes at ${offset} of the in-memory file`);
    }
    const got = this.#view().getUint32(buffer + 16, true);
    return this.io.heap.slice(buffer + 32, buffer + 32 + got);
  }

  /** Forgets descriptor `fd` (closed, or reopened for another file). */
  #forget(fd: number): void {
    this.#paths.delete(fd);
    const file = this.#watched.get(fd);
    if (file) {
      file.closed = true;
      this.#watched.delete(fd);
    }
  }

  /** Copies the bytes that the `count` iovecs at `iov` point to. */
  #gather(iov: number, count: number): Uint8Array {
    const view = this.#view();
    const heap = this.io.heap;
    if (count === 1) {
      const base = view.getUint32(iov, true);
      return heap.slice(base, base + view.getUint32(iov + 4, true));
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < count; i++) {
      const base = view.getUint32(iov + i * 8, true);
      const part = heap.subarray(base, base + view.getUint32(iov + i * 8 + 4, true));
      parts.push(part);
      total += part.length;
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return bytes;
  }

  #view(): DataView {
    return new DataView(this.io.heap.buffer);
  }

  /** A heap buffer: 32 bytes of call arguments, then `size` bytes of data. */
  #buffer(size: number): number {
    if (!this.#allocator) throw new Error("the page capture has no allocator");
    if (this.#scratchSize < size) {
      if (this.#scratch) this.#allocator._free(this.#scratch);
      this.#scratch = this.#allocator._malloc(size + 32);
      if (!this.#scratch) throw new Error(`cannot allocate ${size} bytes in the wasm heap`);
      this.#scratchSize = size;
    }
    return this.#scratch;
  }
}
