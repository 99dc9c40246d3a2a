/**
 * The files of an audit log that may have rotated: `audit.log.000001`,
 * `audit.log.000002`, ... oldest first, then `audit.log` itself (see
 * `src/observe/audit_rotation.ts`).
 *
 * @module
 */
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { rotatedSequence } from "../../observe/audit_rotation.ts";

/** One file of a log, as it was when listed. */
export interface LogFile {
  /** Its path. */
  readonly path: string;
  /** Its name, without the folder. */
  readonly name: string;
  /** Its size in bytes when listed. */
  readonly size: number;
}

/**
 * The files that make up the log `path`, in order. A path that names a
 * rotated file, or a log that never rotated, is one file. Rejects with the
 * file system's error (`ENOENT`) when there is no file at all.
 *
 * @example
 * ```ts ignore
 * import { auditLogFiles } from "./files.ts";
 * (await auditLogFiles("/var/log/audit.log")).map((f) => f.name);
 * // ["audit.log.000001", "audit.log.000002", "audit.log"]
 * ```
 */
export async function auditLogFiles(path: string): Promise<LogFile[]> {
  const folder = dirname(path);
  const logName = basename(path);
  let names: string[] = [];
  try {
    names = await readdir(folder);
  } catch {
    // The folder's error is the log's error too: stat(path) below reports it.
  }
  const rotated = names
    .map((name) => ({ name, sequence: rotatedSequence(logName, name) }))
    .filter((entry): entry is { name: string; sequence: number } => entry.sequence !== undefined)
    .sort((a, b) => a.sequence - b.sequence);
  const files: LogFile[] = [];
  for (const { name } of rotated) {
    const info = await stat(join(folder, name));
    if (info.isFile()) files.push({ path: join(folder, name), name, size: info.size });
  }
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new Error(`EISDIR: "${path}" is a folder`);
    files.push({ path, name: logName, size: info.size });
  } catch (error) {
    // The current file may be missing for a moment after a rotation.
    if (files.length === 0 || (error as { code?: string }).code !== "ENOENT") throw error;
  }
  return files;
}
