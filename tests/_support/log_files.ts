/**
 * Reading and damaging a file-stored database's page log in tests, in the
 * format this version writes (see `src/storage/file/log_format.ts`).
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import {
  decodeLogEnd,
  decodeLogHeader,
  encodeLogEnd,
  END_RECORD_BYTES,
  FIRST_ALLOCATION,
  LOG_HEADER_BYTES,
} from "../../src/storage/file/log_format.ts";

/** Where the first frame of a new log starts: after its header and end record. */
export const LOG_FIRST_FRAME: number = LOG_HEADER_BYTES + END_RECORD_BYTES;
/** Bytes a new log is written with (allocated ahead, zeros past its end record). */
export const LOG_ALLOCATION: number = FIRST_ALLOCATION;

/**
 * Where the commits of the log of the database at `path` end: its end
 * record's offset (a format-1 log: its size). Throws for a log whose header or
 * end record is damaged.
 *
 * @example
 * ```ts ignore
 * assert.is(logEnd(path), LOG_FIRST_FRAME, "an empty log");
 * ```
 */
export function logEnd(path: string): number {
  const bytes = new Uint8Array(readFileSync(`${path}-dbrlog`));
  const header = decodeLogHeader(bytes);
  if (!header) throw new Error(`${path}-dbrlog has no valid header`);
  if (header.version < 2) return bytes.length;
  const end = decodeLogEnd(bytes.subarray(LOG_HEADER_BYTES), header);
  if (!end) throw new Error(`${path}-dbrlog has no valid end record`);
  return end.validEnd;
}

/**
 * Zeroes the last `count` bytes of the log's commits (before its end record's
 * offset), as a crash that wrote the end record but not all the frames leaves
 * them.
 *
 * @example
 * ```ts ignore
 * tearLogTail(path, 100);
 * ```
 */
export function tearLogTail(path: string, count: number): void {
  const bytes = new Uint8Array(readFileSync(`${path}-dbrlog`));
  const end = logEnd(path);
  bytes.fill(0, end - count, end);
  writeFileSync(`${path}-dbrlog`, bytes);
}

/**
 * Writes `junk` at the log's end and an end record that counts it, as another
 * holder's commit would move the end (the junk's checksums do not hold, so
 * readers stop before it).
 *
 * @example
 * ```ts ignore
 * moveLogEnd(path, new Uint8Array(1048).fill(7));
 * ```
 */
export function moveLogEnd(path: string, junk: Uint8Array): void {
  const bytes = new Uint8Array(readFileSync(`${path}-dbrlog`));
  const header = decodeLogHeader(bytes)!;
  const end = logEnd(path);
  const grown = new Uint8Array(Math.max(bytes.length, end + junk.length));
  grown.set(bytes);
  grown.set(junk, end);
  grown.set(
    encodeLogEnd(header, { validEnd: end + junk.length, sums: [1, 2] }),
    LOG_HEADER_BYTES,
  );
  writeFileSync(`${path}-dbrlog`, grown);
}
