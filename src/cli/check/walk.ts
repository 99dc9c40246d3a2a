/**
 * Depth-first traversal of a parsed file for `db-router check`, feeding the
 * shared detector as Deno's linter does for the plugin. The detector resolves
 * names over the whole file, so it does not depend on the visiting order.
 *
 * @module
 */
import { type AstNode, isNode } from "../../lint/ast.ts";

/** Properties that hold positions, comments or parser extras, never code. */
const SKIPPED = new Set([
  "loc",
  "range",
  "start",
  "end",
  "extra",
  "comments",
  "leadingComments",
  "trailingComments",
  "innerComments",
  "tokens",
  "errors",
]);

/**
 * Calls `visit` for every node under `root` (included), parents before
 * children. Iterative, so deeply nested code cannot overflow the stack.
 *
 * @example
 * ```ts
 * import { walk } from "./walk.ts";
 * const types: string[] = [];
 * walk({ type: "Program", body: [{ type: "EmptyStatement" }] } as never, (n) => types.push(n.type));
 * types; // ["Program", "EmptyStatement"]
 * ```
 */
export function walk(root: AstNode, visit: (node: AstNode) => void): void {
  const stack: AstNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    visit(node);
    const next: AstNode[] = [];
    for (const [key, value] of Object.entries(node)) {
      if (SKIPPED.has(key)) continue;
      if (Array.isArray(value)) {
        for (const item of value) if (isNode(item)) next.push(item);
      } else if (isNode(value)) {
        next.push(value);
      }
    }
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]);
  }
}
