/**
 * The few ESTree shapes the `no-direct-database` rule reads, typed loosely so
 * that one detector serves both Deno's lint AST and @babel/parser's `estree`
 * output (the two agree on every node read here). Deno's nodes are lazy
 * objects: they are read by property name only, never enumerated.
 *
 * @module
 */

/** Any AST node: a type, and properties read by name. */
export interface AstNode {
  /** The ESTree node type. */
  readonly type: string;
  /** Children and attributes, read by name only. */
  readonly [key: string]: unknown;
}

/** Wrappers that change nothing at run time: `await`, `as`, `!`, `satisfies`, parentheses, `?.`. */
const TRANSPARENT = new Set([
  "AwaitExpression",
  "ChainExpression",
  "ParenthesizedExpression",
  "TSAsExpression",
  "TSNonNullExpression",
  "TSSatisfiesExpression",
  "TSTypeAssertion",
]);

/**
 * Whether `value` is a node.
 *
 * @example
 * ```ts
 * import { isNode } from "./ast.ts";
 * isNode({ type: "Identifier", name: "x" }); // true
 * isNode("x"); // false
 * ```
 */
export function isNode(value: unknown): value is AstNode {
  return typeof value === "object" && value !== null &&
    typeof (value as { type?: unknown }).type === "string";
}

/**
 * The child node at `key`, if any.
 *
 * @example
 * ```ts
 * import { child } from "./ast.ts";
 * child({ type: "ImportExpression", source: { type: "Literal" } }, "source")?.type; // "Literal"
 * ```
 */
export function child(node: AstNode, key: string): AstNode | undefined {
  const value = node[key];
  return isNode(value) ? value : undefined;
}

/**
 * The child nodes in the array at `key` (holes and non-nodes skipped).
 *
 * @example
 * ```ts
 * import { children } from "./ast.ts";
 * children({ type: "CallExpression", arguments: [{ type: "Literal" }, null] }, "arguments").length; // 1
 * ```
 */
export function children(node: AstNode, key: string): AstNode[] {
  const value = node[key];
  return Array.isArray(value) ? value.filter(isNode) : [];
}

/**
 * The string property at `key`, if it is one.
 *
 * @example
 * ```ts
 * import { text } from "./ast.ts";
 * text({ type: "ImportDeclaration", importKind: "type" }, "importKind"); // "type"
 * ```
 */
export function text(node: AstNode, key: string): string | undefined {
  const value = node[key];
  return typeof value === "string" ? value : undefined;
}

/**
 * The boolean property at `key`.
 *
 * @example
 * ```ts
 * import { flag } from "./ast.ts";
 * flag({ type: "MemberExpression", computed: true }, "computed"); // true
 * ```
 */
export function flag(node: AstNode, key: string): boolean {
  return node[key] === true;
}

/**
 * The start offset (UTF-16 code units) of `node`: `range[0]` (Deno), else `start` (Babel).
 *
 * @example
 * ```ts
 * import { startOf } from "./ast.ts";
 * startOf({ type: "Literal", range: [4, 12] }); // 4
 * startOf({ type: "Literal", start: 7, end: 9 }); // 7
 * ```
 */
export function startOf(node: AstNode): number {
  const loose = node;
  const range = loose.range;
  if (Array.isArray(range) && typeof range[0] === "number") return range[0];
  return typeof loose.start === "number" ? loose.start : 0;
}

/**
 * The end offset of `node`.
 *
 * @example
 * ```ts
 * import { endOf } from "./ast.ts";
 * endOf({ type: "Literal", range: [4, 12] }); // 12
 * ```
 */
export function endOf(node: AstNode): number {
  const loose = node;
  const range = loose.range;
  if (Array.isArray(range) && typeof range[1] === "number") return range[1];
  return typeof loose.end === "number" ? loose.end : startOf(node);
}

/**
 * `node` without the wrappers that change nothing at run time.
 *
 * @example
 * ```ts
 * import { unwrap } from "./ast.ts";
 * unwrap({ type: "AwaitExpression", argument: { type: "CallExpression" } })?.type; // "CallExpression"
 * ```
 */
export function unwrap(node: AstNode | undefined): AstNode | undefined {
  let current = node;
  while (current && TRANSPARENT.has(current.type)) {
    current = child(current, "argument") ?? child(current, "expression");
  }
  return current;
}

/**
 * The name of an `Identifier`.
 *
 * @example
 * ```ts
 * import { identifierName } from "./ast.ts";
 * identifierName({ type: "Identifier", name: "SQL" }); // "SQL"
 * ```
 */
export function identifierName(node: AstNode | undefined): string | undefined {
  return node?.type === "Identifier" ? text(node, "name") : undefined;
}

/**
 * The value of an expression made only of string literals: `"a"`, a template
 * without `${}`, or `+` of such parts. Anything computed is `undefined`.
 *
 * @example
 * ```ts
 * import { staticString } from "./ast.ts";
 * staticString({ type: "Literal", value: "sql.js" }); // "sql.js"
 * staticString({ type: "Identifier", name: "spec" }); // undefined
 * ```
 */
export function staticString(node: AstNode | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === "Literal" || node.type === "StringLiteral") {
    const value = node.value;
    return typeof value === "string" ? value : undefined;
  }
  if (node.type === "TemplateLiteral") {
    if (children(node, "expressions").length > 0) return undefined;
    const [quasi] = children(node, "quasis");
    if (!quasi) return undefined;
    // Babel keeps the text under `value`; Deno's TemplateElement has `cooked` itself.
    const value = quasi.value as { cooked?: unknown } | undefined;
    const cooked = value?.cooked ?? quasi.cooked;
    return typeof cooked === "string" ? cooked : undefined;
  }
  if (node.type === "BinaryExpression" && text(node, "operator") === "+") {
    const left = staticString(child(node, "left"));
    const right = staticString(child(node, "right"));
    return left === undefined || right === undefined ? undefined : left + right;
  }
  return undefined;
}

/**
 * The property name of a member access: `a.b` and `a["b"]` both give `"b"`.
 *
 * @example
 * ```ts
 * import { memberName } from "./ast.ts";
 * memberName({ type: "MemberExpression", computed: false, property: { type: "Identifier", name: "Database" } }); // "Database"
 * ```
 */
export function memberName(node: AstNode | undefined): string | undefined {
  if (!node || (node.type !== "MemberExpression" && node.type !== "OptionalMemberExpression")) {
    return undefined;
  }
  const property = child(node, "property");
  return flag(node, "computed") ? staticString(property) : identifierName(property);
}
