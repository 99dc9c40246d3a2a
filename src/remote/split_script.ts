/**
 * Splits a SQL script into its statements, for engines that take one
 * statement per call. D1's own `exec()` splits on line breaks, which breaks
 * a `CREATE TABLE` written over several lines; this splits on the
 * semicolons that end statements, never on one inside a string, a name, a
 * comment, parentheses or a trigger's `BEGIN ... END` body.
 *
 * @module
 */
import { keywordOf, type Token, tokenize } from "../sql/tokenizer.ts";

/**
 * The statements of `script`, each as written (comments inside it kept),
 * without their closing semicolon; empty statements are dropped. Throws a
 * `TypeError` for text that does not tokenize (an unterminated string).
 *
 * @example
 * ```ts
 * import { splitScript } from "./split_script.ts";
 * splitScript("CREATE TABLE t (\n  a TEXT -- ; not the end\n);\nINSERT INTO t VALUES (';');");
 * // ["CREATE TABLE t (\n  a TEXT -- ; not the end\n)", "INSERT INTO t VALUES (';')"]
 * ```
 */
export function splitScript(script: string): string[] {
  const statements: string[] = [];
  let current: Token[] = [];
  let body = 0; // > 0 inside a trigger body: 1 plus the CASE expressions open in it
  const end = () => {
    if (current.length > 0) {
      statements.push(script.slice(current[0].start, current[current.length - 1].end));
    }
    current = [];
    body = 0;
  };
  for (const token of tokenize(script)) {
    if (token.kind === "semicolon" && token.depth === 0 && body === 0) {
      end();
      continue;
    }
    current.push(token);
    const keyword = keywordOf(token);
    if (keyword === undefined || token.depth !== 0) continue;
    if (body === 0) {
      if (keyword === "BEGIN" && isCreateTrigger(current)) body = 1;
    } else if (keyword === "CASE") {
      body++;
    } else if (keyword === "END") {
      body--;
    }
  }
  end();
  return statements;
}

/** Whether the statement so far is `CREATE [TEMP|TEMPORARY] TRIGGER ...`. */
function isCreateTrigger(tokens: readonly Token[]): boolean {
  if (keywordOf(tokens[0]) !== "CREATE") return false;
  const second = keywordOf(tokens[1]);
  const third = second === "TEMP" || second === "TEMPORARY" ? keywordOf(tokens[2]) : second;
  return third === "TRIGGER";
}
