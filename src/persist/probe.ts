/**
 * Recognising sql.js's file I/O imports by what they do, and proving the page
 * capture right, on small probe databases, once per process.
 *
 * The imports' names are minified and change with every sql.js build, so
 * none is pinned. With every call recorded, a probe database is opened,
 * written, shrunk and read:
 * - openat is the import that returns a descriptor (3 or more) for a call
 *   whose argument is the probe's path;
 * - fd_seek is called on that descriptor with a BigInt offset and 4
 *   arguments, ftruncate with a BigInt length and 2;
 * - fd_write is the 4-argument import called right after a seek while the
 *   probe commits, fd_read the other one called after a seek while a second
 *   database opened from an image answers a query; fd_sync and fd_close are
 *   the 1-argument imports called during the commit and at `close()`.
 * Then the capture is switched on and checked: the pages captured from a
 * series of commits (growth, a one-row update, a rolled-back transaction
 * that spilled its cache, DELETE plus VACUUM, a schema change) are replayed
 * onto the previous image and compared with `export()`, and applied in place
 * to a second database, whose `export()` and prepared statement must agree.
 * Any difference, and the engine keeps export + diff.
 *
 * @module
 */
import type { SqlJsDatabase, SqlJsStatic } from "../engine/sqljs_types.ts";
import { applyInPlace } from "./apply.ts";
import { type HeapAllocator, type IoImports, PageCapture } from "./capture.ts";
import type { CapturedFile } from "./captured_file.ts";
import { patchImage, sameDatabase } from "./patch_image.ts";
import type { ImportCall, WasmIo } from "./wasm_io.ts";

/** The engine's pragmas (see `engine/sqljs_image.ts`): the probe runs as the engine does. */
const PRAGMAS = "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=MEMORY;";

const ROWS = (n: number, size: number) =>
  `INSERT INTO probe(v) SELECT randomblob(${size}) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n}) SELECT i FROM n)`;

/** The probe's commits, each checked against `export()` and in place. */
const STEPS = [
  ROWS(30, 900),
  "UPDATE probe SET v = zeroblob(10) WHERE id = 7",
  `PRAGMA cache_size=4; BEGIN; ${
    ROWS(40, 700)
  }; UPDATE probe SET v = x'00'; ROLLBACK; PRAGMA cache_size=-2000`,
  "CREATE TABLE other(a, b); CREATE INDEX probe_v ON probe(v); ALTER TABLE other ADD COLUMN c",
  "DELETE FROM probe WHERE id > 5; DROP INDEX probe_v; VACUUM",
  ROWS(8, 3000),
];

/**
 * Recognises the I/O imports of the sql.js instance behind `io` and checks
 * the capture; returns it, or the reason it cannot be used (every import then
 * calls its original again).
 *
 * @example
 * ```ts ignore
 * const capture = probeCapture(SQL, io);
 * if (typeof capture === "string") console.warn(capture);
 * ```
 */
export function probeCapture(
  sql: SqlJsStatic & Partial<HeapAllocator>,
  io: WasmIo,
): PageCapture | string {
  try {
    if (typeof sql._malloc !== "function" || typeof sql._free !== "function") {
      return "the sql.js module has no _malloc/_free";
    }
    const imports = identify(sql, io);
    if (typeof imports === "string") return imports;
    const capture = new PageCapture(io, imports);
    capture.bindAllocator(sql as HeapAllocator);
    const problem = verify(sql, capture);
    if (problem === undefined) return capture;
    io.stopRecording();
    return problem;
  } catch (error) {
    io.stopRecording();
    return `the probe failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function identify(sql: SqlJsStatic, io: WasmIo): IoImports | string {
  const calls = io.record();
  const opened: SqlJsDatabase[] = [];
  try {
    const writer = new sql.Database();
    opened.push(writer);
    const open = openCall(calls, `/${filenameOf(writer)}`);
    if (typeof open === "string") return open;
    const { openat, pathArgument, fd } = open;
    writer.exec(PRAGMAS);
    let from = calls.length;
    writer.exec(`CREATE TABLE probe(id INTEGER PRIMARY KEY, v BLOB); ${ROWS(20, 500)}`);
    const commit = calls.slice(from).filter((call) => call.args[0] === fd);
    const seek = only(
      commit,
      (c) => c.args.length === 4 && typeof c.args[1] === "bigint",
      "fd_seek",
    );
    const write = only(afterSeek(commit, seek), (c) => c.args.length === 4, "fd_write");
    const sync = optional(() => only(commit, (c) => c.args.length === 1, "fd_sync"));
    from = calls.length;
    writer.exec("DELETE FROM probe WHERE id > 2; VACUUM");
    const shrink = calls.slice(from).filter((call) => call.args[0] === fd);
    const truncate = only(
      shrink,
      (c) => c.args.length === 2 && typeof c.args[1] === "bigint",
      "ftruncate",
    );
    const reader = new sql.Database(writer.export());
    opened.push(reader);
    const readerOpen = openCall(calls, `/${filenameOf(reader)}`);
    if (typeof readerOpen === "string") return readerOpen;
    from = calls.length;
    reader.exec("SELECT count(*) FROM probe");
    const reads = calls.slice(from).filter((call) => call.args[0] === readerOpen.fd);
    const read = only(
      afterSeek(reads, seek),
      (c) => c.args.length === 4 && c.name !== write,
      "fd_read",
    );
    from = calls.length;
    opened.pop();
    reader.close();
    const closing = calls.slice(from).filter((c) => c.args[0] === readerOpen.fd);
    const close = optional(() =>
      only(closing, (c) => c.args.length === 1 && c.name !== sync, "fd_close")
    );
    return {
      openat,
      pathArgument,
      seek,
      write,
      read,
      truncate,
      ...(close && { close }),
      ...(sync && { sync }),
    };
  } finally {
    io.stopRecording();
    for (const db of opened) db.close();
  }
}

/** The openat call that opened `path`: the import, where the path was, and the descriptor. */
function openCall(
  calls: readonly ImportCall[],
  path: string,
): { openat: string; pathArgument: number; fd: number } | string {
  // A descriptor is what the call returns and what a later call seeks in (a BigInt offset).
  const found = calls.filter((c, i) =>
    typeof c.result === "number" && c.result >= 3 && c.strings.includes(path) &&
    calls.some((later, j) =>
      j > i && later.args[0] === c.result && typeof later.args[1] === "bigint"
    )
  );
  const names = new Set(found.map((c) => c.name));
  if (names.size !== 1) {
    return `openat not recognised (candidates for ${path}: ${[...names].join(", ") || "none"})`;
  }
  const call = found[found.length - 1];
  return { openat: call.name, pathArgument: call.strings.indexOf(path), fd: call.result as number };
}

/** The calls that come right after a call of `seek`. */
function afterSeek(calls: readonly ImportCall[], seek: string): ImportCall[] {
  return calls.filter((call, i) => i > 0 && calls[i - 1].name === seek && call.name !== seek);
}

/** The one import whose calls match `test`; throws a reason naming `what` when there is not one. */
function only(
  calls: readonly ImportCall[],
  test: (call: ImportCall) => boolean,
  what: string,
): string {
  const names = new Set(calls.filter(test).map((call) => call.name));
  if (names.size === 1) return [...names][0];
  throw new Error(`${what} not recognised (${names.size} candidates)`);
}

/** An import that the capture can do without: `undefined` when it was not recognised. */
function optional(find: () => string): string | undefined {
  try {
    return find();
  } catch {
    return undefined;
  }
}

function verify(sql: SqlJsStatic, capture: PageCapture): string | undefined {
  const opened: SqlJsDatabase[] = [];
  const watched: CapturedFile[] = [];
  try {
    const writer = new sql.Database();
    opened.push(writer);
    writer.exec(`${PRAGMAS} CREATE TABLE probe(id INTEGER PRIMARY KEY, v BLOB); ${ROWS(10, 300)}`);
    let image = writer.export();
    const reader = new sql.Database(image);
    opened.push(reader);
    reader.exec(PRAGMAS);
    const written = capture.watch(filenameOf(writer), image.length);
    const applied = capture.watch(filenameOf(reader), image.length);
    if (!written || !applied) return "the probe's database file was not seen opened";
    watched.push(written, applied);
    const count = reader.prepare("SELECT count(*), sum(length(v)) FROM probe");
    try {
      for (const [step, sqlText] of STEPS.entries()) {
        writer.exec(sqlText);
        const pageSize = pageSizeOf(image);
        const pages = written.take(pageSize);
        if (!pages) return `step ${step + 1}: a write was not one whole page`;
        const expected = writer.export();
        if (written.size !== expected.length) {
          return `step ${
            step + 1
          }: the file has ${written.size} bytes, export() ${expected.length}`;
        }
        image = patchImage(image, pageSize, pages, written.size / pageSize);
        if (!sameDatabase(image, expected)) {
          return `step ${step + 1}: captured pages differ from export()`;
        }
        applyInPlace(reader, capture, applied, {
          version: "",
          pageSize,
          pageCount: written.size / pageSize,
          pages,
        });
        if (!sameDatabase(reader.export(), expected)) {
          return `step ${step + 1}: pages applied in place differ from export()`;
        }
        count.step();
        const got = JSON.stringify(count.get());
        count.reset();
        const want = JSON.stringify(
          writer.exec("SELECT count(*), sum(length(v)) FROM probe")[0].values[0],
        );
        if (got !== want) return `step ${step + 1}: a prepared statement read ${got}, not ${want}`;
      }
    } finally {
      count.free();
    }
    const first = capture.read(written, 0, image.length);
    if (first.length !== image.length || !sameDatabase(first, image) || !sameHeader(first, image)) {
      return "reading the file through fd_read differs from the captured pages";
    }
    return undefined;
  } finally {
    for (const file of watched) capture.unwatch(file);
    for (const db of opened) db.close();
  }
}

function filenameOf(db: SqlJsDatabase): string {
  const filename = (db as { filename?: unknown }).filename;
  if (typeof filename !== "string") throw new Error("the sql.js database has no filename");
  return filename;
}

function pageSizeOf(image: Uint8Array): number {
  const raw = (image[16] << 8) | image[17];
  return raw === 1 ? 65536 : raw;
}

function sameHeader(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 100; i++) if (a[i] !== b[i]) return false;
  return true;
}
