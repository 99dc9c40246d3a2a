/**
 * Where `db-router analyze` reads audit lines from, decided by its argument:
 *
 * - a libSQL URL (`file:`, `libsql:`, `http(s):`, `ws(s):`; the token from
 *   `DB_ROUTER_SHARED_AUTH_TOKEN`): the `_dbrouter_audit` table there;
 * - a file that begins with `SQLite format 3`: the sql.js shared database
 *   (the router's file storage, page log included), its `_dbrouter_audit`;
 * - a file whose first line is SQL (`PRAGMA`, `CREATE`, `INSERT`): an export
 *   of D1 (`wrangler d1 export`), one statement per line; the rows of
 *   `INSERT INTO "_dbrouter_audit" VALUES(...)` are parsed (never run);
 * - anything else: a JSONL audit log, with its rotated files (`files.ts`).
 *
 * Lines of a table come in `seq` order (commit order), and their number in
 * messages is their `seq`. Everything is streamed a page or a line at a time.
 *
 * @module
 */
import { open } from "node:fs/promises";
import { DEFAULT_DATABASE_OPTIONS } from "../../engine/database.ts";
import type { SharedBackend } from "../../engine/backend.ts";
import { sqlJsBackend } from "../../engine/sqljs_backend.ts";
import { AUDIT_TABLE, readAuditLines } from "../../observe/audit_table.ts";
import { libsqlBackend } from "../../remote/libsql.ts";
import { isLibsqlUrl } from "../../remote/url.ts";
import { getHost } from "../../storage/detect.ts";
import { auditLogFiles } from "./files.ts";
import { readLogLines } from "./lines.ts";

/** One part of a log (a file, or the table): its lines with their numbers. */
export interface AuditLogPart {
  /** Its path or location. */
  readonly path: string;
  /** Its name in messages. */
  readonly name: string;
  /** Its size in bytes when listed (0 for a table). */
  readonly size: number;
  /** Whether it is a file whose rotation headers are checked. */
  readonly rotated: boolean;
  /** Each line (`null` for one too long to be an audit line) with its number. */
  lines(): AsyncIterable<[number, string | null]>;
}

/** The parts of one log, oldest first, and how to let go of them. */
export interface AuditSource {
  /** What kind of source: `"jsonl"`, `"d1-export"`, `"sqljs"`, `"libsql"`. */
  readonly kind: string;
  /** The parts, oldest first. */
  readonly parts: AuditLogPart[];
  /** Closes a database opened for it. */
  close(): Promise<void>;
}

/**
 * Opens the audit lines at `location` (see the module documentation); with
 * `log`, only the lines of that log name of a table.
 *
 * @example
 * ```ts ignore
 * const source = await openAuditSource("file:shared.db", undefined);
 * for (const part of source.parts) for await (const [n, line] of part.lines()) console.log(n, line);
 * await source.close();
 * ```
 */
export async function openAuditSource(
  location: string,
  log: string | undefined,
): Promise<AuditSource> {
  if (isLibsqlUrl(location)) {
    const authToken = getHost().env("DB_ROUTER_SHARED_AUTH_TOKEN") || undefined;
    return tableSource("libsql", location, libsqlBackend({ url: location, authToken }), log);
  }
  const start = await firstBytes(location);
  if (start !== undefined && start.startsWith("SQLite format 3\0")) {
    const storage = getHost().defaultStorage();
    const backend = sqlJsBackend(storage, storage.resolve(location), DEFAULT_DATABASE_OPTIONS);
    return tableSource("sqljs", location, backend, log);
  }
  if (start !== undefined && /^\s*(PRAGMA|CREATE|INSERT|BEGIN)\b/i.test(start)) {
    return {
      kind: "d1-export",
      parts: [{
        path: location,
        name: location,
        size: 0,
        rotated: false,
        lines: () => exportLines(location, log),
      }],
      close: () => Promise.resolve(),
    };
  }
  const files = await auditLogFiles(location);
  return {
    kind: "jsonl",
    parts: files.map((file) => ({
      ...file,
      rotated: true,
      lines: () => numbered(readLogLines(file.path)),
    })),
    close: () => Promise.resolve(),
  };
}

/**
 * The values of one `INSERT INTO ... VALUES(...);` statement of a D1 export:
 * numbers, `NULL`, quoted strings (`''` for a quote), and
 * `replace(<value>,'\n',char(10))`, which the export writes for line breaks;
 * `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { parseExportValues } from "./sources.ts";
 * parseExportValues(`VALUES(1,'a''b',NULL);`, 0); // [1, "a'b", null]
 * ```
 */
export function parseExportValues(
  text: string,
  at: number,
): Array<string | number | null> | undefined {
  const open = text.indexOf("VALUES(", at);
  if (open === -1) return undefined;
  let i = open + "VALUES(".length;
  const values: Array<string | number | null> = [];
  const value = (): string | number | null | undefined => {
    if (text.startsWith("NULL", i)) {
      i += 4;
      return null;
    }
    if (text[i] === "'") {
      let out = "";
      for (i++; i < text.length; i++) {
        if (text[i] !== "'") out += text[i];
        else if (text[i + 1] === "'") out += text[i++];
        else return (i++, out);
      }
      return undefined;
    }
    if (text.startsWith("replace(", i)) {
      i += "replace(".length;
      const inner = value();
      if (typeof inner !== "string" || text[i++] !== ",") return undefined;
      const from = value();
      const code = /^,char\((\d+)\)\)/.exec(text.slice(i, i + 16));
      if (typeof from !== "string" || !code) return undefined;
      i += code[0].length;
      return inner.replaceAll(from, String.fromCharCode(Number(code[1])));
    }
    const number = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i, i + 40));
    if (!number) return undefined;
    i += number[0].length;
    return Number(number[0]);
  };
  for (;;) {
    const v = value();
    if (v === undefined) return undefined;
    values.push(v);
    if (text[i] === ",") i++;
    else if (text.startsWith(");", i) && text.slice(i + 2).trim() === "") return values;
    else return undefined;
  }
}

async function tableSource(
  kind: string,
  location: string,
  backend: SharedBackend,
  log: string | undefined,
): Promise<AuditSource> {
  const database = backend.connect(() => {});
  const conn = database.connection;
  try {
    await database.ready();
    const table = await conn.get("SELECT 1 AS found FROM sqlite_master WHERE name = ?", [
      AUDIT_TABLE,
    ]);
    if (!table) throw new Error(`it has no ${AUDIT_TABLE} table`);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    kind,
    parts: [{
      path: location,
      name: location,
      size: 0,
      rotated: false,
      lines: () => readAuditLines(conn, log),
    }],
    close: () => database.close(),
  };
}

/** The audit rows of a D1 export, numbered by `seq`; a row that does not parse is `null`. */
async function* exportLines(
  path: string,
  log: string | undefined,
): AsyncIterable<[number, string | null]> {
  const quoted = `INSERT INTO "${AUDIT_TABLE}" VALUES(`;
  const bare = `INSERT INTO ${AUDIT_TABLE} VALUES(`;
  let number = 0;
  let found = false;
  for await (const text of readLogLines(path)) {
    number++;
    if (text === null || !(text.startsWith(quoted) || text.startsWith(bare))) {
      if (text !== null && text.includes(AUDIT_TABLE) && /^CREATE/i.test(text)) found = true;
      continue;
    }
    found = true;
    const values = parseExportValues(text, 0);
    // Columns in the table's order: seq, log, writer, writer_seq, line.
    if (
      values?.length !== 5 || typeof values[0] !== "number" || typeof values[1] !== "string" ||
      typeof values[4] !== "string"
    ) {
      yield [number, null];
      continue;
    }
    if (log === undefined || values[1] === log) yield [values[0], values[4]];
  }
  if (!found) throw new Error(`it has no ${AUDIT_TABLE} table`);
}

async function* numbered(
  lines: AsyncIterable<string | null>,
): AsyncIterable<[number, string | null]> {
  let number = 0;
  for await (const line of lines) yield [++number, line];
}

/** The first 64 bytes of the file at `path` as Latin-1, or `undefined` when it cannot be read. */
async function firstBytes(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, "r");
    try {
      const buffer = new Uint8Array(64);
      const { bytesRead } = await handle.read(buffer, 0, 64, 0);
      return String.fromCharCode(...buffer.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
  } catch {
    return undefined; // a folder or a missing file: the JSONL reader says what is wrong
  }
}
