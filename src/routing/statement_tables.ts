/**
 * The tables one SQL statement names, found with the scope helpers' tokenizer
 * and FROM-clause parser, so that a statement built elsewhere (by Kysely or
 * Drizzle) can be routed as `getConnection(table)` routes a table: every FROM
 * and JOIN at any depth (subqueries too), the target of INSERT, REPLACE,
 * UPDATE and DELETE, and the table of CREATE/DROP/ALTER TABLE and CREATE
 * INDEX. Names a WITH clause defines are not tables; nor are SQLite's own
 * (`sqlite_*`), db-router's (`_dbrouter_*`) and table-valued functions.
 *
 * @module
 */
import { classifyStatement, type StatementKind } from "../engine/classify.ts";
import { closingParen } from "../scope/statement.ts";
import { tableRefs } from "../scope/table_refs.ts";
import { keywordOf, nameOf, type Token, tokenize } from "../sql/tokenizer.ts";

/** What routing needs to know of a statement. */
export interface StatementTables {
  /** The tables it names, each once, in order of appearance. */
  tables: string[];
  /** Whether it reads, changes rows or writes otherwise. */
  kind: StatementKind;
  /** Whether it returns rows (a query, or a write with `RETURNING`). */
  returnsRows: boolean;
}

const FROM_END = new Set([
  ...["WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "WINDOW"],
  ...["UNION", "INTERSECT", "EXCEPT", "RETURNING", "SET", "VALUES", "ON", "DO"],
]);

/**
 * The tables `sql` names, its kind and whether it returns rows. Throws a
 * `TypeError` naming the statement when its FROM clause cannot be read,
 * rather than route it by a guess.
 *
 * @example
 * ```ts
 * import { statementTables } from "./statement_tables.ts";
 * statementTables('select "b"."name" from "bots" as "b" inner join "code" on "code"."bot" = "b"."id"');
 * // { tables: ["bots", "code"], kind: "read", returnsRows: true }
 * ```
 */
export function statementTables(sql: string): StatementTables {
  const kind = classifyStatement(sql);
  const tokens = tokenize(sql);
  const ctes = cteNames(tokens);
  const found: string[] = [];
  const add = (name: string | undefined) => {
    if (name === undefined) return;
    const lower = name.toLowerCase();
    if (ctes.has(lower) || lower.startsWith("sqlite_") || lower.startsWith("_dbrouter_")) return;
    if (!found.some((f) => f.toLowerCase() === lower)) found.push(name);
  };
  let returnsRows = kind === "read";
  for (let i = 0; i < tokens.length; i++) {
    const word = keywordOf(tokens[i]);
    if (word === "RETURNING" && tokens[i].depth === 0) returnsRows = true;
    if (word === "FROM" && !isDistinctFrom(tokens, i)) {
      const end = fromEnd(tokens, i + 1);
      try {
        for (const ref of tableRefs(tokens, i + 1, end)) add(ref.table);
      } catch (error) {
        throw new TypeError(
          `Cannot route statement "${sql.slice(0, 80)}": ${(error as Error).message}`,
        );
      }
    } else if (word === "INTO" || word === "UPDATE" || word === "TABLE" || word === "ON") {
      add(targetAt(tokens, i));
    }
  }
  return { tables: found, kind, returnsRows };
}

/** The table after INTO, UPDATE [OR ...], [CREATE|DROP|ALTER] TABLE [IF [NOT] EXISTS], INDEX ... ON. */
function targetAt(tokens: readonly Token[], at: number): string | undefined {
  const word = keywordOf(tokens[at]);
  const before = keywordOf(tokens[at - 1]);
  if (word === "ON" && !isIndexOn(tokens, at)) return undefined;
  if (word === "TABLE" && !["CREATE", "DROP", "ALTER", "TEMP", "TEMPORARY"].includes(before!)) {
    return undefined;
  }
  if (word === "UPDATE" && (before === "DO" || before === "OF")) return undefined;
  let i = at + 1;
  if (word === "UPDATE" && keywordOf(tokens[i]) === "OR") i += 2;
  if (keywordOf(tokens[i]) === "IF") i += keywordOf(tokens[i + 1]) === "NOT" ? 3 : 2;
  if (keywordOf(tokens[i]) === "SET") return undefined;
  if (tokens[i + 1]?.kind === "dot") i += 2; // schema.table
  return nameOf(tokens[i]) !== undefined && tokens[i].kind !== "string"
    ? nameOf(tokens[i])
    : undefined;
}

/** `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table`. */
function isIndexOn(tokens: readonly Token[], at: number): boolean {
  if (tokens[at].depth !== 0) return false;
  const start = tokens.findIndex((t) => keywordOf(t) === "INDEX");
  return start !== -1 && start < at && keywordOf(tokens[0]) === "CREATE" &&
    tokens.slice(start + 1, at).every((t) => t.kind !== "open");
}

/** `IS [NOT] DISTINCT FROM` compares values: it names no table. */
function isDistinctFrom(tokens: readonly Token[], at: number): boolean {
  return keywordOf(tokens[at - 1]) === "DISTINCT" &&
    ["IS", "NOT"].includes(keywordOf(tokens[at - 2]) ?? "");
}

/** Where the FROM clause that starts at `start` ends. */
function fromEnd(tokens: readonly Token[], start: number): number {
  const depth = tokens[start]?.depth ?? 0;
  for (let i = start; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.kind === "open" && token.depth === depth) {
      i = closingParen(tokens, i);
      continue;
    }
    if (token.depth < depth || token.kind === "semicolon") return i;
    if (token.depth === depth && token.kind === "close") return i;
    const word = keywordOf(token);
    if (token.depth === depth && word !== undefined && FROM_END.has(word) && word !== "ON") {
      return i;
    }
  }
  return tokens.length;
}

/** The names WITH clauses define (at any depth): `WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (...), ...`. */
function cteNames(tokens: readonly Token[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (keywordOf(tokens[i]) !== "WITH") continue;
    let j = keywordOf(tokens[i + 1]) === "RECURSIVE" ? i + 2 : i + 1;
    while (j < tokens.length) {
      const name = nameOf(tokens[j]);
      if (name === undefined) break;
      names.add(name.toLowerCase());
      j++;
      if (tokens[j]?.kind === "open") j = closingParen(tokens, j) + 1;
      if (keywordOf(tokens[j]) !== "AS") break;
      j++;
      if (keywordOf(tokens[j]) === "NOT") j++;
      if (keywordOf(tokens[j]) === "MATERIALIZED") j++;
      if (tokens[j]?.kind !== "open") break;
      j = closingParen(tokens, j) + 1;
      if (tokens[j]?.kind !== "comma") break;
      j++;
    }
  }
  return names;
}
