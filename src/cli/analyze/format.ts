/**
 * The text of `db-router analyze`: the specification's three blocks, columns
 * aligned (names to the left, counts to the right), separated by blank lines.
 *
 * @module
 */
import type { AuditReport } from "./summary.ts";

/**
 * Renders `report` as the three blocks.
 *
 * @example
 * ```ts
 * import { formatReport } from "./format.ts";
 * formatReport({
 *   byOperation: [{ menace: "alpha", table: "bots", operation: "write", count: 12 }],
 *   byTable: [{ menace: "alpha", table: "bots", count: 12 }],
 *   topSharedWriters: [{ menace: "alpha", count: 12 }],
 * });
 * // menace  table  op     count
 * // alpha   bots   write     12
 * //
 * // menace  table  count
 * // alpha   bots      12
 * //
 * // Top shared-table writers:
 * // alpha  12
 * ```
 */
export function formatReport(report: AuditReport): string {
  const first = alignColumns(
    [
      ["menace", "table", "op", "count"],
      ...report.byOperation.map((r) => [r.menace, r.table, r.operation, String(r.count)]),
    ],
    3,
  );
  const second = alignColumns(
    [
      ["menace", "table", "count"],
      ...report.byTable.map((r) => [r.menace, r.table, String(r.count)]),
    ],
    2,
  );
  const writers = report.topSharedWriters.length === 0
    ? "(none)\n"
    : alignColumns(report.topSharedWriters.map((r) => [r.menace, String(r.count)]), 1);
  return `${first}\n${second}\nTop shared-table writers:\n${writers}`;
}

/**
 * Pads every column to its widest cell, two spaces apart; the column at
 * `countColumn` is aligned to the right. Each row ends with a newline.
 *
 * @example
 * ```ts
 * import { alignColumns } from "./format.ts";
 * alignColumns([["menace", "count"], ["alpha", "12"]], 1); // "menace  count\nalpha      12\n"
 * ```
 */
export function alignColumns(rows: readonly string[][], countColumn: number): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === countColumn ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
        .join("  ")
        .trimEnd() + "\n"
    )
    .join("");
}
