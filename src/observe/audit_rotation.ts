/**
 * Rotation of the audit log by size and age, safe with many appending
 * processes.
 *
 * The log `audit.log` is the file being appended to; rotated files are
 * `audit.log.000001`, `audit.log.000002`, ... (oldest first). Every append
 * takes the log's lock (`RecordLog.lock`, across processes) and, holding it,
 * looks at the log's size and first line: when the batch would take the file
 * past `maxBytes`, or its first line is older than `maxAgeMs`, the file is
 * renamed to the next number and the batch starts a new file whose first line
 * is a rotation header,
 *
 * ```json
 * {"rotated_from":"audit.log.000002","prev_file_bytes":67108801,"prev_file_hash":"9f86d081884c7d659a2feaa0c55ad015","rotated_at":"2024-05-14T12:00:00.000Z"}
 * ```
 *
 * naming the previous file, its size and the chain hash (`lineHash`) of its
 * last line, so that the files read in order are one log and a missing,
 * truncated or extended file shows. As no append runs outside the lock,
 * nothing lands in a file after it is rotated: no line is lost, torn or
 * written twice. A writer killed between the rename and its append leaves no
 * current file: the next append finds the newest rotated file and writes the
 * header then. Every writer of one log must rotate (the default wherever the
 * storage has locks): one that appends without the lock could write into a
 * file being rotated, after its header was computed.
 *
 * With `keepFiles`, a rotation removes the rotated files beyond that many;
 * the oldest remaining file's header then names a file that is gone, which
 * `db-router analyze --verify` reports as where the removed prefix ends.
 *
 * @module
 */
import { RouterError } from "../errors.ts";
import { basename, dirname, join } from "../path.ts";
import type { RecordLog, RecordLogEnds } from "../storage/types.ts";
import { CHAIN_START, lineHash } from "./audit_chain.ts";

/**
 * When the audit log rotates, and how many rotated files are kept.
 *
 * @example
 * ```ts
 * import type { AuditRotationOptions } from "./audit_rotation.ts";
 * const daily: AuditRotationOptions = { maxBytes: 256 * 1024 * 1024, maxAgeMs: 86_400_000, keepFiles: 30 };
 * ```
 */
export interface AuditRotationOptions {
  /**
   * Bytes past which an append starts a new file.
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * Milliseconds after the first line of a file past which an append starts a
   * new file (`Infinity` rotates by size only).
   * @default 86400000 (a day)
   */
  maxAgeMs?: number;
  /**
   * Rotated files kept; a rotation removes older ones (`Infinity` keeps all).
   * @default Infinity
   */
  keepFiles?: number;
}

/** Rotation settings after validation. */
export interface AuditRotation {
  /** Bytes past which an append starts a new file. */
  readonly maxBytes: number;
  /** Age of a file's first line past which an append starts a new file. */
  readonly maxAgeMs: number;
  /** Rotated files kept. */
  readonly keepFiles: number;
}

/** A record log that can rotate: every optional method is there. */
export type RotatingLog = Required<RecordLog>;

/**
 * Checks `options` and fills the defaults; throws a `RangeError` naming a bad value.
 *
 * @example
 * ```ts
 * import { resolveAuditRotation } from "./audit_rotation.ts";
 * resolveAuditRotation({ keepFiles: 10 }); // { maxBytes: 67108864, maxAgeMs: 86400000, keepFiles: 10 }
 * ```
 */
export function resolveAuditRotation(options: AuditRotationOptions = {}): AuditRotation {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError(
      `Invalid audit rotation maxBytes ${maxBytes}: expected a whole number from 1`,
    );
  }
  const maxAgeMs = options.maxAgeMs ?? 86_400_000;
  if (typeof maxAgeMs !== "number" || !(maxAgeMs > 0)) {
    throw new RangeError(
      `Invalid audit rotation maxAgeMs ${maxAgeMs}: expected milliseconds above 0`,
    );
  }
  const keepFiles = options.keepFiles ?? Infinity;
  if (keepFiles !== Infinity && (!Number.isInteger(keepFiles) || keepFiles < 1)) {
    throw new RangeError(
      `Invalid audit rotation keepFiles ${keepFiles}: expected a whole number from 1, or Infinity`,
    );
  }
  return Object.freeze({ maxBytes, maxAgeMs, keepFiles });
}

/**
 * Whether `records` has what rotation needs (locks, ends, claims, listings, removals).
 *
 * @example
 * ```ts
 * import { canRotate } from "./audit_rotation.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * canRotate(memoryStorage().records!); // true
 * ```
 */
export function canRotate(records: RecordLog): records is RotatingLog {
  return records.lock !== undefined && records.ends !== undefined &&
    records.claim !== undefined && records.list !== undefined && records.remove !== undefined;
}

/**
 * The name of the `sequence`-th rotated file of the log `path`.
 *
 * @example
 * ```ts
 * import { rotatedName } from "./audit_rotation.ts";
 * rotatedName("/var/log/audit.log", 3); // "/var/log/audit.log.000003"
 * ```
 */
export function rotatedName(path: string, sequence: number): string {
  return `${path}.${String(sequence).padStart(6, "0")}`;
}

/**
 * The sequence number of `name` when it is a rotated file of the log named
 * `logName` (both without folders), else `undefined`.
 *
 * @example
 * ```ts
 * import { rotatedSequence } from "./audit_rotation.ts";
 * rotatedSequence("audit.log", "audit.log.000012"); // 12
 * rotatedSequence("audit.log", "audit.log.bak"); // undefined
 * ```
 */
export function rotatedSequence(logName: string, name: string): number | undefined {
  if (!name.startsWith(`${logName}.`)) return undefined;
  const suffix = name.slice(logName.length + 1);
  return /^\d{6,15}$/.test(suffix) ? Number(suffix) : undefined;
}

/** The first line of a file that continues another. */
export interface RotationHeader {
  /** The previous file's name, without its folder. */
  readonly rotatedFrom: string;
  /** The previous file's size when it was rotated. */
  readonly prevFileBytes: number;
  /** `lineHash` of the previous file's last line ({@linkcode CHAIN_START} when it had none). */
  readonly prevFileHash: string;
  /** When the rotation happened (an ISO time). */
  readonly rotatedAt: string;
}

/**
 * The header line of a file that continues `header.rotatedFrom`.
 *
 * @example
 * ```ts
 * import { formatRotationHeader } from "./audit_rotation.ts";
 * formatRotationHeader({
 *   rotatedFrom: "audit.log.000001",
 *   prevFileBytes: 120,
 *   prevFileHash: "0".repeat(32),
 *   rotatedAt: "2024-05-14T12:00:00.000Z",
 * }); // '{"rotated_from":"audit.log.000001","prev_file_bytes":120,...}'
 * ```
 */
export function formatRotationHeader(header: RotationHeader): string {
  return JSON.stringify({
    rotated_from: header.rotatedFrom,
    prev_file_bytes: header.prevFileBytes,
    prev_file_hash: header.prevFileHash,
    rotated_at: header.rotatedAt,
  });
}

/**
 * The header in `line`, or `undefined` when `line` is not a rotation header.
 *
 * @example
 * ```ts
 * import { parseRotationHeader } from "./audit_rotation.ts";
 * parseRotationHeader('{"menace_id":"a"}'); // undefined
 * ```
 */
export function parseRotationHeader(line: string): RotationHeader | undefined {
  if (!line.startsWith('{"rotated_from"')) return undefined;
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(line);
  } catch {
    return undefined;
  }
  const { rotated_from, prev_file_bytes, prev_file_hash, rotated_at } = data ?? {};
  if (
    typeof rotated_from !== "string" || typeof prev_file_bytes !== "number" ||
    typeof prev_file_hash !== "string" || typeof rotated_at !== "string"
  ) {
    return undefined;
  }
  return {
    rotatedFrom: rotated_from,
    prevFileBytes: prev_file_bytes,
    prevFileHash: prev_file_hash,
    rotatedAt: rotated_at,
  };
}

/**
 * Appends `lines` to the log `path`, holding its lock, after rotating it when
 * it is due at time `now` (milliseconds since 1970).
 *
 * @example
 * ```ts
 * import { appendRotating, resolveAuditRotation } from "./audit_rotation.ts";
 * import { memoryStorage } from "../storage/memory.ts";
 * const records = memoryStorage().records as Required<NonNullable<ReturnType<typeof memoryStorage>["records"]>>;
 * await appendRotating(records, "audit.log", ['{"menace_id":"a"}'], resolveAuditRotation(), Date.now());
 * ```
 */
export async function appendRotating(
  records: RotatingLog,
  path: string,
  lines: readonly string[],
  rotation: AuditRotation,
  now: number,
): Promise<void> {
  const release = await records.lock(path);
  try {
    let ends = await records.ends(path);
    let header: string | undefined;
    if (ends === undefined || ends.size === 0) {
      // A new log, or one whose last rotation died before its first append.
      const newest = (await rotatedFiles(records, path)).at(-1);
      const previous = newest && await records.ends(newest.path);
      if (newest && previous) header = headerAfter(newest.path, previous, now);
    }
    let size = ends?.size ?? 0;
    let start = 0;
    while (start < lines.length) {
      if (
        size > 0 && (isOld(ends, rotation, now) || size + bytes(lines[start]) > rotation.maxBytes)
      ) {
        header = await rotate(records, path, ends!, rotation, now);
        size = 0;
        ends = undefined;
      }
      // What fits in the file (at least one line, so that a file holds something).
      let end = start;
      let taken = size + (header === undefined ? 0 : bytes(header));
      do taken += bytes(lines[end++]); while (
        end < lines.length && taken + bytes(lines[end]) <= rotation.maxBytes
      );
      const part = lines.slice(start, end);
      await records.append(path, header === undefined ? part : [header, ...part]);
      size = taken;
      header = undefined;
      start = end;
      // The size of a file being appended to: its ends are needed only to rotate it.
      if (start < lines.length) ends = await records.ends(path);
    }
  } finally {
    await release();
  }
}

/** Renames `path` to its next rotated name and returns the header of the file that follows it. */
async function rotate(
  records: RotatingLog,
  path: string,
  ends: RecordLogEnds,
  rotation: AuditRotation,
  now: number,
): Promise<string> {
  const rotated = await rotatedFiles(records, path);
  const sequence = (rotated.at(-1)?.sequence ?? 0) + 1;
  const to = rotatedName(path, sequence);
  if (!await records.claim(path, to)) {
    throw new RouterError("AUDIT_WRITE_FAILED", `Cannot rotate audit log "${path}": it vanished`);
  }
  for (const old of rotated) {
    if (old.sequence <= sequence - rotation.keepFiles) await records.remove(old.path);
  }
  return headerAfter(to, ends, now);
}

/** The rotated files of `path`, oldest first. */
async function rotatedFiles(
  records: RotatingLog,
  path: string,
): Promise<Array<{ path: string; sequence: number }>> {
  const folder = dirname(path);
  const logName = basename(path);
  return (await records.list(folder))
    .map((entry) => ({
      path: join(folder, entry.name),
      sequence: rotatedSequence(logName, entry.name),
    }))
    .filter((file): file is { path: string; sequence: number } => file.sequence !== undefined)
    .sort((a, b) => a.sequence - b.sequence);
}

function headerAfter(previous: string, ends: RecordLogEnds, now: number): string {
  return formatRotationHeader({
    rotatedFrom: basename(previous),
    prevFileBytes: ends.size,
    prevFileHash: ends.last === undefined ? CHAIN_START : lineHash(ends.last),
    rotatedAt: new Date(now).toISOString(),
  });
}

const encoder = new TextEncoder();

/** Bytes of `line` and its newline in UTF-8. */
function bytes(line: string): number {
  // deno-lint-ignore no-control-regex
  return (/^[\x00-\x7f]*$/.test(line) ? line.length : encoder.encode(line).length) + 1;
}

/** Whether the file whose ends are `ends` began more than `maxAgeMs` before `now`. */
function isOld(ends: RecordLogEnds | undefined, rotation: AuditRotation, now: number): boolean {
  if (rotation.maxAgeMs === Infinity || ends?.first === undefined) return false;
  const started = startOf(ends.first);
  return started !== undefined && now - started >= rotation.maxAgeMs;
}

/** When a file began: its header's rotation time, else its first line's timestamp. */
function startOf(first: string): number | undefined {
  const header = parseRotationHeader(first);
  if (header) return Date.parse(header.rotatedAt);
  try {
    const stamp = Date.parse(JSON.parse(first)?.timestamp);
    return Number.isNaN(stamp) ? undefined : stamp;
  } catch {
    return undefined;
  }
}
