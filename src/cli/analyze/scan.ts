/**
 * One streaming pass over an audit log, rotated files included (oldest
 * first, as one log): counts accesses, counts malformed lines, and with
 * `verify` checks the `prev_hash` chains and that each rotated file's header
 * names the file before it, its size and its last line's hash.
 *
 * @module
 */
import {
  CHAIN_START,
  type ChainProblem,
  ChainVerifier,
  lineHash,
} from "../../observe/audit_chain.ts";
import { parseRotationHeader } from "../../observe/audit_rotation.ts";
import { type AuditLogPart, openAuditSource } from "./sources.ts";
import { parseAuditLine } from "./record.ts";
import { AuditSummary } from "./summary.ts";

/** Problems kept for printing; the rest are only counted. */
const KEPT_PROBLEMS = 100;

/** What one pass found. */
export interface ScanResult {
  /** The files read, oldest first (one unless the log rotated). */
  files: string[];
  /** Well-formed audit lines. */
  records: number;
  /** Lines that were not audit lines (blank lines and rotation headers are not counted). */
  malformed: number;
  /** 1-based number of the first malformed line, in its file. */
  firstMalformed?: number;
  /** The file of the first malformed line. */
  firstMalformedFile?: string;
  /** The counts. */
  summary: AuditSummary;
  /** With `verify`: the chains' state and the first problems. */
  verify?: {
    chains: number;
    problemCount: number;
    problems: ChainProblem[];
    heads: Array<{ menaceId: string; hash: string }>;
    /**
     * When older rotated files were removed (`keepFiles`): the first file
     * left, the removed file it names, and how many chains continue from them.
     */
    removedPrefix?: { firstFile: string; continues: string; continuedChains: number };
  };
}

/**
 * Reads the log at `path` (with its rotated files; or the `_dbrouter_audit`
 * table of a database or a D1 export, see `sources.ts`, only the lines of log
 * `log` when given) once. Rejects with
 * `Cannot read audit log "..."` when it cannot be opened or read.
 *
 * @example
 * ```ts ignore
 * import { scanAuditLog } from "./scan.ts";
 * const result = await scanAuditLog("/var/log/menace/audit.log", { verify: true });
 * result.verify?.problemCount; // 0 when every chain is intact
 * ```
 */
export async function scanAuditLog(
  path: string,
  options: { verify?: boolean; log?: string },
): Promise<ScanResult> {
  const summary = new AuditSummary();
  const verifier = options.verify ? new ChainVerifier() : undefined;
  const problems: ChainProblem[] = [];
  let problemCount = 0;
  const result: ScanResult = { files: [], records: 0, malformed: 0, summary };
  let removedPrefix: { firstFile: string; continues: string } | undefined;
  let close = () => Promise.resolve();
  try {
    const source = await openAuditSource(path, options.log);
    close = () => source.close();
    const files = source.parts;
    result.files = files.map((file) => file.path);
    const several = files.length > 1;
    let previous: { file: AuditLogPart; last: string | undefined } | undefined;
    for (const file of files) {
      const where = several ? { file: file.name } : {};
      const problem = (line: number, message: string) => {
        problemCount++;
        if (problems.length < KEPT_PROBLEMS) problems.push({ ...where, line, message });
      };
      let number = 0;
      let first = true;
      let last: string | undefined;
      let afterRemoved = false;
      for await (const [lineNumber, line] of file.lines()) {
        number = lineNumber;
        if (line !== null && line.trim() === "") continue;
        const header = line === null || !file.rotated ? undefined : parseRotationHeader(line);
        if (first && verifier && file.rotated) {
          const found = headerProblem(header, previous);
          if (found) problem(number, found);
          if (header && !previous) {
            removedPrefix = { firstFile: file.name, continues: header.rotatedFrom };
            afterRemoved = true;
          }
        }
        first = false;
        if (line !== null) last = line;
        if (header) {
          if (number > 1 && verifier) problem(number, "Rotation header in the middle of a file");
          continue;
        }
        const record = line === null ? undefined : parseAuditLine(line);
        if (!record) {
          result.malformed++;
          if (result.firstMalformed === undefined) {
            result.firstMalformed = number;
            result.firstMalformedFile = file.name;
          }
          if (verifier) problem(number, "Line is not an audit line (torn or edited)");
          continue;
        }
        result.records++;
        summary.add(record);
        const found = verifier?.check(
          number,
          line!,
          record.menaceId,
          record.prevHash,
          afterRemoved,
        );
        if (found) problem(found.line, found.message);
      }
      if (first && previous && verifier) {
        problem(1, `File is empty: it does not continue "${previous.file.name}"`);
      }
      previous = { file, last };
    }
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const reason = code === "ENOENT"
      ? "no such file"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    throw new Error(`Cannot read audit log "${path}": ${reason}`, { cause });
  } finally {
    await close();
  }
  if (verifier) {
    result.verify = { chains: verifier.chains, problemCount, problems, heads: verifier.heads() };
    if (removedPrefix) {
      result.verify.removedPrefix = { ...removedPrefix, continuedChains: verifier.continued };
    }
  }
  return result;
}

/** What is wrong with how a file begins, given the file before it (if any). */
function headerProblem(
  header: ReturnType<typeof parseRotationHeader>,
  previous: { file: AuditLogPart; last: string | undefined } | undefined,
): string | undefined {
  if (!previous) return undefined; // the first file: a header there means removed files
  const before = previous.file.name;
  if (!header) {
    return `File does not begin with a rotation header: it does not continue "${before}"`;
  }
  if (header.rotatedFrom !== before) {
    return `File continues "${header.rotatedFrom}", not "${before}": a file between them is missing`;
  }
  if (header.prevFileBytes !== previous.file.size) {
    return `"${before}" was ${header.prevFileBytes} bytes when it was rotated and is ${previous.file.size} now: it was cut or appended to`;
  }
  const hash = previous.last === undefined ? CHAIN_START : lineHash(previous.last);
  if (header.prevFileHash !== hash) {
    return `The last line of "${before}" is not the one it had when it was rotated: it was edited or removed`;
  }
  return undefined;
}
