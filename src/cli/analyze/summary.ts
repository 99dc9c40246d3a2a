/**
 * The counts `db-router analyze` reports, gathered line by line: memory grows
 * with the number of distinct (menace, table, operation) triples, never with
 * the number of lines.
 *
 * @module
 */
import { type AuditRecord, isWriteOperation } from "./record.ts";

/** Accesses by menace, table and operation. */
export interface OperationCount {
  menace: string;
  table: string;
  operation: string;
  count: number;
}

/** Accesses by menace and table, all operations together. */
export interface TableCount {
  menace: string;
  table: string;
  count: number;
}

/** Write accesses to shared tables by one menace. */
export interface WriterCount {
  menace: string;
  count: number;
}

/** Everything the three blocks show, each sorted by count (descending), then by name. */
export interface AuditReport {
  byOperation: OperationCount[];
  byTable: TableCount[];
  topSharedWriters: WriterCount[];
}

/**
 * Counts accesses; `report()` sorts and derives the blocks.
 *
 * @example
 * ```ts
 * import { AuditSummary } from "./summary.ts";
 * const summary = new AuditSummary();
 * summary.add({ menaceId: "alpha", table: "bots", operation: "write", timestamp: "2024-05-14T12:00:00Z" });
 * summary.report((table) => table === "bots", 10).topSharedWriters; // [{ menace: "alpha", count: 1 }]
 * ```
 */
export class AuditSummary {
  readonly #counts = new Map<string, Map<string, Map<string, number>>>();

  /** Counts one access. */
  add(record: AuditRecord): void {
    let tables = this.#counts.get(record.menaceId);
    if (!tables) this.#counts.set(record.menaceId, tables = new Map());
    let operations = tables.get(record.table);
    if (!operations) tables.set(record.table, operations = new Map());
    operations.set(record.operation, (operations.get(record.operation) ?? 0) + 1);
  }

  /**
   * The three blocks. Writers count write operations (`isWriteOperation`) on
   * tables for which `isShared` is true; `top` keeps that many (0: all).
   */
  report(isShared: (table: string) => boolean, top: number): AuditReport {
    const byOperation: OperationCount[] = [];
    const byTable: TableCount[] = [];
    const writers = new Map<string, number>();
    for (const [menace, tables] of this.#counts) {
      for (const [table, operations] of tables) {
        let total = 0;
        for (const [operation, count] of operations) {
          byOperation.push({ menace, table, operation, count });
          total += count;
          if (isWriteOperation(operation) && isShared(table)) {
            writers.set(menace, (writers.get(menace) ?? 0) + count);
          }
        }
        byTable.push({ menace, table, count: total });
      }
    }
    const topSharedWriters = [...writers].map(([menace, count]) => ({ menace, count }));
    byOperation.sort((a, b) =>
      byCount(a, b, [a.menace, a.table, a.operation], [b.menace, b.table, b.operation])
    );
    byTable.sort((a, b) => byCount(a, b, [a.menace, a.table], [b.menace, b.table]));
    topSharedWriters.sort((a, b) => byCount(a, b, [a.menace], [b.menace]));
    return {
      byOperation,
      byTable,
      topSharedWriters: top > 0 ? topSharedWriters.slice(0, top) : topSharedWriters,
    };
  }
}

function byCount(
  a: { count: number },
  b: { count: number },
  aNames: string[],
  bNames: string[],
): number {
  if (a.count !== b.count) return b.count - a.count;
  for (let i = 0; i < aNames.length; i++) {
    if (aNames[i] !== bNames[i]) return aNames[i] < bNames[i] ? -1 : 1;
  }
  return 0;
}
