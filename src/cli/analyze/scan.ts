/**
 * One streaming pass over an audit log: counts accesses, counts malformed
 * lines, and with `verify` checks the `prev_hash` chains.
 *
 * @module
 */
import { type ChainProblem, ChainVerifier } from "../../observe/audit_chain.ts";
import { readLogLines } from "./lines.ts";
import { parseAuditLine } from "./record.ts";
import { AuditSummary } from "./summary.ts";

/** Problems kept for printing; the rest are only counted. */
const KEPT_PROBLEMS = 100;

/** What one pass found. */
export interface ScanResult {
  /** Well-formed audit lines. */
  records: number;
  /** Lines that were not audit lines (blank lines are not counted). */
  malformed: number;
  /** 1-based number of the first malformed line. */
  firstMalformed?: number;
  /** The counts. */
  summary: AuditSummary;
  /** With `verify`: the chains' state and the first problems. */
  verify?: {
    chains: number;
    problemCount: number;
    problems: ChainProblem[];
    heads: Array<{ menaceId: string; hash: string }>;
  };
}

/**
 * Reads the log at `path` once. Rejects with `Cannot read audit log "..."`
 * when it cannot be opened or read.
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
  options: { verify?: boolean },
): Promise<ScanResult> {
  const summary = new AuditSummary();
  const verifier = options.verify ? new ChainVerifier() : undefined;
  const problems: ChainProblem[] = [];
  let problemCount = 0;
  const result: ScanResult = { records: 0, malformed: 0, summary };
  const problem = (found: ChainProblem) => {
    problemCount++;
    if (problems.length < KEPT_PROBLEMS) problems.push(found);
  };
  let number = 0;
  try {
    for await (const line of readLogLines(path)) {
      number++;
      if (line !== null && line.trim() === "") continue;
      const record = line === null ? undefined : parseAuditLine(line);
      if (!record) {
        result.malformed++;
        result.firstMalformed ??= number;
        if (verifier) {
          problem({ line: number, message: "Line is not an audit line (torn or edited)" });
        }
        continue;
      }
      result.records++;
      summary.add(record);
      const found = verifier?.check(number, line!, record.menaceId, record.prevHash);
      if (found) problem(found);
    }
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const reason = code === "ENOENT"
      ? "no such file"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    throw new Error(`Cannot read audit log "${path}": ${reason}`, { cause });
  }
  if (verifier) {
    result.verify = { chains: verifier.chains, problemCount, problems, heads: verifier.heads() };
  }
  return result;
}
