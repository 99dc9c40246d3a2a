/**
 * The `no-direct-database` rule on one file's text: parse, feed the shared
 * detector, and turn offsets into lines and columns.
 *
 * @module
 */
import { DirectDatabaseDetector } from "../../lint/detector.ts";
import type { OffenceKind } from "../../lint/offence.ts";
import { parseSource, SourceSyntaxError } from "./parse.ts";
import { walk } from "./walk.ts";

/** One line of `db-router check` output. */
export interface Finding {
  /** The file, as shown (relative to the working directory when inside it). */
  path: string;
  /** 1-based line. */
  line: number;
  /** 1-based column, in UTF-16 code units as editors count them. */
  column: number;
  /** An offence of the rule, or a file that could not be parsed or read. */
  kind: OffenceKind | "syntax" | "unreadable";
  /** What is wrong and what to do. */
  message: string;
}

/**
 * Checks `source` as the file `path` and returns its findings in source
 * order: the rule's offences, or one `"syntax"` finding when it does not parse.
 *
 * @example
 * ```ts
 * import { checkSource } from "./check_source.ts";
 * checkSource('// import "sql.js"\nconst SQL = await initSqlJs();', "a.ts");
 * // [{ path: "a.ts", line: 2, column: 19, kind: "init", message: "Cannot initialise sql.js ..." }]
 * ```
 */
export function checkSource(source: string, path: string): Finding[] {
  let program;
  try {
    program = parseSource(source, path);
  } catch (error) {
    if (!(error instanceof SourceSyntaxError)) throw error;
    const message = `Cannot parse "${path}": ${error.message}`;
    return [{ path, line: error.line, column: error.column, kind: "syntax", message }];
  }
  const detector = new DirectDatabaseDetector();
  walk(program, (node) => detector.visit(node));
  const lines = lineStarts(source);
  return detector.finish().map((offence) => ({
    path,
    ...lineColumn(lines, offence.offset),
    kind: offence.kind,
    message: offence.message,
  }));
}

/**
 * Formats a finding as `path:line:column message`, the form editors and CI
 * annotate.
 *
 * @example
 * ```ts
 * import { formatFinding } from "./check_source.ts";
 * formatFinding({ path: "a.ts", line: 1, column: 1, kind: "import", message: "Cannot import" });
 * // "a.ts:1:1 Cannot import"
 * ```
 */
export function formatFinding(finding: Finding): string {
  return `${finding.path}:${finding.line}:${finding.column} ${finding.message}`;
}

/**
 * The offsets at which each line of `source` starts (`\n`, `\r\n`, `\r`,
 * U+2028 and U+2029 end lines, as in JavaScript).
 */
export function lineStarts(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 13 && source.charCodeAt(i + 1) === 10) continue;
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) starts.push(i + 1);
  }
  return starts;
}

/**
 * The 1-based line and column of `offset`, given {@linkcode lineStarts}.
 *
 * @example
 * ```ts
 * import { lineColumn, lineStarts } from "./check_source.ts";
 * lineColumn(lineStarts("ab\ncd"), 4); // { line: 2, column: 2 }
 * ```
 */
export function lineColumn(starts: readonly number[], offset: number): {
  line: number;
  column: number;
} {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low] + 1 };
}
