/**
 * Line records in plain files, for write queues and audit logs.
 *
 * An append opens the file with `O_APPEND` and writes the whole batch, newline
 * terminated, in one `write` call. On a local Linux file system (ext4, xfs,
 * btrfs, tmpfs) the kernel serialises appends to one file, so batches from any
 * number of processes land whole, one after another, never interleaved. This
 * is not true of NFS or SMB, where appenders on different hosts need a lock.
 *
 * A process killed in the middle of a very large write, or a power loss, can
 * leave a last line without its newline. Readers skip such a line; the next
 * append starts with a newline so its own lines stay whole (the torn rest then
 * reads as a line of its own, which a JSON reader rejects). An appender that
 * looks at the end while another's write is half done adds a needless newline:
 * so empty lines carry no record. Appending one is refused, and reading skips
 * them.
 *
 * A consumer claims a log by renaming it (`claim`), and later appends start a
 * new file. An appender that opened the file just before the rename writes
 * into the claimed file, which its consumer may have read already: so after
 * each write, an append checks that its file is still the one at the log's
 * path (same inode) and, if not, writes its lines again to the new log. Lines
 * are then never lost to a claim, and may be read twice (see `RecordLog`).
 *
 * A log's lock (`lock`, for audit log rotation) is the database write lock of
 * `lock.ts` in the folder `<log>-dbrlock/`.
 *
 * @module
 */
import { dirname } from "../../path.ts";
import { type FileHandle, type FileSystem, isNotFound, readFully } from "./file_system.ts";
import type { RecordLog, RecordLogEnds, RecordLogEntry } from "../types.ts";
import type { FileLockOptions } from "./lock.ts";

const NEWLINE = 0x0a;

/** The lock's code, imported once at the first lock (an `import()` per use costs 100+ µs). */
let lockModule: Promise<typeof import("./lock.ts")> | undefined;
const lockCode = () => lockModule ??= import("./lock.ts");

/**
 * Creates the record log of a file storage adapter. `resolve` turns a record
 * log's name into an absolute path; with `sync`, each append is `fdatasync`ed
 * before it resolves; `lockOptions` are those of the adapter's database locks.
 *
 * @example
 * ```ts ignore
 * const records = fileRecords(fs, (name) => resolve(fs.cwd(), name), true, {
 *   staleMs: 5000,
 *   timeoutMs: 60000,
 * });
 * await records.append("queue/alpha.jsonl", ['{"table":"bots"}']);
 * for await (const line of records.read("queue/alpha.jsonl")) console.log(line);
 * ```
 */
export function fileRecords(
  fs: FileSystem,
  resolve: (name: string) => string,
  sync: boolean,
  lockOptions: FileLockOptions,
): RecordLog {
  return {
    async append(name, lines) {
      const path = resolve(name);
      for (const line of lines) {
        if (typeof line !== "string") {
          throw new TypeError(`Cannot append to "${path}": a line is not a string`);
        }
        if (line.includes("\n")) {
          throw new TypeError(`Cannot append to "${path}": a line contains a newline`);
        }
        if (line.length === 0) {
          throw new TypeError(`Cannot append to "${path}": a line is empty`);
        }
      }
      if (lines.length === 0) return;
      const text = lines.join("\n");
      for (let attempt = 1; !await appendOnce(fs, path, text, sync); attempt++) {
        if (attempt >= MAX_APPEND_ATTEMPTS) {
          throw new Error(
            `Cannot append to "${path}": it was claimed away ${attempt} times during the append`,
          );
        }
      }
    },
    read(name) {
      return readLines(fs, resolve(name));
    },
    async prepare(name) {
      const path = resolve(name);
      await fs.mkdir(dirname(path));
      await (await fs.open(path, "append")).close();
    },
    async list(folder) {
      const path = resolve(folder);
      let names: string[];
      try {
        names = await fs.readDir(path);
      } catch (error) {
        if (isNotFound(error)) return [];
        throw error;
      }
      const entries: RecordLogEntry[] = [];
      for (const name of names) {
        try {
          const info = await fs.stat(`${path}/${name}`);
          if (!info.isDirectory) entries.push({ name, size: info.size });
        } catch (error) {
          // Claimed or removed since the listing.
          if (!isNotFound(error)) throw error;
        }
      }
      return entries;
    },
    async claim(name, to) {
      const from = resolve(name);
      const target = resolve(to);
      await fs.mkdir(dirname(target));
      try {
        await fs.rename(from, target);
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
      await fs.syncDirectory(dirname(target));
      if (dirname(target) !== dirname(from)) await fs.syncDirectory(dirname(from));
      return true;
    },
    async remove(name) {
      const path = resolve(name);
      try {
        await fs.unlink(path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
    async lock(name) {
      const path = resolve(name);
      await fs.mkdir(dirname(path));
      const lock = await (await lockCode()).acquireFileLock(
        fs,
        `${path}-dbrlock`,
        path,
        lockOptions,
      );
      return () => lock.release();
    },
    ends(name) {
      return readEnds(fs, resolve(name));
    },
  };
}

/** Bytes read at each end of a log by `ends`: audit lines are far shorter. */
const END_BYTES = 65536;

async function readEnds(fs: FileSystem, path: string): Promise<RecordLogEnds | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(path, "read");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    const decoder = new TextDecoder();
    const head = new Uint8Array(Math.min(size, END_BYTES));
    const headBytes = head.subarray(0, await readFully(handle, head, 0));
    // Empty lines carry nothing (see above): the first and last lines are the non-empty ones.
    const lines = (bytes: Uint8Array) => decoder.decode(bytes).split("\n");
    const firstLines = lines(headBytes);
    firstLines.pop(); // unfinished, or empty after the last newline
    const first = firstLines.find((line) => line !== "");
    const tailStart = Math.max(0, size - END_BYTES);
    const tail = new Uint8Array(size - tailStart);
    const tailLines = lines(tail.subarray(0, await readFully(handle, tail, tailStart)));
    tailLines.pop();
    if (tailStart > 0) tailLines.shift(); // may have begun before the bytes read
    const last = tailLines.findLast((line) => line !== "");
    return { size, first, last };
  } finally {
    await handle.close();
  }
}

/** A claim would have to win this many races in a row against one append. */
const MAX_APPEND_ATTEMPTS = 100;

/**
 * Appends `text` and a newline to `path` with one write; resolves `false`
 * when the file was claimed (renamed or removed) before the write ended.
 */
async function appendOnce(
  fs: FileSystem,
  path: string,
  text: string,
  sync: boolean,
): Promise<boolean> {
  await fs.mkdir(dirname(path));
  const handle = await fs.open(path, "append");
  try {
    const size = (await handle.stat()).size;
    const last = new Uint8Array(1);
    const torn = size > 0 && await readFully(handle, last, size - 1) === 1 &&
      last[0] !== NEWLINE;
    const bytes = new TextEncoder().encode(`${torn ? "\n" : ""}${text}\n`);
    const wrote = await handle.write(bytes, 0);
    if (wrote !== bytes.length) {
      throw new Error(
        `Cannot append to "${path}": short write (${wrote} of ${bytes.length} bytes)`,
      );
    }
    if (sync) await handle.datasync();
    return await stillAt(fs, handle, path);
  } finally {
    await handle.close();
  }
}

/** Whether the open `handle` is still the file at `path`. */
async function stillAt(fs: FileSystem, handle: FileHandle, path: string): Promise<boolean> {
  const mine = (await handle.stat()).ino;
  try {
    const there = (await fs.stat(path)).ino;
    // Without inode numbers (Deno on Windows) a claim cannot be seen: assume none.
    return mine === 0 || there === mine;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Yields the complete lines of `path`. A reader that ends before the size the
 * file had when reading began is an error, not the end: a sync that took it
 * for the end would mark a claimed file finished and delete its unread lines.
 */
async function* readLines(fs: FileSystem, path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending: Uint8Array[] = [];
  let expected: number;
  try {
    expected = (await fs.stat(path)).size;
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  let read = 0;
  try {
    for await (const chunk of fs.readChunks(path)) {
      read += chunk.length;
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        pending.push(chunk.subarray(start, end));
        const line = concat(pending);
        pending = [];
        if (line.length > 0) yield decoder.decode(line);
        start = end + 1;
      }
      // Chunks may be reused by the reader: keep a copy of the unfinished line.
      if (start < chunk.length) pending.push(chunk.slice(start));
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return;
  }
  if (read < expected) {
    throw new Error(
      `Cannot read "${path}": reading ended after ${read} of its ${expected} bytes`,
    );
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}
