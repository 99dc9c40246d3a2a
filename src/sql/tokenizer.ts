/**
 * A SQLite tokenizer, just precise enough that keywords are never found inside
 * names, string literals or comments: the ground the scope helpers stand on.
 *
 * @module
 */

/** What a token is. Comments and whitespace produce no token. */
export type TokenKind =
  | "word" // a bare name or keyword: bots, WHERE
  | "quoted" // a quoted name: "where", `x`, [x]
  | "string" // a string literal: 'where'
  | "blob" // x'00ff'
  | "number"
  | "param" // ?, ?1, :name, @name, $name
  | "open" // (
  | "close" // )
  | "comma"
  | "dot"
  | "semicolon"
  | "operator";

/** One token of a SQL text, with its offsets so that edits keep everything else intact. */
export interface Token {
  /** What the token is. */
  readonly kind: TokenKind;
  /** The token as written. */
  readonly text: string;
  /** Offset of the first character. */
  readonly start: number;
  /** Offset just past the last character. */
  readonly end: number;
  /** Parenthesis depth; `(` and `)` carry the depth outside them. */
  readonly depth: number;
}

const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const NUMBER = /0[xX][0-9A-Fa-f_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?/y;
const PARAM = /\?\d*|[:@$][A-Za-z0-9_$\u0080-\uffff]+(?:::[A-Za-z0-9_$\u0080-\uffff]+)*/y;
const OPERATOR = /->>|->|\|\||<<|>>|<=|>=|<>|!=|==|[^\s]/y;
const WHITESPACE = /[ \t\n\f\r]+/y;
const SINGLE: Readonly<Record<string, TokenKind>> = {
  "(": "open",
  ")": "close",
  ",": "comma",
  ".": "dot",
  ";": "semicolon",
};

/**
 * Splits `sql` into tokens. Throws a `TypeError` for an unterminated string
 * or quoted name and for unbalanced parentheses. An unterminated block
 * comment runs to the end, as in SQLite.
 *
 * @example
 * ```ts
 * import { tokenize } from "./tokenizer.ts";
 * tokenize("SELECT 'where' -- where").map((t) => t.kind); // ["word", "string"]
 * ```
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    let end: number;
    let kind: TokenKind;
    if (match(WHITESPACE, sql, i) !== undefined) {
      i = WHITESPACE.lastIndex;
      continue;
    } else if (sql.startsWith("--", i)) {
      const newline = sql.indexOf("\n", i);
      i = newline === -1 ? sql.length : newline + 1;
      continue;
    } else if (sql.startsWith("/*", i)) {
      const close = sql.indexOf("*/", i + 2);
      i = close === -1 ? sql.length : close + 2;
      continue;
    } else if (c === "'" || c === '"' || c === "`" || c === "[") {
      end = closeQuote(sql, i, c === "[" ? "]" : c);
      kind = c === "'" ? "string" : "quoted";
    } else if ((c === "x" || c === "X") && sql[i + 1] === "'") {
      end = closeQuote(sql, i + 1, "'");
      kind = "blob";
    } else if ((end = match(WORD, sql, i) ?? -1) !== -1) {
      kind = "word";
    } else if ((end = match(NUMBER, sql, i) ?? -1) !== -1) {
      kind = "number";
    } else if ((end = match(PARAM, sql, i) ?? -1) !== -1) {
      kind = "param";
    } else {
      end = match(OPERATOR, sql, i) ?? i + 1;
      kind = SINGLE[c] ?? "operator";
    }
    if (kind === "close") depth--;
    if (depth < 0) throw new TypeError(`Cannot parse SQL: unbalanced ")" at offset ${i}`);
    tokens.push({ kind, text: sql.slice(i, end), start: i, end, depth });
    if (kind === "open") depth++;
    i = end;
  }
  if (depth !== 0) throw new TypeError(`Cannot parse SQL: ${depth} unclosed "("`);
  return tokens;
}

/**
 * The upper-cased keyword of a bare word token; `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { keywordOf, tokenize } from "./tokenizer.ts";
 * tokenize('where "where"').map(keywordOf); // ["WHERE", undefined]
 * ```
 */
export function keywordOf(token: Token | undefined): string | undefined {
  return token?.kind === "word" ? token.text.toUpperCase() : undefined;
}

/**
 * The name a word, quoted or string token stands for, without quotes;
 * `undefined` otherwise.
 *
 * @example
 * ```ts
 * import { nameOf, tokenize } from "./tokenizer.ts";
 * tokenize('"a ""b""" [c]').map(nameOf); // ['a "b"', "c"]
 * ```
 */
export function nameOf(token: Token | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (token.kind === "word") return token.text;
  if (token.kind !== "quoted" && token.kind !== "string") return undefined;
  const quote = token.text[0];
  const inner = token.text.slice(1, -1);
  return quote === "[" ? inner : inner.replaceAll(quote + quote, quote);
}

function match(pattern: RegExp, sql: string, at: number): number | undefined {
  pattern.lastIndex = at;
  return pattern.test(sql) ? pattern.lastIndex : undefined;
}

function closeQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    const next = sql.indexOf(quote, i);
    if (next === -1) break;
    if (quote !== "]" && sql[next + 1] === quote) i = next + 2; // a doubled quote escapes itself
    else return next + 1;
  }
  throw new TypeError(`Cannot parse SQL: unterminated ${sql[start]} starting at offset ${start}`);
}
