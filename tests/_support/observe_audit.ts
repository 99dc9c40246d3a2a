/**
 * Helpers of the audit log tests: a temporary folder, reading an audit file,
 * and waiting.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One parsed audit line. */
export interface AuditLine {
  menace_id: string;
  table_name: string;
  operation: string;
  timestamp: string;
  prev_hash?: string;
}

/** A temporary folder that `remove` deletes. */
export function auditFolder(prefix: string): {
  dir: string;
  path(name: string): string;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Every line of the audit file at `path`, parsed; throws on a line that is not JSON. */
export function readAudit(path: string): AuditLine[] {
  const text = readFileSync(path, "utf8");
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
